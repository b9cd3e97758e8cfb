"""LookupEvents through a real boto3 client against a CloudTrail JSON 1.1 server on 127.0.0.1."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cloudtrail_server import (
    TARGET_PREFIX,
    CloudTrailState,
    asg_update,
    cloudtrail_server,
    record,
    write_log,
)
from tools.evidence.aws import ReadOnlySession, TokenBucket
from tools.evidence.cloudtrail import LOOKUP_STATEMENT, S3_STATEMENT, event_names_for, lookup_events, read_log_files

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 4, tzinfo=UTC)
NOW = datetime(2026, 11, 20, tzinfo=UTC)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _bucket(clock: FakeClock) -> TokenBucket:
    return TokenBucket(clock=clock, sleep=clock.sleep)


def _events(count: int) -> list[dict[str, object]]:
    base = datetime(2026, 11, 2, tzinfo=UTC)
    return [
        asg_update((base + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), user=f"user{i}") for i in range(count)
    ]


@pytest.mark.usefixtures("aws_env")
def test_all_pages_are_read_and_counted() -> None:
    state = CloudTrailState(records=_events(120))
    with cloudtrail_server(state) as url:
        clock = FakeClock()
        items, status = lookup_events(
            START, END, session=ReadOnlySession(endpoint_url=url), bucket=_bucket(clock), now=lambda: NOW
        )
    assert status.complete, status.message
    assert (status.pages, status.events, len(items)) == (3, 120, 120)
    assert [r.get("NextToken") for r in state.requests] == [None, "50", "100"]
    assert all(t == TARGET_PREFIX + "LookupEvents" for t in state.targets)
    assert items[0].summary.startswith("UpdateAutoScalingGroup web-prod minSize 20 maxSize 40 by user0")


@pytest.mark.usefixtures("aws_env")
def test_requests_are_paced_to_two_per_second_without_real_sleeping() -> None:
    state = CloudTrailState(records=_events(300))
    clock = FakeClock()
    bucket = _bucket(clock)
    seen: list[float] = []
    original = bucket.acquire

    def acquire() -> None:
        original()
        seen.append(clock.now)

    bucket.acquire = acquire  # type: ignore[method-assign]
    with cloudtrail_server(state) as url:
        _, status = lookup_events(START, END, session=ReadOnlySession(endpoint_url=url), bucket=bucket, now=lambda: NOW)
    assert status.pages == 6 and len(seen) == 6
    # a burst of 2, then one request every 0.5 s: 6 requests need 2 s of (fake) time
    assert seen[-1] == pytest.approx(2.0)
    assert all(b - a <= 0.5 + 1e-9 for a, b in itertools.pairwise(seen))
    for i in range(len(seen)):
        window = [t for t in seen if seen[i] <= t < seen[i] + 1.0]
        assert len(window) <= 3  # at most the 2-token burst plus one refill in any second


@pytest.mark.usefixtures("aws_env")
def test_service_hints_query_only_the_mapped_event_names() -> None:
    state = CloudTrailState(
        records=[
            asg_update("2026-11-03T10:02:11Z"),
            record(
                "CreateBucket",
                "2026-11-03T10:05:00Z",
                source="s3.amazonaws.com",
                request={"bucketName": "logs"},
            ),
        ]
    )
    with cloudtrail_server(state) as url:
        items, status = lookup_events(
            START,
            END,
            services=["Amazon EC2 Auto Scaling"],
            session=ReadOnlySession(endpoint_url=url),
            bucket=_bucket(FakeClock()),
            now=lambda: NOW,
        )
    asked = [r["LookupAttributes"][0]["AttributeValue"] for r in state.requests]
    assert asked == event_names_for(["Amazon EC2 Auto Scaling"]) and "CreateBucket" not in asked
    assert asked[:4] == [
        "UpdateAutoScalingGroup",
        "CreateAutoScalingGroup",
        "PutScalingPolicy",
        "SetDesiredCapacity",
    ]
    assert [i.action for i in items] == ["UpdateAutoScalingGroup"] and status.complete


@pytest.mark.usefixtures("aws_env")
def test_access_denied_names_the_exact_iam_statement_needed() -> None:
    state = CloudTrailState(records=_events(3), deny=True)
    with cloudtrail_server(state) as url:
        items, status = lookup_events(
            START,
            END,
            session=ReadOnlySession(endpoint_url=url, max_attempts=1),
            bucket=_bucket(FakeClock()),
            now=lambda: NOW,
        )
    assert items == [] and not status.complete
    assert LOOKUP_STATEMENT in status.message
    assert LOOKUP_STATEMENT == '{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}'


@pytest.mark.usefixtures("aws_env")
def test_windows_older_than_ninety_days_point_to_the_log_files() -> None:
    state = CloudTrailState(records=_events(3))
    with cloudtrail_server(state) as url:
        _, old = lookup_events(
            START,
            END,
            session=ReadOnlySession(endpoint_url=url),
            bucket=_bucket(FakeClock()),
            now=lambda: NOW + timedelta(days=200),
        )
        _, clipped = lookup_events(
            START,
            END,
            session=ReadOnlySession(endpoint_url=url),
            bucket=_bucket(FakeClock()),
            now=lambda: START + timedelta(days=91),
        )
    assert not old.complete and "--cloudtrail-dir" in old.message
    assert len(state.requests) == 1  # only the clipped window was queried
    assert state.requests[0]["StartTime"] == pytest.approx((START + timedelta(days=1)).timestamp())
    assert clipped.complete and "clipped" in clipped.message


@pytest.mark.usefixtures("aws_env")
def test_regions_are_each_queried() -> None:
    state = CloudTrailState(records=_events(2))
    with cloudtrail_server(state) as url:
        items, status = lookup_events(
            START,
            END,
            regions=["us-east-1", "eu-west-1"],
            session=ReadOnlySession(endpoint_url=url),
            bucket=_bucket(FakeClock()),
            now=lambda: NOW,
        )
    assert status.pages == 2 and len(state.requests) == 2
    assert len(items) == 2  # the same event ids returned by both regions are de-duplicated


def _s3_objects(tmp_path: Path) -> dict[str, bytes]:
    write_log(tmp_path, [asg_update()])
    write_log(tmp_path, [asg_update("2026-10-01T10:00:00Z")], day="2026/10/01")
    return {
        "trail-bucket/org/" + p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.json.gz")
    }


@pytest.mark.usefixtures("aws_env")
def test_log_files_are_read_from_an_s3_prefix_pruning_days_outside_the_window(tmp_path: Path) -> None:
    state = CloudTrailState(objects=_s3_objects(tmp_path))
    with cloudtrail_server(state) as url:
        items, status = read_log_files("s3://trail-bucket/org", START, END, session=ReadOnlySession(endpoint_url=url))
    assert status.complete, status.message
    assert [i.summary.split(" by ")[0] for i in items] == ["UpdateAutoScalingGroup web-prod minSize 20 maxSize 40"]
    object_gets = [g for g in state.s3_gets if g.endswith(".json.gz")]
    assert len(object_gets) == 1 and "/2026/11/03/" in object_gets[0]
    assert not any("/2026/10/" in g for g in state.s3_gets)  # October was never listed


@pytest.mark.usefixtures("aws_env")
def test_s3_access_denied_names_the_statement_needed(tmp_path: Path) -> None:
    state = CloudTrailState(objects=_s3_objects(tmp_path), deny=True)
    with cloudtrail_server(state) as url:
        items, status = read_log_files(
            "s3://trail-bucket/org", START, END, session=ReadOnlySession(endpoint_url=url, max_attempts=1)
        )
    assert items == [] and not status.complete
    assert S3_STATEMENT in status.message
