"""Forecast evals: rolling-origin backtests on seeded synthetic series and on the demo org."""
