"""docs/meta-conformance.md names the tests that pin each behaviour: every one it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "meta-conformance.md"
CONFORMANCE = "tests/graph_sandbox/test_meta_conformance.py"
REFERENCE = re.compile(r"(tests/[\w/]+\.py|conformance)::(test_\w+)")


def test_every_test_the_conformance_table_names_exists() -> None:
    text = DOC.read_text().replace("\n", " ")
    named = {(CONFORMANCE if f == "conformance" else f, t) for f, t in REFERENCE.findall(text)}
    assert len(named) > 40
    missing = [
        f"{path}::{test}"
        for path, test in sorted(named)
        if not (ROOT / path).exists() or f"def {test}(" not in (ROOT / path).read_text()
    ]
    assert not missing, missing
    # and every conformance test is in the table
    defined = set(re.findall(r"^def (test_\w+)\(", (ROOT / CONFORMANCE).read_text(), re.M))
    assert defined <= {t for p, t in named if p == CONFORMANCE}, defined - {t for p, t in named if p == CONFORMANCE}
