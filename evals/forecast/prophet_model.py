"""Prophet with holidays + company events + a month-start regressor: the comparison model.

Imported only by the eval runner and the benchmark (prophet's import and first Stan call take seconds).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np

from tools.forecasting.features import CalendarInfo


def _holidays_frame(cal: CalendarInfo, start: dt.date, end: dt.date) -> Any:
    import pandas as pd

    from tools.calendar import event_days

    rows = [{"holiday": name, "ds": pd.Timestamp(day)} for day, name in cal.holidays.items()]
    for day, names in event_days(cal.events, start, end).items():
        rows += [{"holiday": name, "ds": pd.Timestamp(day)} for name in names]
    return pd.DataFrame(rows)


def prophet_forecast(
    start: dt.date, y: np.ndarray, horizon: int, cal: CalendarInfo
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit Prophet (multiplicative, holidays, month-start regressor) and return yhat, lo, hi (80%)."""
    import pandas as pd
    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    logging.getLogger("prophet").setLevel(logging.ERROR)
    n = len(y)
    ds = pd.date_range(pd.Timestamp(start), periods=n + horizon, freq="D")
    end = start + dt.timedelta(days=n + horizon - 1)
    model = Prophet(holidays=_holidays_frame(cal, start, end), seasonality_mode="multiplicative", interval_width=0.8)
    model.add_regressor("month_start", mode="multiplicative")
    frame = pd.DataFrame({"ds": ds, "month_start": (ds.day == 1).astype(float)})
    train = frame.iloc[:n].assign(y=y)
    model.fit(train)
    pred = model.predict(frame.iloc[n:])
    return (
        np.maximum(pred["yhat"].to_numpy(), 0.0),
        np.maximum(pred["yhat_lower"].to_numpy(), 0.0),
        np.maximum(pred["yhat_upper"].to_numpy(), 0.0),
    )
