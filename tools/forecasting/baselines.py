"""The baselines every forecast is measured against in the same run.

- seasonal naive: the last full week repeated (y[t] = y[t - 7k]).
- run rate: the mean daily spend of the last 28 days, held flat (what most tools call a linear
  run-rate: cumulative spend grows linearly at the recent daily rate; 28 days keep weekdays balanced).
"""

from __future__ import annotations

import numpy as np

RUN_RATE_DAYS = 28


def seasonal_naive(y: np.ndarray, horizon: int, season: int = 7) -> np.ndarray:
    """Repeat the last ``season`` days."""
    last = y[-season:]
    reps = -(-horizon // season)
    return np.tile(last, reps)[:horizon].astype(float)


def run_rate(y: np.ndarray, horizon: int, window: int = RUN_RATE_DAYS) -> np.ndarray:
    """The recent mean daily spend, flat."""
    return np.full(horizon, float(np.mean(y[-window:])))
