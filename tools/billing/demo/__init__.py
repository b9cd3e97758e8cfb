"""The deterministic demo organisation: 13 months of FOCUS data plus the evidence behind its incidents.

``generate(spec, out_dir)`` writes, under ``out_dir``:

- ``focus/focus-YYYY-MM.parquet``: FOCUS 1.2 rows (AWS with x_ServiceCode/x_UsageType/x_Operation, Azure,
  Anthropic and OpenAI token billing), one file per billing month;
- ``cloudtrail/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz``: CloudTrail log files;
- ``infra-repo/``: a real git repository (Terraform + app config) with the incident commits;
- ``calendar.yaml``: company events (shared calendar format); ``manifest.json``: ground truth for evals
  only — features find evidence the way a user's would (ctx.cloudtrail_dir, ctx.git_repo,
  ctx.calendar_path), never through the manifest.

``load_demo(ctx)`` generates into ``ctx.demo_dir`` (replacing a previous demo) and ingests the FOCUS files.
Same spec, same bytes: every random draw comes from a stream named after what it decides.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from tools.billing.demo.spec import (
    CALENDAR_EVENTS,
    DEFAULT_INCIDENTS,
    FIRST_DAY,
    LAST_DAY,
    SCALES,
    CalendarEvent,
    DemoSpec,
    IncidentSpec,
)
from tools.context import ToolContext

__all__ = [
    "CALENDAR_EVENTS",
    "DEFAULT_INCIDENTS",
    "FIRST_DAY",
    "LAST_DAY",
    "SCALES",
    "CalendarEvent",
    "DemoFiles",
    "DemoSpec",
    "DemoSummary",
    "IncidentSpec",
    "export_demo",
    "generate",
    "load_demo",
]


@dataclass
class DemoFiles:
    """Where generate() put things, and what it measured."""

    root: Path
    focus_dir: Path
    cloudtrail_dir: Path
    git_repo: Path
    calendar_path: Path
    manifest_path: Path
    rows: int
    resources: int
    first_day: date
    last_day: date
    providers: list[str]
    monthly_cost: dict[str, float] = field(default_factory=dict)
    cloudtrail_files: int = 0
    commits: int = 0
    seconds: float = 0.0


class DemoSummary(BaseModel):
    """What load_demo() loaded (also the `finops demo --json` document)."""

    rows: int
    first_day: date
    last_day: date
    export_dir: Path | None = None
    seed: int = 42
    scale: str = "small"
    demo_dir: Path | None = None
    resources: int = 0
    providers: list[str] = Field(default_factory=list)
    monthly_cost: dict[str, float] = Field(default_factory=dict)
    cloudtrail_dir: Path | None = None
    cloudtrail_files: int = 0
    git_repo: Path | None = None
    commits: int = 0
    calendar_path: Path | None = None
    manifest_path: Path | None = None
    generate_seconds: float = 0.0
    load_seconds: float = 0.0
    reused: bool = False  # the same seed/scale was already generated in demo_dir


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def generate(spec: DemoSpec, out_dir: Path, *, csv: bool = False, progress: bool = False) -> DemoFiles:
    """Write the whole demo org under ``out_dir`` (its focus/, cloudtrail/, infra-repo/ are replaced)."""
    from tools.billing.demo.cloudtrail import write_cloudtrail
    from tools.billing.demo.focus import FocusWriter, write_focus
    from tools.billing.demo.gitrepo import build_repo
    from tools.billing.demo.org import build_org
    from tools.billing.demo.rhythm import build_rhythm
    from tools.billing.demo.truth import manifest, write_calendar
    from tools.billing.demo.usage import compute_usage

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for part in ("focus", "focus-csv", "cloudtrail", "infra-repo"):
        if (out_dir / part).exists():
            shutil.rmtree(out_dir / part)
    rhythm = build_rhythm(spec)
    org = build_org(spec, rhythm)
    usage = compute_usage(org)
    _say(progress, f"demo: {len(org.resources)} resources, {len(usage.lines)} billed lines; writing FOCUS files ...")
    writer = FocusWriter(usage, rhythm.days, spec.scale_spec.hourly)
    stats = write_focus(writer, out_dir / "focus", out_dir / "focus-csv" if csv else None)
    _say(progress, f"demo: {stats.rows:,} FOCUS rows; building the infra repo and CloudTrail logs ...")
    repo = build_repo(org, out_dir / "infra-repo")
    records = write_cloudtrail(org, repo, out_dir / "cloudtrail")
    write_calendar(spec.calendar_events, out_dir / "calendar.yaml")
    doc = manifest(org, usage, repo, records)
    (out_dir / "manifest.json").write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    n_files = sum(1 for _ in (out_dir / "cloudtrail").rglob("*.json.gz"))
    return DemoFiles(
        root=out_dir,
        focus_dir=out_dir / "focus",
        cloudtrail_dir=out_dir / "cloudtrail",
        git_repo=out_dir / "infra-repo",
        calendar_path=out_dir / "calendar.yaml",
        manifest_path=out_dir / "manifest.json",
        rows=stats.rows,
        resources=len(org.resources),
        first_day=spec.first_day,
        last_day=spec.last_day,
        providers=stats.providers,
        monthly_cost=stats.monthly,
        cloudtrail_files=n_files,
        commits=len(repo.commits),
        seconds=round(time.perf_counter() - t0, 2),
    )


def _replace_dir(new: Path, target: Path) -> None:
    """Swap ``new`` into ``target``: the old demo disappears only once the new one is complete."""
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


GENERATOR_VERSION = 5
"""Bump when the generated output changes, so an existing demo dir is regenerated instead of reused."""
SPEC_FILE = ".demo-spec.json"


def _reusable(ctx: ToolContext, seed: int, scale: str) -> DemoSummary | None:
    """The summary of the demo already in ctx.demo_dir when it was generated from the same spec."""
    path = ctx.demo_dir / SPEC_FILE
    if not path.is_file() or not all((ctx.demo_dir / p).exists() for p in ("focus", "cloudtrail", "infra-repo")):
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if (doc.get("version"), doc.get("seed"), doc.get("scale")) != (GENERATOR_VERSION, seed, scale):
            return None
        return DemoSummary.model_validate(doc["summary"])
    except (ValueError, KeyError, TypeError):
        return None


def load_demo(
    ctx: ToolContext, seed: int = 42, scale: str = "small", progress: bool = False, *, force: bool = False
) -> DemoSummary:
    """Generate the demo org into ``ctx.demo_dir`` (replacing a previous one) and ingest its FOCUS files.

    A demo already generated there from the same seed, scale and generator version is reused (the
    ingest is idempotent, so this is quick); ``force=True`` regenerates it.
    """
    from tools.billing.ingest import ingest_paths

    spec = DemoSpec(seed=seed, scale=scale)  # type: ignore[arg-type]  # validated in DemoSpec
    summary = None if force else _reusable(ctx, seed, scale)
    if summary is None:
        summary = _generate_into(ctx, spec, progress)
    else:
        summary.reused = True
        _say(progress, f"demo: reusing the seed {seed} {scale} demo in {ctx.demo_dir} (--force regenerates)")
    t0 = time.perf_counter()
    _say(progress, f"demo: loading {summary.rows:,} rows into {ctx.db_path} ...")
    ingest_paths(ctx, [ctx.demo_dir / "focus"], progress=progress)
    summary.load_seconds = round(time.perf_counter() - t0, 2)
    return summary


def _generate_into(ctx: ToolContext, spec: DemoSpec, progress: bool) -> DemoSummary:
    ctx.home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=ctx.home))
    try:
        files = generate(spec, staging, progress=progress)
        root = ctx.demo_dir
        summary = DemoSummary(
            rows=files.rows, first_day=files.first_day, last_day=files.last_day, export_dir=None, seed=spec.seed,
            scale=spec.scale, demo_dir=root, resources=files.resources, providers=files.providers,
            monthly_cost=files.monthly_cost, cloudtrail_dir=root / "cloudtrail",
            cloudtrail_files=files.cloudtrail_files, git_repo=root / "infra-repo", commits=files.commits,
            calendar_path=root / "calendar.yaml", manifest_path=root / "manifest.json",
            generate_seconds=files.seconds,
        )  # fmt: skip
        marker = {"version": GENERATOR_VERSION, "seed": spec.seed, "scale": spec.scale,
                  "summary": summary.model_dump(mode="json")}  # fmt: skip
        (staging / SPEC_FILE).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
        _replace_dir(staging, ctx.demo_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return summary


def export_demo(demo_dir: Path, export_dir: Path) -> Path:
    """Copy a generated demo (Parquet, CloudTrail, git repo, calendar, manifest) to ``export_dir`` and add
    the FOCUS data as CSV (``focus-csv/``) so users can see every format."""
    import pyarrow.parquet as pq

    from tools.billing.demo.focus import write_csv

    export_dir.mkdir(parents=True, exist_ok=True)
    for part in ("focus", "cloudtrail", "infra-repo"):
        if (export_dir / part).exists():
            shutil.rmtree(export_dir / part)
        shutil.copytree(demo_dir / part, export_dir / part, symlinks=True)
    for name in ("calendar.yaml", "manifest.json"):
        shutil.copy2(demo_dir / name, export_dir / name)
    for parquet in sorted((demo_dir / "focus").glob("*.parquet")):
        write_csv(pq.read_table(parquet), export_dir / "focus-csv" / (parquet.stem + ".csv"))
    return export_dir
