"""The demo organisation as eval cases: its planted incidents (``manifest.json``) as ground truth.

Seed 42 is the shipped demo; other seeds move every incident by a seeded number of days (different
dates, different noise and ids). Evidence comes from the demo's own CloudTrail files and infra git
repo through :func:`tools.evidence.collect`, exactly as ``finops anomalies --explain`` reads them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.anomalies.score import Tally, Truth, score

EVAL_FROM = dt.date(2025, 12, 20)


def _spec(seed: int) -> Any:
    from tools.billing.demo.spec import DemoSpec

    base = DemoSpec(seed=seed)
    if seed == 42:
        return base
    rng = random.Random(seed)
    moved = []
    for inc in base.incident_list:
        shift = dt.timedelta(days=rng.randint(-30, 30))
        end = None if inc.end is None else min(inc.end + shift, base.last_day)
        moved.append(dataclasses.replace(inc, start=inc.start + shift, end=end, at=inc.at + shift))
    return dataclasses.replace(base, incidents=tuple(moved))


def _truth(manifest: dict[str, Any]) -> list[Truth]:
    last = dt.date.fromisoformat(manifest["last_day"])
    out = []
    for inc in manifest["incidents"]:
        ids = inc["dimensions"].get("ResourceId") or []
        dims = {f"ResourceId#{i}": rid for i, rid in enumerate(ids if isinstance(ids, list) else [ids])}
        end = dt.date.fromisoformat(inc["end"]) if inc.get("end") else last
        cause = inc.get("cause") or {}
        out.append(Truth(inc["id"], dt.date.fromisoformat(inc["start"]), end, bool(inc["is_anomaly"]), dims,
                         cause.get("ref"), inc["kind"]))  # fmt: skip
    return out


def demo_case(seed: int = 42) -> dict[str, tuple[Tally, float]]:
    """Generate and load the demo (seed), detect with both methods, explain the detector's finds."""
    from tools.anomalies import DetectOptions, detect_on
    from tools.billing import store
    from tools.billing.demo import generate
    from tools.billing.ingest import ingest_paths
    from tools.calendar import event_days, load_calendar
    from tools.context import ToolContext
    from tools.explain import gather, grade

    with tempfile.TemporaryDirectory(prefix="finops-anomaly-demo-") as tmp:
        home = Path(tmp)
        files = generate(_spec(seed), home / "demo")
        ctx = ToolContext(home=home, calendar_path=files.calendar_path, cloudtrail_dir=files.cloudtrail_dir,
                          git_repo=files.git_repo, country="US")  # fmt: skip
        ingest_paths(ctx, [files.focus_dir])
        manifest = json.loads(files.manifest_path.read_text(encoding="utf-8"))
        truth = [t for t in _truth(manifest) if t.end >= EVAL_FROM]
        events = load_calendar(files.calendar_path)
        cal_days = set(event_days(events, files.first_day, files.last_day))
        out: dict[str, tuple[Tally, float]] = {}
        with store.reader(ctx.db_path) as con:
            for method in ("seasonal", "zscore28"):
                started = time.perf_counter()
                opts = DetectOptions(since=EVAL_FROM, method=method)
                found = detect_on(con, opts, calendar_path=files.calendar_path, country="US").anomalies
                took = time.perf_counter() - started
                refs = {}
                if method == "seasonal":
                    for a in found:
                        links = grade(a, list(gather(ctx, a).items))
                        refs[a.id] = links[0].ref if links else None
                out[method] = (score(found, truth, cal_days, refs if method == "seasonal" else None), took)
        return out
