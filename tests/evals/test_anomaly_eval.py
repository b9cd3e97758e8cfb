"""The anomaly eval's goals hold on a small seeded set (the full run: python -m evals.anomalies)."""

from __future__ import annotations

from evals.anomalies import GOALS, run_anomaly_eval


def test_detector_meets_every_goal_against_the_zscore_baseline_on_two_seeded_orgs() -> None:
    result = run_anomaly_eval(seeds=2, first_seed=1)
    measured = result["measured"]
    assert result["all_passed"], (measured, result["misses"], result["false_alerts"], result["wrong_causes"])
    assert measured["f1"] >= GOALS["f1"]
    assert measured["f1_vs_baseline"] >= 2.0
    assert measured["false_alerts_vs_baseline"] <= 0.4
    assert measured["root_cause_top1"] >= 0.9
    assert measured["false_alerts_on_calendar_events"] == 0
    assert result["baseline_zscore28"]["false_alerts_on_calendar_events"] > 0  # the baseline is fooled by them
    assert {c["case"] for c in result["cases"]} == {"synthetic-1", "synthetic-2"}
