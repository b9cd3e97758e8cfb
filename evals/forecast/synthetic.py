"""Seeded synthetic daily cost series with a company calendar (deterministic for a seed).

Each series: a level (log-uniform $50..$20k/day), linear growth, a weekend dip, a mild yearly cycle,
US public holidays (Thanksgiving, Christmas, New Year), a day-1-of-month charge, company events from
the calendar (each year's Black Friday sale, a yearly conference, a one-off past load test and a
future EU launch whose effect is only stated), level shifts, a few anomaly spikes and lognormal noise.
The calendar lists the events with stated effects, as a FinOps team would write it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from tools.calendar import CalendarEvent, event_days, holiday_days

START = dt.date(2024, 11, 1)
END = dt.date(2026, 11, 30)
ORIGINS = (dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31))  # last training days
HORIZON = 30

CALENDAR = (
    CalendarEvent(name="Black Friday sale", start=dt.date(2024, 11, 29), end=dt.date(2024, 12, 2), effect="+50%"),
    CalendarEvent(name="Black Friday sale", start=dt.date(2025, 11, 28), end=dt.date(2025, 12, 1), effect="+50%"),
    CalendarEvent(name="Black Friday sale", start=dt.date(2026, 11, 27), end=dt.date(2026, 11, 30), effect="+50%"),
    CalendarEvent(
        name="Annual conference",
        start=dt.date(2025, 9, 16),
        end=dt.date(2025, 9, 18),
        repeat="yearly",
        effect="+30%",
    ),
    CalendarEvent(name="Load test", start=dt.date(2026, 3, 10), end=dt.date(2026, 3, 11), effect="+80%"),
    CalendarEvent(name="EU region launch", start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 22), effect="+25%"),
)


@dataclass(frozen=True)
class SyntheticSeries:
    key: str
    start: dt.date
    y: np.ndarray  # START .. END daily


def days() -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]


def _indicator(ds: list[dt.date], hits: set[dt.date]) -> np.ndarray:
    return np.array([d in hits for d in ds], dtype=float)


def make_series(n: int, seed: int = 0) -> list[SyntheticSeries]:
    """``n`` deterministic series for ``seed``."""
    rng = np.random.default_rng(seed)
    ds = days()
    m = len(ds)
    t = np.arange(m) / 365.0
    dow = np.array([d.weekday() for d in ds])
    doy = np.array([d.timetuple().tm_yday for d in ds])
    hol = holiday_days("US", START, END)
    thanks = _indicator(ds, {d for d, nm in hol.items() if nm.startswith("Thanksgiving")})
    xmas_ny = _indicator(ds, {d for d, nm in hol.items() if nm.startswith(("Christmas", "New Year"))})
    month_start = np.array([d.day == 1 for d in ds], dtype=float)
    events = {
        name: _indicator(ds, set(event_days([e for e in CALENDAR if e.name == name], START, END)))
        for name in dict.fromkeys(e.name for e in CALENDAR)
    }
    stated = {e.name: float(e.effect_ratio or 1.0) - 1.0 for e in CALENDAR}
    out = []
    for i in range(n):
        level = float(np.exp(rng.uniform(np.log(50), np.log(20000))))
        growth = rng.uniform(-0.2, 0.6)
        wk = rng.uniform(0.0, 0.4)
        weekly = np.where(dow == 5, 1 - wk, np.where(dow == 6, 1 - 1.1 * wk, 1.0))
        yearly = 1 + rng.uniform(0.0, 0.08) * np.sin(2 * np.pi * doy / 365.25)
        log_cal = (
            np.log1p(rng.uniform(0.0, 0.6)) * month_start
            + np.log1p(rng.uniform(-0.3, 0.4)) * thanks
            + np.log1p(-rng.uniform(0.0, 0.35)) * xmas_ny
        )
        for name, ind in events.items():
            affected = rng.random() < 0.8
            true = stated[name] * rng.uniform(0.6, 1.4) if affected else 0.0
            log_cal = log_cal + np.log1p(true) * ind
        step = np.ones(m)
        if rng.random() < 0.4:
            k = int(rng.integers(90, m - 150))
            step[k:] = rng.uniform(0.7, 1.5)
        y = level * (1 + growth * t) * weekly * yearly * np.exp(log_cal) * step
        y = y * np.exp(rng.normal(0.0, rng.uniform(0.03, 0.12), m))
        for _ in range(int(rng.integers(0, 4))):
            y[int(rng.integers(0, m - 120))] *= rng.uniform(1.5, 3.0)
        out.append(SyntheticSeries(key=f"syn{seed:02d}-{i:04d}", start=START, y=y))
    return out
