"""The detector core: a seasonal, calendar-aware robust baseline over many daily series at once.

For each day ``t`` (vectorised over series):

- normal expectation: the median of the same weekday over the last four weeks of *cleaned* history
  (days already judged anomalous or special are replaced by their expectation, so one incident does
  not leak into the baseline);
- month-start days are compared with earlier month-start days (day-1 fees are normal);
- public holidays and company events are expected per their effect: the stated ``effect`` of a
  calendar event, else the ratio seen the last time that holiday/event occurred, else a wide band;
  their days never enter the history;
- scale: 1.4826 x MAD of the last 56 normal residuals (refreshed weekly), floored at 5% of the level;
- a day is flagged when it leaves the band ``expected +- k*scale`` *and* moves by at least the minimum
  daily impact in dollars *and* by at least ``min_pct`` of the expectation.

``zscore28`` is the comparison baseline: mean and standard deviation of the previous 28 raw days,
|z| > 3, with the same dollar and percentage gates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

WEEK_LAGS = (7, 14, 21, 28)
WARMUP = 35
RESID_WINDOW = 56
FLOOR_PCT = 0.05
EVENT_WIDEN = 0.5
MAX_GAP_DAYS = 1


@dataclass(frozen=True)
class Params:
    """Thresholds of the detector."""

    k: float = 4.0
    min_pct: float = 0.2
    min_abs: float = 25.0
    max_run: int = 28
    zscore: float = 3.0


@dataclass(frozen=True)
class DayKinds:
    """What the calendar says about every day of the panel."""

    month_start: np.ndarray  # bool[T]
    special: np.ndarray  # bool[T]: holiday or company event
    ratio: np.ndarray  # float[T]: stated effect (nan when unknown)
    previous: np.ndarray  # int[T]: index of the previous occurrence of the same holiday/event, -1 if none
    announced: np.ndarray  # bool[T]: a company event without a stated effect (a launch, a migration)
    labels: list[list[str]]


@dataclass
class Result:
    """Per series and day: expectation, band, and the flag (+1 above, -1 below, 0 normal)."""

    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    flag: np.ndarray
    restart: np.ndarray | None = None  # bool: a new level was accepted, a new run starts here


def day_kinds(
    days: list[dt.date], events: dict[dt.date, list[tuple[str, float | None]]], holidays: dict[dt.date, str]
) -> DayKinds:
    """Classify days: month starts, holidays and events (with stated effects and previous occurrences)."""
    n = len(days)
    month_start = np.array([d.day == 1 for d in days], dtype=bool)
    special = np.zeros(n, dtype=bool)
    ratio = np.full(n, np.nan)
    previous = np.full(n, -1, dtype=np.int64)
    announced = np.zeros(n, dtype=bool)
    labels: list[list[str]] = [[] for _ in days]
    seen: dict[str, list[int]] = {}
    for t, day in enumerate(days):
        names = list(events.get(day, []))
        if day in holidays:
            names.append((holidays[day], None))
        if not names:
            continue
        special[t] = True
        labels[t] = [name for name, _ in names]
        announced[t] = any(eff is None for _, eff in events.get(day, []))
        stated = [eff for _, eff in names if eff is not None]
        if stated:
            ratio[t] = float(np.prod(stated))
        for name, _ in names:
            earlier = [p for p in seen.get(name, []) if 300 <= t - p <= 400]
            if earlier and previous[t] < 0:
                previous[t] = min(earlier, key=lambda p: abs(t - p - 364))
            seen.setdefault(name, []).append(t)
    return DayKinds(month_start, special, ratio, previous, announced, labels)


def _nanmedian(a: np.ndarray) -> np.ndarray:
    """Row medians ignoring NaN (sort based: much faster than np.nanmedian on many short rows)."""
    s = np.sort(a, axis=1)
    n = (~np.isnan(a)).sum(axis=1)
    rows = np.arange(a.shape[0])
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    hi = np.minimum(hi, a.shape[1] - 1)
    out = (s[rows, lo] + s[rows, hi]) / 2.0
    return np.where(n > 0, out, np.nan)


def _median_lags(clean: np.ndarray, t: int) -> np.ndarray:
    s = np.sort(clean[:, [t - lag for lag in WEEK_LAGS]], axis=1)
    return np.asarray((s[:, 1] + s[:, 2]) / 2.0)


def _scale(resid: np.ndarray, t: int) -> np.ndarray:
    window = resid[:, max(0, t - RESID_WINDOW) : t]
    med = _nanmedian(window)
    mad = _nanmedian(np.abs(window - med[:, None])) * 1.4826
    return np.asarray(np.nan_to_num(mad, nan=0.0))


Tolerance = tuple[np.ndarray, np.ndarray, np.ndarray]  # expectation, extra room below, extra room above


def _expected(y: np.ndarray, normals: np.ndarray, norm: np.ndarray, kinds: DayKinds, t: int) -> Tolerance:
    """Expectation on day t and the extra tolerance below/above it for special days."""
    if kinds.month_start[t]:
        return _month_start(y, normals, norm, kinds, t)
    if not kinds.special[t]:
        zero = np.zeros_like(norm)
        return norm, zero, zero
    if not np.isnan(kinds.ratio[t]):
        # a stated effect: anything between the normal level and the stated one, with room on its side
        exp = norm * kinds.ratio[t]
        top, bottom = np.maximum(exp, norm), np.minimum(exp, norm)
        up, down = (EVENT_WIDEN, 0.1) if kinds.ratio[t] >= 1 else (0.1, EVENT_WIDEN)
        return exp, (exp - bottom) + down * np.abs(bottom), (top - exp) + up * np.abs(top)
    p = kinds.previous[t]
    if p >= WEEK_LAGS[-1]:
        with np.errstate(all="ignore"):
            seen = np.where(normals[:, p] > 0, y[:, p] / np.maximum(normals[:, p], 1e-9), 1.0)
        exp = norm * np.clip(seen, 0.2, 5.0)
        room = 0.25 * np.maximum(np.abs(exp), np.abs(norm)) + np.abs(exp - norm)
        return exp, room, room
    return norm, 0.7 * np.abs(norm), 0.6 * np.abs(norm)  # unknown effect (first holiday of its kind)


def _month_start(y: np.ndarray, normals: np.ndarray, norm: np.ndarray, kinds: DayKinds, t: int) -> Tolerance:
    """Day 1: the normal weekday level plus the month-start excess seen on earlier month starts."""
    starts = np.flatnonzero(kinds.month_start[:t])
    known = starts[starts >= WEEK_LAGS[-1]][-3:]
    if len(known):
        exp = norm + np.median(y[:, known] - normals[:, known], axis=1)
    elif len(starts):
        exp = np.median(y[:, starts[-3:]], axis=1)
    else:
        return norm, 0.5 * np.abs(norm), 0.5 * np.abs(norm)
    if kinds.special[t]:  # a holiday on the 1st (New Year): its effect is not known from month starts
        return exp, 0.7 * np.abs(exp), 0.6 * np.abs(exp)
    return exp, 0.1 * np.abs(exp), 0.1 * np.abs(exp)


def _weekday_scales(resid: np.ndarray, t0: int) -> np.ndarray:
    """(n, 7): robust scale of each upcoming weekday's residuals (days t0..t0+6) over eight weeks."""
    n = resid.shape[0]
    idx = np.array([[t0 + j - 7 * k for k in range(1, 9)] for j in range(7)])
    idx = np.clip(idx, 0, resid.shape[1] - 1)
    window = resid[:, idx].reshape(n * 7, 8)
    med = _nanmedian(window)
    mad = _nanmedian(np.abs(window - med[:, None])) * 1.4826
    return np.asarray(np.nan_to_num(mad, nan=0.0)).reshape(n, 7)


def seasonal(y: np.ndarray, kinds: DayKinds, params: Params) -> Result:
    """Run the calendar-aware robust detector over every series of ``y`` (n x T)."""
    n, t_len = y.shape
    expected = y.copy()
    low, high = y.copy(), y.copy()
    flag = np.zeros((n, t_len), dtype=np.int8)
    clean = y.copy()
    resid = np.full((n, t_len), np.nan)
    rel = np.full((n, t_len), np.nan)
    rel_sigma = np.zeros(n)
    run = np.zeros(n, dtype=np.int64)
    sigma = np.zeros(n)
    restart = np.zeros((n, t_len), dtype=bool)
    miss = np.zeros(n, dtype=np.int64)
    normals = y.copy()
    for t in range(WEEK_LAGS[-1], t_len):
        norm = _median_lags(clean, t)
        normals[:, t] = norm
        exp, below, above = _expected(y, normals, norm, kinds, t)
        if (t - WEEK_LAGS[-1]) % 7 == 0:
            sigma, rel_sigma = _scale(resid, t), _scale(rel, t)
            wd_abs, wd_rel, t0 = _weekday_scales(resid, t), _weekday_scales(rel, t), t
        abs_scale = np.maximum(sigma, wd_abs[:, t - t0])
        rel_scale = np.maximum(np.maximum(rel_sigma, wd_rel[:, t - t0]), FLOOR_PCT)
        band = params.k * np.maximum(abs_scale, rel_scale * np.abs(exp))
        lo, hi = exp - band - below, exp + band + above
        expected[:, t], low[:, t], high[:, t] = exp, np.maximum(lo, 0.0), hi
        if t < WARMUP:
            clean[:, t] = y[:, t] if not (kinds.special[t] or kinds.month_start[t]) else norm
            continue
        now = y[:, t]
        dev = np.where(now > hi, now - np.maximum(exp, norm), np.where(now < lo, now - np.minimum(exp, norm), 0.0))
        base = np.maximum(np.abs(exp), 1e-9)
        hit = (np.abs(dev) >= params.min_abs) & (np.abs(dev) >= params.min_pct * base) & (dev != 0)
        flag[:, t] = np.sign(dev) * hit
        miss = np.where(hit, 0, miss + 1)
        run = np.where(hit, run + 1, np.where(miss > MAX_GAP_DAYS, 0, run))  # one quiet day keeps a run
        special = bool(kinds.special[t] or kinds.month_start[t])
        clean[:, t] = np.where(hit | special, norm, now)
        if not special:
            resid[:, t] = np.where(hit, np.nan, now - norm)
            with np.errstate(divide="ignore", invalid="ignore"):
                rel[:, t] = np.where(hit | (np.abs(norm) < 1e-6), np.nan, (now - norm) / np.abs(norm))
        _accept_new_level(y, clean, run, t, params.max_run, restart)
    return Result(expected, low, high, flag, restart)


def _accept_new_level(
    y: np.ndarray, clean: np.ndarray, run: np.ndarray, t: int, max_run: int, restart: np.ndarray
) -> None:
    """After ``max_run`` anomalous days in a row the new level is the normal: restore its history."""
    done = np.flatnonzero(run >= max_run)
    if len(done):
        clean[done, t - max_run + 1 : t + 1] = y[done, t - max_run + 1 : t + 1]
        run[done] = 0
        if t + 1 < restart.shape[1]:
            restart[done, t + 1] = True


def zscore28(y: np.ndarray, params: Params) -> Result:
    """The comparison baseline: rolling 28-day mean/std z-score with the same dollar/percent gates."""
    n, t_len = y.shape
    expected, low, high = y.copy(), y.copy(), y.copy()
    flag = np.zeros((n, t_len), dtype=np.int8)
    if t_len <= WEEK_LAGS[-1]:
        return Result(expected, low, high, flag)
    win = np.lib.stride_tricks.sliding_window_view(y, 28, axis=1)[:, : t_len - 28]
    mu, sd = win.mean(axis=2), win.std(axis=2)
    cur = y[:, 28:]
    dev = cur - mu
    band = params.zscore * sd
    hit = (np.abs(dev) > band) & (np.abs(dev) >= params.min_abs) & (np.abs(dev) >= params.min_pct * np.abs(mu))
    hit[:, : max(0, WARMUP - 28)] = False
    expected[:, 28:], low[:, 28:], high[:, 28:] = mu, np.maximum(mu - band, 0), mu + band
    flag[:, 28:] = (np.sign(dev) * hit).astype(np.int8)
    return Result(expected, low, high, flag)


def may_flag(y: np.ndarray, min_abs: float) -> np.ndarray:
    """Series that can possibly be flagged: some day moves by min_abs from every same-weekday lag."""
    if y.shape[1] <= WEEK_LAGS[-1]:
        return np.zeros(y.shape[0], dtype=bool)
    moves = np.abs(y[:, 7:] - y[:, :-7])
    return np.asarray((moves >= min_abs).any(axis=1))
