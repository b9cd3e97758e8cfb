"""Column checks for the guard: schema spelling, sqlglot ``qualify`` and "did you mean" messages."""

from __future__ import annotations

import difflib
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from tools.errors import SqlRejected

Schema = dict[str, dict[str, str]]
DIALECT = "duckdb"


def check_columns(tree: exp.Expr, used: Schema, schema: Schema) -> tuple[str, ...]:
    """Rewrite column names to the schema's spelling; reject an unknown column with suggestions.

    Returns the schema columns the query references. ``used`` holds the tables the query reads.
    """
    if not used:
        return ()
    spellings: dict[str, set[str]] = {}
    for cols in used.values():
        for name in cols:
            spellings.setdefault(name.lower(), set()).add(name)
    _check_map_access(tree, used)
    referenced: list[str] = []
    for column in tree.find_all(exp.Column):
        names = spellings.get(column.name.lower())
        if names and len(names) == 1:
            canonical = next(iter(names))
            if column.name != canonical:
                column.set("this", exp.to_identifier(canonical))
            if canonical not in referenced:
                referenced.append(canonical)
    _validate(tree, used, spellings)
    return tuple(referenced)


def _map_columns(used: Schema) -> set[str]:
    return {c.lower() for cols in used.values() for c, t in cols.items() if t.upper().startswith("MAP")}


def _check_map_access(tree: exp.Expr, used: Schema) -> None:
    """``Tags.team`` reads a struct field; for a MAP column DuckDB needs ``Tags['team']``."""
    maps = _map_columns(used)
    if not maps:
        return
    sources = {t.lower() for t in used} | {str(a.name).lower() for a in tree.find_all(exp.TableAlias)}
    for column in tree.find_all(exp.Column):
        qualifier = column.table
        if qualifier and qualifier.lower() in maps and qualifier.lower() not in sources:
            name = column.name
            raise SqlRejected(f"{qualifier}.{name} does not read a tag; write {qualifier}['{name}']")


def _validate(tree: exp.Expr, used: Schema, spellings: dict[str, set[str]]) -> None:
    try:
        qualify(
            tree.copy(),
            schema=_mapping_schema(_freeze(used)),
            dialect=DIALECT,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
    except (OptimizeError, RecursionError):
        unknown = _first_unknown(tree, spellings)
        if unknown is not None:
            raise SqlRejected(_unknown_message(*unknown, used)) from None
        # Not an unknown name we can point at (e.g. an ambiguous reference): DuckDB's binder decides.
    except Exception:  # noqa: S110 - qualify is for messages only; safety checks already ran
        pass


def _freeze(used: Schema) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    return tuple((t, tuple(cols.items())) for t, cols in used.items())


@lru_cache(maxsize=32)
def _mapping_schema(frozen: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> MappingSchema:
    mapping: dict[str, object] = {t: dict(cols) for t, cols in frozen}
    try:
        return MappingSchema(mapping, dialect=DIALECT)
    except Exception:  # a DuckDB type sqlglot cannot parse: names are all qualify needs
        names_only: dict[str, object] = {t: dict.fromkeys(dict(cols), "VARCHAR") for t, cols in frozen}
        return MappingSchema(names_only, dialect=DIALECT)


def _defined_names(tree: exp.Expr) -> set[str]:
    """Names the query itself defines: aliases, CTE and derived-table columns, lambda parameters."""
    names: set[str] = set()
    for node in tree.find_all(exp.Alias, exp.TableAlias, exp.CTE, exp.Lambda):
        if isinstance(node, exp.Lambda):
            names.update(str(p.name).lower() for p in node.expressions)
        elif isinstance(node, exp.TableAlias):
            names.add(str(node.name).lower())
            names.update(str(c.name).lower() for c in node.columns)
        else:
            names.add(str(node.alias).lower())
    return names


def _first_unknown(tree: exp.Expr, spellings: dict[str, set[str]]) -> tuple[exp.Column, bool] | None:
    """The first column no table or alias defines, and whether the query has CTEs."""
    defined = _defined_names(tree)
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if name and name not in spellings and name not in defined:
            return column, tree.find(exp.CTE) is not None
    return None


def _unknown_message(column: exp.Column, has_ctes: bool, used: Schema) -> str:
    name = column.name
    qualifier = column.table
    table = next((t for t in used if qualifier and t.lower() == qualifier.lower()), None)
    where = table or ", ".join(used) + (" or the query's CTEs" if has_ctes else "")
    candidates = {c.lower(): c for t, cols in used.items() if table in (None, t) for c in cols}
    close = difflib.get_close_matches(name.lower(), list(candidates), n=3, cutoff=0.6)
    if close:
        hint = " or ".join(candidates[c] for c in close)
        return f"no column {name} in {where}; did you mean {hint}?"
    return f"no column {name} in {where}; call the schema tool (or `finops schema`) for the column names"
