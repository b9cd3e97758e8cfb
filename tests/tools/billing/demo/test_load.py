"""load_demo end to end: generate into the home, ingest into a real DuckDB file, replace on reload."""

from __future__ import annotations

import json
import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from tools.billing import store
from tools.billing.demo import DemoFiles, DemoSummary, load_demo
from tools.context import ToolContext


def test_small_demo_generates_quickly(demo: DemoFiles) -> None:
    print(f"\nsmall demo: {demo.rows:,} rows, {demo.resources} resources in {demo.seconds:.1f} s")
    assert demo.seconds < 45  # ~5-6 s of CPU; generous for a loaded 2-core machine


def test_load_demo_ingests_every_row_with_ids_as_strings(loaded: tuple[ToolContext, DemoSummary]) -> None:
    ctx, summary = loaded
    assert (summary.first_day, summary.last_day) == (date(2025, 11, 1), date(2026, 11, 30))
    assert summary.demo_dir == ctx.demo_dir and (ctx.demo_dir / "manifest.json").is_file()
    with store.reader(ctx.db_path) as con:
        assert store.row_count(con) == summary.rows
        ids = {r[0] for r in con.execute("SELECT DISTINCT SubAccountId FROM focus").fetchall()}
        assert "012345678901" in ids and "093847561234" in ids
        assert "team" in store.tag_columns(con)
        spend = con.execute("SELECT sum(EffectiveCost) FROM focus").fetchone()
    assert spend is not None
    assert abs(float(spend[0]) - sum(summary.monthly_cost.values())) < 1.0


def test_the_asg_step_is_visible_through_sql_on_the_loaded_store(loaded: tuple[ToolContext, DemoSummary]) -> None:
    ctx, _ = loaded
    with store.reader(ctx.db_path) as con:
        rows = con.execute(
            "SELECT date_trunc('day', ChargePeriodStart)::DATE AS day, sum(EffectiveCost) FROM focus "
            "WHERE SubAccountId = '238476512093' AND x_ServiceCode = 'AmazonEC2' AND Tags['app'] = 'web' "
            "AND ChargePeriodStart >= '2026-06-06' AND ChargePeriodStart < '2026-06-12' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    by_day = {d: float(v) for d, v in rows}
    assert by_day[date(2026, 6, 10)] > 2.5 * by_day[date(2026, 6, 8)]


def test_loading_the_same_seed_again_reuses_the_files_and_changes_nothing(
    loaded: tuple[ToolContext, DemoSummary],
) -> None:
    ctx, first = loaded
    stamp = (ctx.demo_dir / "manifest.json").stat().st_mtime_ns
    with store.reader(ctx.db_path) as con:
        version = store.data_version(con)
    again = load_demo(ctx)
    assert (ctx.demo_dir / "manifest.json").stat().st_mtime_ns == stamp
    assert (again.rows, again.monthly_cost) == (first.rows, first.monthly_cost)
    with store.reader(ctx.db_path) as con:
        assert store.row_count(con) == first.rows
        assert store.data_version(con) == version


@pytest.mark.slow
def test_reloading_with_another_seed_replaces_the_demo(loaded: tuple[ToolContext, DemoSummary], tmp_path: Path) -> None:
    shutil.copytree(loaded[0].home, tmp_path / "home", symlinks=True)  # the session's home stays intact
    ctx, first = ToolContext(home=tmp_path / "home"), loaded[1]
    before = json.loads((ctx.demo_dir / "manifest.json").read_text())
    t0 = time.perf_counter()
    second = load_demo(ctx, seed=7)
    print(
        f"\nreload (seed 7): generate {second.generate_seconds} s, load {second.load_seconds} s, "
        f"total {time.perf_counter() - t0:.1f} s"
    )
    after = json.loads((ctx.demo_dir / "manifest.json").read_text())
    assert (before["seed"], after["seed"]) == (42, 7)
    assert not any(p.name.startswith(".demo-") for p in ctx.home.iterdir())
    with store.reader(ctx.db_path) as con:
        assert store.row_count(con) == second.rows
        periods = con.execute("SELECT count(DISTINCT BillingPeriodStart) FROM focus").fetchone()
    assert periods == (13,)
    assert second.rows != first.rows or second.monthly_cost != first.monthly_cost
