"""Daily quantities and costs of every billed line (resource x meter), vectorised over the period."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.billing.demo.catalogue import SP_RATE, SPOT_RATE, rng_for
from tools.billing.demo.model import Meter, Resource
from tools.billing.demo.org import Org
from tools.billing.demo.rhythm import TRAFFIC_WEEKDAY, Rhythm


@dataclass
class Usage:
    """Line-by-day matrices (L x D) plus the Savings Plan's daily commitment and use."""

    lines: list[tuple[Resource, Meter]]
    qty: np.ndarray
    list_cost: np.ndarray
    effective: np.ndarray
    billed: np.ndarray
    sp_commit_daily: float
    sp_used: np.ndarray

    def daily_effective(self) -> np.ndarray:
        return np.asarray(self.effective.sum(axis=0))


def driver_factors(rhythm: Rhythm) -> dict[str, np.ndarray]:
    n = len(rhythm.days)
    t = np.arange(n) / 365.0
    customer = rhythm.traffic / rhythm.growth
    return {
        "flat": np.ones(n),
        "traffic": rhythm.traffic,
        "batch": rhythm.batch,
        "workday": rhythm.workday,
        "storage": 1.0 + 0.35 * t,
        "ai": rhythm.ai_growth * customer,
        "ai_work": rhythm.ai_growth * np.maximum(rhythm.workday, 0.12) * TRAFFIC_WEEKDAY[0],
    }


def window_fraction(start: float, end: float | None, n: int) -> np.ndarray:
    """Share of each day d (in [d, d+1)) inside the window [start, end)."""
    d = np.arange(n, dtype=float)
    hi = np.minimum(end if end is not None else np.inf, d + 1.0)
    lo = np.maximum(start, d)
    return np.asarray(np.clip(hi - lo, 0.0, 1.0))


def line_quantity(res: Resource, m: Meter, factors: dict[str, np.ndarray], seed: int) -> np.ndarray:
    n = len(factors["flat"])
    if m.explicit is not None:
        q = m.explicit.astype(float).copy()
    else:
        start = res.start if m.start is None else max(res.start, m.start)
        end = res.end if m.end is None else (m.end if res.end is None else min(res.end, m.end))
        q = m.base * factors[m.driver] * window_fraction(start, end, n)
    for s, e, factor in m.mult_windows:
        q *= 1.0 + (factor - 1.0) * window_fraction(s, e, n)
    for s, e, amount in m.add_windows:
        q += amount * window_fraction(s, e, n) * factors["batch"] * (q > 0)
    if m.noise > 0:
        q *= rng_for(seed, "noise", res.rid, m.key).lognormal(0.0, m.noise, n)
    if m.cap is not None:
        q = np.minimum(q, m.cap)
    return np.asarray(q)


def compute_usage(org: Org) -> Usage:
    factors = driver_factors(org.rhythm)
    lines = [(r, m) for r in org.resources for m in r.meters]
    qty = np.vstack([line_quantity(r, m, factors, org.spec.seed) for r, m in lines])
    qty = np.round(qty, 6)
    price = np.array([m.price / m.block for _, m in lines])
    rate = np.array([SP_RATE if m.covered else SPOT_RATE if m.spot else 1.0 for _, m in lines])
    covered = np.array([m.covered for _, m in lines])
    list_cost = qty * price[:, None]
    effective = list_cost * rate[:, None]
    billed = np.where(covered[:, None], 0.0, effective)
    sp_used = effective[covered].sum(axis=0) if covered.any() else np.zeros(qty.shape[1])
    commit = float(np.ceil(sp_used.max() * 1.04 / 24.0 * 100) / 100 * 24.0) if covered.any() else 0.0
    return Usage(lines, qty, list_cost, effective, billed, commit, sp_used)
