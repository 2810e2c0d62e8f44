"""Graph API errors in Meta's shape: {"error": {message, type, code, error_subcode, ..., fbtrace_id}}."""

from __future__ import annotations

import secrets
from typing import Any

DOCS = "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"


class GraphError(Exception):
    """An error the sandbox answers with; `http_status` 400 for OAuth/parameter errors, 500 internal."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",  # noqa: A002 - Meta's field name
        user_title: str | None = None,
        user_msg: str | None = None,
        transient: bool = False,
        http_status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.type = type
        self.user_title = user_title
        self.user_msg = user_msg
        self.transient = transient
        self.http_status = http_status

    def body(self) -> dict[str, Any]:
        """The JSON body Meta sends; optional keys appear only when set, as in Meta's replies."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
        return {"error": error}


def missing_token() -> GraphError:
    return GraphError(104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def object_not_found(object_id: str, method: str = "get") -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        f"missing permissions, or does not support this operation. {DOCS}",
        subcode=33,
        type="GraphMethodException",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: {path}")


def deprecated_version(version: str, latest: str) -> GraphError:
    return GraphError(
        2635,
        f"(#2635) You are calling a deprecated version of the Ads API ({version}). "
        f"Please update to the latest version: {latest}.",
    )


def nonexisting_field(field: str, node_type: str) -> GraphError:
    return GraphError(100, f"(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})")


def invalid_insights_field(field: str) -> GraphError:
    return GraphError(
        100,
        f"(#100) {field} is not valid for fields param. please check "
        "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ for all valid values",
    )


def invalid_param(
    message: str, *, subcode: int | None = None, user_title: str | None = None, user_msg: str | None = None
) -> GraphError:
    return GraphError(100, f"(#100) {message}", subcode=subcode, user_title=user_title, user_msg=user_msg)


def invalid_breakdowns(breakdowns) -> GraphError:
    return GraphError(
        2,
        f"Current combination of data breakdown columns ({', '.join(breakdowns)}) is invalid",
        subcode=1504041,
        user_title="Invalid breakdown combination",
        user_msg="The breakdowns you asked for cannot be combined.",
    )


def write_refused() -> GraphError:
    return GraphError(3, "(#3) Application does not have the capability to make this API call.")


def too_old() -> GraphError:
    # The insights reference's error table: "3018 | The start date of the time range cannot be beyond 37 months from
    # the current date".
    return GraphError(3018, "(#3018) The start date of the time range cannot be beyond 37 months from the current date")


def too_many_rows() -> GraphError:
    return GraphError(
        100,
        "Please reduce the amount of data you're asking for, then retry your request",
        subcode=1487534,
        user_title="Too many rows",
        user_msg="Please reduce the amount of data you're asking for, then retry your request",
    )


def request_timed_out() -> GraphError:
    return GraphError(
        100,
        "(#100) The request took too long to process. Please reduce the amount of data you're asking for",
        subcode=1504018,
        user_title="Request timed out",
        user_msg="Please reduce the amount of data you're asking for, then retry your request",
    )


def report_not_ready() -> GraphError:
    return GraphError(
        2601,
        "(#2601) Error accessing adreport job.",
        subcode=1815107,
        user_title="Report Not Ready",
        user_msg="The report run has not finished yet. Wait until async_status is 'Job Completed'.",
        transient=True,
    )


def report_failed(report_run_id: str) -> GraphError:
    return GraphError(
        2601,
        f"(#2601) Error accessing adreport job. Report run {report_run_id} failed.",
        subcode=1815107,
    )


def internal_error() -> GraphError:
    return GraphError(1, "An unknown error occurred", subcode=99, http_status=500)
