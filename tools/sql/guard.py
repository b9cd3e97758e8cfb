"""The SQL guard: parse with sqlglot, allow-list the tree, qualify against the schema. Fail closed.

What runs is sqlglot's re-rendering of the checked tree (comments dropped), so a parser differential
cannot smuggle text past the checks. The rules, in order:

1. size: at most :data:`MAX_SQL_CHARS` characters (checked before parsing), :data:`MAX_NODES` tree
   nodes and :data:`MAX_DEPTH` levels of nesting; a parser ``RecursionError`` is "too complex".
2. exactly one statement, and it is a query (``SELECT``, ``WITH``, ``UNION``/``INTERSECT``/``EXCEPT``).
3. nowhere in the tree a write, DDL, session or transaction node (a write hidden in a CTE, ``SELECT
   INTO``), nor a parameter placeholder.
4. every table is a bare name from ``schema`` or a CTE of the statement: no file names (``FROM
   'x.csv'``, ``FROM "x.csv"``), no table functions, no schema/catalog prefixes.
5. every function is on the allow-list in :mod:`tools.sql.allowlist`.
6. columns are qualified with sqlglot's ``qualify``; an unknown one gets a "did you mean" message.
   Column names are rewritten to the schema's spelling when unambiguous (``billedcost`` -> ``BilledCost``).

Safety rests on 1-5; qualification (6) is for messages the model can act on. DuckDB's read-only,
external-access-off, locked connection (``tools.sql.run``) is the second line of defence.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from tools.errors import SqlRejected
from tools.sql import allowlist

MAX_SQL_CHARS = 20_000
MAX_NODES = 5_000
MAX_DEPTH = 64
DIALECT = "duckdb"

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "unsupported syntax" warnings would add stderr lines

Schema = dict[str, dict[str, str]]

_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Command", "Create", "Drop", "Alter", "Insert", "Update", "Delete", "Merge", "Copy", "Set",
        "SetItem", "Pragma", "Use", "Attach", "Detach", "Install", "LoadData", "Transaction", "Commit",
        "Rollback", "TruncateTable", "Describe", "Show", "Summarize", "Into", "Grant", "Revoke",
        "Analyze", "Comment", "Export", "Kill", "Cache", "Uncache", "Refresh", "Declare", "Execute",
    )
    if hasattr(exp, name)
)


@dataclass(frozen=True)
class GuardedQuery:
    """A query that passed the guard: the SQL to run (DuckDB dialect) and what it reads."""

    sql: str
    tables: tuple[str, ...]
    columns: tuple[str, ...]


def guard(sql: str, schema: Schema) -> GuardedQuery:
    """Check ``sql`` against the rules above; return the safe SQL or raise :class:`SqlRejected`.

    Fails closed: any unexpected error while checking is a rejection too.
    """
    try:
        return _guard(sql, schema)
    except SqlRejected:
        raise
    except RecursionError:
        raise SqlRejected("query too complex: too deeply nested; simplify it") from None
    except Exception as exc:
        raise SqlRejected(f"could not check the SQL ({type(exc).__name__}); simplify it") from None


def _guard(sql: str, schema: Schema) -> GuardedQuery:
    tree = _parse_one(sql)
    _check_size(tree)
    _check_root(tree)
    _check_nodes(tree)
    tables = _check_tables(tree, schema)
    _check_functions(tree)
    columns = _qualify(tree, schema, tables)
    safe = tree.sql(dialect=DIALECT, comments=False)
    return GuardedQuery(sql=safe, tables=tables, columns=columns)


def _parse_one(sql: str) -> exp.Expr:
    if not isinstance(sql, str) or not sql.strip():
        raise SqlRejected("empty SQL: send one SELECT query")
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRejected(f"query too long ({len(sql):,} characters, limit {MAX_SQL_CHARS:,}); simplify it")
    if "\x00" in sql:
        raise SqlRejected("could not parse the SQL: it contains a NUL character")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError:
        raise SqlRejected("could not parse the SQL: it is not valid UTF-8 text") from None
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except RecursionError:
        raise SqlRejected("query too complex: too deeply nested; simplify it") from None
    except ParseError as exc:
        raise SqlRejected(f"could not parse the SQL: {_parse_error_line(exc)}") from None
    except Exception as exc:  # tokenizer and other sqlglot errors: fail closed
        raise SqlRejected(f"could not parse the SQL: {_one_line(str(exc))}") from None
    if not statements:
        raise SqlRejected("empty SQL (only comments or semicolons): send one SELECT query")
    if len(statements) > 1:
        raise SqlRejected(f"exactly one statement is allowed, got {len(statements)}; send one query")
    return statements[0]


def _parse_error_line(exc: ParseError) -> str:
    if exc.errors:
        err = exc.errors[0]
        where = f" at line {err.get('line')}, column {err.get('col')}" if err.get("line") else ""
        near = err.get("highlight")
        near_text = f" near {_one_line(str(near))[:40]!r}" if near else ""
        return f"{err.get('description', 'syntax error')}{where}{near_text}"
    return _one_line(str(exc))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _walk(tree: exp.Expr) -> Iterator[tuple[exp.Expr, int]]:
    """Every node with its depth, iteratively (no recursion on hostile nesting)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in node.iter_expressions())


def _check_size(tree: exp.Expr) -> None:
    for count, (_, depth) in enumerate(_walk(tree), start=1):
        if count > MAX_NODES:
            raise SqlRejected(f"query too complex (more than {MAX_NODES:,} syntax nodes); simplify it")
        if depth > MAX_DEPTH:
            raise SqlRejected(f"query too complex (nested deeper than {MAX_DEPTH} levels); simplify it")


def _statement_kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Column | exp.Identifier):
        return str(node.name).upper()
    if isinstance(node, exp.Create):
        return f"CREATE {node.args.get('kind') or ''}".strip()
    if isinstance(node, exp.Into):
        return "SELECT INTO"
    return type(node).__name__.upper()


def _check_root(tree: exp.Expr) -> None:
    if not isinstance(tree, _QUERY_ROOTS):
        raise SqlRejected(f"only SELECT queries are allowed, not {_statement_kind(tree)}")


def _check_nodes(tree: exp.Expr) -> None:
    for node, _ in _walk(tree):
        if isinstance(node, _FORBIDDEN_NODES):
            kind = _statement_kind(node)
            raise SqlRejected(f"only read-only SELECT queries are allowed: {kind} found inside the query")
        if isinstance(node, exp.Placeholder | exp.Parameter | exp.SessionParameter):
            raise SqlRejected("query parameters ($1, ?, @x) are not supported; write the value inline")


def _cte_names(tree: exp.Expr) -> set[str]:
    return {str(cte.alias_or_name).lower() for cte in tree.find_all(exp.CTE)}


def _check_tables(tree: exp.Expr, schema: Schema) -> tuple[str, ...]:
    canonical = {name.lower(): name for name in schema}
    ctes = _cte_names(tree)
    used: list[str] = []
    for table in tree.find_all(exp.Table):
        target = table.this
        if not isinstance(target, exp.Identifier):
            what = allowlist.function_name(target) if isinstance(target, exp.Func) else type(target).__name__
            raise SqlRejected(f"table function {what}() is not allowed; query the tables {_names(schema)}")
        if table.args.get("db") or table.args.get("catalog"):
            raise SqlRejected(f"use bare table names ({_names(schema)}), not {table.sql(DIALECT)[:60]}")
        key = str(target.name).lower()
        if key in ctes:
            continue
        if key not in canonical:
            raise SqlRejected(f"unknown table {str(target.name)[:60]!r}; the tables are {_names(schema)}")
        table.set("this", exp.to_identifier(canonical[key]))
        if canonical[key] not in used:
            used.append(canonical[key])
    return tuple(used)


def _names(schema: Schema) -> str:
    return ", ".join(schema)


def _check_functions(tree: exp.Expr) -> None:
    for node in tree.find_all(exp.Func):
        if not allowlist.is_allowed(node):
            raise SqlRejected(
                f"function {allowlist.function_name(node)[:60]}() is not allowed in guarded SQL; "
                "use standard aggregates, date, string, math, list/map and JSON functions"
            )
        _check_bounds(node)


def _check_bounds(node: exp.Func) -> None:
    name = allowlist.function_name(node)
    if isinstance(node, exp.Pad):
        size, limit = node.args.get("expression"), allowlist.BOUNDED_ARGUMENTS["lpad"][1]
    elif name in allowlist.BOUNDED_ARGUMENTS:
        index, limit = allowlist.BOUNDED_ARGUMENTS[name]
        args = node.expressions
        size = args[index] if len(args) > index else None
    else:
        return
    if not (isinstance(size, exp.Literal) and not size.is_string and _small_int(size.this, limit)):
        raise SqlRejected(f"{name}() length must be a number literal up to {limit}")


def _small_int(text: str, limit: int) -> bool:
    try:
        return 0 <= float(text) <= limit
    except ValueError:
        return False


def _qualify(tree: exp.Expr, schema: Schema, tables: tuple[str, ...]) -> tuple[str, ...]:
    """Canonicalise column spelling; reject unknown columns with the closest names."""
    from tools.sql.columns import check_columns

    return check_columns(tree, {t: schema[t] for t in tables}, schema)
