"""`finops …`: thin commands that parse arguments, call the core and render.

Commands live one per module in :mod:`agent.commands` and are imported only when run, so that
``finops --help`` loads neither duckdb nor any LLM SDK, mcp or textual. Exit codes: 0 ok,
1 unexpected failure, 2 bad input, 3 budget exhausted; errors are one line on stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import click

# name -> (module, one-line help). The help is here so `finops --help` imports no command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("agent.commands.ask", "Answer a question about spend in words, a table and the SQL behind it."),
    "sql": ("agent.commands.sql", "Run read-only SQL through the guard; --dialect prints it transpiled."),
    "schema": ("agent.commands.schema", "Show the schema the LLM sees (columns, types, meanings, samples)."),
    "ingest": ("agent.commands.ingest", "Load FOCUS 1.0-1.3 or AWS CUR files (CSV, CSV.gz, Parquet)."),
    "demo": ("agent.commands.demo", "Generate and load the deterministic demo organisation."),
    "usecases": ("agent.commands.usecases", "List and run the FinOps Foundation's FOCUS use cases."),
    "anomalies": ("agent.commands.anomalies", "Detect cost anomalies and explain them with evidence."),
    "tags": ("agent.commands.tags", "Suggest tags for untagged resources; weekly tagging run."),
    "policies": ("agent.commands.policies", "Review queue of Cloud Custodian policies: list, show, approve."),
    "forecast": ("agent.commands.forecast", "Calendar-aware forecast with intervals and a backtest."),
    "usage": ("agent.commands.usage", "The agent's own LLM calls, tokens, cost and budget left."),
    "mcp": ("agent.commands.mcp", "Serve the tools over MCP (stdio or streamable HTTP)."),
    "tui": ("agent.commands.tui", "Open the terminal app."),
    "eval": ("agent.commands.eval", "Run an eval set and report accuracy, tokens and cost."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _module_exists(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        command = importlib.import_module(entry[0]).command
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module: str) -> bool:
    path = Path(__file__).parent / "commands" / (module.rsplit(".", 1)[-1] + ".py")
    return path.exists()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the database, usage ledger and policy queue (env FINOPS_HOME, default ~/.finops-agent).",
)
@click.version_option(package_name="finops-agent", prog_name="finops")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """finops: ask about cloud and AI spend; every answer shows its SQL, every action is a policy file."""
    ctx.obj = {"home": home}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps errors to one stderr line and an exit code."""
    from tools.errors import FinopsError

    try:
        result = cli.main(args=argv, prog_name="finops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except FinopsError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # an unexpected bug: one line, then the traceback only on request
        if os.environ.get("FINOPS_DEBUG"):
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {exc} (set FINOPS_DEBUG=1 for a traceback)", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def run(argv: list[str]) -> Any:  # pragma: no cover - convenience for python -m
    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
