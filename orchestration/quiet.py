"""Warnings nobody running SENTRUM can act on, hidden where they arise: Dagster's notices that an API we call is
beta or preview (ours to track when upgrading, not a user's), and that `dagster dev` is superseded by `dg dev` (the
`make ui` command is ours). Every other warning, and every error, still prints."""

from __future__ import annotations

import warnings


def hide_unactionable_warnings() -> None:
    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning, SupersessionWarning

    for category in (BetaWarning, PreviewWarning, SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)
