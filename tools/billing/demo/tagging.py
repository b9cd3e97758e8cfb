"""Which resources carry which tags: ~15% untagged or partially tagged, some genuinely ambiguous."""

from __future__ import annotations

from tools.billing.demo.catalogue import TEAMS, prng
from tools.billing.demo.model import Resource

UNTAGGED_TARGET = 0.15
"""Share of resources with no tags or only some keys (the rest carry team, env, cost_center, app)."""
PARTIAL_SHARE = 0.3
"""Of the untagged set, the share that carries some keys (env, sometimes app) but not team/cost_center."""
FORCED_UNTAGGED = frozenset({"recsys-llm-rerank-exp"})
"""The forgotten GPU endpoint was created from a notebook without tags."""


def true_tags(res: Resource) -> dict[str, str]:
    tags = {"team": res.team, "env": res.env, "cost_center": TEAMS[res.team].cost_center, "app": res.app}
    if res.ai_feature:
        tags["ai_feature"] = res.ai_feature
    return tags


def _eligible(res: Resource) -> bool:
    """Whether a resource may lose its tags (workspace keys, pipelines and ASG propagation always tag)."""
    return res.rtype not in ("API Key", "training-job") and "autoScalingGroupName" not in res.create_params


def assign_tags(resources: list[Resource], seed: int) -> None:
    """Set true_tags, tag_state and the emitted tags of every resource.

    The untagged set is the ambiguous orphans, the forced cases, and then the eligible resources with
    the lowest per-name draw until ~15% of all resources are untagged or partially tagged.
    """
    forced = [r for r in resources if r.ambiguous or r.name in FORCED_UNTAGGED]
    forced_ids = {id(r) for r in forced}
    pool = sorted(
        (r for r in resources if _eligible(r) and id(r) not in forced_ids),
        key=lambda r: prng(seed, "tag", r.name).random(),
    )
    picked = pool[: max(round(UNTAGGED_TARGET * len(resources)) - len(forced), 0)]
    states = {id(r): "none" for r in forced}
    for r in picked:
        states[id(r)] = "partial" if prng(seed, "partial?", r.name).random() < PARTIAL_SHARE else "none"
    for res in resources:
        res.true_tags = true_tags(res)
        res.tag_state = states.get(id(res), "full")
        if res.tag_state == "full":
            res.tags = dict(res.true_tags)
        elif res.tag_state == "partial":
            keep = ("env",) if prng(seed, "partial", res.name).random() < 0.5 else ("env", "app")
            res.tags = {k: v for k, v in res.true_tags.items() if k in keep}
        else:
            res.tags = {}
