#!/usr/bin/env bash
# The BigQuery stand-in for the tests: bqemulator 1.4.0 in its OWN virtualenv (.tools/bqemulator/), because it needs
# duckdb 1.5.5 while the project runs duckdb 2.0.x. Idempotent: a complete environment (its marker file names this
# exact recipe) is kept, so only the first `make test` on a fresh clone pays for the install (~30 s on 2 cores).
#
#   scripts/bqemulator_env.sh     # create or verify; prints the emulator's executable path on its last line
#
# Recipe (../shared/docs/stack-notes.md, "BigQuery stand-ins"): install the pinned set from PyPI (with uv when there is
# one: the Makefile's, else PATH's; else pip), then INSTALL DuckDB's spatial extension from the file shipped inside the
# duckdb-extension-spatial wheel. The emulator runs `INSTALL spatial; LOAD spatial` at start-up; with the extension
# already installed that needs no network, without it DuckDB would try to download it and the emulator would not start.
# sqlglotc is sqlglot compiled (mypyc, the same source; bqemulator pins sqlglot 30.11.x): the emulator spends most of
# its CPU parsing each query's SQL, and the compiled parser roughly halves that over the BigQuery tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ENV_DIR="${SENTRUM_BQEMULATOR_ENV:-$ROOT/.tools/bqemulator}"
# Debian's python3.11 when there is one: built with profile-guided and link-time optimisation (see the Makefile).
DEFAULT_PY=python3.11
[[ -x /usr/bin/python3.11 ]] && DEFAULT_PY=/usr/bin/python3.11
PY="${SENTRUM_BQEMULATOR_PYTHON:-$DEFAULT_PY}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
# The marker holds the exact recipe and interpreter: changing a pin here, or the interpreter, rebuilds the environment.
RECIPE="bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 numpy sqlglotc==30.11.0"
MARKER="$ENV_DIR/.sentrum-recipe"
STAMP="$RECIPE python=$(readlink -f "$(command -v "$PY")")"
LOG="$(dirname "$ENV_DIR")/bqemulator-install.log"

# One install at a time: parallel test processes may all ask for the emulator at once, and two pips writing one
# virtualenv break each other. The others wait here, then find the marker and go on.
mkdir -p "$(dirname "$ENV_DIR")"
exec 9>"$(dirname "$ENV_DIR")/bqemulator-install.lock"
flock 9

if ! [[ -f "$MARKER" && "$(cat "$MARKER")" == "$STAMP" && -x "$ENV_DIR/bin/bqemulator" ]]; then
  # A half-built environment (interrupted install, older recipe) is rebuilt from scratch rather than patched.
  rm -rf "$ENV_DIR"
  echo "bqemulator_env: creating $ENV_DIR (first time only; ~30 s; log: $LOG)" >&2
  start=$(date +%s)
  # The installer's output goes to the log (local index mirrors make pip's noisy); its tail is shown if it fails.
  UV="$(command -v uv || true)"
  [[ -n "$UV" || ! -x "$ROOT/.tools/bin/uv" ]] || UV="$ROOT/.tools/bin/uv"
  # shellcheck disable=SC2086  # RECIPE is a list of requirement specifiers
  if [[ -n "$UV" ]]; then
    # compiled bytecode, as pip leaves it: the emulator's imports are not compiled anew at each start
    install() {
      UV_PYTHON_DOWNLOADS=never "$UV" venv --quiet --python "$PY" "$ENV_DIR" &&
        "$UV" pip install --python "$ENV_DIR/bin/python" --compile-bytecode $RECIPE
    }
  else
    install() { "$PY" -m venv "$ENV_DIR" && "$ENV_DIR/bin/python" -m pip install --disable-pip-version-check $RECIPE; }
  fi
  if ! install >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    echo "bqemulator_env: FAILED to install '$RECIPE' with $PY (full log: $LOG)" >&2
    exit 1
  fi
  "$ENV_DIR/bin/python" -c "import bqemulator" >&2
  # The marker is written last: an interrupted install has none, and the next run starts over.
  echo "$STAMP" >"$MARKER"
  echo "bqemulator_env: installed in $(($(date +%s) - start)) s" >&2
fi

# DuckDB keeps installed extensions under ~/.duckdb/extensions (per user, outside the venv), so this is checked on
# every run, not only after an install: cheap when present, and it heals a wiped home directory.
"$ENV_DIR/bin/python" - >&2 <<'EOF'
import glob
import os
import sys

import duckdb

con = duckdb.connect()
installed = con.execute("select installed from duckdb_extensions() where extension_name = 'spatial'").fetchone()
if not (installed and installed[0]):
    site = next(p for p in sys.path if p.endswith("site-packages"))
    found = sorted(glob.glob(os.path.join(site, "duckdb_extension_spatial", "**", "spatial.duckdb_extension"),
                             recursive=True))
    if not found:
        sys.exit("bqemulator_env: no spatial.duckdb_extension inside the duckdb-extension-spatial wheel")
    con.execute(f"INSTALL '{found[0]}'")
    print(f"bqemulator_env: DuckDB spatial extension installed from {found[0]}")
con.execute("LOAD spatial")
EOF
echo "$ENV_DIR/bin/bqemulator"
