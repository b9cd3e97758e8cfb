"""The offline planner: deterministic natural language -> structured cost query (no key, no network).

It recognises the question's words against fixed FinOps phrasing (periods, metrics, "by X", "top N",
"month over month") and the data's own vocabulary (services, accounts, regions, tag keys and values,
models). Every word must be accounted for: a question with words it does not understand is declined,
with examples built from the data, because a wrong answer is far worse than a decline.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from tools.billing.vocab import Vocabulary, load_vocabulary
from tools.context import ToolContext
from tools.costs import CostQuery, CostResult, Filter, Period, run_cost_query
from tools.errors import ToolError

# Words that carry no meaning for the query once the rest is understood.
FILLER = frozenset(
    [
        "what",
        "whats",
        "was",
        "is",
        "are",
        "were",
        "be",
        "been",
        "being",
        "the",
        "a",
        "an",
        "our",
        "my",
        "we",
        "us",
        "i",
        "me",
        "you",
        "your",
        "did",
        "do",
        "does",
        "how",
        "much",
        "many",
        "in",
        "on",
        "for",
        "of",
        "to",
        "by",
        "per",
        "from",
        "at",
        "and",
        "show",
        "give",
        "list",
        "tell",
        "get",
        "find",
        "display",
        "report",
        "see",
        "let",
        "know",
        "break",
        "broken",
        "down",
        "each",
        "all",
        "across",
        "with",
        "which",
        "that",
        "this",
        "these",
        "those",
        "there",
        "it",
        "its",
        "please",
        "so",
        "far",
        "overall",
        "whole",
        "entire",
        "up",
        "total",
        "totals",
        "spend",
        "spent",
        "spending",
        "spends",
        "cost",
        "costs",
        "costing",
        "costed",
        "bill",
        "bills",
        "billing",
        "money",
        "amount",
        "amounts",
        "usd",
        "dollars",
        "charges",
        "charge",
        "expense",
        "expenses",
        "breakdown",
        "split",
        "grouped",
        "group",
        "over",
        "during",
        "within",
        "into",
        "since",
        "than",
        "as",
        "vs",
        "versus",
        "compared",
        "compare",
        "comparison",
        "currently",
        "current",
        "now",
        "been",
        "have",
        "has",
        "had",
        "can",
        "could",
        "would",
        "should",
        "will",
        "our's",
        "ours",
        "team's",
        "were?",
        "about",
        "around",
        "roughly",
        "exactly",
        "who",
        "where",
        "when",
        "out",
        "any",
        "some",
        "most",
        "more",
        "top",
        "biggest",
        "largest",
        "highest",
        "greatest",
        "heaviest",
        "expensive",
        "costliest",
        "big",
        "large",
        "high",
        "value",
        "values",
        "number",
        "figure",
        "figures",
        "data",
        "what's",
        "much?",
        "sum",
        "summed",
        "along",
        "between",
        "per-day",
        "per-month",
        "pay",
        "paid",
        "paying",
        "then",
        "them",
        "they",
        "their",
        "only",
        "just",
        "also",
        "same",
        "like",
        "look",
        "looking",
        "name",
        "names",
        "analyze",
        "analyse",
        "report",
        "vs",
        "the",
    ]
)
DECLINE_TOPICS = {
    "forecast": "finops forecast",
    "predict": "finops forecast",
    "projection": "finops forecast",
    "project": "finops forecast",
    "will": "finops forecast",
    "next": "finops forecast",
    "anomaly": "finops anomalies --explain",
    "anomalies": "finops anomalies --explain",
    "spike": "finops anomalies --explain",
    "spikes": "finops anomalies --explain",
    "why": "finops anomalies --explain",
    "tagging": "finops tags suggest",
    "suggest": "finops tags suggest",
    "rightsize": "finops tags suggest",
    "budget": "finops usage",
}
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "ninety": 90,
    "a": 1,
    "single": 1,
}
MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9

# Well-known service acronyms -> a fragment of the full service name. Used only when a loaded ServiceName
# contains the fragment, so the vocabulary still comes from the data.
SERVICE_ACRONYMS: dict[str, str] = {
    "ec2": "elastic compute cloud",
    "s3": "simple storage service",
    "rds": "relational database service",
    "ebs": "elastic block store",
    "eks": "elastic kubernetes service",
    "ecs": "elastic container service",
    "sqs": "simple queue service",
    "sns": "simple notification service",
    "kms": "key management service",
    "efs": "elastic file system",
    "elb": "elastic load balancing",
    "aks": "azure kubernetes service",
    "vms": "virtual machines",
    "vm": "virtual machines",
    "dynamo": "dynamodb",
    "cloudwatch": "cloudwatch",
    "bedrock": "bedrock",
    "sagemaker": "sagemaker",
    "lambda": "lambda",
    "cloudfront": "cloudfront",
}
GROUP_WORDS: dict[str, str] = {
    "service": "ServiceName",
    "services": "ServiceName",
    "product": "ServiceName",
    "products": "ServiceName",
    "provider": "ProviderName",
    "providers": "ProviderName",
    "cloud": "ProviderName",
    "clouds": "ProviderName",
    "vendor": "ProviderName",
    "vendors": "ProviderName",
    "account": "SubAccountName",
    "accounts": "SubAccountName",
    "subaccount": "SubAccountName",
    "subaccounts": "SubAccountName",
    "sub-account": "SubAccountName",
    "sub-accounts": "SubAccountName",
    "project": "SubAccountName",
    "projects": "SubAccountName",
    "subscription": "SubAccountName",
    "subscriptions": "SubAccountName",
    "region": "RegionId",
    "regions": "RegionId",
    "location": "RegionId",
    "locations": "RegionId",
    "category": "ServiceCategory",
    "categories": "ServiceCategory",
    "subcategory": "ServiceSubcategory",
    "subcategories": "ServiceSubcategory",
    "resource": "ResourceId",
    "resources": "ResourceId",
    "sku": "SkuId",
    "skus": "SkuId",
    "meter": "SkuMeter",
    "meters": "SkuMeter",
    "model": "model",
    "models": "model",
    "llm": "model",
    "llms": "model",
    "zone": "AvailabilityZone",
    "zones": "AvailabilityZone",
    "publisher": "PublisherName",
    "publishers": "PublisherName",
    "type": "ResourceType",
    "types": "ResourceType",
}
GROUP_PHRASES: dict[tuple[str, ...], str] = {
    ("charge", "category"): "ChargeCategory",
    ("charge", "categories"): "ChargeCategory",
    ("charge", "type"): "ChargeCategory",
    ("pricing", "category"): "PricingCategory",
    ("pricing", "model"): "PricingCategory",
    ("resource", "type"): "ResourceType",
    ("resource", "types"): "ResourceType",
    ("availability", "zone"): "AvailabilityZone",
    ("availability", "zones"): "AvailabilityZone",
    ("service", "category"): "ServiceCategory",
    ("service", "categories"): "ServiceCategory",
    ("billing", "account"): "BillingAccountName",
    ("billing", "accounts"): "BillingAccountName",
    ("usage", "type"): "x_UsageType",
    ("usage", "types"): "x_UsageType",
    ("commitment", "type"): "CommitmentDiscountType",
}
METRIC_WORDS: dict[str, str] = {
    "invoice": "billed_cost",
    "invoiced": "billed_cost",
    "billed": "billed_cost",
    "cash": "billed_cost",
    "amortized": "effective_cost",
    "amortised": "effective_cost",
    "effective": "effective_cost",
    "savings": "savings",
    "saved": "savings",
    "save": "savings",
    "saving": "savings",
    "tokens": "tokens",
    "token": "tokens",
}


KEYWORDS = sorted(
    set(FILLER)
    | set(GROUP_WORDS)
    | {w for phrase in GROUP_PHRASES for w in phrase}
    | set(METRIC_WORDS)
    | set(MONTHS)
    | {
        "month",
        "months",
        "monthly",
        "week",
        "weeks",
        "weekly",
        "day",
        "days",
        "daily",
        "year",
        "years",
        "yearly",
        "quarter",
        "quarters",
        "quarterly",
        "today",
        "yesterday",
        "trend",
        "untagged",
        "tagged",
        "tokens",
        "token",
        "million",
        "savings",
        "invoice",
        "invoiced",
        "billed",
        "amortized",
        "effective",
        "list",
        "contracted",
        "change",
        "changed",
        "increase",
        "increased",
        "decrease",
        "grew",
        "growth",
        "drove",
        "driver",
        "drivers",
    }
)


@dataclass
class OfflineAnswer:
    """What the planner produced. ``confident`` False means it declined (``answer`` says why + examples)."""

    question: str
    confident: bool
    answer: str
    sql: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    query: dict[str, Any] | None = None  # the structured cost query, when one was planned
    examples: list[str] = field(default_factory=list)


@dataclass
class Plan:
    query: CostQuery
    unknown: list[str]
    topic: str | None = None


# ---------------------------------------------------------------- tokens


@dataclass
class Tokens:
    words: list[str]
    used: list[bool]

    @classmethod
    def of(cls, text: str) -> Tokens:
        text = text.lower().replace("’", "'").replace("month-over-month", "month over month")
        text = text.replace("year-over-year", "year over year").replace("month-to-date", "month to date")
        text = text.replace("'s ", " ").replace("?", " ").replace(",", " ").replace("!", " ")
        words = [w.strip(".;:()\"'") for w in text.split()]
        words = [w for w in words if w]
        return cls(words, [False] * len(words))

    def find(self, phrase: tuple[str, ...], start: int = 0) -> int:
        n = len(phrase)
        for i in range(start, len(self.words) - n + 1):
            if tuple(self.words[i : i + n]) == phrase and not any(self.used[i : i + n]):
                return i
        return -1

    def take(self, phrase: tuple[str, ...]) -> bool:
        i = self.find(phrase)
        if i < 0:
            return False
        for j in range(i, i + len(phrase)):
            self.used[j] = True
        return True

    def mark(self, i: int, n: int = 1) -> None:
        for j in range(i, min(i + n, len(self.words))):
            self.used[j] = True

    def unused(self) -> list[tuple[int, str]]:
        return [(i, w) for i, w in enumerate(self.words) if not self.used[i]]


def _fix_typos(tokens: Tokens, known: set[str]) -> None:
    """Correct a misspelt word to a known keyword or vocabulary word when the match is close."""
    for i, w in enumerate(tokens.words):
        if w in known or any(ch.isdigit() or ch in "-_./:" for ch in w) or len(w) < 4:
            continue
        hit = difflib.get_close_matches(w, known, n=1, cutoff=0.84)
        if hit:
            tokens.words[i] = hit[0]


# ---------------------------------------------------------------- vocabulary phrases


@dataclass
class Phrase:
    words: tuple[str, ...]
    dimension: str  # a CostQuery dimension (column, tag:key, model)
    value: str


def _split(value: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[\s,()]+", value.lower()) if w)


_PHRASES: dict[str, tuple[list[Phrase], set[str]]] = {}


def phrases_and_words(v: Vocabulary) -> tuple[list[Phrase], set[str]]:
    """The vocabulary's phrases and known words, computed once per data version."""
    cached = _PHRASES.get(v.version)
    if cached is None:
        phrases = vocabulary_phrases(v)
        known = set(KEYWORDS) | {w for p in phrases for w in p.words} | {k.lower() for k in v.tag_values}
        cached = _PHRASES[v.version] = (phrases, known)
    return cached


def vocabulary_phrases(v: Vocabulary) -> list[Phrase]:
    out: list[Phrase] = []
    for col in (
        "ServiceName",
        "ProviderName",
        "SubAccountName",
        "SubAccountId",
        "RegionId",
        "RegionName",
        "ServiceCategory",
        "ServiceSubcategory",
        "BillingAccountName",
        "ResourceType",
        "SkuMeter",
        "PublisherName",
        "CommitmentDiscountType",
    ):
        for value in v.values.get(col, []):
            out.append(
                Phrase(
                    _split(value),
                    "RegionId" if col == "RegionName" else col,
                    _region_id(v, value) if col == "RegionName" else value,
                )
            )
    for value in v.values.get("ServiceName", []):
        for prefix in ("amazon ", "aws ", "azure ", "google ", "microsoft ", "oracle "):
            if value.lower().startswith(prefix) and len(value) > len(prefix) + 2:
                out.append(Phrase(_split(value[len(prefix) :]), "ServiceName", value))
    for acronym, fragment in SERVICE_ACRONYMS.items():
        for value in v.values.get("ServiceName", []):
            if fragment in value.lower():
                out.append(Phrase((acronym,), "ServiceName", value))
    for code, name in v.service_codes.items():
        short = code.lower()
        for prefix in ("amazon", "aws"):
            if short.startswith(prefix) and len(short) > len(prefix) + 1:
                short = short[len(prefix) :]
        out.append(Phrase((short,), "ServiceName", name))
        out.append(Phrase((code.lower(),), "ServiceName", name))
    if "Microsoft" in v.values.get("ProviderName", []):
        out.append(Phrase(("azure",), "ProviderName", "Microsoft"))
    if "Google Cloud" in v.values.get("ProviderName", []) or "Google" in v.values.get("ProviderName", []):
        gcp = "Google Cloud" if "Google Cloud" in v.values.get("ProviderName", []) else "Google"
        out.append(Phrase(("gcp",), "ProviderName", gcp))
    for key, values in v.tag_values.items():
        for value in values:
            if value.lower() not in ("true", "false") and len(value) >= 2:
                out.append(Phrase(_split(value), f"tag:{key}", value))
    for model in v.models:
        out.append(Phrase(_split(model), "model", model))
    for name, rid in list(v.resource_names.items())[:2000]:
        out.append(Phrase(_split(name), "ResourceId", rid))
    return sorted(out, key=lambda p: -len(p.words))


def _region_id(v: Vocabulary, name: str) -> str:
    ids = v.values.get("RegionId", [])
    names = v.values.get("RegionName", [])
    return ids[names.index(name)] if name in names and len(ids) == len(names) else name


# ---------------------------------------------------------------- parsing


def plan_question(question: str, v: Vocabulary) -> Plan:
    """Parse ``question`` into a CostQuery, listing the words it could not account for."""
    t = Tokens.of(question)
    phrases, known = phrases_and_words(v)
    _fix_typos(t, known)
    q = CostQuery()
    topic = next((DECLINE_TOPICS[w] for w in t.words if w in DECLINE_TOPICS), None)
    _metric(t, q)
    _period(t, q, v)
    _compare(t, q)
    _granularity(t, q)
    _top_n(t, q)
    _untagged(t, q, v)
    _ai(t, q, v)
    _group_by(t, q, v)
    _filters(t, q, phrases)
    _tag_key_words(t, q)
    unknown = [w for _, w in t.unused() if w not in FILLER and not w.isdigit()]
    return Plan(q, unknown, topic)


def _metric(t: Tokens, q: CostQuery) -> None:
    if any(w in t.words for w in ("savings", "saved", "save", "saving")):
        q.metric = "savings"
        for phrase in (("list", "price"), ("list", "prices"), ("list", "cost"), ("list",), ("on-demand",)):
            t.take(phrase)
        _take_metric_words(t, "savings")
        return
    _metric_choice(t, q)
    _take_metric_words(t, q.metric)


def _take_metric_words(t: Tokens, metric: str) -> None:
    for word, m in METRIC_WORDS.items():
        if m == metric:
            while t.take((word,)):
                pass


def _metric_choice(t: Tokens, q: CostQuery) -> None:
    if (
        t.take(("per", "million", "tokens"))
        or t.take(("per", "1m", "tokens"))
        or t.take(("per", "token"))
        or t.take(("per", "1m", "token"))
        or t.take(("per", "million", "token"))
    ):
        q.metric = "cost_per_million_tokens"
        return
    for phrase, metric in (
        (("list", "price"), "list_cost"),
        (("list", "cost"), "list_cost"),
        (("on-demand", "cost"), "list_cost"),
        (("contracted", "cost"), "contracted_cost"),
        (("billed", "cost"), "billed_cost"),
        (("effective", "cost"), "effective_cost"),
        (("amortized", "cost"), "effective_cost"),
    ):
        if t.take(phrase):
            q.metric = metric  # type: ignore[assignment]
            return
    for word, metric in (
        ("invoice", "billed_cost"),
        ("invoiced", "billed_cost"),
        ("billed", "billed_cost"),
        ("cash", "billed_cost"),
        ("amortized", "effective_cost"),
        ("effective", "effective_cost"),
        ("savings", "savings"),
        ("saved", "savings"),
        ("save", "savings"),
        ("tokens", "tokens"),
        ("token", "tokens"),
    ):
        i = t.find((word,))
        if i >= 0:
            t.mark(i)
            q.metric = metric  # type: ignore[assignment]
            return


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def _period(t: Tokens, q: CostQuery, v: Vocabulary) -> None:
    simple = [
        (("month", "to", "date"), "month_to_date"),
        (("mtd",), "month_to_date"),
        (("this", "month"), "this_month"),
        (("current", "month"), "this_month"),
        (("last", "month"), "last_month"),
        (("previous", "month"), "last_month"),
        (("past", "month"), "last_month"),
        (("prior", "month"), "last_month"),
        (("this", "quarter"), "this_quarter"),
        (("last", "quarter"), "last_quarter"),
        (("previous", "quarter"), "last_quarter"),
        (("this", "year"), "this_year"),
        (("year", "to", "date"), "year_to_date"),
        (("ytd",), "year_to_date"),
        (("last", "year"), "last_year"),
        (("all", "time"), "all"),
    ]
    for phrase, kind in simple:
        if t.take(phrase):
            q.period = Period(kind=kind)  # type: ignore[arg-type]
            return
    for lead in ("last", "past", "previous", "trailing"):
        for i in range(len(t.words) - 2):
            if t.words[i] == lead and not t.used[i] and (n := _number(t.words[i + 1])) is not None:
                unit = t.words[i + 2]
                if unit.startswith("day") or unit.startswith("week") or unit.startswith("month"):
                    t.mark(i, 3)
                    if unit.startswith("month"):
                        q.period = Period(kind="last_n_months", n=n)
                    else:
                        q.period = Period(kind="last_n_days", n=n * (7 if unit.startswith("week") else 1))
                    return
        for unit, days in (("week", 7), ("7", 7), ("fortnight", 14)):
            if t.take((lead, unit)):
                q.period = Period(kind="last_n_days", n=days)
                return
    if t.take(("yesterday",)):
        last = dt.date.fromisoformat(v.last_day) if v.last_day else dt.date.today()
        q.period = Period(kind="range", start=last, end=last + dt.timedelta(days=1))
        return
    _named_period(t, q, v)


def _named_period(t: Tokens, q: CostQuery, v: Vocabulary) -> None:
    """'in October', 'Oct 2025', 'Q3 2026', 'in 2025', '2026-10-01 to 2026-10-15'."""
    last = dt.date.fromisoformat(v.last_day) if v.last_day else dt.date.today()
    dates = [(i, w) for i, w in enumerate(t.words) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", w)]
    if dates:
        start = dt.date.fromisoformat(dates[0][1])
        end = dt.date.fromisoformat(dates[1][1]) + dt.timedelta(days=1) if len(dates) > 1 else None
        for i, _ in dates:
            t.mark(i)
        for w in ("to", "through", "until", "and", "between"):
            i = t.find((w,))
            if i >= 0:
                t.mark(i)
        q.period = Period(kind="range", start=start, end=end)
        return
    for i, w in enumerate(t.words):
        if t.used[i]:
            continue
        if re.fullmatch(r"q[1-4]", w):
            year = _year_after(t, i) or (last.year if int(w[1]) <= (last.month - 1) // 3 + 1 else last.year - 1)
            start = dt.date(year, 3 * (int(w[1]) - 1) + 1, 1)
            t.mark(i)
            q.period = Period(kind="range", start=start, end=_add_months(start, 3))
            return
        if w in MONTHS:
            month = MONTHS[w]
            year = _year_after(t, i) or (last.year if month <= last.month else last.year - 1)
            t.mark(i)
            start = dt.date(year, month, 1)
            q.period = Period(kind="range", start=start, end=_add_months(start, 1))
            return
        if re.fullmatch(r"20\d\d", w):
            t.mark(i)
            q.period = Period(kind="range", start=dt.date(int(w), 1, 1), end=dt.date(int(w) + 1, 1, 1))
            return


def _year_after(t: Tokens, i: int) -> int | None:
    if i + 1 < len(t.words) and re.fullmatch(r"20\d\d", t.words[i + 1]):
        t.mark(i + 1)
        return int(t.words[i + 1])
    return None


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def _compare(t: Tokens, q: CostQuery) -> None:
    if t.take(("year", "over", "year")) or t.take(("yoy",)) or t.take(("same", "period", "last", "year")):
        q.compare = "same_period_last_year"
        return
    for phrase in (
        ("month", "over", "month"),
        ("mom",),
        ("week", "over", "week"),
        ("wow",),
        ("quarter", "over", "quarter"),
        ("qoq",),
    ):
        if t.take(phrase):
            q.compare = "previous_period"
            if q.period.kind == "all":
                unit = phrase[0]
                q.period = (
                    Period(kind="last_n_days", n=7)
                    if unit in ("week", "wow")
                    else (Period(kind="last_quarter") if unit in ("quarter", "qoq") else Period(kind="last_month"))
                )
            break
    for word in (
        "change",
        "changed",
        "changes",
        "increase",
        "increased",
        "decrease",
        "decreased",
        "grew",
        "growth",
        "drove",
        "driver",
        "drivers",
        "delta",
        "difference",
        "rise",
        "rose",
        "jump",
        "jumped",
        "went",
    ):
        i = t.find((word,))
        if i >= 0:
            t.mark(i)
            q.compare = "previous_period"
            for extra in ("up", "down", "the"):
                j = t.find((extra,))
                if j >= 0:
                    t.mark(j)
    if q.compare != "none" and q.period.kind == "all":
        q.period = Period(kind="last_month")
    if q.compare != "none" and any(w in t.words for w in ("drove", "driver", "drivers", "caused", "behind")):
        for w in ("caused", "behind", "what"):
            i = t.find((w,))
            if i >= 0:
                t.mark(i)
        q.group_by = q.group_by or ["ServiceName"]


def _granularity(t: Tokens, q: CostQuery) -> None:
    _choose_granularity(t, q)
    for word in ("trend", "trends", "trending", "timeline", "history"):
        i = t.find((word,))
        if i >= 0:
            t.mark(i)
    t.take(("over", "time"))


def _choose_granularity(t: Tokens, q: CostQuery) -> None:
    mapping = {
        "daily": "day",
        "day": "day",
        "days": "day",
        "weekly": "week",
        "week": "week",
        "monthly": "month",
        "month": "month",
        "months": "month",
        "quarterly": "quarter",
        "quarter": "quarter",
        "yearly": "year",
        "annual": "year",
        "year": "year",
    }
    for lead in ("by", "per", "each", "every"):
        for word, gran in mapping.items():
            if t.take((lead, word)):
                q.granularity = gran  # type: ignore[assignment]
                return
    for word in ("daily", "weekly", "monthly", "quarterly", "yearly", "annual"):
        i = t.find((word,))
        if i >= 0:
            t.mark(i)
            q.granularity = mapping[word]  # type: ignore[assignment]
            return
    for word in ("trend", "trends", "trending", "timeline", "history"):
        i = t.find((word,))
        if i >= 0:
            t.mark(i)
            t.take(("over", "time"))
            q.granularity = "month"
            return
    if t.take(("over", "time")):
        q.granularity = "month"


def _top_n(t: Tokens, q: CostQuery) -> None:
    for i, w in enumerate(t.words):
        if w in ("top", "biggest", "largest", "highest") and i + 1 < len(t.words):
            n = _number(t.words[i + 1])
            if n is not None and t.words[i + 1] != "a":
                t.mark(i, 2)
                q.top_n = n
                return
    for i, w in enumerate(t.words):
        n = _number(w)
        if (
            n is not None
            and w != "a"
            and i + 1 < len(t.words)
            and t.words[i + 1] in ("most", "biggest", "largest", "costliest", "highest", "top")
        ):
            t.mark(i, 2)
            q.top_n = n
            return
    if t.take(("top",)):
        q.top_n = 10


def _untagged(t: Tokens, q: CostQuery, v: Vocabulary) -> None:
    if ("tagged" in t.words and "untagged" in t.words) or t.take(("tagged", "and", "untagged")):
        t.take(("tagged",))
        t.take(("untagged",))
        q.group_by.append("tagged")
        return
    for key in v.tag_values:
        for lead in ("without", "missing", "no"):
            for phrase in (
                (lead, "a", key, "tag"),
                (lead, "any", key, "tag"),
                (lead, key, "tag"),
                (lead, "a", key),
                (lead, key),
            ):
                if t.take(phrase):
                    q.filters.append(Filter(dimension=f"tag:{key}", op="is null"))
                    return
    untagged: tuple[tuple[str, ...], ...] = (
        ("not", "tagged"), ("without", "tags"), ("no", "tags"), ("untagged",), ("missing", "tags"),
    )
    for words in untagged:
        if t.take(words):
            named = _tag_key_in(t, v)
            if named:
                q.filters.append(Filter(dimension=f"tag:{named}", op="is null"))
            else:
                q.filters.append(Filter(dimension="Tags", op="is null"))
            return
    if t.take(("tagged",)) or t.take(("with", "tags")):
        q.filters.append(Filter(dimension="Tags", op="is not null"))


def _tag_key_in(t: Tokens, v: Vocabulary) -> str | None:
    for key in v.tag_values:
        for phrase in (("without", key), ("no", key), ("missing", key), ("by", key), (key, "tag"), (key,)):
            if t.take(phrase):
                t.take(("tag",))
                return key
    return None


def _ai(t: Tokens, q: CostQuery, v: Vocabulary) -> None:
    categories = v.values.get("ServiceCategory", [])
    if "AI and Machine Learning" not in categories:
        return
    for phrase in (
        ("ai", "and", "machine", "learning"),
        ("genai",),
        ("generative", "ai"),
        ("ai",),
        ("ml",),
        ("llm", "api"),
        ("machine", "learning"),
    ):
        if t.take(phrase):
            q.filters.append(Filter(dimension="ServiceCategory", values=["AI and Machine Learning"]))
            return


def _group_by(t: Tokens, q: CostQuery, v: Vocabulary) -> None:
    for lead in ("by", "per", "each", "for", "across", "which", "what", "top", "most", "every"):
        for phrase, col in GROUP_PHRASES.items():
            if t.find((lead, *phrase)) >= 0:
                t.take((lead, *phrase))
                _add_group(q, col)
        for key in v.tag_values:
            for phrase in ((lead, key, "tag"), (lead, key), (lead, key + "s")):
                if t.take(phrase):
                    _add_group(q, f"tag:{key}")
        for word, col in GROUP_WORDS.items():
            if t.take((lead, word)):
                _add_group(q, col)
    for i, w in enumerate(t.words):  # "services by cost", "cost of each service"
        if not t.used[i] and w in GROUP_WORDS and _next_is(t, i, ("by", "ranked", "sorted", "cost", "costs", "spend")):
            t.mark(i)
            _add_group(q, GROUP_WORDS[w])
    superlative = q.top_n is not None or any(
        w in t.words for w in ("most", "biggest", "largest", "highest", "costliest", "expensive", "each", "every")
    )
    for i, w in enumerate(t.words):  # "three most expensive services", "top 10 resources"
        if t.used[i] or w not in GROUP_WORDS:
            continue
        if w.endswith("s") or superlative:
            if _next_is(t, i, ("cost", "costs", "spend", "charges")) and q.group_by:
                t.mark(i)  # "service costs by region": costs, by region
                continue
            t.mark(i)
            _add_group(q, GROUP_WORDS[w])
        elif _next_is(t, i, ("cost", "costs", "spend", "charges")) and q.group_by:
            t.mark(i)
    for key in v.tag_values:  # "spend by team" where team is a tag key; also "teams"
        i = t.find((key + "s",))
        if i >= 0 and q.group_by == []:
            t.mark(i)
            _add_group(q, f"tag:{key}")
    if q.top_n is None and q.group_by and _singular_superlative(t, v):
        q.top_n = 1


def _next_is(t: Tokens, i: int, words: tuple[str, ...]) -> bool:
    return i + 1 < len(t.words) and t.words[i + 1] in words


def _singular_superlative(t: Tokens, v: Vocabulary) -> bool:
    """'which service costs the most' / 'which team spent the most': one answer, not a ranking."""
    joined = " ".join(t.words)
    if any(f"{lead} {key} " in joined + " " for lead in ("which", "what") for key in v.tag_values):
        return any(w in t.words for w in ("most", "biggest", "largest", "highest", "costliest", "top"))
    singular = any(
        f"{lead} {w} " in joined + " " for lead in ("which", "what") for w in GROUP_WORDS if not w.endswith("s")
    )
    return singular and any(w in t.words for w in ("most", "biggest", "largest", "highest", "costliest", "top"))


def _add_group(q: CostQuery, dimension: str) -> None:
    if dimension not in q.group_by:
        q.group_by.append(dimension)


def _filters(t: Tokens, q: CostQuery, phrases: list[Phrase]) -> None:
    chosen: dict[str, list[str]] = {}
    present = set(t.words)
    for p in phrases:
        if p.words[0] not in present:
            continue
        i = t.find(p.words)
        if i < 0:
            continue
        if p.dimension.startswith("tag:") and _ambiguous_tag_value(p, phrases, t):
            continue
        t.mark(i, len(p.words))
        values = chosen.setdefault(p.dimension, [])
        if p.value not in values:
            values.append(p.value)
    for dim, values in chosen.items():
        if dim in q.group_by and len(values) == 1 and dim != "ServiceName":
            continue
        q.filters.append(Filter(dimension=dim, values=values))


def _tag_key_words(t: Tokens, q: CostQuery) -> None:
    """'the dev environment', 'by team tag': the key named beside a tag value or group is understood."""
    keys = {d[4:].lower() for d in q.group_by if d.startswith("tag:")}
    keys |= {f.dimension[4:].lower() for f in q.filters if f.dimension.startswith("tag:")}
    if not keys and not any(f.dimension == "Tags" for f in q.filters):
        return
    for i, w in enumerate(t.words):
        if not t.used[i] and (w in keys or w.rstrip("s") in keys or w in ("tag", "tags", "label", "labels")):
            t.mark(i)


def _ambiguous_tag_value(p: Phrase, phrases: list[Phrase], t: Tokens) -> bool:
    """A tag value that several keys use is only taken when its key is named too."""
    keys = {o.dimension for o in phrases if o.words == p.words and o.dimension.startswith("tag:")}
    if len(keys) <= 1:
        return False
    key = p.dimension[4:].lower()
    return key not in t.words


# ---------------------------------------------------------------- answering


def plan_answer(ctx: ToolContext, question: str) -> OfflineAnswer:
    """Answer ``question`` from the loaded data, or decline with examples of what can be answered."""
    vocab = load_vocabulary(ctx)
    plan = plan_question(question, vocab)
    examples = example_questions(vocab)
    if plan.topic:
        return _decline(
            question, f"That needs `{plan.topic}`; the offline planner answers questions about spend.", examples
        )
    if plan.unknown:
        shown = ", ".join(repr(w) for w in plan.unknown[:4])
        return _decline(question, f"I can't answer that offline: I don't understand {shown}.", examples)
    try:
        result = run_cost_query(ctx, plan.query)
    except ToolError as exc:
        return _decline(question, f"I can't answer that offline: {exc}", examples)
    return OfflineAnswer(
        question=question,
        confident=True,
        answer=describe(plan.query, result),
        sql=result.sql,
        columns=result.columns,
        rows=result.rows,
        query=plan.query.model_dump(mode="json"),
        examples=examples,
    )


def _decline(question: str, why: str, examples: list[str]) -> OfflineAnswer:
    text = why + " Try one of: " + "; ".join(f'"{e}"' for e in examples[:5])
    return OfflineAnswer(question=question, confident=False, answer=text, examples=examples)


def example_questions(v: Vocabulary) -> list[str]:
    out = ["What did we spend last month?", "Top 5 services by cost last month", "Monthly spend trend"]
    keys = sorted(v.tag_values, key=lambda k: -len(v.tag_values[k]))
    if "team" in v.tag_values or keys:
        out.append(f"Spend by {'team' if 'team' in v.tag_values else keys[0]} this month")
    out.append("What drove the change in spend last month by service?")
    if v.values.get("RegionId"):
        out.append(f"Daily spend in {v.values['RegionId'][0]} for the last 30 days")
    if v.models:
        out.append("AI spend by model last month")
        out.append("Cost per million tokens by model")
    out.append("Untagged spend by service")
    return out


def _money(value: Any) -> str:
    from agent.render import money

    return money(value)


def _period_text(r: CostResult) -> str:
    if r.period_start is None or r.period_end is None:
        return ""
    last = r.period_end - dt.timedelta(days=1)
    if (
        r.period_start.day == 1
        and r.period_end.day == 1
        and (r.period_end.month - r.period_start.month) % 12 == 1
        and last.year - r.period_start.year <= 1
    ):
        return r.period_start.strftime("%B %Y")
    return f"{r.period_start.isoformat()} to {last.isoformat()}"


def describe(q: CostQuery, r: CostResult) -> str:
    """One or two sentences, money formatted, naming the metric and the period used."""
    metric = r.metric.replace("_", " ")
    when = _period_text(r)
    if r.row_count == 0:
        return f"No {metric} found for {when}." + (f" Data ends {r.data_last_day}." if r.data_last_day else "")
    fmt = _money if r.metric not in ("tokens", "consumed_quantity", "row_count") else _count
    if q.compare != "none":
        return _describe_change(q, r, fmt, when)
    value_col = len(r.columns) - 1
    if len(r.columns) == 1:
        return f"Total {metric} for {when}: {fmt(r.rows[0][0])}."
    if q.granularity != "none" and not q.group_by:
        first, last = r.rows[0], r.rows[-1]
        return (
            f"{metric.capitalize()} by {q.granularity} for {when}: {len(r.rows)} {q.granularity}s, "
            f"from {fmt(first[value_col])} ({first[0]}) to {fmt(last[value_col])} ({last[0]})."
        )
    total = sum(float(row[value_col] or 0) for row in r.rows)
    top = r.rows[0]
    label = " / ".join(str(x) if x is not None else "(none)" for x in top[:value_col])
    positive = all(float(row[value_col] or 0) >= 0 for row in r.rows)
    share = (
        f" ({100 * float(top[value_col] or 0) / total:.0f}% of the {fmt(total)} shown)"
        if total and positive and len(r.rows) > 1 and r.metric not in ("cost_per_million_tokens",)
        else ""
    )
    return f"{metric.capitalize()} for {when}: the top is {label} at {fmt(top[value_col])}{share}."


def _count(value: Any) -> str:
    return f"{float(value or 0):,.0f}"


def _describe_change(q: CostQuery, r: CostResult, fmt: Any, when: str) -> str:
    prev = (
        f"{r.previous_start} to {r.previous_end - dt.timedelta(days=1)}"
        if r.previous_start and r.previous_end
        else "before"
    )
    if not q.group_by:
        cur, before, change, pct = r.rows[0][-4:]
        direction = "rose" if float(change or 0) >= 0 else "fell"
        pct_text = f" ({float(pct):+.1f}%)" if pct is not None else ""
        return (
            f"{r.metric.replace('_', ' ').capitalize()} {direction} by {fmt(abs(float(change or 0)))}{pct_text}: "
            f"{fmt(cur or 0)} for {when} vs {fmt(before or 0)} for {prev}."
        )
    top = r.rows[0]
    n = len(q.group_by)
    label = " / ".join(str(x) for x in top[:n])
    change = float(top[n + 2] or 0)
    return (
        f"Biggest change for {when} vs {prev}: {label} {'+' if change >= 0 else '-'}{fmt(abs(change))} "
        f"({fmt(top[n + 1] or 0)} -> {fmt(top[n] or 0)})."
    )
