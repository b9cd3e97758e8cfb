"""``ask``: a question about spend in, an :class:`~agent.events.Answer` out, at the lowest cost.

Routing, cheapest first:

1. the offline planner (deterministic, $0): a confident answer is returned as is;
2. the answer cache: same normalised question, same data version, same model -> $0, ``cached``;
3. the LLM tool loop on the cheap model (the stronger one for multi-step "why" questions, unless
   the budget is low), metered and budgeted call by call;
4. budget exhausted (before or during the conversation) -> the offline answer, saying so.

With no key and provider ``auto`` the offline planner answers; the Answer says which provider did.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.events import AgentEvent, Answer, AnswerEvent, ErrorEvent, Usage
from agent.llm.base import ModelClient
from agent.llm.offline import OfflineAnswer, plan_answer
from agent.llm.select import ProviderChoice, choose, make_client
from agent.loop import Loop, LoopLimits, LoopResult
from agent.metering import Budget, Meter
from agent.prices import PriceTable
from tools.context import ToolContext
from tools.errors import BadInput, BudgetExhausted, DataMissing, ProviderError
from tools.registry import Tool

EventSink = Callable[[AgentEvent], None]
_WHY = re.compile(r"\b(why|explain|what drove|drivers?|root cause|caused|investigate)\b", re.IGNORECASE)


def normalise(question: str) -> str:
    """Lower case, single spaces, no trailing punctuation: the answer-cache spelling of a question."""
    return re.sub(r"\s+", " ", question.strip().lower()).rstrip(" ?!.")


def is_why_question(question: str) -> bool:
    return _WHY.search(question) is not None


# ---------------------------------------------------------------- answer cache


def _cache_path(ctx: ToolContext) -> Path:
    return ctx.home / "answers.sqlite"


def cache_key(question: str, data_version: str, provider: str, model: str) -> str:
    """Normalised question + data version + provider + model (+ the prompt template and tool set, so
    a changed prompt never serves answers made with the old one)."""
    import prompts

    raw = json.dumps([normalise(question), data_version, provider, model, prompts.load("system"), ASK_TOOLS])
    return hashlib.sha256(raw.encode()).hexdigest()


def _cache_con(ctx: ToolContext) -> sqlite3.Connection:
    ctx.home.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(_cache_path(ctx), timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, ts TEXT, answer TEXT)")
    return con


def cache_get(ctx: ToolContext, key: str) -> Answer | None:
    if not _cache_path(ctx).exists():
        return None
    with closing(_cache_con(ctx)) as con:
        row = con.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
    return Answer.model_validate_json(row[0]) if row else None


def cache_put(ctx: ToolContext, key: str, answer: Answer) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with closing(_cache_con(ctx)) as con:
        con.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (key, stamp, answer.model_dump_json()))


def data_version(ctx: ToolContext) -> str:
    from tools.billing import store

    try:
        with store.reader(ctx.db_path) as con:
            return store.data_version(con)
    except DataMissing:
        return "no-data"


# ---------------------------------------------------------------- prompt and tools


#: The tools ``ask`` offers. Every tool definition is paid on every call, so the set is small: the
#: structured cost query first, guarded SQL as the fallback (the schema is already in the system prompt).
ASK_TOOLS = ("cost_query", "sql_query")


def agent_tools(names: tuple[str, ...] = ASK_TOOLS) -> dict[str, Tool]:
    """The tools ``ask`` offers: read-only, no nested LLM use, chosen by code (never by data)."""
    import tools

    registry = tools.load_registry()
    return {n: registry[n] for n in names if n in registry and registry[n].read_only and not registry[n].uses_llm}


def schema_text(ctx: ToolContext) -> str:
    """The compact schema the model sees (``tools.sql.schema_prompt``)."""
    from tools.sql.schema_prompt import schema_prompt

    try:
        return schema_prompt(ctx).prompt
    except DataMissing:
        return "No billing data is loaded."


def system_prompt(ctx: ToolContext) -> str:
    import prompts

    return prompts.render("system", schema=schema_text(ctx))


# ---------------------------------------------------------------- answers


def _offline(question: str, offline: OfflineAnswer, warnings: list[str], **extra: Any) -> Answer:
    text = offline.answer
    if not offline.confident and offline.examples:
        text += "\nTry: " + "; ".join(offline.examples[:5])
    return Answer(
        question=question,
        answer=text,
        sql=offline.sql,
        columns=list(offline.columns),
        rows=[list(r) for r in offline.rows],
        provider="offline",
        model="planner",
        from_offline=True,
        declined=not offline.confident,
        warnings=warnings,
        **extra,
    )


def _choose_model(settings: Settings, choice: ProviderChoice, question: str, model: str | None) -> str:
    explicit = model or settings.model
    if explicit:
        return explicit
    cheap = choice.cheap_model or ""
    return (choice.strong_model or cheap) if is_why_question(question) else cheap


def ask(
    settings: Settings,
    question: str,
    *,
    provider: str = "auto",
    model: str | None = None,
    budget_usd: float | None = None,
    on_event: EventSink | None = None,
    feature: str = "ask",
    client: ModelClient | None = None,
    offline_first: bool = True,
) -> Answer:
    """Answer ``question`` offline if possible, else with the LLM tool loop under the budget.

    ``client`` replaces the provider's adapter (tests, benchmarks); ``offline_first=False`` sends
    even plannable questions to the model (LLM evals).
    """
    if not question.strip():
        raise BadInput("ask needs a question, e.g. finops ask 'top 5 services last month'")
    emit: EventSink = on_event or (lambda _e: None)
    ctx = settings.tool_context()
    offline = plan_answer(ctx, question)
    choice = choose(settings, provider) if client is None else _injected(settings, client)
    if choice.name == "offline" or (offline_first and offline.confident):
        notes = [choice.reason] if choice.name == "offline" and not offline.confident else []
        return _done(emit, _offline(question, offline, notes))
    answer = _ask_llm(settings, ctx, question, choice, model, budget_usd, feature, emit, client, offline)
    return _done(emit, answer)


def _injected(settings: Settings, client: ModelClient) -> ProviderChoice:
    """A caller-supplied client (tests, benchmarks) gets the configured models of its provider."""
    if client.provider == "openai":
        return ProviderChoice("openai", "injected client", settings.openai_model, settings.openai_strong_model)
    return ProviderChoice(client.provider, "injected client", settings.anthropic_model, settings.anthropic_strong_model)


def _done(emit: EventSink, answer: Answer) -> Answer:
    emit(AnswerEvent(answer=answer))
    return answer


def _ask_llm(
    settings: Settings,
    ctx: ToolContext,
    question: str,
    choice: ProviderChoice,
    model: str | None,
    budget_usd: float | None,
    feature: str,
    emit: EventSink,
    client: ModelClient | None,
    offline: OfflineAnswer,
) -> Answer:
    warnings: list[str] = []
    budget = Budget(
        daily_usd=Decimal(str(settings.daily_budget_usd)),
        monthly_usd=Decimal(str(settings.monthly_budget_usd)),
        session_usd=None if budget_usd is None else Decimal(str(budget_usd)),
    )
    meter = Meter(ctx.ledger_path, PriceTable.load(ctx.home), budget, feature=feature)
    chosen = _choose_model(settings, choice, question, model)
    if not model and meter.remaining_share() < settings.low_budget_share and choice.cheap_model:
        if chosen != choice.cheap_model:
            warnings.append(f"budget running low: using the cheaper model {choice.cheap_model}")
        chosen = choice.cheap_model
    key = cache_key(question, data_version(ctx), choice.name, chosen)
    hit = cache_get(ctx, key)
    if hit is not None:
        return hit.model_copy(update={"cached": True, "usage": Usage(), "question": question})
    model_client = client or make_client(settings, choice.name)
    loop = Loop(
        client=model_client,
        meter=meter,
        model=chosen,
        system=system_prompt(ctx),
        tools=agent_tools(),
        ctx=ctx,
        limits=LoopLimits(max_tokens=settings.max_tokens),
        on_event=emit,
    )
    try:
        result = loop.run(question)
    except BudgetExhausted as exc:
        emit(ErrorEvent(message=exc.message))
        usage = _usage(meter)
        return _offline(
            question,
            offline,
            [*warnings, exc.message, "answered by the offline planner instead"],
            budget_exhausted=True,
            usage=usage,
        )
    except ProviderError as exc:
        emit(ErrorEvent(message=exc.message))
        if offline.confident:
            return _offline(question, offline, [*warnings, exc.message], usage=_usage(meter))
        raise
    answer = _from_loop(question, result, choice.name, chosen, meter, warnings)
    if result.stopped is None and answer.answer:
        cache_put(ctx, key, answer)
    return answer


def _usage(meter: Meter) -> Usage:
    return Usage(
        input_tokens=meter.usage.input_tokens,
        output_tokens=meter.usage.output_tokens,
        cost_usd=float(meter.cost_usd),
    )


def _from_loop(
    question: str, result: LoopResult, provider: str, model: str, meter: Meter, warnings: list[str]
) -> Answer:
    data = result.data or {}
    return Answer(
        question=question,
        answer=result.text.strip() or (result.stopped or "The model gave no answer."),
        sql=data.get("sql"),
        columns=list(data.get("columns") or []),
        rows=[list(r) for r in data.get("rows") or []],
        provider=provider,
        model=model,
        usage=_usage(meter),
        tool_calls=result.tool_calls,
        warnings=[*warnings, *result.warnings],
    )


# ---------------------------------------------------------------- one metered call for workflows


def complete_text(
    settings: Settings,
    system: str,
    prompt: str,
    *,
    feature: str,
    provider: str = "auto",
    model: str | None = None,
    budget_usd: float | None = None,
    max_tokens: int | None = None,
    client: ModelClient | None = None,
) -> tuple[str, Usage]:
    """One metered, budgeted model call without tools (anomaly narratives, tag refinement, notes).

    ``feature`` names the caller in the ledger. Put data inside the prompt with
    :func:`agent.loop.wrap_data`. Raises BudgetExhausted (exit 3) when the budget would be crossed and
    BadInput when no provider is configured: callers that can do without the LLM catch those.
    """
    from agent.llm.base import Message, ModelRequest

    choice = choose(settings, provider) if client is None else _injected(settings, client)
    if choice.name == "offline":
        raise BadInput(f"{feature} needs an LLM: {choice.reason}")
    ctx = settings.tool_context()
    budget = Budget(
        daily_usd=Decimal(str(settings.daily_budget_usd)),
        monthly_usd=Decimal(str(settings.monthly_budget_usd)),
        session_usd=None if budget_usd is None else Decimal(str(budget_usd)),
    )
    meter = Meter(ctx.ledger_path, PriceTable.load(ctx.home), budget, feature=feature)
    request = ModelRequest(
        model=model or settings.model or choice.cheap_model or "",
        system=system,
        messages=[Message(role="user", text=prompt)],
        max_tokens=max_tokens or settings.max_tokens,
    )
    response = meter.call(client or make_client(settings, choice.name), request)
    return response.text, _usage(meter)
