"""Tagging eval: hold out true tags, predict them, report precision and coverage per key vs a baseline.

Datasets:

- ``demo``: the demo org (``tools.billing.demo``). (a) K-fold hold-out over its tagged resources
  (all tags of the test fold removed, then predicted); (b) its untagged / partially tagged
  resources scored against ``manifest.json`` ``untagged_resources[].true_tags`` (read here, by the
  eval only; features never see it).
- ``focus-sample``: the official FOCUS 1.0 sample (711/1000 rows tagged), ingested with the lead's
  ingest, K-fold hold-out over its tagged resources.

For every key: ``heldout`` (cases), ``predicted`` (confidence >= threshold), ``correct``,
``precision`` = correct / predicted, ``coverage`` = predicted / heldout, ``reachable`` = share of
cases whose true value occurs in the training fold (the ceiling for any method that proposes only
values the org already uses); the keyword-rule baseline
(a value the org uses appears in the name) is scored on the same folds in the same run.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from tools.context import ToolContext
from tools.tagging.evidence import creator_index, iac_index
from tools.tagging.features import display_name, tokens
from tools.tagging.inventory import Resource, load_inventory, required_keys
from tools.tagging.model import Algo, KeywordBaseline
from tools.tagging.suggest import analyse

FOCUS_SAMPLE = Path(__file__).resolve().parents[3] / "shared/data/focus-samples/official-focus-1.0/focus_sample.csv"
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)


class Tally:
    """Per-key counts for one method."""

    def __init__(self) -> None:
        self.heldout: dict[str, int] = defaultdict(int)
        self.reachable: dict[str, int] = defaultdict(int)
        self.scored: dict[str, list[tuple[float, bool]]] = defaultdict(list)

    def add(self, key: str, confidence: float | None, correct: bool, reachable: bool = True) -> None:
        self.heldout[key] += 1
        self.reachable[key] += int(reachable)
        if confidence is not None:
            self.scored[key].append((confidence, correct))

    def report(self, threshold: float) -> dict[str, dict[str, float | int]]:
        out: dict[str, dict[str, float | int]] = {}
        keys = sorted(self.heldout)
        for key in [*keys, "ALL"]:
            held = sum(self.heldout.values()) if key == "ALL" else self.heldout[key]
            pairs = [p for k in keys for p in self.scored[k]] if key == "ALL" else self.scored[key]
            kept = [ok for conf, ok in pairs if conf >= threshold]
            reach = sum(self.reachable.values()) if key == "ALL" else self.reachable[key]
            out[key] = {
                "heldout": held,
                "predicted": len(kept),
                "correct": sum(kept),
                "precision": round(sum(kept) / len(kept), 4) if kept else 0.0,
                "coverage": round(len(kept) / held, 4) if held else 0.0,
                "reachable": round(reach / held, 4) if held else 0.0,
            }
        return out

    def curve(self) -> list[dict[str, float]]:
        return [{"threshold": t, **{k: v for k, v in self.report(t)["ALL"].items() if k in ("precision", "coverage")}}
                for t in THRESHOLDS]  # fmt: skip


def _strip(res: Resource) -> Resource:
    return replace(res, tags={})


def holdout(
    ctx: ToolContext,
    resources: list[Resource],
    keys: list[str],
    *,
    folds: int,
    threshold: float,
    algo: Algo,
    creators: dict[str, Any],
    iac: dict[str, Any],
    seed: int = 0,
) -> dict[str, Any]:
    """K-fold: remove every tag of the test fold, predict the required keys, score both methods."""
    tagged = [r for r in resources if any(r.tags.get(k) for k in keys)]
    order = list(range(len(tagged)))
    random.Random(seed).shuffle(order)
    model, rule = Tally(), Tally()
    kctx = replace(ctx, extra={**ctx.extra, "required_tag_keys": keys})
    for fold in range(folds):
        test_idx = set(order[fold::folds])
        test = [tagged[i] for i in sorted(test_idx)]
        test_ids = {r.resource_id for r in test}
        pool = [_strip(r) if r.resource_id in test_ids else r for r in resources]
        analysis = analyse(kctx, pool, algo=algo, creators=creators, iac=iac)
        preds = {(c.resource_id, c.key): c for c in analysis.candidates}
        train = [r for r in resources if r.resource_id not in test_ids]
        rules = {k: KeywordBaseline(k).fit([r.tags[k] for r in train if r.tags.get(k)]) for k in keys}
        seen_values = {k: {r.tags[k] for r in train if r.tags.get(k)} for k in keys}
        for res in test:
            name_toks = tokens(display_name(res))
            for key in keys:
                truth = res.tags.get(key)
                if not truth:
                    continue
                pred = preds.get((res.resource_id, key))
                known = truth in seen_values[key]
                model.add(key, pred.confidence if pred else None, bool(pred and pred.value == truth), known)
                guess = rules[key].predict_one(name_toks)
                rule.add(key, 1.0 if guess else None, guess == truth, known)
    return {"model": model.report(threshold), "keyword_baseline": rule.report(1.0), "model_curve": model.curve(),
            "resources": len(resources), "tagged_resources": len(tagged), "folds": folds}  # fmt: skip


def demo_untagged(
    ctx: ToolContext,
    resources: list[Resource],
    keys: list[str],
    *,
    threshold: float,
    algo: Algo,
    creators: dict[str, Any],
    iac: dict[str, Any],
) -> dict[str, Any]:
    """Predict the demo's untagged resources; score against manifest.json true_tags (eval only)."""
    manifest = json.loads((ctx.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    truth = {u["resource_id"]: u["true_tags"] for u in manifest.get("untagged_resources", [])}
    kctx = replace(ctx, extra={**ctx.extra, "required_tag_keys": keys})
    analysis = analyse(kctx, resources, algo=algo, creators=creators, iac=iac)
    preds = {(c.resource_id, c.key): c for c in analysis.candidates}
    seen = {r.resource_id: r for r in resources}
    train = [r for r in resources if r.resource_id not in truth]
    rules = {k: KeywordBaseline(k).fit([r.tags[k] for r in train if r.tags.get(k)]) for k in keys}
    model, rule = Tally(), Tally()
    for rid, true_tags in truth.items():
        res = seen.get(rid)
        if res is None:
            continue
        for key in keys:
            if key not in true_tags or res.tags.get(key):
                continue
            pred = preds.get((rid, key))
            model.add(key, pred.confidence if pred else None, bool(pred and pred.value == true_tags[key]))
            guess = rules[key].predict_one(tokens(display_name(res)))
            rule.add(key, 1.0 if guess else None, guess == true_tags[key])
    return {"model": model.report(threshold), "keyword_baseline": rule.report(1.0), "model_curve": model.curve(),
            "cases": sum(model.heldout.values())}  # fmt: skip


def _inventory(ctx: ToolContext) -> list[Resource]:
    from tools.billing import store

    with store.reader(ctx.db_path) as con:
        return load_inventory(con)


def eval_demo(ctx: ToolContext, *, folds: int, threshold: float, algo: Algo) -> dict[str, Any]:
    from tools.billing import store

    if not store.has_data(ctx.db_path) or not (ctx.demo_dir / "manifest.json").is_file():
        from tools.billing.demo import load_demo

        load_demo(ctx)
    resources = _inventory(ctx)
    keys = [k for k in ("team", "env", "cost_center", "app") if any(k in r.tags for r in resources)]
    creators = creator_index(ctx.cloudtrail_dir or ctx.demo_dir / "cloudtrail")
    iac = iac_index(ctx.git_repo or ctx.demo_dir / "infra-repo")
    kw: dict[str, Any] = {"threshold": threshold, "algo": algo, "creators": creators, "iac": iac}
    return {"keys": keys, "holdout": holdout(ctx, resources, keys, folds=folds, **kw),
            "untagged_ground_truth": demo_untagged(ctx, resources, keys, **kw)}  # fmt: skip


def eval_focus_sample(path: Path, *, folds: int, threshold: float, algo: Algo) -> dict[str, Any]:
    from tools.billing.ingest import ingest_paths

    with tempfile.TemporaryDirectory(prefix="finops-tag-eval-") as tmp:
        ctx = ToolContext(home=Path(tmp))
        ingest_paths(ctx, [path])
        resources = _inventory(ctx)
        keys, _ = required_keys(resources, None)
        return {"keys": keys, "holdout": holdout(ctx, resources, keys, folds=folds, threshold=threshold,
                                                 algo=algo, creators={}, iac={})}  # fmt: skip


def run_tagging_eval(
    ctx: ToolContext | None = None,
    *,
    datasets: tuple[str, ...] = ("demo", "focus-sample"),
    folds: int = 5,
    threshold: float = 0.9,
    algo: Algo = "auto",
    focus_sample: Path | None = None,
) -> dict[str, Any]:
    """Run the tagging eval; returns per-dataset, per-key precision/coverage for model and baseline.

    ``ctx`` holds (or gets) the demo org; without one a temporary home is used.
    """
    started = time.perf_counter()
    out: dict[str, Any] = {"threshold": threshold, "algo": algo, "goal": {"precision": 0.9, "coverage": 0.7}}
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if ctx is None and "demo" in datasets:
        tmp = tempfile.TemporaryDirectory(prefix="finops-tag-demo-")
        ctx = ToolContext(home=Path(tmp.name))
    try:
        if "demo" in datasets and ctx is not None:
            out["demo"] = eval_demo(ctx, folds=folds, threshold=threshold, algo=algo)
        if "focus-sample" in datasets:
            out["focus_sample"] = eval_focus_sample(focus_sample or FOCUS_SAMPLE, folds=folds,
                                                    threshold=threshold, algo=algo)  # fmt: skip
    finally:
        if tmp is not None:
            tmp.cleanup()
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def main() -> None:  # pragma: no cover - `python -m evals.tagging.run [HOME]`
    import sys

    home = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    ctx = None
    if home is not None:
        demo = home / "demo"
        ctx = ToolContext(home=home, cloudtrail_dir=demo / "cloudtrail", git_repo=demo / "infra-repo")
    print(json.dumps(run_tagging_eval(ctx), indent=1))


if __name__ == "__main__":  # pragma: no cover
    main()
