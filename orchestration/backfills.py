"""Backfills of a workspace's history (up to 37 months), in chunks of at most `backfill_chunk_days` per run.

From the UI: launch `backfill_request` with {workspace, start, end}; `backfill_sensor` turns each request into one
extraction run per chunk (run keys per request and chunk, so nothing is launched twice), then one marts run for
the whole window when every chunk has finished. A failed chunk is re-executed from the UI (its run), or by asking
the CLI for the same backfill again: `sentrum sync --workspace W --start D --end D` resumes, skipping the chunks
that already succeeded.
"""

from datetime import date

import dagster as dg
from pydantic import field_validator

from insights_jobs import Window, clamp_window
from orchestration.jobs import EXTRACT_JOB, MARTS_JOB, extract_job, extract_run_config, marts_job, marts_run_config
from orchestration.planning import WorkspaceBatch, backfill_id, plan_backfill_chunks
from orchestration.resources import RegistryResource
from orchestration.sensors import FINISHED
from workspaces import check_workspace_id

BACKFILL_TAG = "sentrum/backfill"
CHUNK_TAG = "sentrum/chunk"
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
            chunks = plan_backfill_chunks(window, chunk_days)
            for chunk in chunks:
                requests.append(
                    dg.RunRequest(
                        run_key=f"backfill:{req.run_id}:{chunk.index:04d}",
                        job_name=EXTRACT_JOB,
                        partition_key=cfg["workspace"],
                        run_config=extract_run_config(chunk.window),
                        tags={BACKFILL_TAG: bid, CHUNK_TAG: chunk.label, "workspace": cfg["workspace"]},
                    )
                )
            runs = context.instance.get_runs(dg.RunsFilter(job_name=EXTRACT_JOB, tags={BACKFILL_TAG: bid}))
            done = {r.tags.get(CHUNK_TAG) for r in runs if r.status in FINISHED}
            if done >= {c.label for c in chunks}:
                requests.append(
                    dg.RunRequest(
                        run_key=f"backfill-marts:{req.run_id}",
                        job_name=MARTS_JOB,
                        run_config=marts_run_config(window),
                        tags={
                            **WorkspaceBatch((cfg["workspace"],)).run_tags(),
                            BACKFILL_TAG: bid,
                            "workspace": cfg["workspace"],
                        },
                    )
                )
        return requests or dg.SkipReason("no backfill request waiting")

    return backfill_sensor
