"""Careless and hostile input to the `sentrum` CLI: one line on stderr, exit 2, no traceback, nothing stored; and
parallel `workspaces add` processes that lose nothing. None of these commands needs Dagster; `workspaces add` asks
the Graph API about the token before storing it, so a sandbox plays Meta (demo scenario: acme reads act_1001)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from graph_sandbox import SandboxServer, Scenario
from secret_store import LocalSecretStore
from tests.e2e.conftest import SENTRUM

TOKEN = "sandbox-token-acme"
ACCOUNT = "act_1001"
# Tokens the demo scenario accepts (the first workspace has every kind), each with an account it can read; ten adds
# cycle through the six (the parallel-add test).
_VALID = [
    *(f"sandbox-token-acme{kind}" for kind in ("", "-user", "-data-access", "-partial")),
    "sandbox-token-globex",
    "sandbox-token-initech",
]
TOKENS = [_VALID[i % len(_VALID)] for i in range(10)]
ACCOUNTS = {"acme": "act_1001", "globex": "act_2001", "initech": "act_3001"}
_GRAPH_URL = ""


@pytest.fixture(scope="module", autouse=True)
def graph_api():
    global _GRAPH_URL
    with SandboxServer(Scenario("demo", 42)) as server:
        _GRAPH_URL = server.url
        yield server
    _GRAPH_URL = ""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    env.update(SENTRUM_HOME=str(home), SENTRUM_META_GRAPH_URL=_GRAPH_URL, **extra)
    return env


def sentrum(home: Path, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SENTRUM, *args], input=stdin, capture_output=True, text=True, env=_env(home, **extra), timeout=120
    )


def _one_line_usage_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_parallel_adds_keep_every_workspace_and_every_token(tmp_path):
    env = _env(tmp_path)
    procs = [
        subprocess.Popen(
            [SENTRUM, "workspaces", "add", f"ws{i}", "--ad-accounts", ACCOUNTS[token.split("-")[2]]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i, token in enumerate(TOKENS)
    ]
    results = [p.communicate(input=token, timeout=120) for p, token in zip(procs, TOKENS, strict=True)]
    assert [p.returncode for p in procs] == [0] * 10, results
    listed = sentrum(tmp_path, "workspaces", "list")
    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert sorted(r[0] for r in rows) == sorted(f"ws{i}" for i in range(10))
    assert all("(stored)" in r for r in rows), listed.stdout
    store = LocalSecretStore(tmp_path / "secrets")
    assert [store.get(f"meta-token-ws{i}") for i in range(10)] == TOKENS


def test_a_secret_of_another_workspace_is_refused_and_nothing_is_stored(tmp_path):
    assert sentrum(tmp_path, "workspaces", "add", "acme", "--ad-accounts", ACCOUNT, stdin=TOKEN).returncode == 0
    before = _files(tmp_path)
    r = sentrum(tmp_path, "workspaces", "add", "globex", "--ad-accounts", "act_2001", "--token-secret",
                "meta-token-acme", stdin="sandbox-token-globex")  # fmt: skip
    assert "holds the token of workspace acme" in _one_line_usage_error(r)
    assert _files(tmp_path) == before
    assert LocalSecretStore(tmp_path / "secrets").get("meta-token-acme") == TOKEN


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--token-secret", "bad name!"], TOKEN, "token secret name"),
        (["--token-secret", "../../etc/passwd"], TOKEN, "token secret name"),
        (["--token-secret", "x" * 300], TOKEN, "token secret name"),
        (["--ad-accounts", "101"], TOKEN, "act_123"),
        ([], "", "no token on standard input"),
        ([], "EAAB one two", "whitespace"),
        ([], "EAAB\x00binary-token-value", "control characters"),
        ([], "short", "too short"),
    ],
)
def test_bad_add_input_is_one_line_and_stores_nothing(tmp_path, args, stdin, message):
    cmd = ["workspaces", "add", "acme", *(["--ad-accounts", "act_1"] if "--ad-accounts" not in args else []), *args]
    r = sentrum(tmp_path, *cmd, stdin=stdin)
    assert message in _one_line_usage_error(r)
    assert not (tmp_path / "secrets" / "store.enc").exists() and not (tmp_path / "workspaces.yaml").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- id: acme\n  name: A\n", "not a list"),
        (b"plain value\n", "not a plain value"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "not UTF-8"),
        (b"workspaces:\n  - {id: 'acme\\n', name: A, meta: {token_secret: t}}\n", "must match"),
    ],
)
def test_a_registry_of_the_wrong_shape_is_one_line_and_nothing_is_stored(tmp_path, content, message):
    (tmp_path / "workspaces.yaml").write_bytes(content)
    assert message in _one_line_usage_error(sentrum(tmp_path, "workspaces", "list"))
    r = sentrum(tmp_path, "workspaces", "add", "globex", "--ad-accounts", "act_2", stdin=TOKEN)
    assert message in _one_line_usage_error(r)
    assert not (tmp_path / "secrets").exists()  # the registry is checked before the token is stored
    assert (tmp_path / "workspaces.yaml").read_bytes() == content


@pytest.mark.parametrize(
    "args",
    [
        ["workspaces", "add", "acme\n", "--ad-accounts", "act_1"],
        ["workspaces", "add", "..", "--ad-accounts", "act_1"],
        ["workspaces", "delete", "/tmp", "--yes"],
        ["workspaces", "disconnect", "Acme"],
        ["export", "--workspace", "../x"],
        ["sync", "--workspace", "a" * 65],
    ],
)
def test_bad_ids_are_refused_at_the_door(tmp_path, args):
    r = sentrum(tmp_path, *args, stdin=TOKEN)
    assert r.returncode == 2 and "must match [a-z0-9_-]{1,64}" in r.stderr and "Traceback" not in r.stderr
    assert _files(tmp_path) == {}


def test_a_workspace_being_deleted_cannot_be_added_back_before_the_sweep(tmp_path):
    assert sentrum(tmp_path, "workspaces", "add", "acme", "--ad-accounts", ACCOUNT, stdin=TOKEN).returncode == 0
    assert sentrum(tmp_path, "workspaces", "delete", "acme", "--yes").returncode == 0
    before = _files(tmp_path)
    r = sentrum(tmp_path, "workspaces", "add", "acme", "--ad-accounts", ACCOUNT, stdin="sandbox-token-acme-user")
    assert "is being deleted" in _one_line_usage_error(r)
    assert _files(tmp_path) == before


def test_an_unknown_demo_scenario_lists_the_known_ones(tmp_path):
    err = _one_line_usage_error(sentrum(tmp_path, "demo", "--scenario", "bogus"))
    assert "unknown scenario 'bogus'" in err and "demo" in err and "small" in err


def test_invalid_settings_are_one_line(tmp_path):
    err = _one_line_usage_error(sentrum(tmp_path, "workspaces", "list", SENTRUM_WAREHOUSE="oracle"))
    assert "invalid settings" in err and "warehouse" in err


def test_what_the_cli_creates_is_the_owners_only(tmp_path):
    home = tmp_path / "home"
    assert sentrum(home, "workspaces", "add", "acme", "--ad-accounts", ACCOUNT, stdin=TOKEN).returncode == 0
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in [home, *home.rglob("*")]}
    assert modes == {
        "home": 0o700,
        "home/.workspaces.yaml.lock": 0o600,
        "home/workspaces.yaml": 0o600,
        "home/secrets": 0o700,
        "home/secrets/.store.lock": 0o600,
        "home/secrets/store.key": 0o600,
        "home/secrets/store.enc": 0o600,
    }
