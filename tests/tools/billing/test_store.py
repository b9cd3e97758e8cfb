"""The store: read-only connections, lock retries, data versions, and reads beside a hardened connection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import focus_row
from tools.billing import store
from tools.billing.ingest import ingest_paths
from tools.context import ToolContext
from tools.errors import DataMissing


def test_reader_says_what_to_do_when_nothing_is_loaded(ctx: ToolContext) -> None:
    with pytest.raises(DataMissing, match="finops demo"), store.reader(ctx.db_path):
        pass
    assert store.has_data(ctx.db_path) is False


def test_data_version_changes_when_data_changes(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    ingest_paths(ctx, [write_focus("a.csv", [focus_row()])])
    with store.reader(ctx.db_path) as con:
        before = store.data_version(con)
    ingest_paths(ctx, [write_focus("b.csv", [focus_row(BillingPeriodStart="2026-09-01T00:00:00Z")])])
    with store.reader(ctx.db_path) as con:
        assert store.data_version(con) != before


def test_plain_reads_work_while_a_hardened_query_connection_is_open(
    ctx: ToolContext, write_focus: Callable[..., Path]
) -> None:
    from tools.sql.run import open_runner

    ingest_paths(ctx, [write_focus("a.csv", [focus_row(), focus_row(ResourceId="i-2")])])
    with open_runner(ctx) as runner:
        assert runner.run("SELECT count(*) AS n FROM focus").rows == [[2]]
        assert store.has_data(ctx.db_path) is True
        with store.reader(ctx.db_path) as con:
            assert store.row_count(con) == 2


def test_a_writer_waits_for_another_process_and_then_says_busy(
    ctx: ToolContext, write_focus: Callable[..., Path]
) -> None:
    import subprocess
    import sys

    ingest_paths(ctx, [write_focus("a.csv", [focus_row()])])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
            str(ctx.db_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        from tools.errors import FinopsError

        with pytest.raises(FinopsError, match="busy"), store.writer(ctx.db_path, wait_s=0.3):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with store.writer(ctx.db_path) as con:  # free again
        assert store.row_count(con) == 1
