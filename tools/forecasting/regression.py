"""The calendar regression: a log-linear ridge on calendar columns plus level shifts and a local trend.

Stage 1 fits log(cost) on weekday, month-start, holiday and event indicators, a linear trend and detected
level shifts (robust: Huber-weighted least squares; calendar coefficients shrink toward a stated effect).
Stage 2 removes the calendar from the series and fits a local linear level on the recent days since the
last level shift (exponentially weighted), which carries the forecast forward. Everything is numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.forecasting.features import Design


@dataclass(frozen=True)
class RegressionConfig:
    """Tuning of the calendar regression (defaults chosen by the backtests in evals/forecast)."""

    ridge_weekday: float = 0.5
    fit_halflife: float = 0.0  # stage-1 recency weighting (0: none)
    fit_weight_floor: float = 0.25
    ridge_calendar: float = 0.3
    level_halflife: float = 28.0
    level_window: int = 91
    min_level_days: int = 21
    slope: str = "local"  # local | global | none
    slope_damping: float = 0.5
    max_shifts: int = 3
    shift_threshold: float = 6.0
    min_segment: int = 21
    huber_k: float = 2.0
    biweight_c: float = 4.685
    irls_iterations: int = 3


@dataclass
class RegressionFit:
    """A fitted model: forecast in log space plus what the report needs."""

    yhat: np.ndarray  # (horizon,)
    fitted_resid: np.ndarray  # in-sample log residuals (training days)
    shifts: list[int] = field(default_factory=list)  # training-day indices where the level shifted
    coef: dict[str, float] = field(default_factory=dict)  # calendar coefficients (log effects)
    offset_c: float = 0.0


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray, penalty: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Weighted ridge toward ``prior``: argmin sum w (y - Xb)^2 + sum penalty (b - prior)^2."""
    Xw = X * w[:, None]
    A = X.T @ Xw + np.diag(penalty)
    rhs = Xw.T @ y + penalty * prior
    try:
        return np.asarray(np.linalg.solve(A, rhs))
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.lstsq(A, rhs, rcond=None)[0])


def _robust_fit(
    X: np.ndarray,
    y: np.ndarray,
    penalty: np.ndarray,
    prior: np.ndarray,
    base_w: np.ndarray,
    cfg: RegressionConfig,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Huber IRLS around the weighted ridge; rows flagged in ``keep`` (calendar days) are never down-weighted."""
    keep = np.zeros(len(y), dtype=bool) if keep is None else keep
    w = base_w.copy()
    b = _wls(X, y, w, penalty, prior)
    for _ in range(cfg.irls_iterations):
        r = y - X @ b
        scale = 1.4826 * float(np.median(np.abs(r - np.median(r)))) or 1e-9
        u = np.abs(r) / (cfg.huber_k * scale)
        w = base_w * np.where((u <= 1.0) | keep, 1.0, 1.0 / np.maximum(u, 1e-12))
        b = _wls(X, y, w, penalty, prior)
    return b


def robust_sd(r: np.ndarray) -> float:
    """Noise scale from first differences (insensitive to level shifts and slow trends)."""
    if len(r) < 3:
        return float(np.std(r)) or 1e-9
    d = np.diff(r)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0)) or 1e-9


def detect_shifts(r: np.ndarray, cfg: RegressionConfig) -> list[int]:
    """Level shifts in a residual series by binary segmentation of the CUSUM statistic."""
    n = len(r)
    sd = robust_sd(r)
    segments = [(0, n)]
    shifts: list[int] = []
    for _ in range(cfg.max_shifts):
        best: tuple[float, int, int] | None = None
        for a, b in segments:
            m = b - a
            if m < 2 * cfg.min_segment:
                continue
            seg = r[a:b]
            cs = np.cumsum(seg - seg.mean())[:-1]
            k = np.arange(1, m)
            stat = np.abs(cs) / np.sqrt(k * (m - k) / m)
            stat[: cfg.min_segment - 1] = 0.0
            stat[m - cfg.min_segment :] = 0.0
            j = int(np.argmax(stat))
            if best is None or stat[j] > best[0]:
                best = (float(stat[j]), a + j + 1, a)
        if best is None or best[0] / sd < cfg.shift_threshold:
            break
        _, cut, a = best
        seg_end = next(b for s, b in segments if s == a)
        segments.remove((a, seg_end))
        segments += [(a, cut), (cut, seg_end)]
        shifts.append(cut)
    return sorted(shifts)


def _step_columns(n_total: int, shifts: list[int]) -> np.ndarray:
    cols = [(np.arange(n_total) >= s).astype(float) for s in shifts]
    return np.column_stack(cols) if cols else np.zeros((n_total, 0))


def log_transform(y: np.ndarray) -> tuple[np.ndarray, float]:
    """log(y + c) with c = 1% of the median positive value (parts of a total can have zero days)."""
    pos = y[y > 0]
    c = 0.01 * float(np.median(pos)) if len(pos) else 1.0
    return np.log(np.maximum(y, 0.0) + c), c


def fit_predict(y: np.ndarray, design: Design, horizon: int, cfg: RegressionConfig | None = None) -> RegressionFit:
    """Fit on ``y`` (the design's training days) and forecast the next ``horizon`` days."""
    cfg = cfg or RegressionConfig()
    n = design.n_train
    assert len(y) == n and design.n_total >= n + horizon
    ly, c = log_transform(y)
    ly_adj = ly - design.offset[:n]
    t = np.arange(design.n_total) / 365.0
    cal = design.X
    kinds = design.kinds
    cal_pen = np.array([cfg.ridge_weekday if k in ("weekday", "month_start") else cfg.ridge_calendar for k in kinds])
    age = np.arange(n)[::-1].astype(float)
    base_w = np.maximum(0.5 ** (age / cfg.fit_halflife), cfg.fit_weight_floor) if cfg.fit_halflife else np.ones(n)
    special_cols = [i for i, k in enumerate(kinds) if k in ("holiday", "event", "month_start")]
    special = np.asarray(cal[:n, special_cols].any(axis=1)) if special_cols else np.zeros(n, dtype=bool)

    def fit(shifts: list[int]) -> tuple[np.ndarray, np.ndarray]:
        X = np.column_stack([np.ones(design.n_total), t, _step_columns(design.n_total, shifts), cal])
        k0 = 2 + len(shifts)
        pen = np.concatenate([np.full(k0, 1e-6), cal_pen])
        prior = np.concatenate([np.zeros(k0), design.prior])
        return _robust_fit(X[:n], ly_adj, pen, prior, base_w, cfg, special), X

    b, X = fit([])
    shifts = detect_shifts(ly_adj - X[:n] @ b, cfg) if n >= 2 * cfg.min_segment else []
    if shifts:
        b, X = fit(shifts)
    k0 = 2 + len(shifts)
    b_cal = b[k0:]
    cal_effect = cal @ b_cal + design.offset
    z = ly - cal_effect[:n]  # calendar removed: level + trend + noise
    level, slope = _local_level(z, shifts, cfg)
    if cfg.slope == "global":
        slope = float(b[1]) / 365.0
    elif cfg.slope == "none":
        slope = 0.0
    h = np.arange(1, horizon + 1, dtype=float)
    path = level + slope * _damped_steps(h, cfg.slope_damping, horizon)
    log_hat = path + cal_effect[n : n + horizon]
    yhat = np.maximum(np.exp(log_hat) - c, 0.0)
    resid = ly_adj - X[:n] @ b
    coef = {name: float(v) for name, v in zip(design.names, b_cal, strict=True)}
    return RegressionFit(yhat=yhat, fitted_resid=resid, shifts=shifts, coef=coef, offset_c=c)


def _damped_steps(h: np.ndarray, damping: float, horizon: int) -> np.ndarray:
    """Trend steps for horizons h: full slope for damping 1, fading slope for damping < 1."""
    if damping >= 1.0:
        return h
    # slope decays linearly to `damping` of its value at the end of a 30-day horizon
    span = max(horizon, 30)
    rate = (1.0 - damping) / span
    return np.asarray(h - rate * h * (h + 1) / 2.0)


def _local_level(z: np.ndarray, shifts: list[int], cfg: RegressionConfig) -> tuple[float, float]:
    """Level at the last training day and the local slope, from the days since the last shift.

    Exponentially weighted line fitted with Tukey's biweight on the series' own noise scale, started
    from the recent median: a multi-day incident inside the window (a minority of days) gets weight 0
    instead of dragging the level, while a level shift has already cut the window at its start.
    """
    n = len(z)
    start = max(n - cfg.level_window, shifts[-1] if shifts else 0)
    start = min(start, max(n - cfg.min_level_days, 0))
    zz = z[start:]
    m = len(zz)
    age = np.arange(m)[::-1].astype(float)
    decay = 0.5 ** (age / cfg.level_halflife)
    X = np.column_stack([np.ones(m), -age])
    scale = max(robust_sd(z), 1e-6)
    b = np.array([float(np.median(zz[-min(m, 28) :])), 0.0])
    for _ in range(6):
        u = (zz - X @ b) / (cfg.biweight_c * scale)
        w = decay * np.where(np.abs(u) < 1.0, (1.0 - u**2) ** 2, 0.0)
        if w.sum() < 0.2 * decay.sum():  # nothing fits: fall back to the plain weighted fit
            w = decay
        b = _wls(X, zz, w, np.array([1e-6, 1e-6]), np.zeros(2))
    return float(b[0]), float(b[1])
