"""A small synthetic org for tagging tests and the 10k-resource bench (deterministic by seed).

Teams own apps; names follow ``<app>-<env>-<role>-<n>`` with some opaque ones; accounts are per
env (shared) or per team; creators are ``terraform-<team>`` roles or team members. A share of
resources is untagged or partially tagged; ``true_tags`` is the ground truth for evals only.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tools.tagging.inventory import Resource

TEAMS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "payments": ("cc-1001", ("checkout", "ledger", "billing-api"), ("alice", "bob")),
    "search": ("cc-1002", ("indexer", "query-api"), ("carol",)),
    "ml": ("cc-1003", ("recsys", "embeddings"), ("dave", "erin")),
    "data": ("cc-1004", ("etl", "warehouse"), ("frank",)),
    "platform": ("cc-1005", ("gateway", "auth"), ("grace", "heidi")),
    "growth": ("cc-1006", ("web", "campaigns"), ("ivan",)),
}
ENVS = ("prod", "staging", "dev")
REGIONS = ("us-east-1", "eu-west-1")
ROLES = ("api", "worker", "cache", "batch")
KINDS = ("ec2", "ebs", "s3", "rds", "lambda")
SERVICE = {
    "ec2": "Amazon Elastic Compute Cloud",
    "ebs": "Amazon Elastic Compute Cloud",
    "s3": "Amazon Simple Storage Service",
    "rds": "Amazon Relational Database Service",
    "lambda": "AWS Lambda",
}
RTYPE = {"ec2": "Instance", "ebs": "Volume", "s3": "Bucket", "rds": "DB Instance", "lambda": "Function"}
CREATE_EVENT = {
    "ec2": "RunInstances",
    "ebs": "CreateVolume",
    "s3": "CreateBucket",
    "rds": "CreateDBInstance",
    "lambda": "CreateFunction20150331",
}
DOMAIN = "acme.example"
FOCUS_COLUMNS = (
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "RegionId",
    "ProviderName",
    "EffectiveCost",
    "BilledCost",
    "Tags",
)


@dataclass
class SynthResource:
    resource: Resource
    true_tags: dict[str, str]
    creator: str
    kind: str
    create_time: datetime = field(default_factory=lambda: datetime(2026, 10, 1))


def _accounts(rng: random.Random) -> dict[tuple[str, str], tuple[str, str]]:
    """(team, env) -> (account id, account name): prod shared, others per team."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    shared = {env: (str(rng.randrange(10**11, 10**12)), f"acme-{env}-shared") for env in ENVS}
    for team in TEAMS:
        own = (str(rng.randrange(10**11, 10**12)), f"acme-{team}-nonprod")
        for env in ENVS:
            out[(team, env)] = shared[env] if env == "prod" else own
    return out


def _resource_id(kind: str, name: str, acct: str, region: str, rng: random.Random) -> str:
    hexid = "".join(rng.choice("0123456789abcdef") for _ in range(17))
    return {
        "ec2": f"i-{hexid}",
        "ebs": f"vol-{hexid}",
        "s3": name,
        "rds": f"arn:aws:rds:{region}:{acct}:db:{name}",
        "lambda": f"arn:aws:lambda:{region}:{acct}:function:{name}",
    }[kind]


def generate(n: int = 400, seed: int = 7, untagged: float = 0.15, partial: float = 0.05) -> list[SynthResource]:
    """``n`` resources; ``untagged`` of them without tags, ``partial`` with only ``env``."""
    rng = random.Random(seed)
    accounts = _accounts(rng)
    out: list[SynthResource] = []
    for i in range(n):
        team = rng.choice(list(TEAMS))
        cost_center, apps, people = TEAMS[team]
        app, env, kind = rng.choice(apps), rng.choice(ENVS), rng.choice(KINDS)
        acct, acct_name = accounts[(team, env)]
        region = rng.choice(REGIONS)
        base = f"{app}-{env}-{rng.choice(ROLES)}-{i}"
        name = "" if kind in ("ec2", "ebs") and rng.random() < 0.1 else base
        if kind == "s3":
            name = f"acme-{base}"
        rid = _resource_id(kind, name or base, acct, region, rng)
        truth = {"team": team, "env": env, "cost_center": cost_center, "app": app}
        u = rng.random()
        tags = {} if u < untagged else ({"env": env} if u < untagged + partial else dict(truth))
        creator = f"terraform-{team}" if rng.random() < 0.7 else f"{rng.choice(people)}@{DOMAIN}"
        cost = round(rng.lognormvariate(3, 1.2), 2)
        res = Resource(rid, name, RTYPE[kind], SERVICE[kind], acct, acct_name, region, "AWS", cost, tags)
        out.append(SynthResource(res, truth, creator, kind, datetime(2026, 10, 1) + timedelta(minutes=i)))
    return out


def write_focus(db_path: Path, org: list[SynthResource], days: int = 3, last_day: date = date(2026, 11, 30)) -> None:
    """Write ``days`` daily FOCUS rows per resource into the canonical store (one bulk insert)."""
    import pyarrow as pa

    from tools.billing import store

    cols: dict[str, list[object]] = {c: [] for c in FOCUS_COLUMNS}
    for d in range(days):
        start = datetime.combine(last_day - timedelta(days=d), datetime.min.time())
        for s in org:
            r = s.resource
            values = (
                start,
                start + timedelta(days=1),
                r.resource_id,
                r.name or None,
                r.rtype,
                r.service,
                r.account_id,
                r.account_name,
                r.region,
                r.provider,
                r.monthly_cost / 30,
                r.monthly_cost / 30,
                list(r.tags.items()),
            )
            for col, value in zip(FOCUS_COLUMNS, values, strict=True):
                cols[col].append(value)
    types = {
        "ChargePeriodStart": pa.timestamp("us"),
        "ChargePeriodEnd": pa.timestamp("us"),
        "EffectiveCost": pa.float64(),
        "BilledCost": pa.float64(),
        "Tags": pa.map_(pa.string(), pa.string()),
    }
    table = pa.table({c: pa.array(v, type=types.get(c, pa.string())) for c, v in cols.items()})
    with store.writer(db_path) as con:
        con.register("synthetic_rows", table)
        con.execute("INSERT INTO focus BY NAME SELECT * FROM synthetic_rows")
        con.unregister("synthetic_rows")


def _record(s: SynthResource) -> dict[str, object]:
    r = s.resource
    if s.creator.startswith("terraform-"):
        identity = {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{r.account_id}:assumed-role/{s.creator}/GitHubActions",
        }
    else:
        identity = {
            "type": "IAMUser",
            "userName": s.creator,
            "arn": f"arn:aws:iam::{r.account_id}:user/{s.creator}",
        }
    short = r.resource_id.rsplit(":", 1)[-1]
    params = {
        "ec2": ({}, {"instancesSet": {"items": [{"instanceId": r.resource_id}]}}),
        "ebs": ({}, {"volumeId": r.resource_id}),
        "s3": ({"bucketName": r.resource_id}, {}),
        "rds": ({"dBInstanceIdentifier": short}, {"dBInstanceArn": r.resource_id}),
        "lambda": ({"functionName": short}, {"functionArn": r.resource_id}),
    }[s.kind]
    return {
        "eventVersion": "1.08",
        "eventTime": s.create_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": CREATE_EVENT[s.kind],
        "awsRegion": r.region,
        "userIdentity": identity,
        "requestParameters": params[0],
        "responseElements": params[1],
        "eventID": "ev-" + hashlib.sha256(r.resource_id.encode()).hexdigest()[:16],
        "readOnly": False,
        "eventType": "AwsApiCall",
        "recipientAccountId": r.account_id,
    }


def write_cloudtrail(root: Path, org: list[SynthResource]) -> None:
    """CloudTrail log files as delivered to S3, one file per account/region/day."""
    files: dict[Path, list[dict[str, object]]] = {}
    for s in org:
        r, t = s.resource, s.create_time
        folder = root / "AWSLogs" / r.account_id / "CloudTrail" / r.region / f"{t:%Y/%m/%d}"
        files.setdefault(folder / f"{r.account_id}_CloudTrail_{r.region}_{t:%Y%m%d}.json.gz", []).append(_record(s))
    for path, records in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
