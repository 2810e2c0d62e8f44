"""The error policy table and how errors are reported: code, subcode, fbtrace_id, never the token."""

from __future__ import annotations

import pytest
from facebook_business.exceptions import FacebookRequestError

from insights_jobs.errors import Action, ExtractionError, classify, from_body, from_exception, redact


@pytest.mark.parametrize(
    ("code", "subcode", "http", "transient", "action"),
    [
        (1, 99, 500, False, Action.retry),
        (2, None, 503, True, Action.retry),
        (960, None, 400, False, Action.retry),
        (2601, 1815107, 400, True, Action.retry),
        (None, None, 502, False, Action.retry),  # HTTP 5xx without a Meta body
        (12345, None, 400, True, Action.retry),  # unknown, but Meta says transient
        (4, None, 400, True, Action.wait),
        (17, 2446079, 400, True, Action.wait),
        (17, None, 400, False, Action.wait),
        (32, None, 400, False, Action.wait),
        (613, 1487742, 400, False, Action.wait),
        (80000, None, 400, False, Action.wait),
        (80004, None, 400, False, Action.wait),
        (80008, None, 400, False, Action.wait),
        (100, 1487534, 400, False, Action.split),
        (100, 1504018, 400, False, Action.split),
        (2, 1504038, 400, False, Action.split),
        (2, 1504041, 400, False, Action.config),
        (2635, None, 400, False, Action.config),
        (10, None, 400, False, Action.stop_account),
        (200, None, 403, False, Action.stop_account),
        (294, None, 400, False, Action.stop_account),
        (100, 33, 400, False, Action.stop_account),
        (190, 463, 400, False, Action.stop_workspace),
        (190, 460, 400, False, Action.stop_workspace),
        (102, None, 400, False, Action.stop_workspace),
        (12345, None, 400, False, Action.stop_account),  # unknown and not transient: that account stops, reported
    ],
)
def test_policy_table(code, subcode, http, transient, action) -> None:
    assert classify(code, subcode, http, transient) is action


def _sdk_error(body: dict, status: int = 400) -> FacebookRequestError:
    return FacebookRequestError(
        "Call was not successful",
        {"method": "GET", "path": "https://graph.facebook.com/v26.0/act_1/?access_token=SECRET-TOKEN-123"},
        status,
        {"x-app-usage": '{"call_count": 100}'},
        body,
    )


def test_meta_errors_are_described_by_code_subcode_and_trace_never_the_token() -> None:
    exc = _sdk_error(
        {"error": {"message": "Invalid OAuth access token (access_token=SECRET-TOKEN-123)", "type": "OAuthException",
                   "code": 190, "error_subcode": 463, "fbtrace_id": "AbC123", "is_transient": False}}
    )  # fmt: skip
    err = from_exception(exc)
    assert (err.code, err.subcode, err.fbtrace_id, err.action) == (190, 463, "AbC123", Action.stop_workspace)
    text = err.describe()
    assert "190/463" in text and "fbtrace_id AbC123" in text
    assert "SECRET-TOKEN-123" not in text
    assert err.headers["x-app-usage"]
    assert "SECRET-TOKEN-123" not in str(ExtractionError(f"read: {exc}", err))


def test_batch_item_errors() -> None:
    err = from_body(
        {"error": {"code": "80004", "error_subcode": None, "message": "too many", "is_transient": True}}, 400
    )
    assert err is not None and err.code == 80004 and err.action is Action.wait
    assert from_body({"id": "1", "async_status": "Job Running"}, 200) is None
    assert from_body("not a dict", 200) is None


def test_redact_scrubs_secrets_in_urls_and_text() -> None:
    text = (
        "HTTPConnectionPool(host='127.0.0.1'): Max retries exceeded with url: "
        "/v26.0/act_1/insights?access_token=EAAB-secret&appsecret_proof=abc123&fields=spend"
    )
    clean = redact(text)
    assert "EAAB-secret" not in clean and "abc123" not in clean
    assert "access_token=REDACTED" in clean and "fields=spend" in clean
