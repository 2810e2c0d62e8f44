#!/usr/bin/env bash
# `make ui`: the Dagster UI on the embedded default's instance ($SENTRUM_HOME/dagster), with the Graph API sandbox
# running so runs launched from the UI can reach "Meta". Ctrl-C stops both.
set -euo pipefail
# everything written under SENTRUM_HOME (Dagster's storage, logs) is the owner's only
umask 077
cd "$(dirname "$0")/.."
: "${SENTRUM_HOME:=$PWD/.sentrum}" "${SANDBOX_PORT:=8765}" "${UI_PORT:=3000}" "${UV:=uv}"
export SENTRUM_HOME
export SENTRUM_META_GRAPH_URL="${SENTRUM_META_GRAPH_URL:-http://127.0.0.1:${SANDBOX_PORT}}"
export DAGSTER_HOME="$SENTRUM_HOME/dagster"
mkdir -p "$DAGSTER_HOME"
# the same instance settings the CLI writes (SQLite storage, one run at a time for DuckDB)
"$UV" run --frozen --no-sync python -c "from orchestration.instance import dagster_instance; from orchestration.settings import get_settings; dagster_instance(get_settings())"
# dbt's manifest, which the code location reads when it loads (rebuilt only when a model changed since)
"$UV" run --frozen --no-sync sentrum dbt-prepare

set -m  # own process groups, so a background job can be signalled as a whole
"$UV" run --frozen --no-sync sentrum sandbox serve --port "$SANDBOX_PORT" &
sandbox=$!
"$UV" run --frozen --no-sync python -m orchestration.dagster_cli dev -w workspace.yaml -h 127.0.0.1 -p "$UI_PORT" &
ui=$!
stop() {
  trap - INT TERM EXIT
  kill -INT -- "-$ui" 2>/dev/null || true
  kill -TERM -- "-$sandbox" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$ui" 2>/dev/null || kill -0 "$sandbox" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$ui" "-$sandbox" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "Dagster UI: http://127.0.0.1:${UI_PORT}   Graph API sandbox: ${SENTRUM_META_GRAPH_URL}   (Ctrl-C stops both)"
if [ "${SENTRUM_SCHEDULES_RUNNING:-false}" != "true" ]; then
  echo "The nightly and daily_sweep schedules are off here: turn them on in the UI (Automation, then the schedule's"
  echo "toggle), or start with SENTRUM_SCHEDULES_RUNNING=true make ui. The sensors (partitions, marts, backfills) run."
fi
wait "$ui"
