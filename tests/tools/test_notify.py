"""Slack delivery against a real loopback listener: retries, dedupe, outbox, secrets, Block Kit limits."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.slack_server import Reply, SlackState, refused_url, slack_server
from tools.context import ToolContext
from tools.errors import BadInput
from tools.notify import (
    Pacing,
    build_digest_blocks,
    escape_mrkdwn,
    filter_unsent,
    flush_outbox,
    pending,
    post_digest,
    split_blocks,
)

SECRET_PATH = "/services/T0SECRET1/B0SECRET2/xyzSuperSecretToken123"
BOT_TOKEN = "xoxb-111-222-SuperSecretBotToken"


class FakeTime:
    """Monotonic clock + sleep that only records: no test ever waits for real."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.sends: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacing(fake: FakeTime, **kw: float) -> Pacing:
    return Pacing(clock=fake.clock, sleep=fake.sleep, timeout=kw.pop("timeout", 2.0), **kw)  # type: ignore[arg-type]


def blocks(title: str = "FinOps anomalies") -> list[dict[str, object]]:
    return build_digest_blocks(title, [("ASG web-prod +$412/day", "min-size 2→20 by alice")], footer="agent cost $0.01")


def outbox_files(ctx: ToolContext) -> list[Path]:
    return sorted(ctx.outbox_dir.glob("*.json"))


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(home=tmp_path / "home")


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def test_a_digest_is_delivered_once_as_valid_block_kit_and_not_again(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState()
    with slack_server(state) as base:
        url = base + SECRET_PATH
        first = post_digest(ctx, blocks(), "1 anomaly", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
        second = post_digest(ctx, blocks(), "1 anomaly", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
    assert (first.status, first.sent, first.queued) == ("sent", 1, 0)
    assert (second.status, second.sent, second.duplicates) == ("duplicate", 0, ["a1"])
    (body,) = state.delivered
    assert body["text"] == "1 anomaly" and body["unfurl_links"] is False
    assert len(body["blocks"]) <= 50 and body["blocks"][0]["type"] == "header"
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in body["blocks"])
    assert state.requests[0]["path"] == SECRET_PATH
    assert outbox_files(ctx) == []


def test_429_with_a_short_retry_after_waits_on_the_clock_then_sends_once(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(429, "rate_limited", {"Retry-After": "1"})])
    with slack_server(state) as base:
        result = post_digest(
            ctx, blocks(), "t", dedupe_keys=["a1"], webhook_url=base + SECRET_PATH, pacing=pacing(fake)
        )
    assert result.status == "sent" and len(state.requests) == 2 and len(state.delivered) == 1
    assert 1.0 in fake.sleeps and sum(fake.sleeps) >= 1.0


def test_429_with_a_long_retry_after_queues_for_the_next_run(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(429, "rate_limited", {"Retry-After": "600"})])
    with slack_server(state) as base:
        url = base + SECRET_PATH
        first = post_digest(ctx, blocks(), "t", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
        assert first.status == "queued" and not first.ok and len(outbox_files(ctx)) == 1
        assert "Slack rate-limited" in first.message and "will retry next run" in first.message
        assert 600.0 not in fake.sleeps
        again = post_digest(ctx, blocks(), "t", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
    assert again.status == "sent" and again.sent == 1  # the queued copy went out, not a second one
    assert len(state.delivered) == 1 and outbox_files(ctx) == []


def test_5xx_backs_off_with_a_cap_then_the_next_run_sends_old_then_new(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(500, "rollup_error")] * 5)
    with slack_server(state) as base:
        url = base + SECRET_PATH
        first = post_digest(
            ctx,
            blocks("old"),
            "old",
            dedupe_keys=["a1"],
            webhook_url=url,
            pacing=pacing(fake, max_attempts=5, backoff_cap=3.0),
        )
        assert first.status == "queued" and "HTTP 500" in first.message and "outbox" in first.message
        assert fake.sleeps[:4] == [1.0, 2.0, 3.0, 3.0]  # exponential, capped; no sleep after the last try
        second = post_digest(ctx, blocks("new"), "new", dedupe_keys=["a2"], webhook_url=url, pacing=pacing(fake))
    assert second.status == "sent" and second.sent == 2
    assert [b["text"] for b in state.delivered] == ["old", "new"]


def test_a_timeout_is_retried_and_delivered(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(hang=True)])
    with slack_server(state) as base:
        result = post_digest(
            ctx,
            blocks(),
            "t",
            dedupe_keys=["a1"],
            webhook_url=base + SECRET_PATH,
            pacing=pacing(fake, timeout=0.3),
        )
    assert result.status == "sent" and len(state.requests) == 2 and len(state.delivered) == 1


def test_slack_down_keeps_the_digest_until_it_is_back(ctx: ToolContext, fake: FakeTime) -> None:
    down = refused_url()
    url = down + SECRET_PATH
    result = post_digest(ctx, blocks(), "t", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
    assert result.status == "queued" and "connection refused" in result.message
    assert filter_unsent(ctx, ["a1", "a2"], webhook_url=url) == ["a2"]  # queued counts as handled
    state = SlackState()
    with slack_server(state, port=urlsplit(down).port or 0):
        flushed = flush_outbox(ctx, webhook_url=url, pacing=pacing(fake))
        again = flush_outbox(ctx, webhook_url=url, pacing=pacing(fake))
    assert flushed.status == "sent" and flushed.sent == 1 and again.status == "nothing"
    assert len(state.delivered) == 1 and outbox_files(ctx) == []


@pytest.mark.parametrize(
    ("status", "body"), [(404, "no_service"), (410, "channel_is_archived"), (403, "action_prohibited")]
)
def test_a_revoked_webhook_is_not_retried_and_loses_nothing(
    ctx: ToolContext, fake: FakeTime, status: int, body: str
) -> None:
    state = SlackState(script=[Reply(status, body)])
    with slack_server(state) as base:
        result = post_digest(
            ctx, blocks(), "t", dedupe_keys=["a1"], webhook_url=base + SECRET_PATH, pacing=pacing(fake)
        )
    assert len(state.requests) == 1 and result.status == "queued"
    assert "update FINOPS_SLACK_WEBHOOK" in result.message and len(outbox_files(ctx)) == 1


def test_an_invalid_payload_is_parked_so_it_cannot_block_the_queue(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(400, "invalid_payload")])
    with slack_server(state) as base:
        url = base + SECRET_PATH
        bad = post_digest(ctx, blocks(), "bad", dedupe_keys=["a1"], webhook_url=url, pacing=pacing(fake))
        good = post_digest(ctx, blocks(), "good", dedupe_keys=["a2"], webhook_url=url, pacing=pacing(fake))
    assert bad.status == "failed" and "HTTP 400" in bad.message
    assert good.status == "sent" and [b["text"] for b in state.delivered] == ["good"]
    assert len(list((ctx.outbox_dir / "rejected").glob("*.json"))) == 1


def test_secrets_never_appear_in_logs_errors_results_or_files(
    ctx: ToolContext, fake: FakeTime, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    outputs: list[str] = []
    script = [Reply(), Reply(404, "no_service"), *[Reply(500, "x")] * 4, Reply(hang=True), Reply(hang=True)]
    state = SlackState(script=script)
    with slack_server(state) as base:
        url = base + SECRET_PATH
        for i in range(4):
            result = post_digest(
                ctx,
                blocks(),
                "t",
                dedupe_keys=[f"k{i}"],
                webhook_url=url,
                pacing=pacing(fake, timeout=0.3, max_attempts=4),
            )
            outputs.append(result.model_dump_json())
        outputs.append(
            post_digest(
                ctx,
                blocks(),
                "t",
                dedupe_keys=["bot"],
                bot_token=BOT_TOKEN,
                channel="#c",
                base_url=base + "/api/",
                pacing=pacing(fake),
            ).model_dump_json()
        )
    refused = refused_url() + SECRET_PATH
    outputs.append(
        post_digest(ctx, blocks(), "t", dedupe_keys=["r"], webhook_url=refused, pacing=pacing(fake)).model_dump_json()
    )
    captured = capsys.readouterr()
    files = "".join(p.read_text(errors="replace") for p in ctx.home.rglob("*") if p.is_file())
    haystacks = [caplog.text, captured.out, captured.err, files, *outputs]
    for secret in ("xyzSuperSecretToken123", "T0SECRET1", "B0SECRET2", BOT_TOKEN, "SuperSecretBotToken"):
        assert not any(secret in text for text in haystacks), secret
    assert any("Authorization" in r["headers"] or "authorization" in r["headers"] for r in state.requests)


def test_a_plain_http_webhook_off_loopback_is_refused_without_echoing_it(ctx: ToolContext) -> None:
    with pytest.raises(BadInput) as info:
        post_digest(ctx, blocks(), "t", dedupe_keys=["a"], webhook_url="http://hooks.example.com" + SECRET_PATH)
    assert "xyzSuperSecretToken123" not in str(info.value)


def test_no_destination_is_a_bad_input(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINOPS_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("FINOPS_SLACK_BOT_TOKEN", raising=False)
    with pytest.raises(BadInput, match="FINOPS_SLACK_WEBHOOK"):
        post_digest(ctx, blocks(), "t", dedupe_keys=["a"])


def test_bot_token_posts_to_the_channel_and_maps_api_errors(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(200, "channel_not_found")])
    with slack_server(state) as base:
        kw = {
            "bot_token": BOT_TOKEN,
            "channel": "#team-web",
            "base_url": base + "/api/",
            "pacing": pacing(fake),
        }
        missing = post_digest(ctx, blocks(), "t", dedupe_keys=["a1"], **kw)  # type: ignore[arg-type]
        sent = flush_outbox(ctx, **kw)  # type: ignore[arg-type]
    assert missing.status == "queued" and "channel" in missing.message
    assert sent.status == "sent"
    last = state.requests[-1]
    assert last["path"] == "/api/chat.postMessage" and last["json"]["channel"] == "#team-web"
    assert last["headers"].get("Authorization", "").startswith("Bearer xoxb-")


def test_messages_are_paced_to_one_per_second(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState()
    stamps: list[float] = []
    pace = pacing(fake)
    original = pace.pace

    def record() -> None:
        original()
        stamps.append(fake.now)

    pace.pace = record  # type: ignore[method-assign]
    many = build_digest_blocks("big", [("s", str(i)) for i in range(140)])
    raw = many + many + many
    with slack_server(state) as base:
        result = post_digest(ctx, raw, "t", dedupe_keys=["burst"], webhook_url=base + SECRET_PATH, pacing=pace)
    assert result.sent == 3 and len(state.delivered) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(stamps))


def test_oversized_digests_are_cut_to_slack_limits() -> None:
    sections = [(f"anomaly {i}", "x" * 10_000) for i in range(200)]
    built = build_digest_blocks("200 anomalies", sections, footer="cost")
    assert len(built) == 50
    shown = sum(b["type"] == "section" for b in built)
    assert built[-2]["elements"][0]["text"] == f"…and {200 - shown} more" and shown == 47
    assert all(len(b["text"]["text"]) <= 3000 for b in built if b["type"] == "section")
    raw = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 5000}}] * 120
    chunks = split_blocks(raw)
    assert [len(c) for c in chunks] == [50, 50, 20]
    assert all(len(b["text"]["text"]) <= 3000 for c in chunks for b in c)


def test_untrusted_text_cannot_ping_or_link() -> None:
    assert escape_mrkdwn("<!channel> <http://evil|click> & co") == "&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co"
    text = json.dumps(build_digest_blocks("t", [("<!here>", "<@U123>")]))
    assert "<!here>" not in text and "<@U123>" not in text


def test_two_runs_at_once_deliver_a_digest_only_once(ctx: ToolContext) -> None:
    state = SlackState()
    results: list[str] = []
    with slack_server(state) as base:
        url = base + SECRET_PATH

        def run() -> None:
            fake = FakeTime()
            res = post_digest(ctx, blocks(), "t", dedupe_keys=["same"], webhook_url=url, pacing=pacing(fake))
            results.append(res.status)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
    assert len(state.delivered) == 1
    assert sorted(results) == ["duplicate", "duplicate", "duplicate", "sent"]
    assert not list(ctx.home.rglob("*.tmp"))


def test_a_rotated_bot_token_still_sends_the_queued_digest(ctx: ToolContext, fake: FakeTime) -> None:
    state = SlackState(script=[Reply(200, "invalid_auth")])
    with slack_server(state) as base:
        kw = {"channel": "#finops", "base_url": base + "/api/", "pacing": pacing(fake)}
        old = post_digest(ctx, blocks(), "t", dedupe_keys=["a1"], bot_token=BOT_TOKEN, **kw)  # type: ignore[arg-type]
        assert old.status == "queued" and sum(pending(ctx).values()) == 1
        new = flush_outbox(ctx, bot_token="xoxb-rotated-token", **kw)  # type: ignore[arg-type]
    assert new.status == "sent" and pending(ctx) == {}
    assert state.requests[-1]["headers"]["Authorization"] == "Bearer xoxb-rotated-token"
