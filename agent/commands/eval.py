"""`finops eval NAME`: run an eval set and report accuracy, tokens and cost, measured by running the code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from agent.commands._common import emit_json, json_option, note

EVALS = ("text2sql", "anomalies", "tagging", "forecast")


@click.command(name="eval")
@click.argument("name", type=click.Choice(EVALS))
@click.option(
    "--provider",
    type=click.Choice(["offline", "auto", "anthropic", "openai"]),
    default="offline",
    show_default=True,
    help="text2sql: who answers (offline planner or the LLM agent).",
)
@click.option("--model", default=None, help="text2sql: model for the LLM path.")
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "heldout"]),
    default="all",
    show_default=True,
    help="text2sql: the cases tuned on, the held-back ones, or both.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the full JSON report here (default: reports/eval-NAME.json).",
)
@click.option("--min-correct", type=float, default=None, help="Exit 1 when correct %% falls below this.")
@click.option("--max-wrong", type=float, default=None, help="Exit 1 when wrong %% rises above this.")
@json_option
def command(
    name: str,
    provider: str,
    model: str | None,
    split: str,
    report_path: Path | None,
    min_correct: float | None,
    max_wrong: float | None,
    as_json: bool,
) -> None:
    """Run an eval set: text2sql (questions judged by result sets), anomalies, tagging or forecast.

    \b
    Examples:
      finops eval text2sql                       # offline planner, all cases
      finops eval text2sql --provider anthropic  # the LLM agent (needs a key; costs money)
      finops eval anomalies --json
    """
    report_path = report_path or Path("reports") / f"eval-{name}.json"
    report = _run(name, provider, model, split, report_path)
    if as_json:
        emit_json(report)
    else:
        _print(name, report)
    note(f"report: {report_path}")
    if name == "text2sql":
        total = report["total"]
        if (min_correct is not None and total["correct_pct"] < min_correct) or (
            max_wrong is not None and total["wrong_pct"] > max_wrong
        ):
            note(f"eval below threshold: {total['correct_pct']}% correct, {total['wrong_pct']}% wrong")
            sys.exit(1)


def _run(name: str, provider: str, model: str | None, split: str, report_path: Path) -> dict[str, Any]:
    import json

    if name == "text2sql":
        from evals.text2sql.runner import run_text2sql_eval

        return run_text2sql_eval(provider=provider, split=split, report_path=report_path, model=model)
    if name == "anomalies":
        from evals.anomalies import run_anomaly_eval

        report = run_anomaly_eval()
    elif name == "forecast":
        from evals.forecast.runner import run_forecast_eval

        report = run_forecast_eval()
    else:
        import evals.tagging as tagging

        runner = getattr(tagging, "run_tagging_eval", None)
        if runner is None:
            from tools.errors import FinopsError

            raise FinopsError("the tagging eval is not available in this build")
        report = runner()
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return dict(report)


def _print(name: str, report: dict[str, Any]) -> None:
    from agent.render import console, print_table

    if name != "text2sql":
        console().print_json(data={k: v for k, v in report.items() if k != "cases"}, default=str)
        return
    rows = [[f"split {k}", *_cells(v)] for k, v in report["by_split"].items()]
    rows += [[f"dataset {k}", *_cells(v)] for k, v in report["by_dataset"].items()]
    rows.append(["total", *_cells(report["total"])])
    print_table(
        ["set", "cases", "correct", "declined", "wrong", "correct %", "wrong %", "tokens in", "tokens out", "cost_usd"],
        rows,
        title=f"text2sql eval ({report['provider']})",
    )
    misses = [c for c in report["cases"] if c["outcome"] in ("wrong", "error", "declined")]
    if misses:
        print_table(["case", "outcome", "question"], [[c["id"], c["outcome"], c["question"]] for c in misses])


def _cells(s: dict[str, Any]) -> list[Any]:
    return [
        s["cases"],
        s["correct"],
        s["declined"],
        s["wrong"],
        s["correct_pct"],
        s["wrong_pct"],
        s["input_tokens"],
        s["output_tokens"],
        s["cost_usd"],
    ]
