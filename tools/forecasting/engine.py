"""One series -> forecast with 80% intervals and an in-sample rolling-origin backtest.

Intervals are split-conformal: the log errors of the model on rolling origins inside the history
(fitted on data before each origin, scored on the days after it) give the 10% and 90% quantiles.
The same origins score the seasonal-naive and run-rate baselines, so the reported backtest compares
all three on identical days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from tools.forecasting import baselines
from tools.forecasting.features import CalendarInfo, Design, calendar_design
from tools.forecasting.metrics import wape
from tools.forecasting.regression import RegressionConfig, RegressionFit, fit_predict

MIN_TRAIN_DAYS = 56
INNER_ORIGINS = 6
INNER_SPACING = 7
INNER_HORIZON = 30
Z80 = 1.2816
MODEL, SNAIVE = "calendar_regression", "seasonal_naive"
SWITCH_RATIO = 0.75
# conformal quantiles of the backtest log errors; nominal 80% covered ~75% out of sample (origins inside
# the history see less data and calmer periods), so the levels are set wider: see evals/forecast
Q_LO, Q_HI = 0.08, 0.92


@dataclass
class Backtest:
    """WAPE of the model and the baselines on the same rolling origins inside the history."""

    origins: int = 0
    wape: float | None = None
    seasonal_naive: float | None = None
    run_rate: float | None = None


@dataclass
class SeriesForecast:
    """Daily forecast with 80% intervals for one series."""

    start: dt.date  # first forecast day
    yhat: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    total: float
    total_lo: float
    total_hi: float
    backtest: Backtest
    fit: RegressionFit
    design: Design
    sd_day: float = 0.0
    sd_level: float = 0.0
    bt_horizon: int = INNER_HORIZON
    log_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    method: str = "calendar_regression"  # or "seasonal_naive" when it won the backtest clearly

    def window(self, a: int, b: int) -> tuple[float, float, float]:
        """Sum of forecast days [a, b) with an 80% interval (level error grows past the backtest horizon)."""
        total = float(self.yhat[a:b].sum())
        length = max(b - a, 1)
        sd = float(np.sqrt(self.sd_level**2 * max(b / self.bt_horizon, 1.0) + self.sd_day**2 / length))
        return total, total * float(np.exp(-Z80 * sd)), total * float(np.exp(Z80 * sd))


def inner_origins(n: int, horizon: int, k: int = INNER_ORIGINS, spacing: int = INNER_SPACING) -> list[int]:
    """Training lengths for the rolling origins: the last ends ``horizon`` days before the cutoff."""
    out = [n - horizon - spacing * j for j in range(k)]
    return sorted(o for o in out if o >= MIN_TRAIN_DAYS)


def _log_err(y: np.ndarray, yhat: np.ndarray, c: float) -> np.ndarray:
    return np.asarray(np.log((np.maximum(y, 0.0) + c) / (np.maximum(yhat, 0.0) + c)))


def forecast_series(
    start: dt.date,
    y: np.ndarray,
    horizon: int,
    cal: CalendarInfo,
    cfg: RegressionConfig | None = None,
    backtest: bool = True,
) -> SeriesForecast:
    """Forecast ``horizon`` days after ``y`` (daily values from ``start``), with intervals and a backtest.

    The calendar regression is the model unless seasonal naive beat it clearly on the same backtest
    origins (WAPE below ``SWITCH_RATIO`` x the regression's): then the series is forecast seasonal-naive.
    """
    n = len(y)
    design = calendar_design(start, n, n + horizon, cal)
    fit = fit_predict(y, design, horizon, cfg)
    c = fit.offset_c
    bt_h = min(horizon, INNER_HORIZON)
    acts: list[np.ndarray] = []
    preds: dict[str, list[np.ndarray]] = {MODEL: [], SNAIVE: [], "run_rate": []}
    for o in inner_origins(n, bt_h) if backtest else []:
        d = calendar_design(start, o, o + bt_h, cal)
        acts.append(y[o : o + bt_h])
        preds[MODEL].append(fit_predict(y[:o], d, bt_h, cfg).yhat)
        preds[SNAIVE].append(baselines.seasonal_naive(y[:o], bt_h))
        preds["run_rate"].append(baselines.run_rate(y[:o], bt_h))
    bt = Backtest(origins=len(acts))
    method = MODEL
    if acts:
        a = np.concatenate(acts)
        bt.wape = wape(a, np.concatenate(preds[MODEL]))
        bt.seasonal_naive = wape(a, np.concatenate(preds[SNAIVE]))
        bt.run_rate = wape(a, np.concatenate(preds["run_rate"]))
        if len(acts) >= 3 and bt.seasonal_naive < SWITCH_RATIO * bt.wape:
            method = SNAIVE
    yhat = fit.yhat if method == MODEL else baselines.seasonal_naive(y, horizon)
    errs = [_log_err(act, pred, c) for act, pred in zip(acts, preds[method], strict=True)]
    tot = np.array([np.log((act.sum() + c) / (pred.sum() + c)) for act, pred in zip(acts, preds[method], strict=True)])
    e = np.concatenate(errs) if errs else np.zeros(0)
    lo, hi, sd_day = _daily_intervals(yhat, c, fit.fitted_resid, e, horizon, bt_h)
    sd_tot = float(np.sqrt(np.mean(tot**2))) if len(tot) else sd_day
    sd_level = float(np.sqrt(max(sd_tot**2 - sd_day**2 / bt_h, 0.0)))
    out = SeriesForecast(
        start=start + dt.timedelta(days=n),
        yhat=yhat,
        lo=lo,
        hi=hi,
        total=0.0,
        total_lo=0.0,
        total_hi=0.0,
        backtest=bt,
        fit=fit,
        design=design,
        sd_day=sd_day,
        sd_level=sd_level,
        bt_horizon=bt_h,
        log_errors=e,
        method=method,
    )
    out.total, out.total_lo, out.total_hi = out.window(0, horizon)
    return out


def _daily_intervals(
    yhat: np.ndarray, c: float, fitted_resid: np.ndarray, e: np.ndarray, horizon: int, bt_h: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """80% daily intervals from conformal log-error quantiles, widened past the backtest horizon."""
    if len(e) >= 20:
        q_lo, q_hi = (float(v) for v in np.quantile(e, [Q_LO, Q_HI]))
    else:  # too little history for a backtest: in-sample residuals, widened
        q_lo, q_hi = (1.5 * float(v) for v in np.quantile(fitted_resid, [0.1, 0.9]))
    h = np.arange(1, horizon + 1, dtype=float)
    widen = np.sqrt(np.maximum(h / bt_h, 1.0))
    base = yhat + c
    lo = np.maximum(base * np.exp(q_lo * widen) - c, 0.0)
    hi = np.maximum(base * np.exp(q_hi * widen) - c, 0.0)
    return lo, hi, (q_hi - q_lo) / (2 * Z80)
