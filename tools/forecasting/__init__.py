"""Forecasting internals: calendar design matrix, the calendar regression, baselines, backtests.

The public entry point is :func:`tools.forecast.forecast`; these modules are numpy-only (Prophet is
imported lazily and only by the benchmark/eval comparison in :mod:`tools.forecasting.prophet_model`).
"""
