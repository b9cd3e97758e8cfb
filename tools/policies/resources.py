"""The cloud resources our policies may target: Custodian type, id field, allowed deferred ops.

A billing ``ResourceId`` is a bare id (``i-…``, ``vol-…``, a bucket name) or an ARN; :func:`resolve`
turns it into a :class:`ResourceRef` naming the Custodian resource type, the value of that type's id
field (what the generated filter pins), and the account and region the policy is pinned to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ResourceKindName = Literal["ec2", "ebs", "s3", "rds", "lambda", "asg", "app-elb", "elb", "sagemaker-endpoint"]

ACCOUNT_PATTERN = r"^\d{12}$"
REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"


@dataclass(frozen=True)
class ResourceKind:
    """One Custodian resource type we generate policies for."""

    name: ResourceKindName
    id_key: str  # the field of c7n's describe output that identifies the resource
    mark_ops: tuple[str, ...]  # ops a mark-for-op may schedule (a later, human-run policy performs them)


KINDS: dict[str, ResourceKind] = {
    k.name: k
    for k in (
        ResourceKind("ec2", "InstanceId", ("stop", "terminate")),
        ResourceKind("ebs", "VolumeId", ("delete",)),
        ResourceKind("s3", "Name", ()),
        ResourceKind("rds", "DBInstanceIdentifier", ("stop", "delete")),
        ResourceKind("lambda", "FunctionName", ("delete",)),
        ResourceKind("asg", "AutoScalingGroupName", ("resize", "suspend")),
        ResourceKind("app-elb", "LoadBalancerArn", ("delete",)),
        ResourceKind("elb", "LoadBalancerName", ("delete",)),
        ResourceKind("sagemaker-endpoint", "EndpointArn", ("delete",)),
    )
}


class ResourceRef(BaseModel):
    """A resource a policy may name: Custodian kind, id-field value, account and region."""

    model_config = ConfigDict(frozen=True)

    kind: ResourceKindName
    resource_id: str = Field(min_length=1, max_length=2048)
    account_id: str = Field(pattern=ACCOUNT_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    billing_id: str | None = None


_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<svc>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<acct>\d{12})?:(?P<res>.+)$")


def _from_arn(arn: str) -> tuple[ResourceKindName, str, str | None, str | None] | None:
    m = _ARN.match(arn)
    if m is None:
        return None
    svc, res = m["svc"], m["res"]
    region, acct = m["region"] or None, m["acct"] or None
    kind: ResourceKindName | None = None
    rid = ""
    if svc == "ec2" and res.startswith("instance/"):
        kind, rid = "ec2", res.split("/", 1)[1]
    elif svc == "ec2" and res.startswith("volume/"):
        kind, rid = "ebs", res.split("/", 1)[1]
    elif svc == "s3" and "/" not in res:
        kind, rid = "s3", res
    elif svc == "rds" and res.startswith("db:"):
        kind, rid = "rds", res.split(":", 1)[1]
    elif svc == "lambda" and res.startswith("function:"):
        kind, rid = "lambda", res.split(":")[1]
    elif svc == "autoscaling" and "autoScalingGroupName/" in res:
        kind, rid = "asg", res.split("autoScalingGroupName/", 1)[1]
    elif svc == "elasticloadbalancing" and res.startswith(("loadbalancer/app/", "loadbalancer/net/")):
        kind, rid = "app-elb", arn
    elif svc == "elasticloadbalancing" and res.startswith("loadbalancer/"):
        kind, rid = "elb", res.split("/", 1)[1]
    elif svc == "sagemaker" and res.startswith("endpoint/"):
        kind, rid = "sagemaker-endpoint", arn
    if kind is None:
        return None
    return kind, rid, acct, region


def _from_bare(resource_id: str, service: str) -> tuple[ResourceKindName, str] | None:
    svc = service.lower()
    if re.fullmatch(r"i-[0-9a-f]{8,17}", resource_id):
        return "ec2", resource_id
    if re.fullmatch(r"vol-[0-9a-f]{8,17}", resource_id):
        return "ebs", resource_id
    if ("simple storage" in svc or svc in {"s3", "amazons3"}) and re.fullmatch(
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", resource_id
    ):
        return "s3", resource_id
    return None


def resolve(
    resource_id: str,
    *,
    service: str = "",
    account_id: str | None = None,
    region: str | None = None,
    kind: ResourceKindName | None = None,
) -> ResourceRef | None:
    """The Custodian reference for a billing resource id, or None when we cannot target it safely.

    Account and region come from the ARN when it has them, else from the billing row; a resource
    whose account or region is unknown is never targeted. ``kind`` names the type of a bare id the
    billing data cannot tell (e.g. an auto-scaling group name).
    """
    parsed = _from_arn(resource_id)
    if parsed is not None:
        found, rid, acct, reg = parsed
        if kind is not None and found != kind:
            return None
        kind = found
        account_id, region = acct or account_id, reg or region
    elif kind is not None:
        rid = resource_id
    else:
        bare = _from_bare(resource_id, service)
        if bare is None:
            return None
        kind, rid = bare
    if not account_id or not region:
        return None
    if not re.fullmatch(ACCOUNT_PATTERN[1:-1], account_id) or not re.fullmatch(REGION_PATTERN[1:-1], region):
        return None
    return ResourceRef(kind=kind, resource_id=rid, account_id=account_id, region=region, billing_id=resource_id)
