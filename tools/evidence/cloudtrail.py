"""CloudTrail evidence: delivered log files (directory or S3 prefix) and the LookupEvents API.

Both paths turn a CloudTrail record into an :class:`EvidenceItem` with the resource ids/names it
touched and a summary that names the change ("UpdateAutoScalingGroup web-prod minSize 20 maxSize 40
by alice"). Only successful, mutating calls are kept. Everything is read through
:class:`~tools.evidence.aws.ReadOnlySession`; nothing is ever written.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tools.evidence import EvidenceItem, SourceStatus, as_utc, clip
from tools.evidence.aws import ReadOnlySession, TokenBucket

LOOKBACK = timedelta(days=90)
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_PAGES = 200
LOOKUP_STATEMENT = '{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}'
S3_STATEMENT = '{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}'
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}

# Keys whose values are resource ids or resource names, wherever they appear in a record.
ID_KEYS = frozenset(
    {
        "instanceId", "instanceIds", "natGatewayId", "volumeId", "snapshotId", "allocationId",
        "launchTemplateId", "dBInstanceArn", "dbiResourceId", "dBClusterArn", "functionArn",
        "endpointArn", "endpointConfigArn", "autoScalingGroupARN", "loadBalancerArn", "fleetId",
        "spotInstanceRequestId", "clusterArn", "nodegroupArn", "tableArn", "resourceId",
        "vpcEndpointId", "transitGatewayId", "fileSystemId", "provisionedModelArn",
    }
)  # fmt: skip
NAME_KEYS = frozenset(
    {
        "autoScalingGroupName", "endpointName", "endpointConfigName", "bucketName",
        "dBInstanceIdentifier", "dBClusterIdentifier", "functionName", "tableName", "cacheClusterId",
        "replicationGroupId", "clusterName", "nodegroupName", "loadBalancerName", "notebookInstanceName",
        "trainingJobName", "logGroupName", "streamName", "deliveryStreamName", "modelName",
        "provisionedModelName", "launchTemplateName", "keyName", "queueName", "domainName",
    }
)  # fmt: skip
# Request fields that change size, count or type: they make the summary.
CHANGE_KEYS = (
    "minSize", "maxSize", "desiredCapacity", "instanceType", "minCount", "maxCount", "instanceCount",
    "initialInstanceCount", "desiredInstanceCount", "dBInstanceClass", "allocatedStorage", "iops",
    "size", "volumeType", "memorySize", "timeout", "provisionedConcurrentExecutions",
    "reservedConcurrentExecutions", "billingMode", "readCapacityUnits", "writeCapacityUnits",
    "numCacheNodes", "cacheNodeType", "desiredSize", "multiAZ", "storageType", "modelUnits",
    "retentionInDays", "targetValue", "scalingAdjustment",
)  # fmt: skip
EC2_ID = re.compile(r"^(i|vol|nat|snap|eni|lt|sir|fleet|eipalloc|vpce|tgw|fs)-[0-9a-f]{8,17}$")

# Service or usage-type keyword -> mutating API calls that usually explain a cost change.
EVENT_TABLE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("autoscaling", "auto scaling", "asg"),
     ("UpdateAutoScalingGroup", "CreateAutoScalingGroup", "PutScalingPolicy", "SetDesiredCapacity")),
    (("natgateway", "nat gateway", "nat", "egress", "datatransfer", "data transfer", "-out-bytes",
      "virtual private cloud", "vpc"),
     ("CreateNatGateway", "CreateVpcEndpoint", "CreateTransitGatewayVpcAttachment", "AssociateAddress")),
    (("sagemaker",),
     ("CreateEndpoint", "UpdateEndpoint", "UpdateEndpointWeightsAndCapacities", "CreateEndpointConfig",
      "CreateTrainingJob", "CreateNotebookInstance")),
    (("elastic compute", "ec2", "boxusage", "spotusage", "dedicatedusage"),
     ("RunInstances", "ModifyInstanceAttribute", "StartInstances", "UpdateAutoScalingGroup",
      "CreateAutoScalingGroup", "SetDesiredCapacity", "CreateFleet", "RequestSpotInstances")),
    (("ebs", "volume", "snapshot"), ("CreateVolume", "ModifyVolume", "CreateSnapshot")),
    (("rds", "relational database", "aurora", "instanceusage:db"),
     ("CreateDBInstance", "ModifyDBInstance", "CreateDBCluster", "ModifyDBCluster",
      "RestoreDBInstanceFromDBSnapshot")),
    (("lambda",),
     ("CreateFunction20150331", "UpdateFunctionConfiguration20150331v2", "PutProvisionedConcurrencyConfig",
      "PutFunctionConcurrency20171031")),
    (("s3", "simple storage", "timedstorage", "requests-tier"),
     ("CreateBucket", "PutBucketLifecycleConfiguration", "PutBucketReplication", "PutBucketVersioning")),
    (("dynamodb",), ("CreateTable", "UpdateTable")),
    (("elasticache",), ("CreateCacheCluster", "ModifyCacheCluster", "CreateReplicationGroup",
                        "ModifyReplicationGroup")),
    (("eks", "kubernetes"), ("CreateNodegroup", "UpdateNodegroupConfig", "CreateCluster")),
    (("bedrock",), ("CreateProvisionedModelThroughput", "UpdateProvisionedModelThroughput")),
    (("cloudwatch", "logs"), ("CreateLogGroup", "PutRetentionPolicy", "PutSubscriptionFilter")),
    (("redshift",), ("CreateCluster", "ModifyCluster", "ResizeCluster")),
    (("opensearch", "elasticsearch"), ("CreateDomain", "UpdateDomainConfig")),
    (("elastic container service", "ecs", "fargate"), ("CreateService", "UpdateService")),
    (("kinesis",), ("CreateStream", "UpdateShardCount")),
)  # fmt: skip


def event_names_for(services: list[str] | None) -> list[str]:
    """Mutating CloudTrail event names worth looking up for these services / usage types (ordered)."""
    names: dict[str, None] = {}
    for service in services or []:
        text = service.lower()
        for keywords, events in EVENT_TABLE:
            if any(_keyword_in(k, text) for k in keywords):
                names.update(dict.fromkeys(events))
    return list(names)


def _keyword_in(keyword: str, text: str) -> bool:
    if len(keyword) > 4 or not keyword.isalnum():
        return keyword in text
    return keyword in re.split(r"[^a-z0-9]+", text)


def onset_window(
    onset: datetime, *, before: timedelta = timedelta(hours=48), after: timedelta = timedelta(hours=24)
) -> tuple[datetime, datetime]:
    """The evidence window around a cost anomaly's onset (changes usually precede the spend)."""
    onset = as_utc(onset)
    return onset - before, onset + after


# ---------------------------------------------------------------- record -> EvidenceItem


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 8:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            yield str(key), child
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value[:200]:
            yield from _walk(child, depth + 1)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def resources_of(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Resource ids and names named anywhere in a record's parameters, response and resources[]."""
    ids: list[str] = []
    names: list[str] = []
    for part in (record.get("requestParameters"), record.get("responseElements")):
        for key, value in _walk(part):
            if key in ID_KEYS:
                ids += _strings(value)
            elif key in NAME_KEYS:
                names += _strings(value)
            elif isinstance(value, str) and EC2_ID.match(value):
                ids.append(value)
    for res in record.get("resources") or []:
        if isinstance(res, dict):
            arn = res.get("ARN") or res.get("arn") or res.get("ResourceName")
            if not isinstance(arn, str):
                continue
            if arn.startswith("arn:") or EC2_ID.match(arn):
                ids.append(arn)
                tail = _arn_name(arn)
                if tail and tail != arn:
                    names.append(tail)
            else:
                names.append(arn)
    return ids, names


def _arn_name(arn: str) -> str | None:
    if not arn.startswith("arn:"):
        return None
    resource = arn.split(":", 5)[-1]
    for sep in ("/", ":"):
        if sep in resource:
            return resource.rsplit(sep, 1)[-1] or None
    return None


def changes_of(record: dict[str, Any]) -> dict[str, str]:
    """Size/count/type fields set by the request, e.g. {"minSize": "20", "maxSize": "40"}."""
    found: dict[str, str] = {}
    for key, value in _walk(record.get("requestParameters")):
        if key in CHANGE_KEYS and key not in found and isinstance(value, str | int | float | bool):
            found[key] = clip(value, 60)
    return {k: found[k] for k in CHANGE_KEYS if k in found}


def actor_of(identity: Any, username: str | None = None) -> str | None:
    """A readable actor from ``userIdentity`` (user name, role session, service) or LookupEvents' Username."""
    if not isinstance(identity, dict):
        return username
    kind = identity.get("type")
    if kind == "AWSService":
        return str(identity.get("invokedBy") or "aws-service")
    if kind == "Root":
        return "root"
    if identity.get("userName"):
        return str(identity["userName"])
    arn = str(identity.get("arn") or "")
    if kind == "AssumedRole" and "/" in arn:
        parts = arn.split("/")
        return f"{parts[-1]} (role {_role_label(parts[1])})" if len(parts) >= 3 else parts[-1]
    return username or (arn or None) or identity.get("principalId")


def _role_label(role: str) -> str:
    """``AWSReservedSSO_PowerUserAccess_7c1e9f2a4b3d5e6f`` -> ``PowerUserAccess`` (IAM Identity Center)."""
    if role.startswith("AWSReservedSSO_"):
        middle = role[len("AWSReservedSSO_") :]
        head, _, tail = middle.rpartition("_")
        return head if head and all(c in "0123456789abcdef" for c in tail) else middle
    return role


def is_change(record: dict[str, Any]) -> bool:
    """A successful, mutating API call or service event (not a sign-in, insight or read)."""
    if record.get("errorCode") or record.get("eventType") in ("AwsConsoleSignIn", "AwsCloudTrailInsight"):
        return False
    read_only = record.get("readOnly")
    if isinstance(read_only, str):
        read_only = read_only.lower() == "true"
    if read_only is None:
        from tools.evidence.aws import is_read_only

        read_only = is_read_only(str(record.get("eventName", "")))
    return not read_only


def parse_time(text: Any) -> datetime | None:
    """CloudTrail's ``eventTime`` (``2026-11-03T10:02:11Z``) as an aware UTC datetime."""
    if isinstance(text, datetime):
        return as_utc(text)
    if not isinstance(text, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def record_to_item(record: dict[str, Any], *, username: str | None = None) -> EvidenceItem | None:
    """Turn one CloudTrail record into evidence; None if it has no usable time or event name."""
    when = parse_time(record.get("eventTime"))
    name = record.get("eventName")
    if when is None or not isinstance(name, str):
        return None
    ids, names = resources_of(record)
    changes = changes_of(record)
    actor = actor_of(record.get("userIdentity"), username)
    source = str(record.get("eventSource") or "")
    target = (names or ids or [""])[0]
    change_text = " ".join(f"{k} {v}" for k, v in changes.items())
    summary = " ".join(p for p in (name, clip(target, 80), change_text, f"by {actor}" if actor else "") if p)
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
    details = {"eventSource": source, "eventType": str(record.get("eventType") or "")}
    details.update({f"change.{k}": v for k, v in changes.items()})
    if record.get("requestParameters"):
        details["requestParameters"] = json.dumps(record["requestParameters"], default=str)[:1000]
    if record.get("userAgent"):
        details["userAgent"] = clip(record["userAgent"], 120)
    return EvidenceItem(
        source="cloudtrail",
        ref=str(record.get("eventID") or f"{name}@{when.isoformat()}"),
        time=when,
        actor=actor,
        action=name,
        resource_ids=ids,
        resource_names=names,
        account_id=record.get("recipientAccountId") or (identity or {}).get("accountId"),
        region=record.get("awsRegion"),
        service_hint=source.split(".", 1)[0] or None,
        summary=summary,
        details=details,
    )


# ---------------------------------------------------------------- delivered log files


@dataclass
class _FileScan:
    start: datetime
    end: datetime
    accounts: set[str] | None
    regions: set[str] | None
    items: list[EvidenceItem] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    files: int = 0
    records: int = 0
    bad: list[str] = field(default_factory=list)

    def add_records(self, name: str, payload: bytes) -> None:
        self.files += 1
        try:
            raw = gzip.decompress(payload) if name.endswith(".gz") else payload
            doc = json.loads(raw)
            records = doc["Records"]
            if not isinstance(records, list):
                raise TypeError("Records is not a list")
        except (OSError, EOFError, ValueError, KeyError, TypeError, zlib.error) as exc:
            # a damaged deflate stream raises zlib.error (not an OSError) before the CRC check
            self.bad.append(f"{name} ({type(exc).__name__})")
            return
        for record in records:
            if isinstance(record, dict):
                self._add(record)

    def _add(self, record: dict[str, Any]) -> None:
        self.records += 1
        when = parse_time(record.get("eventTime"))
        if when is None or not (self.start <= when <= self.end) or not is_change(record):
            return
        if self.regions and record.get("awsRegion") not in self.regions:
            return
        item = record_to_item(record)
        if item is None or item.ref in self.seen:
            return
        if self.accounts and item.account_id not in self.accounts:
            return
        self.seen.add(item.ref)
        self.items.append(item)


def _date_range(parts: list[str]) -> tuple[date, date] | None:
    """If the trailing path parts are YYYY[/MM[/DD]], the days that folder can hold."""
    digits: list[int] = []
    for part in parts[-3:]:
        if part.isdigit():
            digits.append(int(part))
        else:
            digits = []
    if not digits or not (1970 <= digits[0] <= 2200):
        return None
    try:
        if len(digits) == 1:
            return date(digits[0], 1, 1), date(digits[0], 12, 31)
        if len(digits) == 2:
            first = date(digits[0], digits[1], 1)
            return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        day = date(digits[0], digits[1], digits[2])
        return day, day
    except ValueError:
        return None


def keep_dir(parts: list[str], scan: _FileScan) -> bool:
    """Prune folders by date (1 day of slack for delivery lag), account and region."""
    name = parts[-1]
    if name in ("CloudTrail-Digest", "CloudTrail-Insight"):
        return False
    parent = parts[-2] if len(parts) > 1 else ""
    if scan.accounts and parent == "AWSLogs" and name.isdigit() and len(name) == 12:
        return name in scan.accounts
    if scan.regions and parent == "CloudTrail":
        return name in scan.regions
    span = _date_range(parts) if len(parts) > 1 and "CloudTrail" in parts else None
    if span is None:
        return True
    first, last = span
    return last >= scan.start.date() - timedelta(days=1) and first <= scan.end.date() + timedelta(days=1)


def _is_log(name: str) -> bool:
    return name.endswith((".json.gz", ".json"))


def _scan_directory(root: Path, scan: _FileScan) -> None:
    for folder, dirnames, filenames in os.walk(root):
        parts = list(Path(folder).resolve().parts)
        dirnames[:] = sorted(d for d in dirnames if keep_dir([*parts, d], scan))
        for filename in sorted(filenames):
            path = Path(folder) / filename
            if not _is_log(filename):
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                scan.bad.append(f"{path.relative_to(root)} (over {MAX_FILE_BYTES // 2**20} MB, skipped)")
                continue
            scan.add_records(str(path.relative_to(root)), path.read_bytes())


def _scan_s3(url: str, scan: _FileScan, session: ReadOnlySession) -> None:
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = session.client("s3")
    pending = [prefix]
    while pending:
        current = pending.pop()
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=current, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                sub = common["Prefix"]
                if keep_dir([p for p in sub.split("/") if p], scan):
                    pending.append(sub)
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if not _is_log(key):
                    continue
                if int(obj.get("Size", 0)) > MAX_FILE_BYTES:
                    scan.bad.append(f"s3://{bucket}/{key} (too large, skipped)")
                    continue
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                scan.add_records(f"s3://{bucket}/{key}", body)


def read_log_files(
    location: Path | str,
    start: datetime,
    end: datetime,
    *,
    accounts: list[str] | None = None,
    regions: list[str] | None = None,
    session: ReadOnlySession | None = None,
) -> tuple[list[EvidenceItem], SourceStatus]:
    """Read CloudTrail log files as delivered to S3 from a directory or ``s3://bucket/prefix``.

    Folders outside the window are pruned; corrupt files are counted and named in the status.
    """
    scan = _FileScan(as_utc(start), as_utc(end), set(accounts) if accounts else None,
                     set(regions) if regions else None)  # fmt: skip
    text = str(location)
    try:
        if text.startswith("s3://"):
            _scan_s3(text, scan, session or ReadOnlySession())
        elif not Path(text).is_dir():
            return [], SourceStatus(
                source="cloudtrail-files", complete=False,
                message=f"CloudTrail log folder {text} does not exist: pass --cloudtrail-dir DIR",
            )  # fmt: skip
        else:
            _scan_directory(Path(text), scan)
    except Exception as exc:  # a storage failure is reported, never a crash of the explainer
        return scan.items, _failed_status(scan, exc)
    message = f"read {scan.files} files, {scan.records} records, {len(scan.items)} changes in window"
    if scan.bad:
        message += f"; {len(scan.bad)} unreadable: " + ", ".join(scan.bad[:3])
    status = SourceStatus(
        source="cloudtrail-files", complete=not scan.bad, pages=scan.files, events=len(scan.items),
        message=message,
    )  # fmt: skip
    return sorted(scan.items, key=lambda i: i.time), status


def _failed_status(scan: _FileScan, exc: Exception) -> SourceStatus:
    code = _error_code(exc)
    if code in ACCESS_DENIED or code == "403":
        message = f"access denied reading CloudTrail logs from S3; grant {S3_STATEMENT}"
    else:
        message = f"stopped reading CloudTrail logs: {clip(type(exc).__name__ + ': ' + str(exc), 200)}"
    return SourceStatus(
        source="cloudtrail-files", complete=False, pages=scan.files, events=len(scan.items), message=message
    )


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


# ---------------------------------------------------------------- LookupEvents API


def _lookup_pages(client: Any, bucket: TokenBucket, params: dict[str, Any], max_pages: int) -> Iterator[dict[str, Any]]:
    token: str | None = None
    for _ in range(max_pages):
        bucket.acquire()
        page = client.lookup_events(**params, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return
    raise _PageLimit


class _PageLimit(Exception):
    pass


def lookup_events(
    start: datetime,
    end: datetime,
    *,
    services: list[str] | None = None,
    regions: list[str] | None = None,
    session: ReadOnlySession | None = None,
    bucket: TokenBucket | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_pages: int = MAX_PAGES,
) -> tuple[list[EvidenceItem], SourceStatus]:
    """Query CloudTrail LookupEvents (management events, last 90 days) for changes in the window.

    With ``services`` the event names come from :data:`EVENT_TABLE` (one paginated query per name,
    the API takes one attribute per call); otherwise all mutating events (``ReadOnly=false``).
    Requests are paced by ``bucket`` (2 per second). The status reports pages, events and, on
    AccessDenied, the IAM statement that is missing.
    """
    start, end = as_utc(start), as_utc(end)
    oldest = now() - LOOKBACK
    notes: list[str] = []
    if end < oldest:
        return [], SourceStatus(
            source="cloudtrail-api", complete=False,
            message="LookupEvents keeps 90 days only; read the trail's S3 log files (--cloudtrail-dir)",
        )  # fmt: skip
    if start < oldest:
        start = oldest
        notes.append("window clipped to the 90 days LookupEvents keeps")
    session = session or ReadOnlySession()
    bucket = bucket or TokenBucket()
    names = event_names_for(services)
    attributes = [{"AttributeKey": "EventName", "AttributeValue": n} for n in names] or [
        {"AttributeKey": "ReadOnly", "AttributeValue": "false"}
    ]
    items: dict[str, EvidenceItem] = {}
    pages = 0
    for region in regions or [session.default_region]:
        client = session.client("cloudtrail", region)
        for attribute in attributes:
            params = {"LookupAttributes": [attribute], "StartTime": start, "EndTime": end, "MaxResults": 50}
            try:
                for page in _lookup_pages(client, bucket, params, max_pages - pages):
                    pages += 1
                    for event in page.get("Events", []):
                        item = _event_to_item(event, region)
                        if item is not None:
                            items.setdefault(item.ref, item)
            except _PageLimit:
                return _done(items, pages, False, [*notes, f"stopped after {max_pages} pages"])
            except Exception as exc:
                return _done(items, pages, False, [*notes, _api_error(exc, region)])
    return _done(items, pages, True, notes)


def _done(
    items: dict[str, EvidenceItem], pages: int, complete: bool, notes: list[str]
) -> tuple[list[EvidenceItem], SourceStatus]:
    found = sorted(items.values(), key=lambda i: i.time)
    message = "; ".join([f"{pages} pages, {len(found)} change events", *notes])
    return found, SourceStatus(
        source="cloudtrail-api", complete=complete, pages=pages, events=len(found), message=message
    )


def _api_error(exc: Exception, region: str) -> str:
    from tools.evidence.aws import ReadOnlyViolation

    if isinstance(exc, ReadOnlyViolation):
        return exc.message
    code = _error_code(exc)
    if code in ACCESS_DENIED:
        return f"access denied in {region}: add the IAM statement {LOOKUP_STATEMENT}"
    if type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if code:
        return f"LookupEvents failed in {region}: {code}"
    return f"LookupEvents failed in {region}: {type(exc).__name__}"


def _event_to_item(event: dict[str, Any], region: str) -> EvidenceItem | None:
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    record.setdefault("eventID", event.get("EventId"))
    record.setdefault("eventName", event.get("EventName"))
    record.setdefault("eventSource", event.get("EventSource"))
    record.setdefault("awsRegion", region)
    if "eventTime" not in record and event.get("EventTime") is not None:
        record["eventTime"] = as_utc(event["EventTime"]).isoformat()
    if "resources" not in record and event.get("Resources"):
        record["resources"] = [{"ARN": r.get("ResourceName")} for r in event["Resources"]]
    if not is_change(record):
        return None
    return record_to_item(record, username=event.get("Username"))
