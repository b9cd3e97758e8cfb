"""The calendar design matrix: weekday, month-start, public holidays and company events.

Columns are chosen from the training window: a holiday or company event gets its own (learned) column
when it occurred in training; a company event that never occurred in training but states an effect
("+40%") becomes a fixed log offset on its future days; anything else has no effect and is reported so.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tools.calendar import CalendarEvent, event_days

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")  # Sunday is the baseline


@dataclass(frozen=True)
class CalendarInfo:
    """What the model knows about the calendar: public holidays by day and the company events."""

    holidays: dict[dt.date, str] = field(default_factory=dict)
    events: tuple[CalendarEvent, ...] = ()


@dataclass(frozen=True)
class EffectSource:
    """How one named calendar effect enters the model."""

    name: str
    kind: Literal["holiday", "event"]
    source: Literal["learned", "stated", "none"]
    stated_ratio: float | None
    past_days: int


@dataclass(frozen=True)
class Design:
    """Calendar columns for ``n_total`` consecutive days starting at ``start`` (training = first n_train)."""

    start: dt.date
    n_train: int
    names: list[str]
    kinds: list[str]  # weekday | month_start | holiday | event
    X: np.ndarray  # (n_total, p) 0/1 indicators
    prior: np.ndarray  # (p,) prior mean of each coefficient (log of a stated effect, else 0)
    offset: np.ndarray  # (n_total,) fixed log effects of stated-only events
    effects: list[EffectSource]
    day_labels: dict[dt.date, list[str]]  # holiday and event names per day (all days)

    @property
    def n_total(self) -> int:
        return int(self.X.shape[0])


def _holiday_key(name: str) -> str:
    return name.replace(" (observed)", "").replace(" (Observed)", "").strip()


def calendar_design(start: dt.date, n_train: int, n_total: int, cal: CalendarInfo) -> Design:
    """Build the design for days start .. start + n_total - 1 (the first n_train are training days)."""
    days = [start + dt.timedelta(days=i) for i in range(n_total)]
    last = days[-1]
    cols: list[np.ndarray] = []
    names: list[str] = []
    kinds: list[str] = []
    prior: list[float] = []
    weekday = np.array([d.weekday() for d in days])
    for i, wd in enumerate(WEEKDAYS):
        cols.append((weekday == i).astype(float))
        names.append(wd)
        kinds.append("weekday")
        prior.append(0.0)
    cols.append(np.array([d.day == 1 for d in days], dtype=float))
    names.append("month_start")
    kinds.append("month_start")
    prior.append(0.0)
    offset = np.zeros(n_total)
    effects: list[EffectSource] = []
    labels: dict[dt.date, list[str]] = {}

    hol_by_name: dict[str, list[int]] = {}
    for day, name in cal.holidays.items():
        if start <= day <= last:
            key = _holiday_key(name)
            hol_by_name.setdefault(key, []).append((day - start).days)
            labels.setdefault(day, []).append(key)
    for key, idx in sorted(hol_by_name.items()):
        past = sum(1 for i in idx if i < n_train)
        if past:
            col = np.zeros(n_total)
            col[idx] = 1.0
            cols.append(col)
            names.append(f"holiday:{key}")
            kinds.append("holiday")
            prior.append(0.0)
        effects.append(EffectSource(key, "holiday", "learned" if past else "none", None, past))

    by_name: dict[str, list[CalendarEvent]] = {}
    for event in cal.events:  # entries sharing a name are one event (e.g. each year's Black Friday)
        by_name.setdefault(event.name, []).append(event)
    for name, group in by_name.items():
        covered = event_days(group, start, last)
        idx = [(d - start).days for d in covered]
        if not idx:
            continue
        for d in covered:
            labels.setdefault(d, []).append(name)
        past = sum(1 for i in idx if i < n_train)
        ratios = [e.effect_ratio for e in group if e.effect_ratio is not None]
        ratio = ratios[-1] if ratios else None
        if past:
            col = np.zeros(n_total)
            col[idx] = 1.0
            cols.append(col)
            names.append(f"event:{name}")
            kinds.append("event")
            prior.append(math.log(max(ratio, 0.05)) if ratio is not None else 0.0)
            source: Literal["learned", "stated", "none"] = "learned"
        elif ratio is not None:
            offset[idx] += math.log(max(ratio, 0.05))
            source = "stated"
        else:
            source = "none"
        effects.append(EffectSource(name, "event", source, ratio, past))
    return Design(
        start=start,
        n_train=n_train,
        names=names,
        kinds=kinds,
        X=np.column_stack(cols),
        prior=np.array(prior),
        offset=offset,
        effects=effects,
        day_labels=labels,
    )
