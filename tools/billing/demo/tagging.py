"""Which resources carry which tags: ~15% untagged or partially tagged, some genuinely ambiguous."""

from __future__ import annotations

from tools.billing.demo.catalogue import TEAMS, prng
from tools.billing.demo.model import Resource

UNTAGGED_SHARE = 0.10
PARTIAL_SHARE = 0.055
FORCED_UNTAGGED = frozenset({"recsys-llm-rerank-exp"})
"""The forgotten GPU endpoint was created from a notebook without tags."""


def true_tags(res: Resource) -> dict[str, str]:
    tags = {"team": res.team, "env": res.env, "cost_center": TEAMS[res.team].cost_center, "app": res.app}
    if res.ai_feature:
        tags["ai_feature"] = res.ai_feature
    return tags


def _tag_state(res: Resource, seed: int) -> str:
    if res.ambiguous or res.name in FORCED_UNTAGGED:
        return "none"
    if res.rtype in ("API Key", "training-job") or "autoScalingGroupName" in res.create_params:
        return "full"  # workspace metadata / pipeline tags / ASG tag propagation
    u = float(prng(seed, "tag", res.name).random())
    if u < UNTAGGED_SHARE:
        return "none"
    if u < UNTAGGED_SHARE + PARTIAL_SHARE:
        return "partial"
    return "full"


def assign_tags(resources: list[Resource], seed: int) -> None:
    """Set true_tags, tag_state and the emitted tags of every resource."""
    for res in resources:
        res.true_tags = true_tags(res)
        res.tag_state = _tag_state(res, seed)
        if res.tag_state == "full":
            res.tags = dict(res.true_tags)
        elif res.tag_state == "partial":
            keep = ("env",) if prng(seed, "partial", res.name).random() < 0.5 else ("env", "app")
            res.tags = {k: v for k, v in res.true_tags.items() if k in keep}
        else:
            res.tags = {}
