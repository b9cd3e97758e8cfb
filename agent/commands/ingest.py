"""`finops ingest PATH…`: load FOCUS 1.0-1.3 or AWS CUR files (CSV, CSV.gz, Parquet)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.commands._common import emit_json, json_option, note, tool_context


@click.command(name="ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--lenient", is_flag=True, help="Store values that cannot be read as NULL (reported) instead of failing.")
@click.option("--no-replace", is_flag=True, help="Append even when a file re-delivers a billing period already loaded.")
@click.option(
    "--encoding", default="utf-8", show_default=True, help="Text encoding of CSV files (utf-8, latin-1, utf-16)."
)
@json_option
@click.pass_context
def command(
    ctx: click.Context, paths: tuple[str, ...], lenient: bool, no_replace: bool, encoding: str, as_json: bool
) -> None:
    """Load billing files, directories or globs into the home database.

    Idempotent (a file already loaded changes nothing), transactional (a bad file leaves the
    database exactly as before) and replacing (a re-delivered export replaces its billing period).

    \b
    Examples:
      finops ingest exports/focus-2026-10.csv.gz
      finops ingest 's3-sync/cur/**/*.parquet'
      finops ingest ../shared/data --lenient --json
    """
    from tools.billing.ingest import ingest_paths

    tctx = tool_context(ctx)
    summary = ingest_paths(
        tctx,
        [Path(p) for p in paths],
        progress=not as_json and sys.stderr.isatty(),
        replace=not no_replace,
        encoding=encoding,
        lenient=lenient,
    )
    if as_json:
        emit_json(summary)
        return
    loaded = [f for f in summary.files if not f.skipped]
    skipped = [f for f in summary.files if f.skipped]
    from agent.render import print_table

    if loaded:
        print_table(
            ["file", "format", "FOCUS", "rows", "periods", "providers", "replaced"],
            [
                [
                    Path(f.path).name,
                    f.format,
                    f.focus_version or "",
                    f.rows,
                    ", ".join(f.billing_periods[:3]),
                    ", ".join(f.providers),
                    f.replaced_rows,
                ]
                for f in loaded
            ],
            title=f"Loaded {summary.rows:,} rows from {len(loaded)} file(s)",
        )
    else:
        click.echo("Nothing new to load.")
    if skipped:
        note(f"{len(skipped)} file(s) skipped (already loaded or not billing data)")
    for w in summary.warnings:
        note(f"warning: {w}")
    click.echo(f"{summary.total_rows_in_store:,} rows in {tctx.db_path}")
