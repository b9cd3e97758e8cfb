"""`finops mcp`: serve the tools over MCP (stdio for Claude Desktop and friends, or streamable HTTP)."""

from __future__ import annotations

import functools
import os
from typing import Any

import click

from agent.commands._common import json_option, note, settings


class _DemoLoader:
    """Loads the demo org in the background so the server answers `initialize` at once.

    MCP hosts start the server and expect a handshake within seconds; generating the demo takes longer.
    Tool calls wait for the load (in their worker thread) and then see the data.
    """

    def __init__(self, tctx: Any) -> None:
        import threading

        self.tctx = tctx
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, name="finops-demo-load", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from agent.commands._common import ensure_data
        from tools.errors import FinopsError

        try:
            ensure_data(self.tctx, quiet=False)
        except FinopsError as exc:
            self.error = exc.message
        except Exception as exc:  # reported on every call rather than killing the server
            self.error = f"loading the demo org failed ({type(exc).__name__}); run `finops demo` to see why"

    def wait(self) -> None:
        from tools.errors import DataMissing

        self.thread.join()
        if self.error:
            raise DataMissing(self.error)


def _finops_path() -> str:
    """The installed `finops` script (absolute: MCP hosts do not use your shell's PATH)."""
    import shutil
    import sys
    from pathlib import Path

    found = shutil.which("finops")
    if found:
        return str(Path(found).resolve())
    script = Path(sys.argv[0])
    return str(script.resolve()) if script.name == "finops" else "finops"


def client_config(client: str, home: str | None) -> dict[str, Any] | str:
    """A copy-paste client configuration using the installed `finops` path."""
    args = (["--home", home] if home else []) + ["mcp", "--transport", "stdio"]
    command = _finops_path()
    if client == "claude-desktop":
        return {"mcpServers": {"finops": {"command": command, "args": args}}}
    if client == "vscode":
        return {"servers": {"finops": {"type": "stdio", "command": command, "args": args}}}
    import shlex

    return "claude mcp add finops -- " + " ".join(shlex.quote(a) for a in [command, *args])


def _configure_logging(verbose: bool) -> None:
    """Diagnostics go to stderr only: on stdio, stdout is the protocol."""
    import logging
    import sys

    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if verbose else logging.WARNING,
        format="finops-mcp %(levelname)s %(name)s: %(message)s",
        force=True,
    )


@click.command(name="mcp")
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP bind address (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="HTTP port.")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="Extra Host name accepted over HTTP (e.g. the name clients use for a non-loopback bind).",
)
@click.option("--no-demo", is_flag=True, help="Do not load the demo org when no data is loaded.")
@click.option("-v", "--verbose", is_flag=True, help="Log each tool call on stderr.")
@click.option(
    "--print-config",
    type=click.Choice(["claude-desktop", "vscode", "claude-code"]),
    default=None,
    help="Print a client configuration for this install (absolute finops path) and exit.",
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    transport: str,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    no_demo: bool,
    verbose: bool,
    print_config: str | None,
    as_json: bool,
) -> None:
    """Serve every finops tool over MCP. Read-only; --host other than loopback needs FINOPS_MCP_TOKEN."""
    if print_config:
        import json

        home = (ctx.find_root().obj or {}).get("home")
        doc = client_config(print_config, str(home.expanduser().resolve()) if home else None)
        click.echo(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
        return
    from mcp_server.bind import TOKEN_ENV, check_bind
    from tools.billing import store

    _configure_logging(verbose)
    token = os.environ.get(TOKEN_ENV) or None
    if transport == "http":
        check_bind(host, token)  # refuse before any work (and before importing mcp)
    from mcp_server import http
    from mcp_server.adapter import CallGate
    from mcp_server.server import build_server

    cfg = settings(ctx)
    tctx = cfg.tool_context()
    loader = None if no_demo or store.has_data(tctx.db_path) else _DemoLoader(tctx)
    gate = CallGate(before_call=loader.wait if loader else None)
    # Evidence paths (calendar, CloudTrail, git) exist only once the demo is loaded: compute after.
    context = functools.cache(cfg.tool_context) if loader else tctx
    server = build_server(context, ask_settings=cfg, gate=gate)
    if transport == "stdio":
        server.run("stdio")
        return
    note(f"finops MCP server on http://{host}:{port}{http.MCP_PATH} (Ctrl-C to stop)")
    http.serve(server, host=host, port=port, token=token, allowed_hosts=list(allowed_hosts))
