"""A real HTTP server on 127.0.0.1 speaking the CloudTrail JSON 1.1 protocol (LookupEvents) and,
for GET requests, enough of the S3 REST protocol (ListObjectsV2 with a delimiter, GetObject) to
serve a trail's log files from a bucket.

boto3 is pointed at it with ``endpoint_url``. It filters the configured events by the one lookup
attribute and the time range, paginates with ``NextToken``, and can answer AccessDenied. Every
request is recorded so tests can assert what was (or was not) sent.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."


@dataclass
class CloudTrailState:
    """What the stub serves and what it saw."""

    records: list[dict[str, Any]] = field(default_factory=list)
    deny: bool = False
    objects: dict[str, bytes] = field(default_factory=dict)  # "bucket/key" -> body (S3 side)
    s3_gets: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _matches(record: dict[str, Any], attribute: dict[str, str] | None) -> bool:
    if not attribute:
        return True
    key, value = attribute["AttributeKey"], attribute["AttributeValue"]
    if key == "EventName":
        return bool(record.get("eventName") == value)
    if key == "ReadOnly":
        return str(record.get("readOnly", False)).lower() == value.lower()
    if key == "EventSource":
        return bool(record.get("eventSource") == value)
    return False


def _as_event(record: dict[str, Any]) -> dict[str, Any]:
    identity = record.get("userIdentity") or {}
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": str(record.get("readOnly", False)).lower(),
        "EventTime": _epoch(record["eventTime"]),
        "EventSource": record.get("eventSource", ""),
        "Username": identity.get("userName") or identity.get("principalId", ""),
        "Resources": [],
        "CloudTrailEvent": json.dumps(record),
    }


def _list_xml(state: CloudTrailState, bucket: str, query: dict[str, list[str]]) -> str:
    """ListObjectsV2 with a delimiter: direct keys as Contents, deeper levels as CommonPrefixes."""
    prefix, delimiter = query.get("prefix", [""])[0], query.get("delimiter", [""])[0]
    keys = sorted(k.split("/", 1)[1] for k in state.objects if k.startswith(bucket + "/"))
    contents, prefixes = [], []
    for key in (k for k in keys if k.startswith(prefix)):
        rest = key[len(prefix) :]
        if delimiter and delimiter in rest:
            common = prefix + rest.split(delimiter, 1)[0] + delimiter
            if common not in prefixes:
                prefixes.append(common)
        else:
            size = len(state.objects[f"{bucket}/{key}"])
            contents.append(f"<Contents><Key>{escape(key)}</Key><Size>{size}</Size>"
                            "<LastModified>2026-11-03T00:00:00.000Z</LastModified></Contents>")  # fmt: skip
    common_xml = "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes)
    return (
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(contents)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{''.join(contents)}{common_xml}</ListBucketResult>"
    )


def _handler(state: CloudTrailState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            state.targets.append(target)
            request = json.loads(body or b"{}")
            state.requests.append(request)
            if state.deny:
                self._send(400, {"__type": "AccessDeniedException", "message": "User: x is not authorized"})
                return
            if target != TARGET_PREFIX + "LookupEvents":
                self._send(400, {"__type": "UnknownOperationException", "message": target})
                return
            self._send(200, self._lookup(request))

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
            state.s3_gets.append(unquote(parts.path) + ("?" + parts.query if parts.query else ""))
            if state.deny:
                self._xml(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
            elif key:
                body = state.objects.get(f"{bucket}/{key}")
                if body is None:
                    self._xml(404, "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>")
                else:
                    self._raw(200, body, "application/octet-stream")
            else:
                self._xml(200, _list_xml(state, bucket, parse_qs(parts.query)))

        def _xml(self, status: int, text: str) -> None:
            self._raw(status, ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode(), "application/xml")

        def _raw(self, status: int, data: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _lookup(self, request: dict[str, Any]) -> dict[str, Any]:
            attrs = request.get("LookupAttributes") or [None]
            start, end = request.get("StartTime", 0), request.get("EndTime", 2**40)
            hits = [r for r in state.records if start <= _epoch(r["eventTime"]) <= end and _matches(r, attrs[0])]
            hits.sort(key=lambda r: r["eventTime"], reverse=True)
            offset = int(request.get("NextToken") or 0)
            size = int(request.get("MaxResults") or 50)
            page = hits[offset : offset + size]
            out: dict[str, Any] = {"Events": [_as_event(r) for r in page]}
            if offset + size < len(hits):
                out["NextToken"] = str(offset + size)
            return out

        def _send(self, status: int, doc: dict[str, Any]) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "stub-request")
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def cloudtrail_server(state: CloudTrailState) -> Iterator[str]:
    """Run the stub on an ephemeral 127.0.0.1 port; yields its endpoint URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- records in the delivered shape

ACCOUNT = "111122223333"


def record(
    name: str,
    when: str,
    *,
    source: str = "autoscaling.amazonaws.com",
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    user: str = "alice@example.com",
    region: str = "us-east-1",
    account: str = ACCOUNT,
    read_only: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A CloudTrail record (eventVersion 1.09) as found in delivered log files."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{user}",
            "arn": f"arn:aws:sts::{account}:assumed-role/PlatformAdmin/{user}",
            "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "PlatformAdmin"}},
        },
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}{when}{user}{region}{account}")),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        **extra,
    }


def asg_update(when: str = "2026-11-03T10:02:11Z", **kw: Any) -> dict[str, Any]:
    return record(
        "UpdateAutoScalingGroup",
        when,
        request={"autoScalingGroupName": "web-prod", "minSize": 20, "maxSize": 40},
        **kw,
    )


def write_log(
    root: Path,
    records: list[dict[str, Any]],
    *,
    day: str = "2026/11/03",
    account: str = ACCOUNT,
    region: str = "us-east-1",
    name: str | None = None,
    gz: bool = True,
) -> Path:
    """Write one delivered log file under AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/."""
    folder = root / "AWSLogs" / account / "CloudTrail" / region / day
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{account}_CloudTrail_{region}_{day.replace('/', '')}T1005Z_{uuid.uuid4().hex[:16]}"
    data = json.dumps({"Records": records}).encode()
    path = folder / (stem + (".json.gz" if gz else ".json"))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
