"""`finops demo`: generate the deterministic demo organisation and load it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.commands._common import emit_json, json_option, note, tool_context


@click.command(name="demo")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed, same org.")
@click.option(
    "--scale",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="small ~120k daily rows; medium ~1M daily rows; large >=10M hourly rows.",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write every file (FOCUS Parquet + CSV, CloudTrail logs, git repo, calendar, manifest) here.",
)
@click.option("--force", is_flag=True, help="Regenerate even when the same seed and scale are already there.")
@json_option
@click.pass_context
def command(ctx: click.Context, seed: int, scale: str, export_dir: Path | None, force: bool, as_json: bool) -> None:
    """Generate the demo org (13 months of FOCUS data incl. AI spend, CloudTrail, git history,
    calendar) into <home>/demo and load it, replacing a previous demo (the same seed and scale
    already there are reused; --force regenerates).

    \b
    Examples:
      finops demo
      finops demo --seed 7 --scale medium --json
      finops demo --export ./acme-demo
    """
    from tools.billing.demo import export_demo, load_demo

    tctx = tool_context(ctx)
    progress = not as_json and sys.stderr.isatty()
    if not as_json:
        note(f"demo org (seed {seed}, scale {scale}) in {tctx.demo_dir} ...")
    summary = load_demo(tctx, seed=seed, scale=scale, progress=progress, force=force)
    if export_dir is not None:
        summary.export_dir = export_demo(tctx.demo_dir, export_dir).resolve()
    if as_json:
        emit_json(summary)
        return
    _print_human(summary)


def _print_human(summary: object) -> None:
    from agent.render import print_table
    from tools.billing.demo import DemoSummary

    assert isinstance(summary, DemoSummary)
    click.echo(
        f"Demo org loaded: {summary.rows:,} FOCUS rows, {summary.resources:,} resources, "
        f"{summary.first_day} to {summary.last_day} ({', '.join(summary.providers)})"
    )
    total = sum(summary.monthly_cost.values())
    rows: list[list[object]] = [[month, cost] for month, cost in summary.monthly_cost.items()]
    rows.append(["total", total])
    print_table(["month", "effective cost"], rows, title="Monthly spend (EffectiveCost)")
    click.echo(f"CloudTrail logs : {summary.cloudtrail_dir} ({summary.cloudtrail_files:,} files)")
    click.echo(f"git repository  : {summary.git_repo} ({summary.commits:,} commits)")
    click.echo(f"calendar        : {summary.calendar_path}")
    click.echo(f"ground truth    : {summary.manifest_path} (for evals only)")
    if summary.export_dir is not None:
        click.echo(f"exported to     : {summary.export_dir} (focus/*.parquet, focus-csv/*.csv, cloudtrail/, ...)")
    made = (
        "reused (same seed and scale; --force regenerates)"
        if summary.reused
        else (f"generated in {summary.generate_seconds:.1f} s")
    )
    click.echo(f"{made}; loaded in {summary.load_seconds:.1f} s")
