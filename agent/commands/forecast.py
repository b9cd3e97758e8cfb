"""`finops forecast`: calendar-aware forecast with intervals, the method and a backtest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, settings

if TYPE_CHECKING:
    from tools.forecast import ForecastResult

BLOCKS = "▁▂▃▄▅▆▇█"
CHART_HISTORY_DAYS = 42


@click.command("forecast")
@click.option("--horizon", type=click.IntRange(1, 366), default=30, show_default=True, help="Days to forecast.")
@click.option("--by", "by", default=None, help="Split by a FOCUS column (ServiceName, SubAccountId, ...) or tag:KEY.")
@click.option(
    "--calendar",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Company events, YAML or .ics (default: the configured calendar, or the demo's).",
)
@click.option("--country", default=None, help="Public holidays of this country (ISO code, e.g. US, DE-BY).")
@click.option("--budget", type=float, default=None, help="Monthly budget in USD (a quarter compares with 3x).")
@click.option(
    "--draft-calendar",
    "notes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Instead of forecasting: draft calendar events from free-text notes in this file with the LLM "
    "(metered; prints YAML for review, saves nothing).",
)
@click.option("--provider", default="auto", show_default=True, help="LLM provider for --draft-calendar.")
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    horizon: int,
    by: str | None,
    calendar: Path | None,
    country: str | None,
    budget: float | None,
    notes: Path | None,
    provider: str,
    as_json: bool,
) -> None:
    """Forecast daily spend with 80% intervals, month-end and quarter-end projections and a backtest."""
    from tools.forecast import forecast

    cfg = settings(ctx)
    tctx = cfg.tool_context()
    if notes is not None:
        draft_from_notes(cfg, tctx, notes, provider, as_json)
        return
    ensure_data(tctx, quiet=as_json)
    result = forecast(tctx, horizon, by=by, calendar_path=calendar, country=country or cfg.country, budget_usd=budget)
    if as_json:
        emit_json(result.json_doc())
    else:
        render(result)


def draft_from_notes(cfg: Any, tctx: Any, notes: Path, provider: str, as_json: bool) -> None:
    """--draft-calendar: one metered LLM call, YAML (or the JSON draft) on stdout for review."""
    from agent.workflows.calendar_notes import draft_calendar, drafter

    client, meter, model = drafter(cfg, tctx, provider)
    draft = draft_calendar(notes.read_text(encoding="utf-8"), client=client, meter=meter, model=model)
    for line in draft.notes + [f"dropped: {d.raw or '?'} ({d.problem})" for d in draft.dropped]:
        note(line)
    note(f"{len(draft.events)} event(s) drafted with {model}: ${draft.cost_usd:.4f}; review, then save as --calendar")
    if as_json:
        emit_json(draft)
    else:
        click.echo(draft.yaml, nl=False)


def render(r: ForecastResult) -> None:
    """Human output: projections (vs budget), method, calendar, backtest, chart and parts."""
    from agent.render import console, money

    out = console()
    total = r.series[0]
    first = total.points[0].date
    out.print(
        f"[bold]Forecast[/bold] {first} to {total.points[-1].date}: {money(total.total)} "
        f"(80%: {money(total.total_lo)} to {money(total.total_hi)})"
    )
    out.print(f"[dim]{r.method}.[/dim]", soft_wrap=True)
    if r.unsettled_days:
        days = ", ".join(f"{u.date} ({money(u.cost)} of ~{money(u.expected)})" for u in r.unsettled_days)
        out.print(
            f"[yellow]Unsettled (billing lag), excluded from fitting and forecast instead:[/yellow] {days}",
            soft_wrap=True,
        )
    _projections(r)
    out.print(sparkline(r))
    if r.events_used:
        out.print("Calendar in the horizon: " + "; ".join(_event_text(e) for e in r.events_used), soft_wrap=True)
    bt = r.backtest
    if bt.wape is not None:
        base = bt.baseline_wape
        out.print(
            f"Backtest ({bt.origins} origins, same days): WAPE {_pct(bt.wape)} vs seasonal-naive "
            f"{_pct(base.get('seasonal_naive'))} and run-rate {_pct(base.get('run_rate'))}"
        )
    if len(r.series) > 1:
        _parts(r)


def _projections(r: ForecastResult) -> None:
    from agent.render import money, print_table

    rows: list[list[Any]] = []
    for p in r.projections:
        row: list[Any] = [
            p.period,
            money(p.actual),
            money(p.forecast),
            money(p.total),
            f"{money(p.lo)} – {money(p.hi)}",
        ]
        if p.budget is not None:
            gap = p.total - p.budget
            row += [money(p.budget), f"{'+' if gap >= 0 else '-'}{money(abs(gap))} ({gap / p.budget:+.0%})"]
        rows.append(row)
    cols = ["period", "actual so far", "forecast rest", "projected", "80% range"]
    if r.budget_usd is not None:
        cols += ["budget", "vs budget"]
    print_table(cols, rows, title="Month-end and quarter-end projection")


def _parts(r: ForecastResult) -> None:
    from agent.render import money, print_table

    total = r.series[0].total or 1.0
    rows = [
        [s.key, money(s.total), f"{money(s.total_lo)} – {money(s.total_hi)}", f"{s.total / total:.0%}"]
        for s in r.series[1:]
    ]
    print_table([r.by or "part", "forecast", "80% range", "share"], rows, title=f"By {r.by} ({r.reconciliation})")


def _event_text(e: Any) -> str:
    when = f"{e.dates[0]}" + (f"..{e.dates[-1]}" if len(e.dates) > 1 else "")
    if e.source == "learned":
        how = f"{e.effect} learned from {e.past_days} past day{'s' if e.past_days != 1 else ''}"
    elif e.source == "stated":
        how = f"{e.effect} as stated (no past occurrence)"
    else:
        how = "no effect (no past occurrence, none stated)"
    return f"{e.name} {when} {how}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def sparkline(r: ForecastResult) -> Any:
    """Recent actuals (dim) then the forecast (cyan), one unicode block per day, on one scale."""
    from rich.text import Text

    from agent.render import money

    hist = r.history[-CHART_HISTORY_DAYS:]
    fc = r.series[0].points
    values = [h.cost for h in hist] + [p.yhat for p in fc]
    low, top = min(values), max(values)
    span = (top - low) or 1.0
    text = Text()
    for i, v in enumerate(values):
        block = BLOCKS[min(int((v - low) / span * (len(BLOCKS) - 1) + 0.5), len(BLOCKS) - 1)]
        if i < len(hist):
            text.append(block, style="dim" if hist[i].settled else "yellow")
        else:
            text.append(block, style="cyan")
    text.append(f"  {money(low)} to {money(top)} a day; actual (dim), forecast (cyan)")
    return text
