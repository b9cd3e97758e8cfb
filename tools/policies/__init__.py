"""Cloud Custodian policies: the only way finops-agent proposes changes (a human applies them).

Models -> Custodian YAML (:mod:`.models`, :mod:`.render`), two validation gates (:mod:`.validate`:
our allow-list, then c7n itself), the review queue (:mod:`.queue`) and small builders other
features use (:mod:`.build`). c7n is imported only when a policy is validated.
"""

from __future__ import annotations

from tools.policies.build import propose_mark_for_op, propose_notify, refs_for
from tools.policies.models import MarkForOpAction, NotifyAction, PolicyFile, PolicySpec, TagAction
from tools.policies.queue import approve, list_policies, propose, reject, show
from tools.policies.resources import KINDS, ResourceRef, resolve
from tools.policies.validate import PolicyInvalid, PolicyRejected, check_allowed, validate_policy_data

__all__ = [
    "KINDS",
    "MarkForOpAction",
    "NotifyAction",
    "PolicyFile",
    "PolicyInvalid",
    "PolicyRejected",
    "PolicySpec",
    "ResourceRef",
    "TagAction",
    "approve",
    "check_allowed",
    "list_policies",
    "propose",
    "propose_mark_for_op",
    "propose_notify",
    "refs_for",
    "reject",
    "resolve",
    "show",
    "validate_policy_data",
]
