"""Daily rhythm of the demo org: weekdays, US public holidays, company events, growth and noise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

from tools.billing.demo.spec import DemoSpec

TRAFFIC_WEEKDAY = np.array([1.0, 1.02, 1.03, 1.02, 0.98, 0.80, 0.74])
BATCH_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.55, 0.5])
HOLIDAY_TRAFFIC = 0.82
DIURNAL = np.array(
    [
        0.55,
        0.5,
        0.46,
        0.44,
        0.45,
        0.5,
        0.6,
        0.72,
        0.85,
        0.97,
        1.08,
        1.16,
        1.22,
        1.27,
        1.32,
        1.36,
        1.38,
        1.37,
        1.33,
        1.26,
        1.15,
        1.0,
        0.84,
        0.68,
    ]
)
"""Hour-of-day shape (UTC) of customer traffic, used at hourly granularity."""
DIURNAL_WEIGHTS = DIURNAL / DIURNAL.sum()


@dataclass(frozen=True)
class Rhythm:
    """Per-day factors over the demo period (index 0 = spec.first_day)."""

    days: list[date]
    dow: np.ndarray  # 0 = Monday
    holiday: np.ndarray  # bool
    holiday_names: dict[date, str]
    event: np.ndarray  # customer traffic multiplier from company events
    traffic: np.ndarray  # customer-facing traffic factor (weekday x holiday x event x growth)
    batch: np.ndarray  # batch/ETL factor
    workday: np.ndarray  # 1 on working days, 0 on weekends and holidays
    growth: np.ndarray
    ai_growth: np.ndarray

    def index(self, day: date) -> int:
        return (day - self.days[0]).days


@cache
def us_holidays(first: date, last: date) -> dict[date, str]:
    """US federal holidays (the `holidays` package) within [first, last]."""
    import holidays

    cal = holidays.country_holidays("US", years=range(first.year, last.year + 1))
    return {d: str(n) for d, n in sorted(cal.items()) if first <= d <= last}


def build_rhythm(spec: DemoSpec) -> Rhythm:
    n = spec.days
    days = [spec.first_day + timedelta(days=i) for i in range(n)]
    dow = np.array([d.weekday() for d in days])
    names = us_holidays(spec.first_day, spec.last_day)
    holiday = np.array([d in names for d in days])
    event = np.ones(n)
    for ev in spec.calendar_events:
        for i, d in enumerate(days):
            if ev.start <= d <= ev.end:
                event[i] *= ev.traffic
    t = np.arange(n) / 365.0
    growth = 1.0 + 0.22 * t
    ai_growth = 1.0 + 0.9 * t
    traffic = TRAFFIC_WEEKDAY[dow] * np.where(holiday, HOLIDAY_TRAFFIC, 1.0) * event * growth
    batch = BATCH_WEEKDAY[dow] * np.where(holiday, 0.6, 1.0) * (1.0 + 0.3 * t)
    workday = ((dow < 5) & ~holiday).astype(float)
    return Rhythm(days, dow, holiday, names, event, traffic, batch, workday, growth, ai_growth)
