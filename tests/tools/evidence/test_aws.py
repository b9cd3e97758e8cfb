"""The read-only boto3 session refuses mutating calls before any HTTP request is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.cloudtrail_server import CloudTrailState, cloudtrail_server
from tools.evidence.aws import ReadOnlySession, ReadOnlyViolation, TokenBucket, is_read_only


@pytest.mark.parametrize(
    ("service", "call", "kwargs"),
    [
        ("ec2", "terminate_instances", {"InstanceIds": ["i-0123456789abcdef0"]}),
        ("autoscaling", "update_auto_scaling_group", {"AutoScalingGroupName": "web-prod", "MinSize": 0}),
        ("cloudtrail", "stop_logging", {"Name": "org-trail"}),
        ("cloudtrail", "delete_trail", {"Name": "org-trail"}),
        ("s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"x"}),
        ("secretsmanager", "get_secret_value", {"SecretId": "prod/db"}),
        ("sts", "get_session_token", {}),
    ],
)
@pytest.mark.usefixtures("aws_env")
def test_mutating_or_secret_reading_calls_are_refused_before_any_http(
    service: str, call: str, kwargs: dict[str, object]
) -> None:
    state = CloudTrailState()
    with cloudtrail_server(state) as url:
        client = ReadOnlySession(endpoint_url=url).client(service)
        with pytest.raises(ReadOnlyViolation, match="read-only"):
            getattr(client, call)(**kwargs)
        assert state.requests == []  # nothing reached the wire
        # the same session does reach the server for an allowed call
        ReadOnlySession(endpoint_url=url).client("cloudtrail").lookup_events(
            StartTime=datetime(2026, 11, 1, tzinfo=UTC), EndTime=datetime(2026, 11, 2, tzinfo=UTC)
        )
        assert len(state.requests) == 1


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("DescribeInstances", True),
        ("ListObjectsV2", True),
        ("GetObject", True),
        ("HeadObject", True),
        ("LookupEvents", True),
        ("RunInstances", False),
        ("CreateTags", False),
        ("PutBucketPolicy", False),
        ("UpdateEndpoint", False),
        ("GetSecretValue", False),
        ("GetPasswordData", False),
        ("Describe", True),
        ("", False),
    ],
)
def test_allow_list_is_by_operation_name(name: str, allowed: bool) -> None:
    assert is_read_only(name) is allowed


def test_token_bucket_allows_a_burst_then_paces_to_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, capacity=2.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    stamps = []
    for _ in range(5):
        bucket.acquire()
        stamps.append(now[0])
    assert stamps == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.5])
    assert bucket.waited == pytest.approx(1.5)
