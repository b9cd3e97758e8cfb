"""Two gates every policy passes before anyone sees it.

1. :func:`check_allowed` — our own allow-list over the rendered Custodian data (independent of the
   pydantic models, so a bug in a builder cannot slip through): pull mode only, account/region
   conditions, exactly one filter pinning the resource ids, only ``tag`` / ``mark-for-op`` (explicit
   days, allowed op) / ``notify`` (SQS to the org's mailer queue).
2. :func:`validate_with_c7n` — Cloud Custodian itself: ``PolicyLoader.load_data(validate=True)``
   (structure + JSON schema + unique names) and then each policy's own ``validate()`` (semantic
   checks such as a mark-for-op op the resource supports). c7n is imported here only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from tools.errors import BadInput, FinopsError
from tools.policies.models import MIN_MARK_DAYS
from tools.policies.resources import KINDS

ALLOWED_ACTIONS = frozenset({"tag", "mark-for-op", "notify"})
ALLOWED_POLICY_KEYS = frozenset({"name", "resource", "description", "metadata", "conditions", "filters", "actions"})


class PolicyRejected(BadInput):
    """A policy outside what finops-agent may ever propose (exit 2)."""


class PolicyInvalid(FinopsError):
    """A generated policy that Cloud Custodian rejects: a bug in a builder, never shown (exit 1)."""


def _check_conditions(name: str, conditions: Any) -> None:
    keys = {c.get("key"): c.get("value") for c in conditions or [] if isinstance(c, dict) and c.get("type") == "value"}
    if not keys.get("account_id") or not keys.get("region"):
        raise PolicyRejected(f"policy {name}: conditions must pin account_id and region")


def _check_filters(name: str, kind: str, filters: Any) -> list[str]:
    if not isinstance(filters, list) or len(filters) != 1 or not isinstance(filters[0], dict):
        raise PolicyRejected(f"policy {name}: exactly one filter pinning resource ids is required")
    flt = filters[0]
    ids = flt.get("value")
    pinned = (
        set(flt) == {"type", "key", "op", "value"}
        and flt["type"] == "value"
        and flt["key"] == KINDS[kind].id_key
        and flt["op"] == "in"
        and isinstance(ids, list)
        and len(ids) > 0
        and all(isinstance(i, str) and i for i in ids)
    )
    if not pinned:
        raise PolicyRejected(f"policy {name}: the filter must be `{KINDS[kind].id_key} in [ids]`")
    return [str(i) for i in ids or []]


def _check_action(name: str, kind: str, action: Any, mailer_queue: str | None) -> None:
    atype = action.get("type") if isinstance(action, dict) else action
    if atype not in ALLOWED_ACTIONS:
        raise PolicyRejected(f"policy {name}: action {atype!r} is not allowed (only tag, mark-for-op, notify)")
    assert isinstance(action, dict)
    if atype == "tag" and (set(action) != {"type", "tags"} or not action["tags"]):
        raise PolicyRejected(f"policy {name}: tag must set explicit `tags`")
    if atype == "mark-for-op":
        days = action.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or days < MIN_MARK_DAYS or "hours" in action:
            raise PolicyRejected(f"policy {name}: mark-for-op needs explicit days >= {MIN_MARK_DAYS}")
        if action.get("op") not in KINDS[kind].mark_ops:
            raise PolicyRejected(f"policy {name}: mark-for-op op {action.get('op')!r} not allowed on {kind}")
    if atype == "notify":
        transport = action.get("transport") or {}
        if transport.get("type") != "sqs" or not mailer_queue or transport.get("queue") != mailer_queue:
            raise PolicyRejected(f"policy {name}: notify must use the configured c7n-mailer SQS queue")
        if any(k in action for k in ("to_from", "cc_from", "assume_role")):
            raise PolicyRejected(f"policy {name}: notify may not look up recipients or assume roles")


def check_allowed(data: dict[str, Any], mailer_queue: str | None = None) -> None:
    """Raise PolicyRejected unless every policy in ``data`` is inside finops-agent's allow-list."""
    policies = data.get("policies") if isinstance(data, dict) else None
    if set(data) != {"policies"} or not isinstance(policies, list) or not policies:
        raise PolicyRejected("a policy file holds exactly one non-empty `policies` list")
    for pol in policies:
        name = str(pol.get("name", "?")) if isinstance(pol, dict) else "?"
        if not isinstance(pol, dict) or not set(pol) <= ALLOWED_POLICY_KEYS:
            extra = sorted(set(pol) - ALLOWED_POLICY_KEYS) if isinstance(pol, dict) else []
            raise PolicyRejected(f"policy {name}: keys {extra} are not allowed (no mode: pull only)")
        resource = str(pol.get("resource", ""))
        kind = resource.removeprefix("aws.")
        if not resource.startswith("aws.") or kind not in KINDS:
            raise PolicyRejected(f"policy {name}: resource {resource!r} is not supported")
        _check_conditions(name, pol.get("conditions"))
        _check_filters(name, kind, pol.get("filters"))
        actions = pol.get("actions")
        if not isinstance(actions, list) or len(actions) != 1:
            raise PolicyRejected(f"policy {name}: exactly one action is required")
        _check_action(name, kind, actions[0], mailer_queue)


def _resource_types(data: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({str(p["resource"]) for p in data["policies"]}))


def load_c7n_resources(types: Iterable[str]) -> None:
    """Load c7n's AWS resource registry for ``types`` offline (no credentials, no network)."""
    from c7n.resources import load_resources

    load_resources(tuple(types))


def schema_shape(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy with the free-text scalars c7n's JSON schema does not constrain replaced by stand-ins.

    Two policies with the same shape get the same JSON-schema verdict: c7n's schema accepts any
    string for a value filter's ``value``, a condition's ``value``, a tag value and the description,
    and our names all follow one pattern. Ids, tag values and metadata are therefore collapsed.
    """
    shape = copy.deepcopy(policy)
    shape["name"] = "finops-shape"
    shape.pop("metadata", None)
    shape.pop("description", None)
    for cond in shape.get("conditions", []):
        cond["value"] = "v"
    for flt in shape.get("filters", []):
        if isinstance(flt, dict) and isinstance(flt.get("value"), list):
            flt["value"] = ["id"]
    for action in shape.get("actions", []):
        if isinstance(action, dict) and isinstance(action.get("tags"), dict):
            action["tags"] = {k: "v" for k in sorted(action["tags"])}
        if isinstance(action, dict) and "to" in action:
            action["to"] = ["resource-owner"]
    return shape


_SHAPES_OK: set[str] = set()


def _schema_check_shapes(loader: Any, policies: list[dict[str, Any]], uri: str) -> None:
    """Full c7n JSON-schema validation of every shape not yet seen in this process."""
    todo: dict[str, dict[str, Any]] = {}
    for pol in policies:
        shape = schema_shape(pol)
        key = json.dumps(shape, sort_keys=True)
        if key not in _SHAPES_OK:
            todo[key] = shape
    if not todo:
        return
    docs = [{**shape, "name": f"finops-shape-{i}"} for i, shape in enumerate(todo.values())]
    loader.load_data({"policies": docs}, uri, validate=True)
    _SHAPES_OK.update(todo)


def validate_with_c7n(data: dict[str, Any], uri: str = "finops://proposal", *, full_schema: bool = False) -> list[str]:
    """Validate with Cloud Custodian; return the policy names. Raises :class:`PolicyInvalid`.

    Layers: c7n's structure parser and resource registry on the whole file, c7n's JSON schema
    (each distinct :func:`schema_shape` once per process, or every policy with ``full_schema``),
    c7n's unique-name check, then each policy's own ``validate()``.
    """
    try:
        from c7n import schema
        from c7n.config import Config
        from c7n.exceptions import PolicyValidationError
        from c7n.loader import PolicyLoader
    except ImportError as exc:  # pragma: no cover - c7n is a declared dependency
        raise FinopsError("Cloud Custodian (c7n) is not installed; run `pip install c7n`") from exc

    load_c7n_resources(_resource_types(data))
    loader = PolicyLoader(Config.empty(dryrun=True, account_id="na", region="na"))
    try:
        if full_schema:
            collection = loader.load_data(data, uri, validate=True)
        else:
            _schema_check_shapes(loader, data["policies"], uri)
            duplicates = schema.check_unique(data)
            if duplicates:
                raise PolicyValidationError(str(duplicates))
            collection = loader.load_data(data, uri, validate=False)
        for policy in collection:
            policy.validate()
    except (PolicyValidationError, ValueError, KeyError, TypeError) as exc:
        first = " ".join(str(exc).split())[:400]
        raise PolicyInvalid(f"generated policy failed Cloud Custodian validation (a bug): {first}") from exc
    return [policy.name for policy in collection]


def validate_policy_data(data: dict[str, Any], mailer_queue: str | None = None) -> list[str]:
    """Both gates: our allow-list, then c7n. Returns the policy names."""
    check_allowed(data, mailer_queue)
    return validate_with_c7n(data)
