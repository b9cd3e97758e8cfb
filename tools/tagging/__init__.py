"""Tag inference: candidate tags for untagged resources, learned from the org's own tagged ones.

:mod:`.inventory` (the bill, per resource), :mod:`.evidence` (CloudTrail creators, Terraform),
:mod:`.features`, :mod:`.model` (calibrated classifier + keyword baseline), :mod:`.suggest` (the
pipeline), :mod:`.policies` (tag policies into the review queue), :mod:`.tools` (the LLM tool).
"""

from __future__ import annotations

from tools.tagging.suggest import (
    DEFAULT_MIN_CONFIDENCE,
    Analysis,
    Coverage,
    SuggestReport,
    TagSuggestion,
    analyse,
    suggest,
)

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "Analysis",
    "Coverage",
    "SuggestReport",
    "TagSuggestion",
    "analyse",
    "suggest",
]
