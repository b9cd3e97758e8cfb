"""Features of a resource for tag inference: name tokens and conventions, account, region, service,
type, creator identity (CloudTrail) and the IaC block, file, folder and author that define it.

Each feature is a string ``family:value``; :data:`FAMILY_LABELS` says how to cite it as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from string import hexdigits

from tools.tagging.evidence import Creator, IacHit
from tools.tagging.inventory import Resource

_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HEX = frozenset(hexdigits.lower())
STOP = frozenset({"arn", "aws", "the", "and", "of", "com", "example", "www"})

FAMILY_LABELS = {
    "tok": "name token",
    "pre": "name prefix",
    "acct": "account",
    "an": "account name token",
    "region": "region",
    "svc": "service",
    "rtype": "resource type",
    "creator": "created by (CloudTrail)",
    "ctok": "creator token",
    "iacdir": "IaC folder",
    "itok": "IaC path token",
    "iacauthor": "IaC file author",
}


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; drops numbers, hex ids and one-letter bits."""
    out: list[str] = []
    for part in _SPLIT.split(text):
        for tok in _CAMEL.sub(" ", part).split():
            low = tok.lower()
            if len(low) < 2 or low.isdigit() or low in STOP:
                continue
            if len(low) >= 6 and set(low) <= _HEX and any(c.isdigit() for c in low):
                continue
            out.append(low)
    return out


def display_name(res: Resource) -> str:
    """The resource's name, or the readable tail of its id (ARN resource part, bucket name)."""
    if res.name:
        return res.name
    rid = res.resource_id
    if rid.startswith("arn:"):
        rid = rid.split(":", 5)[-1]
        rid = "/".join(p for p in re.split(r"[/:]", rid)[1:] if p) or rid
    return rid


@dataclass
class ResourceFeatures:
    """A resource's features and the raw evidence behind them."""

    features: list[str]
    name: str
    creator: Creator | None = None
    iac: IacHit | None = None
    notes: list[str] = field(default_factory=list)


def _lookup_keys(res: Resource, name: str) -> list[str]:
    keys = [res.resource_id, name]
    if res.resource_id.startswith("arn:"):
        keys.append(re.split(r"[/:]", res.resource_id)[-1])
    return [k for k in keys if k]


def extract(res: Resource, creators: dict[str, Creator], iac: dict[str, IacHit]) -> ResourceFeatures:
    """Features of one resource (deduplicated, order kept)."""
    name = display_name(res)
    toks = tokens(name)
    feats = [f"tok:{t}" for t in toks]
    if len(toks) >= 2:
        feats.append(f"pre:{toks[0]}-{toks[1]}")
    if toks:
        feats.append(f"pre:{toks[0]}")
    feats += [f"acct:{res.account_id}", *(f"an:{t}" for t in tokens(res.account_name))]
    feats += [f"region:{res.region}", f"svc:{res.service}", f"rtype:{res.rtype}"]
    keys = _lookup_keys(res, name)
    creator = next((creators[k] for k in keys if k in creators), None)
    if creator is not None:
        feats.append(f"creator:{creator.actor}")
        feats += [f"ctok:{t}" for t in tokens(creator.actor)]
    hit = next((iac[k] for k in keys if k in iac), None)
    if hit is not None:
        folder = hit.path.rsplit("/", 1)[0] if "/" in hit.path else "."
        feats += [f"iacdir:{folder}", *(f"itok:{t}" for t in tokens(hit.path))]
        if hit.author:
            feats.append(f"iacauthor:{hit.author}")
        feats += [f"iactag:{k}={v}" for k, v in hit.declared.items()]
    return ResourceFeatures(list(dict.fromkeys(feats)), name, creator, hit)


def describe(feature: str) -> str:
    """A feature as evidence text, e.g. ``name token 'checkout'``."""
    family, _, value = feature.partition(":")
    if family == "iactag":
        return f"IaC declares {value}"
    return f"{FAMILY_LABELS.get(family, family)} '{value}'"
