"""The read-only ``tag_suggestions`` tool (both front ends register it)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.registry import tool
from tools.tagging.suggest import DEFAULT_MIN_CONFIDENCE, Coverage, TagSuggestion, suggest


class TagSuggestionsIn(BaseModel):
    min_confidence: float = Field(default=DEFAULT_MIN_CONFIDENCE, ge=0.0, le=1.0)
    limit: int = Field(default=50, ge=1, le=500, description="Most expensive resources first.")
    key: str | None = Field(default=None, description="Only suggestions for this tag key.")


class TagSuggestionsOut(BaseModel):
    suggestions: list[TagSuggestion]
    total: int
    coverage: Coverage
    required_keys: list[str]
    untagged_resources: int


@tool(name="tag_suggestions", title="Suggest tags for untagged resources")
def tag_suggestions(ctx: ToolContext, args: TagSuggestionsIn) -> TagSuggestionsOut:
    """Suggest values for missing required tags (e.g. team, env) on untagged or partially tagged
    resources, most expensive first, with calibrated confidence and the evidence behind each (name,
    account, CloudTrail creator, IaC file, the org's own tagged resources). Read-only: writes no
    policies; `finops tags suggest` queues them for review."""
    report = suggest(ctx, args.min_confidence, propose_policies=False)
    items = [s for s in report.suggestions if args.key is None or s.key == args.key]
    return TagSuggestionsOut(
        suggestions=items[: args.limit], total=len(items), coverage=report.coverage,
        required_keys=report.required_keys, untagged_resources=report.untagged_resources,
    )  # fmt: skip
