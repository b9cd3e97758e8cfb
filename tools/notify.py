"""Slack delivery for digests (anomalies, weekly tagging run): Block Kit, retries, dedupe, outbox.

Guarantees, in this order:

1. **Nothing lost.** Every message is written to the outbox (``ctx.outbox_dir``, atomic writes)
   *before* it is sent, and removed only after Slack answered 200. A message that could not be sent
   (Slack down, rate-limited for long, webhook revoked) waits there; :func:`flush_outbox` (also
   called at the start of every :func:`post_digest`) sends it on the next run.
2. **Nothing sent twice** (per destination). Dedupe keys are recorded after a 200; a digest whose
   keys were all sent or are already queued is skipped. Delivery is at-least-once only across a
   crash between Slack's 200 and the state write.
3. **Secrets stay secret.** The webhook URL / bot token is never written to the outbox, logs,
   exception text or results: the outbox stores only a destination fingerprint, slack_sdk logs to a
   silenced logger, and every error line is built here and scrubbed.

Retries: 429 honours ``Retry-After`` up to ``max_retry_after`` seconds (longer -> queued for the
next run); 5xx, timeouts and connection errors back off exponentially (capped). 400/403/404/410
are not retried. Clock and sleep are injectable, so tests never wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.errors import BadInput

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3_000
MAX_TEXT_CHARS = 3_000
TERMINAL = {
    400: "invalid payload",
    403: "forbidden",
    404: "webhook or channel not found",
    410: "channel archived",
}
_SDK_LOGGER = "finops.notify.slack_sdk"
# chat.postMessage error codes -> the HTTP status with the same meaning for retry decisions.
API_ERRORS = {
    "ratelimited": 429,
    "channel_not_found": 404,
    "not_in_channel": 404,
    "is_archived": 410,
    "invalid_auth": 403,
    "not_authed": 403,
    "token_revoked": 403,
    "account_inactive": 403,
    "missing_scope": 403,
    "restricted_action": 403,
    "invalid_blocks": 400,
    "msg_too_long": 400,
    "invalid_arguments": 400,
    "no_text": 400,
    "too_many_attachments": 400,
}

Status = Literal["sent", "duplicate", "queued", "failed", "nothing"]


class DeliveryResult(BaseModel):
    """What happened to a digest (and to the outbox) in this run. Never contains a secret."""

    status: Status
    sent: int = Field(default=0, description="messages Slack accepted in this call (outbox included)")
    queued: int = Field(default=0, description="messages for this destination still waiting in the outbox")
    duplicates: list[str] = Field(default_factory=list, description="dedupe keys already sent or queued")
    delivered_keys: list[str] = Field(default_factory=list, description="keys whose digest went out now")
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "duplicate", "nothing")


# ---------------------------------------------------------------- Block Kit helpers


def escape_mrkdwn(text: str) -> str:
    """Escape Slack control characters so untrusted text cannot ping, link or format (``<!channel>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_digest_blocks(
    title: str, sections: Sequence[tuple[str, str] | str], *, footer: str | None = None
) -> list[dict[str, Any]]:
    """Header + one mrkdwn section per item (heading, body) + optional context footer.

    Text is escaped (evidence is untrusted) and cut to Slack's limits; past 50 blocks the tail
    becomes "…and N more".
    """
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, 150), "emoji": False}}
    ]
    room = MAX_BLOCKS - 1 - (1 if footer else 0)
    for index, section in enumerate(sections):
        if index == room - 1 and len(sections) > room:
            more = len(sections) - index
            blocks.append(_context(f"…and {more} more"))
            break
        heading, body = section if isinstance(section, tuple) else ("", section)
        text = f"*{escape_mrkdwn(heading)}*\n{escape_mrkdwn(body)}" if heading else escape_mrkdwn(body)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, MAX_SECTION_CHARS)}})
    if footer:
        blocks.append(_context(escape_mrkdwn(footer)))
    return blocks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, MAX_SECTION_CHARS)}]}


def _clamp_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cut over-long section texts (caller-built blocks) to Slack's 3,000 characters."""
    out = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            block = {**block, "text": {**text, "text": _cut(text["text"], MAX_SECTION_CHARS)}}
        out.append(block)
    return out


def split_blocks(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chunks of at most 50 blocks (one Slack message each)."""
    blocks = _clamp_blocks(blocks)
    return [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]


# ---------------------------------------------------------------- destination and secrets


@dataclass(frozen=True)
class Destination:
    """Where messages go. ``fingerprint`` is safe to store; ``webhook_url``/``bot_token`` are not."""

    webhook_url: str | None
    bot_token: str | None
    channel: str | None
    base_url: str | None

    @property
    def fingerprint(self) -> str:
        # a bot destination is its channel (a rotated token keeps its queue); a webhook is its URL
        target = self.webhook_url or f"{self.base_url or 'slack'}|{self.channel}"
        digest = hashlib.sha256(target.encode()).hexdigest()[:16]
        return f"{'webhook' if self.webhook_url else 'bot'}-{digest}"

    def secrets(self) -> list[str]:
        found = [s for s in (self.webhook_url, self.bot_token) if s]
        if self.webhook_url:
            path = urlsplit(self.webhook_url).path
            found += [path] + [p for p in path.split("/") if len(p) >= 8]
        return found


def _destination(
    webhook_url: str | None, bot_token: str | None, channel: str | None, base_url: str | None
) -> Destination:
    webhook_url = webhook_url or os.environ.get("FINOPS_SLACK_WEBHOOK") or None
    bot_token = bot_token or os.environ.get("FINOPS_SLACK_BOT_TOKEN") or None
    if not webhook_url and not bot_token:
        raise BadInput("no Slack destination: set FINOPS_SLACK_WEBHOOK (or FINOPS_SLACK_BOT_TOKEN and a channel)")
    if webhook_url:
        parts = urlsplit(webhook_url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise BadInput("the Slack webhook URL must start with https:// (check FINOPS_SLACK_WEBHOOK)")
    elif not channel:
        raise BadInput("a Slack bot token needs a channel: set the channel (e.g. #finops) in the config")
    return Destination(webhook_url, bot_token, channel, base_url)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret (and the webhook path pieces) in ``text`` with ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


# ---------------------------------------------------------------- state: outbox and sent keys


def _atomic_write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _state_dir(ctx: ToolContext) -> Path:
    return ctx.home / "notify"


@contextlib.contextmanager
def _locked(ctx: ToolContext) -> Iterator[None]:
    """One delivery at a time per home (two cron runs must not send the same outbox twice)."""
    folder = _state_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sent_keys(ctx: ToolContext) -> dict[str, str]:
    path = _state_dir(ctx) / "sent.json"
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise BadInput(f"{path} is not valid JSON: fix or delete it (dedupe state)") from None
    return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}


def _record_sent(ctx: ToolContext, dest: str, keys: Sequence[str], now: datetime) -> None:
    sent = _sent_keys(ctx)
    sent.update({f"{dest}:{key}": now.isoformat() for key in keys})
    _atomic_write(_state_dir(ctx) / "sent.json", sent)


def _outbox(ctx: ToolContext, dest: str | None = None) -> list[tuple[Path, dict[str, Any]]]:
    folder = ctx.outbox_dir
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # a corrupt entry is left for a human; never sent half-read
        if isinstance(doc, dict) and (dest is None or doc.get("destination") == dest):
            found.append((path, doc))
    found.sort(key=lambda pd: (str(pd[1].get("created", "")), int(pd[1].get("part", 0))))
    return found


def pending(ctx: ToolContext) -> dict[str, int]:
    """Messages waiting in the outbox, by destination fingerprint (``webhook-…`` / ``bot-…``)."""
    counts: dict[str, int] = {}
    for _, doc in _outbox(ctx):
        dest = str(doc.get("destination", "?"))
        counts[dest] = counts.get(dest, 0) + 1
    return counts


def filter_unsent(
    ctx: ToolContext,
    keys: Sequence[str],
    *,
    webhook_url: str | None = None,
    bot_token: str | None = None,
    channel: str | None = None,
    base_url: str | None = None,
) -> list[str]:
    """The keys not yet sent or queued for this destination (build the digest from these)."""
    dest = _destination(webhook_url, bot_token, channel, base_url).fingerprint
    done = _known_keys(ctx, dest)
    return [k for k in keys if k not in done]


def _known_keys(ctx: ToolContext, dest: str) -> set[str]:
    prefix = f"{dest}:"
    known = {k[len(prefix) :] for k in _sent_keys(ctx) if k.startswith(prefix)}
    for _, doc in _outbox(ctx, dest):
        known.update(str(k) for k in doc.get("keys", []))
    return known


# ---------------------------------------------------------------- sending


@dataclass
class _Outcome:
    ok: bool
    retry_after: float | None = None
    status: int | None = None
    reason: str = ""


class _Sender:
    """Posts one payload through slack_sdk (webhook or chat.postMessage), no SDK retries, silent logger."""

    def __init__(self, dest: Destination, timeout: float) -> None:
        from slack_sdk import WebClient
        from slack_sdk.webhook import WebhookClient

        quiet = logging.getLogger(_SDK_LOGGER)
        quiet.setLevel(logging.CRITICAL)
        quiet.propagate = False
        if not quiet.handlers:
            quiet.addHandler(logging.NullHandler())
        self.dest = dest
        self.webhook = (
            WebhookClient(dest.webhook_url, timeout=timeout, logger=quiet, retry_handlers=[])  # type: ignore[arg-type]
            if dest.webhook_url
            else None
        )
        kwargs: dict[str, Any] = {"base_url": dest.base_url} if dest.base_url else {}
        self.web = (
            None
            if self.webhook
            else WebClient(token=dest.bot_token, timeout=timeout, logger=quiet, retry_handlers=[], **kwargs)  # type: ignore[arg-type]
        )

    def send(self, payload: dict[str, Any]) -> _Outcome:
        try:
            if self.webhook is not None:
                resp = self.webhook.send_dict(payload)
                return _outcome(resp.status_code, resp.headers, resp.body)
            assert self.web is not None
            self.web.chat_postMessage(channel=self.dest.channel or "", **payload)
            return _Outcome(ok=True, status=200)
        except Exception as exc:
            response = getattr(exc, "response", None)
            if response is not None and getattr(response, "status_code", None):
                data = getattr(response, "data", {})
                error = str(data.get("error", "")) if isinstance(data, dict) else ""
                status = int(response.status_code)
                if status == 200:  # Web API errors come as 200 {"ok": false, "error": ...}
                    status = API_ERRORS.get(error, 500)
                return _outcome(status, getattr(response, "headers", {}) or {}, error)
            return _Outcome(ok=False, reason=_exception_reason(exc))


def _exception_reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__} {getattr(exc, 'reason', '')} {exc}".lower()
    if "timed out" in text or "timeout" in text:
        return "timed out"
    if "refused" in text:
        return "connection refused"
    return f"connection failed ({type(exc).__name__})"


def _outcome(status: int, headers: Any, body: str) -> _Outcome:
    if status == 200:
        return _Outcome(ok=True, status=200)
    retry_after = None
    if status == 429:
        lowered = {str(k).lower(): v for k, v in dict(headers or {}).items()}
        value = lowered.get("retry-after", "1")
        value = value[0] if isinstance(value, list) else value
        try:
            retry_after = max(float(value), 0.0)
        except (TypeError, ValueError):
            retry_after = 1.0
    return _Outcome(ok=False, retry_after=retry_after, status=status, reason=str(body or "")[:80])


@dataclass
class Pacing:
    """Injected time: ``clock`` (monotonic seconds) and ``sleep``; tests pass a fake pair."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    max_attempts: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 8.0
    max_retry_after: float = 60.0
    min_interval: float = 1.0
    timeout: float = 10.0
    last_send: float | None = None

    def pace(self) -> None:
        """At most one message per ``min_interval`` seconds (Slack: 1 message/second)."""
        if self.last_send is not None:
            wait = self.min_interval - (self.clock() - self.last_send)
            if wait > 0:
                self.sleep(wait)
        self.last_send = self.clock()


def _deliver(sender: _Sender, payload: dict[str, Any], pacing: Pacing) -> _Outcome:
    outcome = _Outcome(ok=False, reason="not attempted")
    for attempt in range(pacing.max_attempts):
        pacing.pace()
        outcome = sender.send(payload)
        if outcome.ok or outcome.status in TERMINAL:
            return outcome
        if outcome.retry_after is not None:
            if outcome.retry_after > pacing.max_retry_after:
                return outcome
            pacing.sleep(outcome.retry_after)
        elif attempt + 1 < pacing.max_attempts:
            pacing.sleep(min(pacing.backoff_cap, pacing.backoff_base * 2**attempt))
    return outcome


def _failure_line(outcome: _Outcome, queued: int) -> str:
    tail = f"{queued} message(s) wait in the outbox and go out on the next run"
    if outcome.status == 429:
        return f"Slack rate-limited (Retry-After {outcome.retry_after:g}s); will retry next run: {tail}"
    if outcome.status in TERMINAL:
        what = TERMINAL[outcome.status]
        fix = (
            "the payload was rejected (a bug: report it)"
            if outcome.status == 400
            else ("webhook revoked or channel archived: update FINOPS_SLACK_WEBHOOK (or the bot's channel)")
        )
        reason = f" {outcome.reason}" if outcome.reason else ""
        return f"Slack refused the digest (HTTP {outcome.status} {what}{reason}); {fix}; {tail}"
    where = f"HTTP {outcome.status}" if outcome.status else outcome.reason
    return f"Slack unavailable ({where}) after retries; {tail}"


# ---------------------------------------------------------------- public API


def flush_outbox(
    ctx: ToolContext,
    *,
    webhook_url: str | None = None,
    bot_token: str | None = None,
    channel: str | None = None,
    base_url: str | None = None,
    pacing: Pacing | None = None,
) -> DeliveryResult:
    """Send the messages queued for this destination by earlier runs, oldest first."""
    dest = _destination(webhook_url, bot_token, channel, base_url)
    with _locked(ctx):
        return _flush(ctx, dest, pacing or Pacing())


def _flush(ctx: ToolContext, dest: Destination, pacing: Pacing) -> DeliveryResult:
    pending = _outbox(ctx, dest.fingerprint)
    if not pending:
        return DeliveryResult(status="nothing", message="outbox empty")
    sender = _Sender(dest, pacing.timeout)
    sent = 0
    delivered: list[str] = []
    for path, doc in pending:
        outcome = _deliver(sender, doc["payload"], pacing)
        if outcome.status == 400:  # the payload itself is bad: park it so it cannot block the queue
            (path.parent / "rejected").mkdir(exist_ok=True)
            os.replace(path, path.parent / "rejected" / path.name)
            line = scrub(_failure_line(outcome, len(_outbox(ctx, dest.fingerprint))), dest.secrets())
            kept = f"; the rejected message is kept in {path.parent / 'rejected'}"
            queued = len(_outbox(ctx, dest.fingerprint))
            return DeliveryResult(status="failed", sent=sent, queued=queued, message=line + kept)
        if not outcome.ok:
            queued = len(_outbox(ctx, dest.fingerprint))
            line = scrub(_failure_line(outcome, queued), dest.secrets())
            return DeliveryResult(status="queued", sent=sent, queued=queued, message=line, delivered_keys=delivered)
        sent += 1
        if int(doc.get("part", 0)) + 1 >= int(doc.get("parts", 1)):
            _record_sent(ctx, dest.fingerprint, doc.get("keys", []), datetime.now(UTC))
            delivered += [str(k) for k in doc.get("keys", [])]
        path.unlink(missing_ok=True)
    return DeliveryResult(status="sent", sent=sent, message=f"sent {sent} queued message(s)", delivered_keys=delivered)


def post_digest(
    ctx: ToolContext,
    blocks: list[dict[str, Any]],
    text: str,
    *,
    dedupe_keys: list[str],
    webhook_url: str | None = None,
    bot_token: str | None = None,
    channel: str | None = None,
    base_url: str | None = None,
    pacing: Pacing | None = None,
) -> DeliveryResult:
    """Post a Block Kit digest once per set of dedupe keys (e.g. anomaly fingerprints or ISO week).

    The webhook URL / bot token default to ``FINOPS_SLACK_WEBHOOK`` / ``FINOPS_SLACK_BOT_TOKEN``.
    Earlier queued messages for the same destination are flushed first. If every key was already
    sent (or is queued), nothing is sent and ``status == "duplicate"``. Over 50 blocks are split
    into several messages. On failure the message stays in the outbox (``status == "queued"``)
    with one actionable line in ``message``.
    """
    if not dedupe_keys:
        raise BadInput("post_digest needs at least one dedupe key (e.g. the anomaly fingerprint)")
    dest = _destination(webhook_url, bot_token, channel, base_url)
    pacing = pacing or Pacing()
    with _locked(ctx):
        earlier = _flush(ctx, dest, pacing)
        if earlier.status == "queued":
            known = _known_keys(ctx, dest.fingerprint)
            if not set(dedupe_keys) <= known:
                _enqueue(ctx, dest, blocks, text, dedupe_keys)
            queued = len(_outbox(ctx, dest.fingerprint))
            return earlier.model_copy(
                update={
                    "queued": queued,
                    "message": earlier.message.replace(f"{earlier.queued} message(s)", f"{queued} message(s)"),
                }
            )
        known = _known_keys(ctx, dest.fingerprint)
        duplicates = [k for k in dedupe_keys if k in known]
        if len(duplicates) == len(dedupe_keys):
            just_now = set(dedupe_keys) <= set(earlier.delivered_keys)  # its queued copy went out now
            return DeliveryResult(
                status="sent" if just_now else "duplicate",
                sent=earlier.sent,
                duplicates=[] if just_now else duplicates,
                delivered_keys=earlier.delivered_keys,
                message="sent from the outbox" if just_now else "already sent: nothing new to post",
            )
        _enqueue(ctx, dest, blocks, text, dedupe_keys)
        result = _flush(ctx, dest, pacing)
    return result.model_copy(
        update={
            "sent": result.sent + earlier.sent,
            "duplicates": duplicates,
            "delivered_keys": earlier.delivered_keys + result.delivered_keys,
        }
    )


def _enqueue(ctx: ToolContext, dest: Destination, blocks: list[dict[str, Any]], text: str, keys: list[str]) -> None:
    chunks = split_blocks(blocks)
    created = datetime.now(UTC).isoformat()
    identity = json.dumps([dest.fingerprint, sorted(keys), blocks, text]).encode()
    digest = hashlib.sha256(identity).hexdigest()[:20]
    for part, chunk in enumerate(chunks):
        label = f" ({part + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        payload: dict[str, Any] = {
            "text": _cut(text, MAX_TEXT_CHARS - len(label)) + label,
            "blocks": chunk,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        doc = {
            "id": digest,
            "part": part,
            "parts": len(chunks),
            "created": created,
            "destination": dest.fingerprint,
            "keys": list(keys),
            "payload": payload,
        }
        _atomic_write(ctx.outbox_dir / f"{created[:19].replace(':', '')}-{digest}-{part:03d}.json", doc)
