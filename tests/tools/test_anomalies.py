"""Detection on real DuckDB files built in tmp_path with planted changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import tools
from tools.anomalies import DetectOptions, detect
from tools.billing import store
from tools.context import ToolContext

START = dt.date(2026, 1, 5)  # a Monday
DAYS = 120
Row = tuple[dt.date, str, str, str, str, str, str, str, float]  # day, svc, acct, region, rid, name, usage, team, $


def day(i: int) -> dt.date:
    return START + dt.timedelta(days=i)


def series(
    rid: str,
    base: float,
    *,
    svc: str = "Amazon Elastic Compute Cloud",
    usage: str = "BoxUsage:m5.xlarge",
    team: str = "web",
    acct: str = "111111111111",
    weekend: float = 1.0,
    noise: float = 0.02,
    seed: int = 0,
    change: Callable[[int, float], float] | None = None,
    days: int = DAYS,
) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(days):
        d = day(i)
        cost = base * (weekend if d.weekday() >= 5 else 1.0) * float(rng.lognormal(0, noise))
        if change is not None:
            cost = change(i, cost)
        if cost > 0:
            rows.append((d, svc, acct, "us-east-1", rid, rid.split("/")[-1], usage, team, round(cost, 4)))
    return rows


def load(home: Path, rows: list[Row]) -> ToolContext:
    """Write rows into a real DuckDB file through the store (one bulk INSERT from Arrow)."""
    import pyarrow as pa

    ctx = ToolContext(home=home, country="US")
    names = ["d", "svc", "acct", "region", "rid", "name", "usage", "team", "cost"]
    table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    with store.writer(ctx.db_path) as con:
        con.register("staged", table)
        con.execute(
            """INSERT INTO focus BY NAME SELECT d::TIMESTAMP AS ChargePeriodStart,
                   (d + 1)::TIMESTAMP AS ChargePeriodEnd, svc AS ServiceName, acct AS SubAccountId,
                   nullif(region, '') AS RegionId, nullif(rid, '') AS ResourceId, nullif(name, '') AS ResourceName,
                   usage AS SkuMeter, MAP(['team'], [team]) AS Tags, cost::DECIMAL(38, 12) AS EffectiveCost,
                   cost::DECIMAL(38, 12) AS BilledCost, 1 AS x_IngestId
               FROM staged"""
        )
        store.materialise_tags(con)
    return ctx


def quiet_org(days: int = DAYS) -> list[Row]:
    return (
        series("i-web1", 200, seed=1, weekend=0.6, days=days)
        + series("i-web2", 150, seed=2, weekend=0.6, days=days)
        + series("db-orders", 300, svc="Amazon Relational Database Service", usage="db.r5", team="data", seed=3,
                 days=days)
    )  # fmt: skip


def opts(**kw: object) -> DetectOptions:
    base: dict[str, object] = {"since": day(40), "lag_days": 0, "use_calendar": False}
    base.update(kw)
    return DetectOptions.model_validate(base)


def test_a_planted_spike_is_reported_once_at_the_resource_with_parents_as_context(tmp_path: Path) -> None:
    spike = series("i-batch", 80, seed=4, change=lambda i, c: c * 4 if i in (70, 71) else c)
    ctx = load(tmp_path, quiet_org() + spike)
    found = detect(ctx, opts()).anomalies
    assert len(found) == 1
    a = found[0]
    assert (a.dimension, a.key, a.start, a.end, a.direction) == ("ResourceId", "i-batch", day(70), day(71), "up")
    assert a.dimensions["ServiceName"] == "Amazon Elastic Compute Cloud"
    assert a.dimensions["tag:team"] == "web"
    assert "ServiceName=Amazon Elastic Compute Cloud" in a.context
    assert a.top_contributors[0].resource_id == "i-batch"
    assert a.impact_usd == pytest.approx(a.actual_usd - a.expected_usd, abs=0.02)
    assert 200 < a.impact_per_day_usd < 280
    assert a.expected_low_usd <= a.expected_usd <= a.expected_high_usd


def test_weekend_dips_and_steady_noise_are_not_anomalies(tmp_path: Path) -> None:
    ctx = load(tmp_path, quiet_org())
    assert detect(ctx, opts()).anomalies == []


def test_month_start_fees_are_compared_with_earlier_month_starts(tmp_path: Path) -> None:
    fee = [
        (d, "AWS Support (Business)", "111111111111", "", "", "", "Support-Fee", "platform", 900.0)
        for d in (day(i) for i in range(DAYS))
        if d.day == 1
    ]
    ctx = load(tmp_path, quiet_org() + fee)
    assert detect(ctx, opts()).anomalies == []


def test_a_surge_announced_in_the_calendar_is_not_an_anomaly_but_an_unannounced_one_is(tmp_path: Path) -> None:
    surge = {80, 81, 82}
    rows = series("i-shop", 300, seed=5, change=lambda i, c: c * 1.5 if i in surge else c)
    ctx = load(tmp_path, quiet_org() + rows)
    cal = tmp_path / "calendar.yaml"
    cal.write_text(
        f"events:\n  - {{name: Spring sale, start: {day(80)}, end: {day(82)}, effect: '+40%'}}\n", encoding="utf-8"
    )
    unannounced = detect(ctx, opts()).anomalies
    assert [(a.key, a.start) for a in unannounced] == [("i-shop", day(80))]
    announced = detect(ToolContext(home=ctx.home, calendar_path=cal, country="US"), opts(use_calendar=True)).anomalies
    assert announced == []


def test_opposite_sign_changes_in_one_service_are_both_reported(tmp_path: Path) -> None:
    up = series("i-up", 200, seed=6, change=lambda i, c: c + 150 if 75 <= i < 82 else c)
    down = series("i-down", 200, seed=7, change=lambda i, c: c - 150 if 75 <= i < 82 else c)
    ctx = load(tmp_path, quiet_org() + up + down)
    found = {(a.key, a.direction) for a in detect(ctx, opts()).anomalies}
    assert found == {("i-up", "up"), ("i-down", "down")}


def test_recent_unsettled_days_are_provisional_not_anomalies(tmp_path: Path) -> None:
    late = series("i-late", 100, seed=8, change=lambda i, c: c * 3 if i >= DAYS - 1 else c)
    ctx = load(tmp_path, quiet_org() + late)
    result = detect(ctx, opts(lag_days=2))
    assert result.anomalies == []
    assert [a.key for a in result.provisional] == ["i-late"]
    assert result.settled_through == day(DAYS - 3)


def test_changes_below_the_minimum_daily_impact_are_ignored(tmp_path: Path) -> None:
    small = series("i-small", 20, seed=9, change=lambda i, c: c * 2 if 70 <= i < 75 else c)
    ctx = load(tmp_path, quiet_org() + small)
    assert detect(ctx, opts(min_daily_usd=25)).anomalies == []
    assert [a.key for a in detect(ctx, opts(min_daily_usd=10)).anomalies] == ["i-small"]


def test_many_new_instances_starting_together_are_one_incident_with_all_of_them_as_contributors(
    tmp_path: Path,
) -> None:
    fleet = []
    for n in range(12):
        fleet += series(
            f"i-fleet{n:02d}", 30, usage="BoxUsage:c5.xlarge", seed=20 + n,
            change=lambda i, c: c if 80 <= i < 88 else 0.0,
        )  # fmt: skip
    ctx = load(tmp_path, quiet_org() + fleet)
    found = detect(ctx, opts()).anomalies
    assert len(found) == 1
    a = found[0]
    assert (a.dimension, a.key, a.start) == ("UsageType", "BoxUsage:c5.xlarge", day(80))
    assert {c.resource_id for c in a.top_contributors} <= {f"i-fleet{n:02d}" for n in range(12)}
    assert len(a.top_contributors) >= 9


def test_the_id_is_a_stable_fingerprint_across_runs_and_new_data(tmp_path: Path) -> None:
    spike = series("i-batch", 80, seed=4, change=lambda i, c: c * 4 if i == 70 else c)
    first = detect(load(tmp_path / "a", quiet_org() + spike), opts()).anomalies
    more = series("i-batch", 80, seed=4, days=DAYS + 5, change=lambda i, c: c * 4 if i == 70 else c)
    second = detect(load(tmp_path / "b", quiet_org(DAYS + 5) + more), opts()).anomalies
    assert [a.id for a in first] == [a.id for a in second]
    assert first[0].id.startswith("an-")


def test_a_level_shift_reports_its_whole_span_and_total_impact(tmp_path: Path) -> None:
    shift = series("db-big", 400, svc="Amazon Relational Database Service", usage="db.r5", team="data",
                   seed=11, change=lambda i, c: c * 2 if 60 <= i < 70 else c)  # fmt: skip
    ctx = load(tmp_path, quiet_org() + shift)
    (a,) = detect(ctx, opts()).anomalies
    assert (a.start, a.end, a.days) == (day(60), day(69), 10)
    assert a.impact_usd == pytest.approx(4000, rel=0.1)
    assert a.severity == "high"


def test_anomalies_tool_is_registered_and_returns_bounded_results(tmp_path: Path) -> None:
    spike = series("i-batch", 80, seed=4, change=lambda i, c: c * 4 if i == 70 else c)
    ctx = load(tmp_path, quiet_org() + spike)
    registry = tools.load_registry()
    out = registry["anomalies"].call(ctx, {"since": str(day(40)), "limit": 1})
    doc = out.model_dump(mode="json")
    assert doc["total"] == 1 and len(doc["anomalies"]) == 1
    assert doc["anomalies"][0]["key"] == "i-batch"
    assert "explain_anomaly" in registry


def test_no_billing_data_is_a_one_line_data_missing_error(tmp_path: Path) -> None:
    from tools.errors import DataMissing

    with pytest.raises(DataMissing, match="finops demo"):
        detect(ToolContext(home=tmp_path / "empty"), opts())


def test_a_new_gpu_endpoint_and_a_confirmed_asg_change_queue_custodian_proposals_for_review(tmp_path: Path) -> None:
    from tests.tools.test_explain import ASG, anomaly, item
    from tools.anomalies.models import Contributor
    from tools.anomalies.propose import propose_for
    from tools.evidence import EvidenceReport
    from tools.explain import explain

    ctx = ToolContext(home=tmp_path / "home")
    endpoint = "arn:aws:sagemaker:us-east-1:222222222222:endpoint/llm-test"
    gpu = anomaly(dimension="ResourceId", key=endpoint, dimensions={"ResourceId": endpoint}, top_contributors=[
        Contributor(resource_id=endpoint, resource_name="llm-test", service="Amazon SageMaker",
                    account="222222222222", region="us-east-1", delta_usd=3000.0)])  # fmt: skip
    (path,) = propose_for(ctx, gpu, None, "run-1")
    text = path.read_text(encoding="utf-8")
    assert path.is_relative_to(ctx.policies_dir)
    assert "mark-for-op" in text and "op: delete" in text and "llm-test" in text and "an-000000000001" in text
    cause = item("ev-asg", 10.0, "UpdateAutoScalingGroup", resource_ids=[ASG], resource_names=["web-prod"])
    explained = explain(anomaly(), EvidenceReport(items=[cause]))
    (asg_path,) = propose_for(ctx, anomaly(), explained, "run-1")
    assert "op: resize" in asg_path.read_text(encoding="utf-8")
    small = gpu.model_copy(update={"impact_per_day_usd": 10.0})
    assert propose_for(ctx, small, None, "run-1") == []


def test_every_dimension_series_equals_a_direct_group_by_in_duckdb(tmp_path: Path) -> None:
    from tools.anomalies import series as cube

    fee = [(day(i), "AWS Support", "222222222222", "", "", "", "Fee", "platform", 900.0) for i in (26, 54, 85)]
    ctx = load(tmp_path, quiet_org() + fee + series("i-batch", 80, team="data", seed=4))
    with store.reader(ctx.db_path) as con:
        data = cube.load(con)
        assert data is not None
        for dim, expr in cube.dimension_sql(con).items():
            rows = con.execute(
                f"SELECT CAST({expr} AS VARCHAR), ChargePeriodStart::DATE, sum(EffectiveCost)::DOUBLE FROM focus "
                f"WHERE {expr} IS NOT NULL GROUP BY ALL"
            ).fetchall()
            panel = data.panels[dim]
            got = {(k, data.days[t]): panel.values[i, t] for i, k in enumerate(panel.keys)
                   for t in range(len(data.days)) if panel.values[i, t]}  # fmt: skip
            assert got == pytest.approx({(k, d): c for k, d, c in rows}), dim


def test_a_lasting_change_is_reported_once_then_accepted_as_the_new_normal(tmp_path: Path) -> None:
    lasting = series("db-new", 300, svc="Amazon Relational Database Service", usage="db.r5", team="data",
                     seed=12, change=lambda i, c: c * 1.8 if i >= 50 else c)  # fmt: skip
    (a,) = detect(load(tmp_path, quiet_org() + lasting), opts()).anomalies
    assert (a.key, a.start, a.days, a.persisting) == ("db-new", day(50), 28, True)
    from tools.explain import narrative

    assert "has stayed there" in narrative(a, [])


def test_the_slack_digest_routes_each_anomaly_to_its_team_channel_and_states_its_own_cost() -> None:
    from tests.tools.test_explain import anomaly
    from tools.anomalies import digest
    from tools.anomalies.models import Contributor

    web = anomaly()  # contributors tagged team=web
    data = anomaly(id="an-000000000002", dimensions={"tag:team": "data"})
    orphan = anomaly(id="an-000000000003", top_contributors=[Contributor(resource_id="x", delta_usd=50.0)])
    routes = digest.route([web, data, orphan], {"web": "#web-costs", "data": "#data-costs"}, "#finops")
    assert {(r.channel, tuple(a.id for a in r.anomalies)) for r in routes} == {
        ("#web-costs", (web.id,)), ("#data-costs", (data.id,)), ("#finops", (orphan.id,))}  # fmt: skip
    blocks, text = digest.blocks([web], {web.id: "Spend on <!channel> rose"}, team="web", cost_usd=0.0123,
                                 llm_calls=1)  # fmt: skip
    flat = str(blocks)
    assert "producing this digest cost $0.0123 (1 LLM call)" in flat
    assert "<!channel>" not in flat and "&lt;!channel&gt;" in flat  # evidence text cannot ping a channel
    assert text.startswith("Cost anomalies for web: 1")
