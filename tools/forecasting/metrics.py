"""Forecast accuracy: WAPE, MAPE and interval coverage."""

from __future__ import annotations

import numpy as np


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |y - yhat| / sum |y|."""
    denom = float(np.sum(np.abs(y)))
    return float(np.sum(np.abs(y - yhat)) / denom) if denom > 0 else float("nan")


def mape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Mean absolute percentage error over days with y != 0."""
    mask = y != 0
    return float(np.mean(np.abs((y[mask] - yhat[mask]) / y[mask]))) if mask.any() else float("nan")


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of actuals inside [lo, hi]."""
    return float(np.mean((y >= lo) & (y <= hi))) if len(y) else float("nan")
