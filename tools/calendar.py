"""The business calendar: company events from a file (YAML or iCalendar) and public holidays.

Shared by forecasting and anomaly detection. A calendar file is either YAML::

    events:
      - {name: Black Friday sale, start: 2026-11-27, end: 2026-11-30, repeat: yearly, effect: "+40%"}

or an iCalendar ``.ics`` file whose VEVENTs become events (``RRULE:FREQ=YEARLY`` -> ``repeat: yearly``;
the effect comes from an ``X-FINOPS-EFFECT:+40%`` property or an ``effect: +40%`` line in DESCRIPTION).
Event dates are inclusive on both ends (an all-day iCalendar DTEND, which is exclusive, is moved back a day).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, field_validator, model_validator

from tools.errors import BadInput

EFFECT_RE = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)\s*%\s*$")
DESC_EFFECT_RE = re.compile(r"effect\s*[:=]\s*([+-]\d+(?:\.\d+)?\s*%)", re.IGNORECASE)
MAX_EVENT_DAYS = 366


class CalendarEvent(BaseModel):
    """One company event: inclusive dates, optional yearly repeat and an optional stated effect."""

    name: str
    start: dt.date
    end: dt.date
    repeat: Literal["yearly", "none"] = "none"
    effect: str | None = None

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name is empty")
        return value

    @field_validator("effect", mode="before")
    @classmethod
    def _effect_format(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        text = str(value)
        if not EFFECT_RE.match(text):
            raise ValueError(f"effect {text!r} is not a signed percentage like '+40%' or '-15%'")
        return text.strip().replace(" ", "")

    @model_validator(mode="after")
    def _dates_in_order(self) -> CalendarEvent:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days >= MAX_EVENT_DAYS:
            days = (self.end - self.start).days + 1
            raise ValueError(f"event lasts {days} days (at most {MAX_EVENT_DAYS})")
        return self

    @property
    def effect_ratio(self) -> float | None:
        """The stated effect as a multiplier: '+40%' -> 1.4, '-15%' -> 0.85; None when not stated."""
        if self.effect is None:
            return None
        match = EFFECT_RE.match(self.effect)
        assert match is not None
        return max(0.0, 1.0 + float(match.group(1)) / 100.0)

    def occurrences(self, start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
        """(first day, last day) of every occurrence that overlaps [start, end]."""
        if self.repeat == "none":
            if self.end >= start and self.start <= end:
                yield self.start, self.end
            return
        length = self.end - self.start
        for year in range(start.year - 1, end.year + 1):
            first = _same_day_in(self.start, year)
            last = first + length
            if last >= start and first <= end:
                yield first, last


def _same_day_in(day: dt.date, year: int) -> dt.date:
    """The same month/day in another year (29 Feb -> 28 Feb in common years)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def load_calendar(path: Path | str) -> list[CalendarEvent]:
    """Read company events from a YAML (``events: [...]``) or iCalendar (.ics) file.

    Raises BadInput with one line naming the file and the entry when the file is missing or malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"calendar file {path} not found; pass --calendar FILE (YAML or .ics)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"calendar file {path} cannot be read: {exc}") from None
    if path.suffix.lower() in (".ics", ".ical", ".ifb") or text.lstrip().startswith("BEGIN:VCALENDAR"):
        return _load_ics(path, text)
    return _load_yaml(path, text)


def _load_yaml(path: Path, text: str) -> list[CalendarEvent]:
    import yaml

    class _Loader(yaml.SafeLoader):  # type: ignore[misc]
        """Safe loader that keeps dates as text, so a bad date is reported with its entry."""

    _Loader.add_constructor(
        "tag:yaml.org,2002:timestamp",
        lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
    )
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise BadInput(f"calendar file {path} is not valid YAML{line}; expected 'events: [...]'") from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("events", []), list):
        raise BadInput(f"calendar file {path}: expected a mapping with a list under 'events:'")
    raw_events = doc.get("events") or []
    return [_validated(path, i, entry) for i, entry in enumerate(raw_events)]


def _validated(path: Path, index: int, entry: Any) -> CalendarEvent:
    label = f"events[{index}]"
    if not isinstance(entry, dict):
        raise BadInput(f"calendar file {path}: {label} is not a mapping with name, start, end")
    if entry.get("name"):
        label += f" ({entry['name']})"
    data = dict(entry)
    if data.get("end") is None and data.get("start") is not None:
        data["end"] = data["start"]
    if data.get("repeat") is None:
        data["repeat"] = "none"
    try:
        return CalendarEvent.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = f"{field}: " if field else ""
        raise BadInput(f"calendar file {path}: {label} {where}{msg}") from None


def _load_ics(path: Path, text: str) -> list[CalendarEvent]:
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise BadInput(f"calendar file {path} is not valid iCalendar: {str(exc).splitlines()[0]}") from None
    events = []
    for i, vevent in enumerate(cal.walk("VEVENT")):
        events.append(_validated(path, i, _ics_entry(path, i, vevent)))
    return events


def _ics_entry(path: Path, index: int, vevent: Any) -> dict[str, Any]:
    name = str(vevent.get("SUMMARY") or "").strip()
    label = f"events[{index}]" + (f" ({name})" if name else "")
    dtstart = vevent.get("DTSTART")
    if dtstart is None:
        raise BadInput(f"calendar file {path}: {label} has no DTSTART")
    start = _as_date(dtstart.dt)
    dtend = vevent.get("DTEND")
    if dtend is not None:
        end = _as_date(dtend.dt)
        if not isinstance(dtend.dt, dt.datetime) and end > start:
            end -= dt.timedelta(days=1)  # all-day DTEND is exclusive
    elif vevent.get("DURATION") is not None:
        end = start + max(vevent.get("DURATION").dt - dt.timedelta(days=1), dt.timedelta(0))
    else:
        end = start
    rrule = vevent.get("RRULE")
    freq = [str(f).upper() for f in (rrule.get("FREQ", []) if rrule else [])]
    effect = vevent.get("X-FINOPS-EFFECT")
    if effect is None:
        found = DESC_EFFECT_RE.search(str(vevent.get("DESCRIPTION") or ""))
        effect = found.group(1) if found else None
    return {
        "name": name,
        "start": start,
        "end": end,
        "repeat": "yearly" if "YEARLY" in freq else "none",
        "effect": str(effect) if effect is not None else None,
    }


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"not a date: {value!r}")


def event_days(events: Iterable[CalendarEvent], start: dt.date, end: dt.date) -> dict[dt.date, list[str]]:
    """Every day in [start, end] covered by an event (yearly events expanded) -> the event names."""
    days: dict[dt.date, list[str]] = {}
    for event in events:
        for first, last in event.occurrences(start, end):
            day = max(first, start)
            while day <= min(last, end):
                names = days.setdefault(day, [])
                if event.name not in names:
                    names.append(event.name)
                day += dt.timedelta(days=1)
    return dict(sorted(days.items()))


def holiday_days(country: str, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Public holidays of a country (ISO code, optionally with a subdivision: 'DE-BY') in [start, end]."""
    import holidays

    code, _, subdiv = country.strip().upper().partition("-")
    try:
        table = holidays.country_holidays(
            code, subdiv=subdiv or None, years=range(start.year, end.year + 1), language="en_US"
        )
    except NotImplementedError:
        raise BadInput(f"unknown country {country!r} for public holidays; use an ISO code like US, GB, DE") from None
    return {day: str(name) for day, name in sorted(table.items()) if start <= day <= end}
