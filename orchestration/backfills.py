"""Backfills of a workspace's history (up to 37 months), in chunks of at most `backfill_chunk_days` per run.

From the UI: launch `backfill_request` with {workspace, start, end}; `backfill_sensor` turns each request into one
extraction run per chunk (run keys per request and chunk, so nothing is launched twice), then one marts run for
the whole window when every chunk has finished. A failed chunk is re-executed from the UI (its run), or by asking
the CLI for the same backfill again: `sentrum sync --workspace W --start D --end D` resumes, skipping the chunks
that already succeeded.

The sensor's body is `backfill_run_requests` (built from `backfill_chunk_requests` and `backfill_marts_request`), pure
functions; `sentrum sync --start --end` runs the requests they return (runner.py).
"""

from collections.abc import Set
from datetime import date

import dagster as dg
from pydantic import field_validator

from dates import Window
from insights_jobs import clamp_window
from orchestration.jobs import EXTRACT_JOB, MARTS_JOB, extract_job, extract_run_config, marts_job, marts_run_config
from orchestration.planning import WorkspaceBatch, backfill_id, plan_backfill_chunks
from orchestration.resources import RegistryResource
from orchestration.sensors import FINISHED
from orchestration.tags import BACKFILL_TAG, CHUNK_TAG, TRIGGER_TAG, WORKSPACE_TAG
from workspaces import check_workspace_id

REQUEST_JOB = "backfill_request"


class BackfillRequest(dg.Config):
    workspace: str
    start: str
    end: str

    @field_validator("workspace")
    @classmethod
    def _workspace_id(cls, v: str) -> str:
        return check_workspace_id(v)

    @field_validator("start", "end")
    @classmethod
    def _iso(cls, v: str) -> str:
        date.fromisoformat(v)
        return v

    def window(self) -> Window:
        return Window(date.fromisoformat(self.start), date.fromisoformat(self.end))


def clamp_backfill(window: Window) -> Window:
    """Meta serves 37 months; clamped with the widest timezone (UTC+14 is a day ahead of UTC) in mind."""
    clamped = clamp_window(window, "Pacific/Kiritimati")
    if clamped is None:
        raise ValueError(f"{window.start}..{window.end} is entirely outside the 37 months Meta keeps")
    return clamped


@dg.op(description="Validates a backfill request; backfill_sensor launches its chunks.")
def request_backfill(context: dg.OpExecutionContext, config: BackfillRequest, registry: RegistryResource) -> None:
    ws = registry.get().get(config.workspace)
    if not ws.extractable:
        raise dg.Failure(f"workspace {ws.id} is {ws.status.value}: nothing to backfill", allow_retries=False)
    window = clamp_backfill(config.window())
    context.log.info(f"backfill of {ws.id} for {window.start}..{window.end} accepted")


@dg.job(name=REQUEST_JOB, description="Ask for a workspace's history to be backfilled (config: workspace, dates).")
def backfill_request_job() -> None:
    request_backfill()


def _trigger(trigger: str | None) -> dict[str, str]:
    return {TRIGGER_TAG: trigger} if trigger else {}


def backfill_chunk_requests(
    request_key: str, workspace_id: str, window: Window, chunk_days: int, trigger: str | None = None
) -> list[dg.RunRequest]:
    """One extraction run per chunk of the (clamped) window, oldest first; run keys per request and chunk."""
    bid = backfill_id(workspace_id, window, chunk_days)
    return [
        dg.RunRequest(
            run_key=f"backfill:{request_key}:{chunk.index:04d}",
            job_name=EXTRACT_JOB,
            partition_key=workspace_id,
            run_config=extract_run_config(chunk.window),
            tags={BACKFILL_TAG: bid, CHUNK_TAG: chunk.label, WORKSPACE_TAG: workspace_id, **_trigger(trigger)},
        )
        for chunk in plan_backfill_chunks(window, chunk_days)
    ]


def backfill_marts_request(
    request_key: str, workspace_id: str, window: Window, chunk_days: int, trigger: str | None = None
) -> dg.RunRequest:
    """The marts run for the whole window, after the chunks (dbt over every workspace, diagnostics for this one)."""
    return dg.RunRequest(
        run_key=f"backfill-marts:{request_key}",
        job_name=MARTS_JOB,
        run_config=marts_run_config(window),
        tags={
            **WorkspaceBatch((workspace_id,)).run_tags(),
            BACKFILL_TAG: backfill_id(workspace_id, window, chunk_days),
            WORKSPACE_TAG: workspace_id,
            **_trigger(trigger),
        },
    )


def backfill_run_requests(
    request_key: str, workspace_id: str, window: Window, chunk_days: int, finished_chunks: Set[str]
) -> list[dg.RunRequest]:
    """A backfill's runs: every chunk (the sensor's run keys keep a launched one from launching again), and the
    marts run once every chunk has finished (`finished_chunks`: their labels), whatever its outcome."""
    chunks = backfill_chunk_requests(request_key, workspace_id, window, chunk_days)
    if finished_chunks >= {r.tags[CHUNK_TAG] for r in chunks}:
        return [*chunks, backfill_marts_request(request_key, workspace_id, window, chunk_days)]
    return chunks


def build_backfill_sensor(chunk_days: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="backfill_sensor",
        jobs=[extract_job, marts_job],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Turns backfill requests into chunked extraction runs, then one marts run for the window.",
    )
    def backfill_sensor(context: dg.SensorEvaluationContext):
        requests: list[dg.RunRequest] = []
        for req in context.instance.get_runs(
            dg.RunsFilter(job_name=REQUEST_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=20
        ):
            cfg = req.run_config["ops"]["request_backfill"]["config"]
            window = clamp_backfill(Window(date.fromisoformat(cfg["start"]), date.fromisoformat(cfg["end"])))
            bid = backfill_id(cfg["workspace"], window, chunk_days)
            runs = context.instance.get_runs(dg.RunsFilter(job_name=EXTRACT_JOB, tags={BACKFILL_TAG: bid}))
            finished = {r.tags.get(CHUNK_TAG, "") for r in runs if r.status in FINISHED}
            requests += backfill_run_requests(req.run_id, cfg["workspace"], window, chunk_days, finished)
        return requests or dg.SkipReason("no backfill request waiting")

    return backfill_sensor
