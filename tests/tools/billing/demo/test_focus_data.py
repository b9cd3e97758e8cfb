"""The demo org's FOCUS files: columns, values, rhythm and the planted incidents as seen in the data."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from tools.billing import catalog
from tools.billing.demo import DemoFiles
from tools.billing.demo.spec import DEFAULT_INCIDENTS

from .conftest import read_manifest


def q(sql: str) -> list[tuple[Any, ...]]:
    return duckdb.connect().execute(sql).fetchall()


def daily(focus_glob: str, where: str) -> dict[date, float]:
    rows = q(
        f"SELECT date_trunc('day', ChargePeriodStart)::DATE, sum(EffectiveCost) FROM '{focus_glob}' "
        f"WHERE {where} GROUP BY 1 ORDER BY 1"
    )
    return {d: float(v) for d, v in rows}


def test_one_parquet_file_per_billing_month_with_exactly_the_focus_1_2_columns(demo: DemoFiles) -> None:
    files = sorted(demo.focus_dir.glob("*.parquet"))
    assert (files[0].stem, files[-1].stem) == ("focus-2025-11", "focus-2026-11")
    assert len(files) == 13
    names = pq.read_schema(files[0]).names
    focus = [c.name for c in catalog.columns_for_version("1.2")]
    assert [n for n in names if not n.startswith("x_")] == focus
    assert {"x_ServiceCode", "x_UsageType", "x_Operation"} <= set(names)


def test_each_file_holds_only_its_own_billing_period(focus_glob: str) -> None:
    bad = q(
        f"SELECT count(*) FROM read_parquet('{focus_glob}', filename=true) "
        "WHERE strftime(BillingPeriodStart, '%Y-%m') <> regexp_extract(filename, 'focus-(\\d{4}-\\d{2})', 1) "
        "OR ChargePeriodStart < BillingPeriodStart OR ChargePeriodEnd > BillingPeriodEnd"
    )
    assert bad == [(0,)]


def test_small_scale_has_enough_rows_resources_and_providers(demo: DemoFiles, focus_glob: str) -> None:
    assert 100_000 <= demo.rows <= 250_000
    assert demo.resources >= 300
    resources = q(f"SELECT count(DISTINCT ResourceId) FROM '{focus_glob}'")[0][0]
    assert resources >= 300
    assert set(demo.providers) == {"AWS", "Microsoft", "Anthropic", "OpenAI"}
    assert q(f"SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE FROM '{focus_glob}'") == [
        (date(2025, 11, 1), date(2026, 11, 30))
    ]


def test_aws_account_ids_are_12_digit_strings_and_keep_leading_zeros(focus_glob: str) -> None:
    ids = {r[0] for r in q(f"SELECT DISTINCT SubAccountId FROM '{focus_glob}' WHERE ProviderName = 'AWS'")}
    assert len(ids) >= 5
    assert all(len(i) == 12 and i.isdigit() for i in ids)
    assert {"012345678901", "093847561234"} <= ids
    payer = q(f"SELECT DISTINCT BillingAccountId FROM '{focus_glob}' WHERE ProviderName = 'AWS'")
    assert payer == [("012345678901",)]


def test_resource_ids_look_like_the_providers_ids(focus_glob: str) -> None:
    rows = q(f"SELECT ResourceType, any_value(ResourceId) FROM '{focus_glob}' WHERE ResourceId IS NOT NULL GROUP BY 1")
    ids = dict(rows)
    assert ids["instance"].startswith("i-0") and len(ids["instance"]) == 19
    assert ids["volume"].startswith("vol-0")
    assert ids["db"].startswith("arn:aws:rds:")
    assert ids["function"].startswith("arn:aws:lambda:")
    assert ids["endpoint"].startswith("arn:aws:sagemaker:")
    assert ids["Virtual machine"].startswith("/subscriptions/")


def test_costs_are_consistent_list_at_least_effective_and_savings_plan_balances(focus_glob: str) -> None:
    assert q(f"SELECT count(*) FROM '{focus_glob}' WHERE ListCost < EffectiveCost - 1e-9") == [(0,)]
    per_month = q(
        f"SELECT BillingPeriodStart, sum(BilledCost) FILTER (ChargeCategory = 'Purchase'), "
        f"sum(EffectiveCost) FILTER (ChargeCategory = 'Usage') FROM '{focus_glob}' "
        "WHERE CommitmentDiscountId IS NOT NULL GROUP BY 1"
    )
    assert len(per_month) == 13
    for _, purchased, used in per_month:
        assert used == pytest.approx(purchased, rel=1e-6)
    covered = q(
        f"SELECT sum(BilledCost), sum(EffectiveCost), sum(ListCost) FROM '{focus_glob}' "
        "WHERE CommitmentDiscountStatus = 'Used'"
    )[0]
    assert covered[0] == 0 and 0 < covered[1] < covered[2]


def test_charge_categories_include_day_one_purchases_tax_and_a_credit(focus_glob: str) -> None:
    cats = dict(q(f"SELECT ChargeCategory, count(*) FROM '{focus_glob}' GROUP BY 1"))
    assert {"Usage", "Purchase", "Tax", "Credit"} <= set(cats)
    days = {
        r[0] for r in q(f"SELECT DISTINCT day(ChargePeriodStart) FROM '{focus_glob}' WHERE ChargeCategory <> 'Usage'")
    }
    assert days == {1}
    assert q(f"SELECT max(BilledCost) FROM '{focus_glob}' WHERE ChargeCategory = 'Credit'")[0][0] < 0


def test_llm_token_rows_follow_the_focus_ai_billing_examples(focus_glob: str) -> None:
    rows = q(
        f"SELECT ProviderName, SkuMeter, ConsumedUnit, PricingUnit, ServiceCategory, ServiceSubcategory, "
        f"ConsumedQuantity, PricingQuantity, ListUnitPrice, ListCost, SkuPriceDetails, Tags "
        f"FROM '{focus_glob}' WHERE ProviderName IN ('Anthropic', 'OpenAI') AND ChargeCategory = 'Usage' LIMIT 500"
    )
    meters = {r[1] for r in rows}
    assert meters == {"Input Tokens", "Output Tokens", "Cache Read Input Tokens"}
    for _, _, unit, punit, cat, sub, consumed, priced, price, cost, details, tags in rows:
        assert (unit, punit, cat, sub) == ("Tokens", "1000000 Tokens", "AI and Machine Learning", "Generative AI")
        assert priced == pytest.approx(consumed / 1e6, rel=1e-6)
        assert cost == pytest.approx(priced * price, rel=1e-6)
        parsed = json.loads(details)
        assert parsed["ModelId"] and parsed["ModelFamily"]
        assert "ai_feature" in json.loads(tags)


def test_tags_are_json_objects_with_the_org_keys(focus_glob: str) -> None:
    tags = [json.loads(t) for (t,) in q(f"SELECT DISTINCT Tags FROM '{focus_glob}' WHERE Tags IS NOT NULL")]
    keys = set().union(*tags)
    assert {"team", "env", "cost_center", "app", "ai_feature"} == keys
    teams = {t["team"] for t in tags if "team" in t}
    assert 6 <= len(teams) <= 8


def test_about_15_percent_of_resources_are_untagged_or_partially_tagged(demo: DemoFiles, focus_glob: str) -> None:
    share = q(
        f"SELECT avg(CASE WHEN t IS NULL OR NOT (t LIKE '%\"team\"%' AND t LIKE '%\"cost_center\"%') "
        f"THEN 1.0 ELSE 0 END) FROM (SELECT ResourceId, any_value(Tags) AS t FROM '{focus_glob}' "
        "WHERE ResourceId IS NOT NULL AND ChargeCategory = 'Usage' AND CommitmentDiscountStatus IS DISTINCT FROM "
        "'Unused' GROUP BY 1)"
    )[0][0]
    assert 0.10 <= share <= 0.20
    manifest = read_manifest(demo.root)
    untagged = manifest["untagged_resources"]
    assert 0.10 <= len(untagged) / manifest["resources"] <= 0.20
    assert 3 <= sum(u["ambiguous"] for u in untagged) < len(untagged) / 3
    sample = {u["resource_id"]: u for u in untagged[:20]}
    ids = ", ".join(f"'{r}'" for r in sample)
    for rid, tags in q(
        f"SELECT ResourceId, any_value(Tags) FROM '{focus_glob}' WHERE ResourceId IN ({ids}) GROUP BY 1"
    ):
        present = json.loads(tags) if tags else {}
        assert present == sample[rid]["tags_present"]
        assert set(present) < set(sample[rid]["true_tags"])


def test_weekends_and_us_holidays_cost_less_and_month_start_costs_more(focus_glob: str) -> None:
    by_day = daily(focus_glob, "ServiceName = 'Amazon CloudFront'")
    weekday = [v for d, v in by_day.items() if d.weekday() < 5]
    weekend = [v for d, v in by_day.items() if d.weekday() >= 5]
    assert sum(weekend) / len(weekend) < 0.85 * sum(weekday) / len(weekday)
    july = [by_day[date(2026, 7, d)] for d in (7, 8, 9)]
    assert by_day[date(2026, 6, 19)] < 0.9 * sum(july) / 3  # Juneteenth, a Friday
    total = daily(focus_glob, "true")
    firsts = [v for d, v in total.items() if d.day == 1]
    seconds = [v for d, v in total.items() if d.day == 2]
    assert min(firsts) > 1.5 * max(seconds)


def test_black_friday_surges_customer_traffic_by_40_to_60_percent(focus_glob: str) -> None:
    by_day = daily(focus_glob, "ServiceName = 'Amazon CloudFront'")
    for bf, same_weekday_before in ((date(2026, 11, 27), date(2026, 11, 20)), (date(2025, 11, 28), date(2025, 11, 21))):
        assert 1.35 <= by_day[bf] / by_day[same_weekday_before] <= 1.7


def test_the_eu_launch_adds_a_lasting_eu_west_1_step(focus_glob: str) -> None:
    eu = daily(focus_glob, "RegionId = 'eu-west-1'")
    assert min(eu) >= date(2026, 3, 16)
    assert eu[date(2026, 4, 15)] > 50


def test_asg_min_size_incident_steps_up_the_storefront_accounts_ec2_cost(focus_glob: str) -> None:
    inc = next(i for i in DEFAULT_INCIDENTS if i.kind == "asg_min_size")
    ec2 = daily(focus_glob, "SubAccountId = '238476512093' AND ServiceName = 'Amazon Elastic Compute Cloud'")
    before = [ec2[date(2026, 6, d)] for d in range(1, 9)]
    during = [ec2[date(2026, 6, d)] for d in range(10, 20)]
    assert min(during) > max(before) + 100
    assert inc.end is not None
    after = [ec2[date(2026, 7, d)] for d in range(6, 10)]
    assert max(after) < min(during) - 100


def test_runaway_agent_loop_multiplies_one_features_token_spend(focus_glob: str) -> None:
    feat = daily(focus_glob, 'Tags LIKE \'%"ai_feature":"support-assistant"%\'')
    before = sum(feat[date(2026, 9, d)] for d in range(14, 21)) / 7
    during = sum(feat[date(2026, 9, d)] for d in range(23, 30)) / 7
    assert during > 3 * before
    other = daily(focus_glob, 'Tags LIKE \'%"ai_feature":"code-review-bot"%\'')
    assert other[date(2026, 9, 24)] < 2 * other[date(2026, 9, 17)]


def test_forgotten_gpu_endpoint_bills_every_day_until_the_end(focus_glob: str) -> None:
    ep = daily(focus_glob, "ResourceId LIKE '%endpoint/recsys-llm-rerank-exp'")
    assert min(ep) == date(2026, 8, 14) and max(ep) == date(2026, 11, 30)
    assert len(ep) == (date(2026, 11, 30) - date(2026, 8, 14)).days + 1
    assert 150 < ep[date(2026, 9, 1)] < 200


def test_nat_egress_spike_is_bounded_to_its_window(focus_glob: str) -> None:
    nat = daily(focus_glob, "ResourceName = 'search-prod-nat-a'")
    assert nat[date(2026, 10, 14)] > 4 * nat[date(2026, 10, 7)]
    assert nat[date(2026, 10, 29)] < 2 * nat[date(2026, 10, 7)]
