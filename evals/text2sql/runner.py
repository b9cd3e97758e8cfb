"""Run the text-to-SQL eval: each question through `ask`, judged by executing the gold SQL and comparing
result sets (order-insensitive unless the case says order matters; numeric tolerance). Never by SQL text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DATASETS = ("demo", "focus_sample")
ABS_TOL = 1e-9
REL_TOL = 1e-6


def load_cases(split: str = "all") -> list[dict[str, Any]]:
    """Cases from every YAML file here; ``split`` is tune (the files we tuned on), heldout, or all."""
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        file_split = doc.get("split", "tune")
        for case in doc["cases"]:
            case = {**case, "dataset": case.get("dataset", doc["dataset"]), "split": case.get("split", file_split)}
            if split in ("all", case["split"]):
                cases.append(case)
    return cases


# ---------------------------------------------------------------- comparing result sets


def _norm(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return text


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= max(ABS_TOL, REL_TOL * abs(b))
    if a is None or b is None:
        return (a is None and b is None) or (a in (0.0,) and b is None) or (b in (0.0,) and a is None)
    return bool(a == b)


def _column(rows: list[list[Any]], i: int) -> list[Any]:
    return [r[i] for r in rows]


def _multiset_equal(a: list[Any], b: list[Any]) -> bool:
    key = lambda v: (v is None, str(type(v)), v if isinstance(v, float) else str(v))  # noqa: E731
    sa, sb = sorted(a, key=key), sorted(b, key=key)
    return len(sa) == len(sb) and all(_same(x, y) for x, y in zip(sa, sb, strict=True))


def results_match(gold: list[list[Any]], got: list[list[Any]], ordered: bool) -> bool:
    """Every gold column must appear among the predicted columns, and the rows must match as a set
    (as a sequence when ``ordered``); extra predicted columns are allowed."""
    gold = [[_norm(v) for v in r] for r in gold]
    got = [[_norm(v) for v in r] for r in got]
    if len(gold) != len(got):
        return False
    if not gold:
        return True
    width = len(gold[0])
    candidates = []
    for i in range(width):
        col = _column(gold, i)
        candidates.append([j for j in range(len(got[0])) if _multiset_equal(col, _column(got, j))])
    if any(not c for c in candidates):
        return False
    return _assign(gold, got, candidates, [], ordered)


def _assign(
    gold: list[list[Any]], got: list[list[Any]], candidates: list[list[int]], chosen: list[int], ordered: bool
) -> bool:
    if len(chosen) == len(candidates):
        projected = [[r[j] for j in chosen] for r in got]
        if ordered:
            return all(
                all(_same(a, b) for a, b in zip(g, p, strict=True)) for g, p in zip(gold, projected, strict=True)
            )
        return _rows_equal_unordered(gold, projected)
    for j in candidates[len(chosen)]:
        if j not in chosen and _assign(gold, got, candidates, [*chosen, j], ordered):
            return True
    return False


def _rows_equal_unordered(a: list[list[Any]], b: list[list[Any]]) -> bool:
    remaining = list(b)
    for row in a:
        for k, other in enumerate(remaining):
            if all(_same(x, y) for x, y in zip(row, other, strict=True)):
                del remaining[k]
                break
        else:
            return False
    return True


# ---------------------------------------------------------------- running


def prepare_home(dataset: str, root: Path) -> Path:
    """A home with the dataset loaded, built once and reused (keyed by dataset name)."""
    from tools.billing.demo import GENERATOR_VERSION
    from tools.context import ToolContext

    stamp = f"{dataset}-v{GENERATOR_VERSION}"  # a cached home from an older generator is never reused
    home = root / dataset
    ready = home / ".ready"
    if (home / "finops.duckdb").exists() and ready.exists() and ready.read_text() == stamp:
        return home
    if home.exists():
        import shutil

        shutil.rmtree(home)
    ctx = ToolContext(home=home)
    if dataset == "demo":
        from tools.billing.demo import load_demo

        load_demo(ctx, seed=42, scale="small")
    elif dataset == "focus_sample":
        from tools.billing.ingest import ingest_paths

        sample = Path(__file__).resolve().parents[3] / "shared/data/focus-samples/official-focus-1.0/focus_sample.csv"
        ingest_paths(ctx, [sample])
    else:
        raise ValueError(f"unknown dataset {dataset}")
    ready.write_text(stamp)
    return home


def gold_rows(home: Path, sql: str) -> list[list[Any]]:
    from tools.billing import store

    with store.reader(home / "finops.duckdb") as con:
        return [list(r) for r in con.execute(sql).fetchall()]


def run_text2sql_eval(
    provider: str = "offline",
    split: str = "all",
    root: Path | None = None,
    report_path: Path | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """Run every case; return (and optionally write) the report with per-case outcome, tokens and cost."""
    import tempfile

    from agent.ask import ask
    from agent.config import Settings

    root = root or Path(tempfile.gettempdir()) / "finops-eval-homes"
    cases = load_cases(split)
    results = []
    homes: dict[str, Path] = {}
    for case in cases:
        home = homes.get(case["dataset"]) or prepare_home(case["dataset"], root)
        homes[case["dataset"]] = home
        results.append(_run_case(case, home, provider, model, ask, Settings))
    report = _summarise(results, provider, split)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return report


def _run_case(
    case: dict[str, Any], home: Path, provider: str, model: str | None, ask: Any, settings_cls: Any
) -> dict[str, Any]:
    started = time.perf_counter()
    settings = settings_cls(home=home, provider=provider)
    out: dict[str, Any] = {
        "id": case["id"],
        "dataset": case["dataset"],
        "split": case["split"],
        "question": case["question"],
    }
    try:
        answer = ask(
            settings,
            case["question"],
            provider=provider,
            model=model,
            feature="eval",
            offline_first=provider in ("offline", "auto"),
        )
    except Exception as exc:  # an eval records failures; it does not stop
        out.update(outcome="error", error=f"{type(exc).__name__}: {exc}")
        return out
    out.update(
        provider=answer.provider,
        model=answer.model,
        sql=answer.sql,
        input_tokens=answer.usage.input_tokens,
        output_tokens=answer.usage.output_tokens,
        cost_usd=answer.usage.cost_usd,
        seconds=round(time.perf_counter() - started, 3),
    )
    if answer.declined or not answer.sql:
        out["outcome"] = "declined_correctly" if case.get("decline") else "declined"
    elif case.get("decline"):
        out["outcome"] = "wrong"
        out["why"] = "answered a question it should have declined"
    else:
        gold = gold_rows(home, case["sql"])
        ok = results_match(gold, answer.rows, bool(case.get("ordered")))
        out["outcome"] = "correct" if ok else "wrong"
        if not ok:
            out["gold_rows"] = gold[:5]
            out["got_rows"] = answer.rows[:5]
    return out


def _summarise(results: list[dict[str, Any]], provider: str, split: str) -> dict[str, Any]:
    def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
        c = Counter(r["outcome"] for r in rows)
        n = len(rows) or 1
        correct = c["correct"] + c["declined_correctly"]
        return {
            "cases": len(rows),
            "correct": correct,
            "declined": c["declined"],
            "wrong": c["wrong"] + c["error"],
            "correct_pct": round(100 * correct / n, 1),
            "wrong_pct": round(100 * (c["wrong"] + c["error"]) / n, 1),
            "input_tokens": sum(r.get("input_tokens", 0) for r in rows),
            "output_tokens": sum(r.get("output_tokens", 0) for r in rows),
            "cost_usd": round(sum(r.get("cost_usd", 0.0) for r in rows), 6),
        }

    by_split = {s: stats([r for r in results if r["split"] == s]) for s in sorted({r["split"] for r in results})}
    by_dataset = {d: stats([r for r in results if r["dataset"] == d]) for d in sorted({r["dataset"] for r in results})}
    return {
        "eval": "text2sql",
        "provider": provider,
        "split": split,
        "total": stats(results),
        "by_split": by_split,
        "by_dataset": by_dataset,
        "cases": results,
    }


if __name__ == "__main__":  # pragma: no cover
    import sys

    rep = run_text2sql_eval(provider=sys.argv[1] if len(sys.argv) > 1 else "offline")
    print(json.dumps({k: v for k, v in rep.items() if k != "cases"}, indent=2))
