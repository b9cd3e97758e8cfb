"""Tag suggestions for untagged / partially tagged resources, ranked by cost, with evidence.

Pipeline: inventory (bill) -> required keys (config or learned) -> features (name, account, region,
service, CloudTrail creator, IaC) -> per-key models trained on the org's tagged resources ->
a calibrated suggestion per missing key (plus a co-occurrence rule for partially tagged resources)
-> optional refinement callback (the LLM workflow lives in ``agent/``) -> ``tag`` policies per
account and key in the review queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.tagging.evidence import Creator, IacHit, creator_index, iac_index
from tools.tagging.features import ResourceFeatures, extract
from tools.tagging.inventory import Resource, load_inventory, required_keys, tagged_cost_share
from tools.tagging.model import Algo, KeyModel

DEFAULT_MIN_CONFIDENCE = 0.9
MIN_RULE_SUPPORT = 5


class TagSuggestion(BaseModel):
    """One suggested tag on one resource, with the evidence behind it."""

    resource_id: str
    key: str
    value: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    resource_name: str = ""
    account_id: str = ""
    region: str = ""
    service: str = ""
    monthly_cost: float = 0.0
    alternatives: list[str] = Field(default_factory=list)
    method: str = "model"  # model | co-occurrence | iac | llm
    new_value: bool = False


class Coverage(BaseModel):
    tagged_cost_share_now: float
    tagged_cost_share_if_approved: float


class SuggestReport(BaseModel):
    suggestions: list[TagSuggestion]
    new_values: list[TagSuggestion] = Field(
        default_factory=list, description="values the org does not use yet: for a human, never proposed"
    )
    policies: list[str] = Field(default_factory=list)
    coverage: Coverage
    required_keys: list[str]
    required_keys_source: str
    resources: int
    untagged_resources: int
    uncertain: int = 0
    not_targetable: int = 0
    run_id: str = ""


@dataclass
class Analysis:
    """Everything one pass computed (the weekly run and the eval reuse it)."""

    resources: list[Resource]
    keys: list[str]
    keys_source: str
    features: dict[str, ResourceFeatures]
    models: dict[str, KeyModel]
    candidates: list[TagSuggestion]  # every missing (resource, key), any confidence


Refiner = Callable[[list[TagSuggestion], Analysis], list[TagSuggestion]]


def new_run_id(prefix: str = "tags") -> str:
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def featurize(
    resources: list[Resource], creators: dict[str, Creator], iac: dict[str, IacHit]
) -> dict[str, ResourceFeatures]:
    return {r.resource_id: extract(r, creators, iac) for r in resources}


def train(
    resources: list[Resource], keys: list[str], feats: dict[str, ResourceFeatures], algo: Algo = "auto"
) -> dict[str, KeyModel]:
    """One model per key, trained on the resources that carry it."""
    models: dict[str, KeyModel] = {}
    for key in keys:
        rows = [(feats[r.resource_id].features, r.tags[key]) for r in resources if r.tags.get(key)]
        if rows:
            models[key] = KeyModel(key, algo).fit([f for f, _ in rows], [v for _, v in rows])
    return models


class CooccurrenceRule:
    """Partially tagged resources: P(key=value | other tag) from the org's tagged resources."""

    def __init__(self, resources: list[Resource], keys: list[str]) -> None:
        self.table: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        for res in resources:
            for key in keys:
                if not res.tags.get(key):
                    continue
                for other, value in res.tags.items():
                    if other != key:
                        self.table[(key, other, value)][res.tags[key]] += 1

    def suggest(self, res: Resource, key: str) -> tuple[str, float, str] | None:
        best: tuple[str, float, str] | None = None
        for other, value in res.tags.items():
            counts = self.table.get((key, other, value))
            if not counts:
                continue
            top, n = counts.most_common(1)[0]
            total = sum(counts.values())
            if n < MIN_RULE_SUPPORT:
                continue
            conf = (n + 1) / (total + 2)
            if best is None or conf > best[1]:
                best = (top, conf, f"{n}/{total} resources tagged {other}={value} have {key}={top}")
        return best


def _suggestion(res: Resource, key: str, value: str, conf: float, evidence: list[str], **kw: object) -> TagSuggestion:
    return TagSuggestion(
        resource_id=res.resource_id, key=key, value=value, confidence=round(min(max(conf, 0.0), 1.0), 4),
        evidence=evidence, resource_name=res.name, account_id=res.account_id, region=res.region,
        service=res.service, monthly_cost=round(res.monthly_cost, 2), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _context_evidence(rf: ResourceFeatures) -> list[str]:
    out = []
    if rf.creator is not None:
        c = rf.creator
        out.append(f"created by {c.actor} ({c.event} {c.time}, CloudTrail {c.ref})")
    if rf.iac is not None:
        author = f", added by {rf.iac.author}" if rf.iac.author else ""
        out.append(f"defined in IaC {rf.iac.path} ({rf.iac.block}{author})")
    return out


def predict_missing(
    resources: list[Resource],
    keys: list[str],
    feats: dict[str, ResourceFeatures],
    models: dict[str, KeyModel],
) -> list[TagSuggestion]:
    """A candidate for every missing (resource, key) the org has examples for, cost-ranked."""
    rule = CooccurrenceRule(resources, keys)
    out: list[TagSuggestion] = []
    for key, model in models.items():
        todo = [r for r in resources if not r.tags.get(key)]
        preds = model.predict([feats[r.resource_id].features for r in todo])
        for res, pred in zip(todo, preds, strict=True):
            rf = feats[res.resource_id]
            alts = [v for v, _ in pred.alternatives[1:]]
            found = rule.suggest(res, key)
            if found is not None and found[1] > pred.confidence:
                value, conf, why = found
                out.append(_suggestion(res, key, value, conf, [why, *_context_evidence(rf)],
                                       alternatives=alts, method="co-occurrence"))  # fmt: skip
                continue
            declared = rf.iac.declared.get(key) if rf.iac is not None else None
            if declared and declared not in model.classes:
                why = f"IaC {rf.iac.path if rf.iac else ''} declares {key}={declared}, a value no tagged resource uses"
                out.append(_suggestion(res, key, declared, 0.5, [why, *_context_evidence(rf)],
                                       alternatives=[pred.value, *alts], method="iac", new_value=True))  # fmt: skip
                continue
            evidence = pred.evidence + _context_evidence(rf)
            out.append(_suggestion(res, key, pred.value, pred.confidence, evidence, alternatives=alts))
    out.sort(key=lambda s: (-s.monthly_cost, s.resource_id, s.key))
    return out


def analyse(
    ctx: ToolContext,
    resources: list[Resource] | None = None,
    *,
    algo: Algo = "auto",
    creators: dict[str, Creator] | None = None,
    iac: dict[str, IacHit] | None = None,
) -> Analysis:
    """Inventory, required keys, features, models and every candidate suggestion."""
    if resources is None:
        from tools.billing import store

        with store.reader(ctx.db_path) as con:
            resources = load_inventory(con)
    configured = ctx.extra.get("required_tag_keys") or None
    keys, source = required_keys(resources, list(configured) if configured else None)
    creators = creator_index(ctx.cloudtrail_dir) if creators is None else creators
    iac = iac_index(ctx.git_repo) if iac is None else iac
    feats = featurize(resources, creators, iac)
    models = train(resources, keys, feats, algo)
    return Analysis(resources, keys, source, feats, models, predict_missing(resources, keys, feats, models))


def coverage(analysis: Analysis, accepted: list[TagSuggestion]) -> Coverage:
    extra: dict[str, set[str]] = defaultdict(set)
    for s in accepted:
        extra[s.resource_id].add(s.key)
    return Coverage(
        tagged_cost_share_now=round(tagged_cost_share(analysis.resources, analysis.keys), 4),
        tagged_cost_share_if_approved=round(tagged_cost_share(analysis.resources, analysis.keys, extra), 4),
    )


def suggest(
    ctx: ToolContext,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    *,
    propose_policies: bool = True,
    refiner: Refiner | None = None,
    run_id: str | None = None,
    analysis: Analysis | None = None,
) -> SuggestReport:
    """Suggestions at or above ``min_confidence`` (after optional refinement) and their policies."""
    from tools.tagging.policies import propose_tag_policies

    analysis = analysis or analyse(ctx)
    run_id = run_id or new_run_id()
    candidates = analysis.candidates
    if refiner is not None:
        candidates = refiner(candidates, analysis)
    accepted = [s for s in candidates if s.confidence >= min_confidence and not s.new_value]
    paths: list[Path] = []
    skipped = 0
    if propose_policies and accepted:
        paths, skipped = propose_tag_policies(ctx, accepted, run_id)
    untagged = sum(1 for r in analysis.resources if r.missing(analysis.keys))
    return SuggestReport(
        suggestions=accepted, new_values=[s for s in candidates if s.new_value], policies=[str(p) for p in paths],
        coverage=coverage(analysis, accepted),
        required_keys=analysis.keys, required_keys_source=analysis.keys_source,
        resources=len(analysis.resources), untagged_resources=untagged,
        uncertain=sum(1 for s in candidates if s.confidence < min_confidence), not_targetable=skipped,
        run_id=run_id,
    )  # fmt: skip
