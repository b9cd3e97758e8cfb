"""Ingest: every shared sample loads; bad input is refused with one line and leaves nothing behind."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FOCUS_HEADER, FOCUS_SAMPLE, SHARED_DATA, focus_row
from tools.billing import store
from tools.billing.ingest import ingest_paths
from tools.context import ToolContext
from tools.errors import BadInput


def snapshot(ctx: ToolContext) -> tuple[int, list[tuple[object, ...]]]:
    if not ctx.db_path.exists():
        return (0, [])
    with store.reader(ctx.db_path) as con:
        rows = con.execute("SELECT ingest_id, sha256, active FROM ingest_log ORDER BY 1").fetchall()
        return (store.row_count(con), rows)


def query(ctx: ToolContext, sql: str) -> list[tuple[object, ...]]:
    with store.reader(ctx.db_path) as con:
        return con.execute(sql).fetchall()


# ------------------------------------------------------------------ the real samples


def test_official_focus_sample_loads_with_its_quirks(ctx: ToolContext) -> None:
    summary = ingest_paths(ctx, [FOCUS_SAMPLE])
    assert summary.rows == 1000
    assert summary.files[0].focus_version == "1.0"
    assert summary.providers == ["AWS", "Microsoft", "Oracle"]
    (nulls,) = query(ctx, "SELECT count(*) FROM focus WHERE ChargeClass IS NOT NULL")[0]
    assert nulls == 0  # the literal text NULL is a real NULL
    assert query(ctx, "SELECT count(*) FROM focus WHERE ChargeFrequency = 'Usage-based'")[0][0] == 0
    tagged = query(ctx, "SELECT count(*) FROM focus WHERE Tags IS NOT NULL")[0][0]
    assert tagged == 711
    assert query(ctx, "SELECT typeof(BilledCost), typeof(ChargePeriodStart), typeof(SubAccountId) FROM focus LIMIT 1")[
        0
    ] == ("DECIMAL(38,12)", "TIMESTAMP", "VARCHAR")
    assert any("x_Id" in w for w in summary.warnings)


def test_tags_are_a_map_and_frequent_keys_are_materialised(ctx: ToolContext) -> None:
    summary = ingest_paths(ctx, [FOCUS_SAMPLE])
    assert "x_tag_environment" in summary.tag_columns
    same = query(ctx, "SELECT count(*) FROM focus WHERE Tags['environment'] IS DISTINCT FROM x_tag_environment")[0][0]
    assert same == 0
    by_env = dict(query(ctx, "SELECT x_tag_environment, count(*) FROM focus GROUP BY 1"))
    assert by_env.get("dev", 0) > 0


def test_every_billing_file_in_shared_data_loads_leniently(ctx: ToolContext) -> None:
    summary = ingest_paths(ctx, [SHARED_DATA], lenient=True)
    loaded = [f for f in summary.files if not f.skipped]
    skipped = {Path(f.path).name for f in summary.files if f.skipped}
    assert len(loaded) == 32  # 1 official + 26 spec 1.2 + 4 AI billing + 1 CUR
    assert {"aws_category_mapping.csv", "Regions.csv"} <= skipped  # lookup tables are not billing data
    assert {f.focus_version for f in loaded if f.format == "focus-csv"} == {"1.0", "1.1", "1.2", "1.3"}
    assert any(f.format == "cur-csv" for f in loaded)
    ai = query(ctx, "SELECT sum(ConsumedQuantity) FROM focus WHERE SkuMeter = 'Input Tokens'")[0][0]
    assert ai is not None and ai > 0


def test_strict_mode_names_the_file_line_and_column_of_a_bad_date(ctx: ToolContext) -> None:
    with pytest.raises(BadInput) as err:
        ingest_paths(ctx, [SHARED_DATA])
    text = str(err.value)
    assert "commitment_discount_purchase_scenario_2.csv: line 4, column ChargePeriodEnd" in text
    assert "--lenient" in text
    assert snapshot(ctx)[0] == 0


def test_legacy_cur_maps_onto_focus_columns(ctx: ToolContext) -> None:
    path = SHARED_DATA / "cur-samples" / "legacy-cur-anonymized" / "sample-anonymous-aws-export-dataset.csv"
    summary = ingest_paths(ctx, [path])
    assert summary.files[0].format == "cur-csv"
    assert summary.rows == 1281
    cats = dict(query(ctx, "SELECT ChargeCategory, count(*) FROM focus GROUP BY 1"))
    assert set(cats) <= {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
    assert cats.get("Tax", 0) > 0
    ids = query(ctx, "SELECT DISTINCT SubAccountId FROM focus")
    assert all(isinstance(r[0], str) and len(r[0]) == 12 for r in ids)
    unknown_category = query(ctx, "SELECT count(*) FROM focus WHERE ServiceCategory IS NULL")[0][0]
    assert unknown_category == 0


# ------------------------------------------------------------------ types


def test_account_ids_keep_their_leading_zeros(ctx: ToolContext, tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    lines = ["BillingAccountId,SubAccountId,ChargePeriodStart,BilledCost,BillingPeriodStart,ProviderName"]
    lines += [f"{123456789012 + i},{210987654321 + i},2026-10-0{1 + i % 9},1.5,2026-10-01,AWS" for i in range(25_000)]
    lines.append("012345678901,000000000042,2026-10-09,2.5,2026-10-01,AWS")  # beyond the sniffer's sample
    path.write_text("\n".join(lines) + "\n")
    raw = (
        duckdb.connect()
        .execute(f"SELECT typeof(SubAccountId), min(SubAccountId) FROM read_csv('{path}') GROUP BY 1")
        .fetchone()
    )
    assert raw == ("BIGINT", 42)  # DuckDB's sniffer alone types account ids as numbers and drops the zeros
    ingest_paths(ctx, [path])
    assert ("000000000042",) in query(ctx, "SELECT SubAccountId FROM focus")
    assert ("012345678901",) in query(ctx, "SELECT BillingAccountId FROM focus")
    assert query(ctx, "SELECT DISTINCT typeof(SubAccountId) FROM focus") == [("VARCHAR",)]


def test_money_keeps_per_token_precision(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    path = write_focus("tiny.csv", [focus_row(BilledCost="0.000000003", EffectiveCost="35.2E-7")])
    ingest_paths(ctx, [path])
    assert query(ctx, "SELECT BilledCost, EffectiveCost FROM focus") == [
        (Decimal("0.000000003000"), Decimal("0.000003520000"))
    ]


def test_timestamps_without_t_or_z_and_us_dates_parse(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    rows = [focus_row(ChargePeriodStart="2026-10-05 00:00:00"), focus_row(ChargePeriodStart="10/6/26")]
    ingest_paths(ctx, [write_focus("dates.csv", rows)])
    days = sorted(str(r[0]) for r in query(ctx, "SELECT ChargePeriodStart FROM focus"))
    assert days == ["2026-10-05 00:00:00", "2026-10-06 00:00:00"]


def test_parquet_and_gzip_load_like_csv(ctx: ToolContext, write_focus: Callable[..., Path], tmp_path: Path) -> None:
    csv_path = write_focus("a.csv", [focus_row(BillingPeriodStart="2026-09-01T00:00:00Z")])
    gz = tmp_path / "b.csv.gz"
    with csv_path.open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    pq = tmp_path / "c.parquet"
    other = write_focus("c.csv", [focus_row(BillingAccountId="999", BillingPeriodStart="2026-08-01T00:00:00Z")])
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{other}', all_varchar=true)) TO '{pq}' (FORMAT parquet)")
    summary = ingest_paths(ctx, [gz, pq])
    assert [f.format for f in summary.files] == ["focus-csv", "focus-parquet"]
    assert summary.rows == 2


# ------------------------------------------------------------------ idempotency and replacement


def test_reingesting_the_same_file_changes_nothing(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    path = write_focus("a.csv", [focus_row(), focus_row(ResourceId="i-2")])
    ingest_paths(ctx, [path])
    before = snapshot(ctx)
    again = ingest_paths(ctx, [path])
    assert again.rows == 0 and again.files[0].skipped
    assert snapshot(ctx) == before


def test_a_redelivered_period_replaces_the_earlier_delivery(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    first = write_focus("oct-v1.csv", [focus_row(BilledCost="10"), focus_row(BilledCost="20")])
    ingest_paths(ctx, [first])
    second = write_focus("oct-v2.csv", [focus_row(BilledCost="35")])
    summary = ingest_paths(ctx, [second])
    assert summary.replaced_rows == 2
    assert query(ctx, "SELECT sum(BilledCost) FROM focus")[0][0] == Decimal("35")
    assert query(ctx, "SELECT path, active FROM ingest_log ORDER BY ingest_id")[0][1] is False


def test_no_replace_appends(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    ingest_paths(ctx, [write_focus("a.csv", [focus_row(BilledCost="10")])])
    ingest_paths(ctx, [write_focus("b.csv", [focus_row(BilledCost="5")])], replace=False)
    assert query(ctx, "SELECT sum(BilledCost) FROM focus")[0][0] == Decimal("15")


def test_every_row_carries_its_provenance(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    path = write_focus("a.csv", [focus_row()])
    ingest_paths(ctx, [path])
    rows = query(
        ctx, 'SELECT l.path, l.sha256, l.ingested_at FROM focus f JOIN ingest_log l ON l.ingest_id = f."x_IngestId"'
    )
    assert rows[0][0] == str(path.resolve()) and len(rows[0][1]) == 64 and rows[0][2] is not None


# ------------------------------------------------------------------ bad input: one line, nothing written


def _bad_files(write_focus: Callable[..., Path], tmp_path: Path) -> dict[str, tuple[Path, str]]:
    out: dict[str, tuple[Path, str]] = {}
    good = write_focus("good.csv", [focus_row()])
    truncated = tmp_path / "truncated.csv"
    many = write_focus("many.csv", [focus_row(ResourceId=f"i-{i}") for i in range(30)]).read_text()
    truncated.write_text(many + "012345678901,Acme,USD\n")  # a file cut off mid-row
    out["truncated row"] = (truncated, "line 32 has 3 fields but the header has 28")
    out["non-numeric cost"] = (
        write_focus("cost.csv", [focus_row(), focus_row(BilledCost="twelve")]),
        "line 3, column BilledCost",
    )
    out["unparseable date"] = (
        write_focus("date.csv", [focus_row(ChargePeriodStart="yesterday")]),
        "column ChargePeriodStart",
    )
    out["missing required columns"] = (
        write_focus("cols.csv", [focus_row()], header=["ServiceName", "RegionId"]),
        "needs ChargePeriodStart",
    )
    euro = tmp_path / "euro.csv"  # ';' separated with decimal commas, as some spreadsheet exports do
    euro.write_text("BilledCost;ChargePeriodStart;ServiceName\n12,5;2026-10-05;EC2\n3,25;2026-10-06;EC2\n")
    out["wrong delimiter"] = (euro, "column BilledCost: value '12,5' is not a number")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(good.read_bytes().replace(b"web-1", "wéb-1".encode("latin-1")))
    out["wrong encoding"] = (latin, "UTF-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    out["empty file"] = (empty, "empty file")
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(FOCUS_HEADER) + "\n")
    out["header only"] = (header_only, "no data rows")
    gz = tmp_path / "corrupt.csv.gz"
    gz.write_bytes(gzip.compress(good.read_bytes())[:40])
    out["corrupt gzip"] = (gz, "gzip")
    pq = tmp_path / "corrupt.parquet"
    pq.write_bytes(b"PAR1" + b"\x00" * 64)
    out["corrupt parquet"] = (pq, "Parquet")
    out["bad tags"] = (write_focus("tags.csv", [focus_row(Tags="team=web")]), "column Tags")
    return out


BAD_CASES = [
    "truncated row",
    "non-numeric cost",
    "unparseable date",
    "missing required columns",
    "wrong delimiter",
    "wrong encoding",
    "empty file",
    "header only",
    "corrupt gzip",
    "corrupt parquet",
    "bad tags",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_with_one_line_naming_the_file(
    case: str, ctx: ToolContext, write_focus: Callable[..., Path], tmp_path: Path
) -> None:
    ingest_paths(ctx, [write_focus("existing.csv", [focus_row(BillingPeriodStart="2026-01-01T00:00:00Z")])])
    before = snapshot(ctx)
    path, expected = _bad_files(write_focus, tmp_path)[case]
    with pytest.raises(BadInput) as err:
        ingest_paths(ctx, [path])
    message = str(err.value)
    assert "\n" not in message
    assert path.name in message
    assert expected.lower() in message.lower()
    assert snapshot(ctx) == before


def test_a_directory_mixing_good_and_bad_files_writes_nothing(
    ctx: ToolContext, write_focus: Callable[..., Path], tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(write_focus("a-good.csv", [focus_row()]), folder / "a-good.csv")
    shutil.copy(write_focus("z-bad.csv", [focus_row(EffectiveCost="n/a?")]), folder / "z-bad.csv")
    with pytest.raises(BadInput, match=r"z-bad\.csv"):
        ingest_paths(ctx, [folder])
    assert snapshot(ctx) == (0, [])


def test_a_pipe_delimited_export_is_detected_and_loads(ctx: ToolContext, write_focus: Callable[..., Path]) -> None:
    path = write_focus("pipe.csv", [focus_row(), focus_row(ResourceId="i-2")], delimiter="|")
    assert ingest_paths(ctx, [path]).rows == 2
    assert query(ctx, "SELECT sum(BilledCost) FROM focus")[0][0] == Decimal("25")


def test_globs_and_missing_paths(ctx: ToolContext, write_focus: Callable[..., Path], tmp_path: Path) -> None:
    write_focus("g1.csv", [focus_row(BillingPeriodStart="2026-07-01T00:00:00Z")])
    write_focus("g2.csv", [focus_row(BillingPeriodStart="2026-08-01T00:00:00Z")])
    assert ingest_paths(ctx, [str(tmp_path / "files" / "g*.csv")]).rows == 2
    with pytest.raises(BadInput, match="no such file"):
        ingest_paths(ctx, [tmp_path / "nope.csv"])


# ------------------------------------------------------------------ properties


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(4)), repeat=st.lists(st.integers(0, 3), max_size=3), bad_at=st.integers(0, 4))
def test_final_state_depends_only_on_the_set_of_files_and_failures_change_nothing(
    tmp_path_factory: pytest.TempPathFactory, order: list[int], repeat: list[int], bad_at: int
) -> None:
    base = tmp_path_factory.mktemp("prop")
    files = []
    for i in range(4):
        p = base / f"m{i}.csv"
        row = focus_row(BillingPeriodStart=f"2026-0{i + 1}-01T00:00:00Z", BilledCost=str(i + 1))
        p.write_text(",".join(FOCUS_HEADER) + "\n" + ",".join(_csv_cell(row[c]) for c in FOCUS_HEADER) + "\n")
        files.append(p)
    bad = base / "bad.csv"
    bad.write_text(
        ",".join(FOCUS_HEADER) + "\n" + ",".join(_csv_cell(focus_row(BilledCost="x")[c]) for c in FOCUS_HEADER) + "\n"
    )
    ctx = ToolContext(home=base / "home")
    sequence = [files[i] for i in order] + [files[i] for i in repeat]
    for n, path in enumerate(sequence):
        if n == bad_at:
            before = snapshot(ctx)
            with pytest.raises(BadInput):
                ingest_paths(ctx, [path, bad])
            assert snapshot(ctx) == before
        ingest_paths(ctx, [path])
    assert query(ctx, "SELECT sum(BilledCost), count(*) FROM focus")[0] == (Decimal("10"), 4)


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'
