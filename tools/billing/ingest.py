"""Load billing files into the canonical ``focus`` table: FOCUS 1.0–1.3 and AWS CUR, CSV(.gz) or Parquet.

Properties a user relies on:
- idempotent: a file already loaded (same SHA-256) changes nothing;
- a re-delivered export replaces the billing periods it covers (per provider + billing account), as CUR
  redeliveries do;
- transactional: the whole batch commits or nothing does;
- provenance: every row carries ``x_IngestId`` -> ``ingest_log`` (path, sha256, time);
- every value is converted explicitly (ids stay VARCHAR, money DECIMAL(38,12), times TIMESTAMP UTC);
  a bad value stops the batch with the file, line and column named.
"""

from __future__ import annotations

import datetime as dt
import glob
import gzip
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from tools.billing import catalog, cur, store
from tools.context import ToolContext
from tools.errors import BadInput

if TYPE_CHECKING:
    import duckdb

BILLING_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".tsv", ".txt")
NULL_STRINGS = ["NULL", "null", "", "None", "N/A"]
DATE_FORMATS = ["%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M", "%d.%m.%Y"]
NEEDED_TIME = ("ChargePeriodStart", "BillingPeriodStart")
NEEDED_COST = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


class FileReport(BaseModel):
    path: str
    sha256: str
    format: str
    focus_version: str | None = None
    rows: int = 0
    skipped: bool = False
    replaced_rows: int = 0
    billing_periods: list[str] = Field(default_factory=list)
    providers: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class IngestSummary(BaseModel):
    files: list[FileReport] = Field(default_factory=list)
    rows: int = 0
    replaced_rows: int = 0
    billing_periods: list[str] = Field(default_factory=list)
    providers: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    tag_columns: list[str] = Field(default_factory=list)
    total_rows_in_store: int = 0


@dataclass
class _Source:
    path: Path
    kind: str  # csv | parquet
    names: list[str]
    types: dict[str, str]
    delim: str | None = None


# ---------------------------------------------------------------- finding files


def expand_paths(paths: Iterable[Path | str]) -> tuple[list[Path], list[str]]:
    """Files from files, directories (recursive) and globs. Returns (files, warnings)."""
    files: list[Path] = []
    warnings: list[str] = []
    for raw in paths:
        text = str(raw)
        matches = [Path(p) for p in sorted(glob.glob(text, recursive=True))] if _is_glob(text) else [Path(text)]
        if not matches:
            raise BadInput(f"{text}: no such file, directory or matching files")
        for path in matches:
            if path.is_dir():
                found = sorted(p for p in path.rglob("*") if p.is_file() and _is_billing_name(p))
                if not found:
                    warnings.append(f"{path}: no .csv, .csv.gz or .parquet files")
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                raise BadInput(f"{path}: no such file or directory")
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, warnings


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _is_billing_name(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(BILLING_SUFFIXES) and not name.startswith(".")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- reading sources


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reader_sql(src_path: Path, kind: str, encoding: str = "utf-8", delim: str | None = None) -> str:
    p = _sql_str(str(src_path))
    if kind == "parquet":
        return f"read_parquet({p})"
    nulls = "[" + ", ".join(_sql_str(n) for n in NULL_STRINGS) + "]"
    enc = _sql_str(encoding)
    sep = f"delim={_sql_str(delim)}, " if delim else ""
    return (
        f"read_csv({p}, header=true, all_varchar=true, nullstr={nulls}, encoding={enc}, {sep}"
        "strict_mode=true, null_padding=false, ignore_errors=false)"
    )


def _kind(path: Path) -> str:
    return "parquet" if path.name.lower().endswith(".parquet") else "csv"


def _check_readable(path: Path) -> None:
    if path.stat().st_size == 0:
        raise BadInput(f"{path}: empty file; re-export it or remove it from the batch")
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                head = fh.read(1)
        except (OSError, EOFError) as exc:
            raise BadInput(f"{path}: not a valid gzip file ({exc}); re-download it") from None
        if not head:
            raise BadInput(f"{path}: empty file (gzip holds no data); re-export it")
    if _kind(path) == "parquet":
        with path.open("rb") as fh:
            magic = fh.read(4)
        if magic != b"PAR1":
            raise BadInput(f"{path}: not a Parquet file (bad magic bytes); re-download it or fix its name")


def describe(con: duckdb.DuckDBPyConnection, path: Path, encoding: str = "utf-8") -> _Source:
    import duckdb

    _check_readable(path)
    kind = _kind(path)
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(path, kind, encoding)}").fetchall()
    except duckdb.Error as exc:
        ragged = _ragged_line(path, encoding) if kind == "csv" else None
        raise BadInput(f"{path}: {ragged or _explain_duckdb_error(exc)}") from None
    names = [str(r[0]) for r in rows]
    delim = None
    if kind == "csv" and len(names) == 1:
        # The sniffer gives up on a file with inconsistent rows and reads one column: read the header's
        # own delimiter instead, so that the bad row is reported with its line number.
        delim = _header_delimiter(path)
        if delim:
            try:
                rows = con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(path, kind, encoding, delim)}").fetchall()
            except duckdb.Error as exc:
                raise BadInput(f"{path}: {_ragged_line(path, encoding) or _explain_duckdb_error(exc)}") from None
            names = [str(r[0]) for r in rows]
    return _Source(path=path, kind=kind, names=names, types={str(r[0]): str(r[1]) for r in rows}, delim=delim)


def _ragged_line(path: Path, encoding: str) -> str | None:
    """Where DuckDB cannot even sniff a file, find the first row whose field count differs from the header."""
    import csv

    delim = _header_delimiter(path) or ","
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delim)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    return (
                        f"line {reader.line_num} has {len(row)} fields but the header has {len(header)} "
                        "(truncated row or stray delimiter); fix or re-export the file"
                    )
    except UnicodeDecodeError:
        return "not UTF-8 text; re-save it as UTF-8 or pass --encoding latin-1 / utf-16"
    except (OSError, csv.Error, EOFError):
        return None
    return None


def _header_delimiter(path: Path) -> str | None:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return None
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def _explain_duckdb_error(exc: Exception) -> str:
    text = str(exc).strip()
    low = text.lower()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "invalid unicode" in low or "byte sequence" in low:
        return "not UTF-8 text; re-save it as UTF-8 or pass --encoding latin-1 / utf-16"
    if "expected number of columns" in low or "too many columns" in low or "not enough columns" in low:
        line = _line_of(text)
        where = f" at line {line}" if line else ""
        return (
            f"a row has the wrong number of fields{where} (truncated row or stray delimiter); fix or re-export the file"
        )
    if "parquet" in low and ("magic" in low or "corrupt" in low or "invalid" in low or "too small" in low):
        return "corrupt Parquet file; re-download it"
    if "gzip" in low or "zlib" in low or "inflate" in low:
        return "corrupt gzip data; re-download it"
    for marker in ("Invalid Input Error: ", "Conversion Error: ", "IO Error: "):
        if marker in first:
            first = first.split(marker, 1)[1]
    return first[:300]


def _line_of(text: str) -> int | None:
    for token in ("Line: ", "line "):
        if token in text:
            tail = text.split(token, 1)[1]
            digits = "".join(ch for ch in tail[:12] if ch.isdigit())
            if digits:
                return int(digits)
    return None


# ---------------------------------------------------------------- building the SELECT


@dataclass
class _Plan:
    fmt: str
    version: str | None
    select: list[tuple[str, str]]  # (target column, SQL expression)
    extra_columns: dict[str, str]  # x_ columns to add to the table -> type
    warnings: list[str]
    raw: dict[str, str] | None = None  # target -> raw source expression (for lenient-mode reports)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fail(msg: str, lenient: bool) -> str:
    return "NULL" if lenient else f"error({msg})"


NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT", "UBIGINT")


def _decimal(expr: str, column: str, file_label: str, lenient: bool = False, source_type: str = "VARCHAR") -> str:
    if source_type.startswith(NUMERIC_TYPES):  # typed Parquet: a plain cast (out of range still fails loudly)
        return f"CAST({expr} AS {catalog.MONEY})"
    msg = (
        _sql_str(f"{file_label}: column {column}: value '")
        + f" || CAST({expr} AS VARCHAR) || "
        + _sql_str("' is not a number")
    )
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"ELSE coalesce(TRY_CAST({expr} AS {catalog.MONEY}), TRY_CAST(TRY_CAST({expr} AS DOUBLE) AS {catalog.MONEY}),"
        f" CASE WHEN contains(CAST({expr} AS VARCHAR), '$') THEN TRY_CAST(replace(replace(replace("
        f"CAST({expr} AS VARCHAR), '$', ''), ',', ''), ' ', '') AS {catalog.MONEY}) END,"
        f" {_fail(msg, lenient)}) END"
    )


def _timestamp(expr: str, column: str, file_label: str, source_type: str, lenient: bool = False) -> str:
    if source_type.startswith("TIMESTAMP") or source_type == "DATE":
        return f"CAST({expr} AS TIMESTAMP)"
    fmts = "[" + ", ".join(_sql_str(f) for f in DATE_FORMATS) + "]"
    msg = (
        _sql_str(f"{file_label}: column {column}: value '")
        + f" || CAST({expr} AS VARCHAR) || "
        + _sql_str("' is not a date/time (use ISO 8601, e.g. 2024-09-01T00:00:00Z)")
    )
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL ELSE coalesce("
        f"CASE WHEN substr(CAST({expr} AS VARCHAR), 5, 1) = '-' THEN TRY_CAST({expr} AS TIMESTAMP) END, "
        f"try_strptime(CAST({expr} AS VARCHAR), {fmts}), {_fail(msg, lenient)}) END"
    )


def _string(expr: str, col: catalog.Column | None, typed: bool = False) -> str:
    # Text from CSV is trimmed; typed (Parquet) strings are taken as written, which is cheaper.
    base = f"NULLIF({expr}, '')" if typed else f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"
    if col is None or not col.allowed:
        return base
    exact = ", ".join(_sql_str(a) for a in col.allowed)
    cases = " ".join(f"WHEN {_sql_str(a.lower())} THEN {_sql_str(a)}" for a in col.allowed)
    return f"CASE WHEN {expr} IN ({exact}) THEN {expr} ELSE CASE lower({base}) {cases} ELSE {base} END END"


def _tags(expr: str, file_label: str, source_type: str, lenient: bool = False) -> str:
    if source_type.startswith("MAP"):
        return f"CAST({expr} AS {catalog.TAGS_TYPE})"
    msg = (
        _sql_str(f"{file_label}: column Tags: value '")
        + f" || left(CAST({expr} AS VARCHAR), 80) || "
        + _sql_str("' is not a JSON object of key/value pairs")
    )
    text = f"CAST({expr} AS VARCHAR)"
    parsed = f"TRY_CAST(TRY_CAST({text} AS JSON) AS {catalog.TAGS_TYPE})"  # parsed once per row
    return (
        f"CASE WHEN {expr} IS NULL OR trim({text}) IN ('', '{{}}') THEN NULL "
        f"ELSE coalesce({parsed}, {_fail(msg, lenient)}) END"
    )


def _convert(
    expr: str, col: catalog.Column, file_label: str, source_type: str, lenient: bool = False, typed: bool = False
) -> str:
    if col.name == "Tags":
        return _tags(expr, file_label, source_type, lenient)
    if col.type == "Decimal":
        return _decimal(expr, col.name, file_label, lenient, source_type)
    if col.type == "DateTime":
        return _timestamp(expr, col.name, file_label, source_type, lenient)
    return _string(expr, col, typed and source_type == "VARCHAR")


def plan_focus(src: _Source, lenient: bool = False) -> _Plan:
    label = src.path.name
    warnings: list[str] = []
    select: list[tuple[str, str]] = []
    extra: dict[str, str] = {}
    seen: set[str] = set()
    raw: dict[str, str] = {}
    for name in src.names:
        clean = name.strip().lstrip("\ufeff")
        col = catalog.by_lower_name().get(clean.lower())
        if col is not None and col.name not in seen:
            if clean != col.name:
                warnings.append(f"{label}: column {clean!r} read as {col.name}")
            select.append(
                (col.name, _convert(_q(name), col, label, src.types[name], lenient, typed=src.kind == "parquet"))
            )
            raw[col.name] = _q(name)
            seen.add(col.name)
            continue
        target = clean if clean.startswith("x_") else f"x_{clean}"
        if not clean.startswith("x_"):
            warnings.append(f"{label}: non-FOCUS column {clean!r} kept as {target}")
        extra[target] = "VARCHAR"
        select.append((target, f"CAST({_q(name)} AS VARCHAR)"))
    _require(src, seen)
    missing_mandatory = [c.name for c in catalog.columns_for_version("1.0") if c.level == "M" and c.name not in seen]
    if missing_mandatory:
        shown = ", ".join(missing_mandatory[:6]) + (" …" if len(missing_mandatory) > 6 else "")
        warnings.append(f"{label}: {len(missing_mandatory)} mandatory FOCUS columns absent (left empty): {shown}")
    return _Plan("focus", catalog.detect_version(seen), select, extra, warnings, raw)


def _require(src: _Source, present: set[str]) -> None:
    if not any(c in present for c in NEEDED_TIME) or not any(c in present for c in NEEDED_COST):
        shown = ", ".join(src.names[:5]) + (" …" if len(src.names) > 5 else "")
        hint = " (is the delimiter ','?)" if len(src.names) == 1 else ""
        raise BadInput(
            f"{src.path}: not FOCUS or CUR billing data: needs ChargePeriodStart (or BillingPeriodStart) and "
            f"BilledCost/EffectiveCost columns; found {shown}{hint}"
        )


def plan_cur(src: _Source, lenient: bool = False) -> _Plan:
    label = src.path.name
    by_key = {cur.normalise_name(n).replace("_", ""): n for n in src.names}

    def resolve(name: str) -> str | None:
        return by_key.get(name.replace("_", ""))

    def fill(template: str, focus_col: catalog.Column | None) -> str:
        out = template
        while "{" in out:
            start = out.index("{")
            end = out.index("}", start)
            kind, name = out[start + 1 : end].split(":", 1)
            real = resolve(name)
            if real is None:
                sql = "NULL"
            elif kind == "n":
                sql = _decimal(_q(real), name, label, lenient)
            elif src.types[real].startswith("TIMESTAMP"):
                sql = f"CAST({_q(real)} AS TIMESTAMP)"
            else:
                sql = f"NULLIF(trim(CAST({_q(real)} AS VARCHAR)), '')"
            out = out[:start] + sql + out[end + 1 :]
        return out

    select: list[tuple[str, str]] = []
    extra: dict[str, str] = {}
    for focus_name, (template, _) in cur.MAPPING.items():
        col = catalog.by_name().get(focus_name)
        expr = fill(template, col)
        if col is not None:
            expr = _convert(f"({expr})", col, label, "VARCHAR", lenient)
        else:
            extra[focus_name] = "VARCHAR"
        select.append((focus_name, expr))
    select.append(("Tags", _cur_tags(src)))
    if resolve("line_item_usage_start_date") is None or resolve("line_item_unblended_cost") is None:
        raise BadInput(f"{src.path}: CUR file without line_item_usage_start_date / line_item_unblended_cost")
    return _Plan("cur", None, select, extra, [])


def _cur_tags(src: _Source) -> str:
    for name in src.names:
        if cur.normalise_name(name) == "resource_tags" and src.types[name].startswith("MAP"):
            return (
                f"map_from_entries(list_transform(map_entries(CAST({_q(name)} AS {catalog.TAGS_TYPE})), "
                "e -> {'key': CASE WHEN starts_with(e.key, 'user_') OR starts_with(e.key, 'user:') "
                "THEN substr(e.key, 6) ELSE e.key END, 'value': e.value}))"
            )
    tag_cols = []
    for name in src.names:
        normal = cur.normalise_name(name)
        if normal.startswith("resource_tags_"):
            key = name.split(":", 1)[1] if ":" in name else normal.removeprefix("resource_tags_").removeprefix("user_")
            tag_cols.append((key, name))
    if not tag_cols:
        return "NULL"
    keys = ", ".join(_sql_str(k) for k, _ in tag_cols)
    vals = ", ".join(f"NULLIF(trim(CAST({_q(n)} AS VARCHAR)), '')" for _, n in tag_cols)
    pairs = f"list_filter(list_zip([{keys}], [{vals}]), e -> e[2] IS NOT NULL)"
    return (
        f"CASE WHEN coalesce({vals}) IS NULL THEN NULL ELSE "
        f"map_from_entries(list_transform({pairs}, e -> {{'key': e[1], 'value': e[2]}})) END"
    )


# ---------------------------------------------------------------- loading


def ingest_paths(
    ctx: ToolContext,
    paths: Iterable[Path | str],
    *,
    progress: bool = False,
    replace: bool = True,
    encoding: str = "utf-8",
    lenient: bool = False,
    on_file: Callable[[Path, int], None] | None = None,
) -> IngestSummary:
    """Load billing files into the home database in one transaction; see the module docstring.

    ``lenient`` stores values that cannot be converted as NULL (each column reported as a warning)
    instead of rejecting the batch.
    """
    files, warnings = _expand_with_origin(paths)
    if not files:
        raise BadInput("no billing files (.csv, .csv.gz, .parquet) found in " + ", ".join(str(p) for p in paths))
    summary = IngestSummary(warnings=warnings)
    with store.writer(ctx.db_path) as con:
        con.execute("SET TimeZone='UTC'")
        con.execute("BEGIN TRANSACTION")
        try:
            _load_category_table(con)
            batch: list[int] = []
            with _progress(progress, files) as advance:
                for path, explicit in files:
                    report = _ingest_one(con, path, explicit, batch, replace, encoding, lenient)
                    summary.files.append(report)
                    advance(path)
                    if on_file is not None:
                        on_file(path, report.rows)
            summary.tag_columns = store.materialise_tags(con) if batch else list(store.tag_columns(con).values())
            summary.total_rows_in_store = store.row_count(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    _summarise(summary)
    return summary


def _expand_with_origin(paths: Iterable[Path | str]) -> tuple[list[tuple[Path, bool]], list[str]]:
    out: list[tuple[Path, bool]] = []
    warnings: list[str] = []
    for raw in paths:
        explicit = Path(str(raw)).is_file()
        found, warns = expand_paths([raw])
        warnings.extend(warns)
        out.extend((p, explicit) for p in found)
    seen: set[Path] = set()
    unique = []
    for path, explicit in out:
        if path not in seen:
            seen.add(path)
            unique.append((path, explicit))
    return unique, warnings


def _summarise(summary: IngestSummary) -> None:
    periods: set[str] = set()
    providers: set[str] = set()
    for f in summary.files:
        summary.rows += f.rows
        summary.replaced_rows += f.replaced_rows
        periods.update(f.billing_periods)
        providers.update(f.providers)
        summary.warnings.extend(f.warnings)
    summary.billing_periods = sorted(periods)
    summary.providers = sorted(providers)


class _NullProgress:
    def __enter__(self) -> Callable[[Path], None]:
        return lambda _p: None

    def __exit__(self, *exc: object) -> None:
        return None


class _RichProgress:
    def __init__(self, files: list[tuple[Path, bool]]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.sizes = {p: p.stat().st_size for p, _ in files}
        self.progress = Progress(
            TextColumn("ingest"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task("", total=sum(self.sizes.values()))

    def __enter__(self) -> Callable[[Path], None]:
        self.progress.start()
        return self._advance

    def _advance(self, path: Path) -> None:
        self.progress.update(self.task, advance=self.sizes.get(path, 0), description=path.name)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _progress(enabled: bool, files: list[tuple[Path, bool]]) -> _NullProgress | _RichProgress:
    return _RichProgress(files) if enabled else _NullProgress()


def _load_category_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE __aws_category (__pc VARCHAR, __cat VARCHAR)")
    rows = list(cur.category_by_product_code().items())
    if rows:
        con.executemany("INSERT INTO __aws_category VALUES (?, ?)", rows)


def _already_loaded(con: duckdb.DuckDBPyConnection, sha: str) -> bool:
    row = con.execute(f"SELECT count(*) FROM {store.INGEST_LOG} WHERE sha256 = ? AND active", [sha]).fetchone()
    return bool(row and row[0])


def _ingest_one(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    explicit: bool,
    batch: list[int],
    replace: bool,
    encoding: str,
    lenient: bool = False,
) -> FileReport:
    import duckdb

    sha = sha256_of(path)
    if _already_loaded(con, sha):
        return FileReport(
            path=str(path),
            sha256=sha,
            format="known",
            skipped=True,
            warnings=[f"{path.name}: already loaded (same content); nothing to do"],
        )
    src = describe(con, path, encoding)
    if cur.is_cur(set(src.names)):
        plan = plan_cur(src, lenient)
    else:
        try:
            plan = plan_focus(src, lenient)
        except BadInput:
            if explicit:
                raise
            return FileReport(
                path=str(path),
                sha256=sha,
                format="not-billing",
                skipped=True,
                warnings=[f"{path.name}: skipped, not FOCUS or CUR billing data"],
            )
    ingest_id = _next_id(con)
    _add_columns(con, plan.extra_columns)
    targets = ", ".join(_q(t) for t, _ in plan.select) + ', "x_IngestId"'
    exprs = ", ".join(f"{e.replace('__category', 'cat.__cat')} AS {_q(t)}" for t, e in plan.select) + f", {ingest_id}"
    source = f"{_reader_sql(path, src.kind, encoding, src.delim)} AS src"
    if plan.fmt == "cur":
        pc = next((n for n in src.names if cur.normalise_name(n) == "line_item_product_code"), None)
        join_on = f"cat.__pc = src.{_q(pc)}" if pc else "false"
        source += f" LEFT JOIN __aws_category AS cat ON {join_on}"
    has_tags = any(t == "Tags" for t, _ in plan.select)
    if has_tags:
        _presample_tag_keys(con, dict(plan.select)["Tags"], source)
    tag_cols = store.tag_columns(con) if has_tags else {}
    outer = "*" + "".join(f", Tags[{_sql_str(k)}]" for k in tag_cols)
    targets += "".join(f", {_q(c)}" for c in tag_cols.values())
    try:
        con.execute(f"INSERT INTO {catalog.TABLE} ({targets}) SELECT {outer} FROM (SELECT {exprs} FROM {source})")
    except duckdb.Error as exc:
        raise BadInput(_locate(path, src, encoding, exc)) from None
    batch.append(ingest_id)
    if lenient and plan.raw:
        plan.warnings.extend(_nulled_values(con, path, src, plan, encoding))
    return _record(con, path, sha, plan, ingest_id, batch, replace, src.kind)


def _nulled_values(con: duckdb.DuckDBPyConnection, path: Path, src: _Source, plan: _Plan, encoding: str) -> list[str]:
    """Lenient mode: which columns had values that could not be converted and were stored as NULL."""
    raw = plan.raw or {}
    checks = [
        (t, raw[t], e)
        for t, e in plan.select
        if t in raw
        and catalog.by_name().get(t) is not None
        and catalog.by_name()[t].type in ("Decimal", "DateTime", "JSON")
    ]
    if not checks:
        return []
    parts = ", ".join(f"count(*) FILTER ({r} IS NOT NULL AND ({e}) IS NULL)" for _, r, e in checks)
    row = con.execute(f"SELECT {parts} FROM {_reader_sql(path, src.kind, encoding, src.delim)}").fetchone() or ()
    return [
        f"{path.name}: {n} value(s) in {t} could not be read and were stored as NULL"
        for (t, _, _), n in zip(checks, row, strict=True)
        if n
    ]


def _presample_tag_keys(con: duckdb.DuckDBPyConnection, tags_expr: str, source: str) -> None:
    """On the first load, create the frequent tag keys' columns before the INSERT (from a sample of the
    file) so that it fills them in the same pass instead of an UPDATE over the whole table afterwards."""
    if store.tag_columns(con) or store.row_count(con) > 0:
        return
    sample = f"SELECT {tags_expr} AS Tags FROM {source} LIMIT 50000"
    try:
        rows = con.execute(
            f"SELECT k, count(*) FROM (SELECT unnest(map_keys(Tags)) AS k FROM ({sample})) GROUP BY k "
            f"ORDER BY 2 DESC, k LIMIT {store.MAX_TAG_COLUMNS}"
        ).fetchall()
        total = con.execute(f"SELECT count(*) FROM ({sample})").fetchone()
    except Exception:  # a bad value is reported by the INSERT itself, with its line
        return
    n = int(total[0]) if total else 0
    for key, count in rows:
        if n and count / n >= store.TAG_COLUMN_MIN_SHARE:
            store.add_tag_column(con, str(key))


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT coalesce(max(ingest_id), 0) + 1 FROM {store.INGEST_LOG}").fetchone()
    return int(row[0]) if row else 1


def _add_columns(con: duckdb.DuckDBPyConnection, extra: dict[str, str]) -> None:
    present = set(store.table_columns(con))
    for name, typ in extra.items():
        if name not in present:
            con.execute(f"ALTER TABLE {catalog.TABLE} ADD COLUMN {_q(name)} {typ}")


def _locate(path: Path, src: _Source, encoding: str, exc: Exception) -> str:
    """Turn an engine error into one line naming the file, and the line and column where we can find them."""
    text = str(exc)
    marker = f"{path.name}: column "
    if marker not in text:
        return f"{path}: {_explain_duckdb_error(exc)}"
    detail = text.split(marker, 1)[1].splitlines()[0]
    column = detail.split(":", 1)[0]
    value = detail.split("value '", 1)[1].rsplit("' is not", 1)[0] if "value '" in detail else None
    source_col = next((n for n in src.names if n.strip().lstrip("\ufeff").lower() == column.lower()), None)
    line = None
    if value is not None and source_col is not None:
        import duckdb

        try:  # the batch's transaction is aborted by the error: look on a fresh in-memory connection
            row = (
                duckdb.connect()
                .execute(
                    f"SELECT rn FROM (SELECT row_number() OVER () AS rn, CAST({_q(source_col)} AS VARCHAR) AS v "
                    f"FROM {_reader_sql(path, src.kind, encoding, src.delim)}) WHERE v = ? ORDER BY rn LIMIT 1",
                    [value],
                )
                .fetchone()
            )
            line = int(row[0]) + 1 if row and src.kind == "csv" else (int(row[0]) if row else None)
        except Exception:
            line = None
    where = f"line {line}, " if line and src.kind == "csv" else (f"row {line}, " if line else "")
    return f"{path}: {where}column {detail}; fix the file, or pass --lenient to store such values as NULL"


def _record(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sha: str,
    plan: _Plan,
    ingest_id: int,
    batch: list[int],
    replace: bool,
    kind: str,
) -> FileReport:
    stats = con.execute(
        f"""SELECT count(*),
                   list(DISTINCT strftime(BillingPeriodStart, '%Y-%m')) FILTER (BillingPeriodStart IS NOT NULL),
                   list(DISTINCT ProviderName) FILTER (ProviderName IS NOT NULL),
                   count(*) FILTER (ChargePeriodStart IS NULL AND BillingPeriodStart IS NULL)
            FROM {catalog.TABLE} WHERE "x_IngestId" = ?""",
        [ingest_id],
    ).fetchone()
    assert stats is not None
    rows, periods, providers, no_time = int(stats[0]), sorted(stats[1] or []), sorted(stats[2] or []), int(stats[3])
    warnings = list(plan.warnings)
    if rows == 0:
        raise BadInput(f"{path}: no data rows (header only); re-export it or remove it from the batch")
    if no_time:
        warnings.append(f"{path.name}: {no_time} rows have no ChargePeriodStart/BillingPeriodStart")
    warnings.extend(_off_spec(con, ingest_id, path.name))
    overlap = replace and _earlier_delivery_overlaps(con, batch, periods, providers)
    replaced = _replace_periods(con, ingest_id, batch) if overlap else 0
    con.execute(
        f"INSERT INTO {store.INGEST_LOG} (ingest_id, path, sha256, format, focus_version, rows, ingested_at, "
        "billing_periods, providers, replaced_rows, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
        [
            ingest_id,
            str(path),
            sha,
            f"{plan.fmt}-{kind}",
            plan.version,
            rows,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            periods,
            providers,
            replaced,
        ],
    )
    return FileReport(
        path=str(path),
        sha256=sha,
        format=f"{plan.fmt}-{kind}",
        focus_version=plan.version,
        rows=rows,
        replaced_rows=replaced,
        billing_periods=periods,
        providers=providers,
        warnings=warnings,
    )


def _off_spec(con: duckdb.DuckDBPyConnection, ingest_id: int, label: str) -> list[str]:
    enum_cols = [c for c in catalog.columns() if c.allowed and c.name != "ServiceCategory"]
    parts = []
    for c in enum_cols:
        allowed = ", ".join(_sql_str(a) for a in c.allowed)
        parts.append(f'list(DISTINCT "{c.name}") FILTER ("{c.name}" IS NOT NULL AND "{c.name}" NOT IN ({allowed}))')
    row = con.execute(f'SELECT {", ".join(parts)} FROM {catalog.TABLE} WHERE "x_IngestId" = ?', [ingest_id]).fetchone()
    out = []
    for c, values in zip(enum_cols, row or [], strict=False):
        if values:
            shown = ", ".join(repr(v) for v in sorted(values)[:3])
            out.append(f"{label}: {c.name} has off-spec values {shown} (kept as given)")
    return out


def _earlier_delivery_overlaps(
    con: duckdb.DuckDBPyConnection, batch: list[int], periods: list[str], providers: list[str]
) -> bool:
    """Cheap check in the ingest log before scanning the table: does an earlier, still active delivery
    cover one of these billing periods for one of these providers?"""
    if not periods or not providers:
        return False
    in_batch = ", ".join(str(i) for i in batch)
    row = con.execute(
        f"SELECT count(*) FROM {store.INGEST_LOG} WHERE active AND ingest_id NOT IN ({in_batch}) "
        "AND list_has_any(billing_periods, ?) AND list_has_any(providers, ?)",
        [periods, providers],
    ).fetchone()
    return bool(row and row[0])


def _replace_periods(con: duckdb.DuckDBPyConnection, ingest_id: int, batch: list[int]) -> int:
    """A re-delivered export replaces earlier rows of the same provider, billing account and period."""
    keys = f"""SELECT DISTINCT ProviderName, BillingAccountId, BillingPeriodStart FROM {catalog.TABLE}
               WHERE "x_IngestId" = {ingest_id} AND ProviderName IS NOT NULL AND BillingAccountId IS NOT NULL
               AND BillingPeriodStart IS NOT NULL"""
    in_batch = ", ".join(str(i) for i in batch)
    where = f"""f."x_IngestId" NOT IN ({in_batch}) AND EXISTS (SELECT 1 FROM ({keys}) k
               WHERE k.ProviderName = f.ProviderName AND k.BillingAccountId = f.BillingAccountId
               AND k.BillingPeriodStart = f.BillingPeriodStart)"""
    row = con.execute(f"SELECT count(*) FROM {catalog.TABLE} f WHERE {where}").fetchone()
    n = int(row[0]) if row else 0
    if n:
        con.execute(f"DELETE FROM {catalog.TABLE} f WHERE {where}")
        con.execute(
            f"""UPDATE {store.INGEST_LOG} SET active = false WHERE active AND ingest_id NOT IN ({in_batch})
                AND ingest_id NOT IN
                    (SELECT DISTINCT "x_IngestId" FROM {catalog.TABLE} WHERE "x_IngestId" IS NOT NULL)"""
        )
    return n


def describe_sources(ctx: ToolContext) -> list[dict[str, Any]]:
    """What has been loaded (the ingest log), newest first."""
    with store.reader(ctx.db_path) as con:
        cur_ = con.execute(
            f"SELECT ingest_id, path, format, focus_version, rows, ingested_at, billing_periods, providers, active "
            f"FROM {store.INGEST_LOG} ORDER BY ingest_id DESC"
        )
        names = [d[0] for d in cur_.description]
        return [dict(zip(names, r, strict=True)) for r in cur_.fetchall()]
