"""The SQL guard: hostile corpus refused, real questions accepted, messages a model can act on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlglot
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.errors import SqlRejected
from tools.sql import allowlist
from tools.sql.guard import MAX_DEPTH, MAX_SQL_CHARS, guard

from .corpus import CASES, HARMLESS, LIMITED, REJECTED

SCHEMA = {
    "focus": {
        "BilledCost": "DECIMAL(38,12)", "EffectiveCost": "DECIMAL(38,12)", "ListCost": "DECIMAL(38,12)",
        "ServiceName": "VARCHAR", "ProviderName": "VARCHAR", "ChargeCategory": "VARCHAR",
        "RegionId": "VARCHAR", "ChargeDescription": "VARCHAR", "ChargePeriodStart": "TIMESTAMP",
        "ChargePeriodEnd": "TIMESTAMP", "Tags": "MAP(VARCHAR, VARCHAR)", "x_tag_team": "VARCHAR",
    },
    "agent_usage": {
        "model": "VARCHAR", "cost_usd": "DECIMAL(18,8)", "ts": "TIMESTAMP", "input_tokens": "BIGINT",
    },
}

GOOD = yaml.safe_load(Path(__file__).with_name("good_queries.yaml").read_text(encoding="utf-8"))["queries"]


def test_the_corpus_has_forty_or_more_hostile_queries_across_every_category():
    hostile = [c for c in CASES if c.expect != "harmless"]
    categories = {c.category for c in hostile}
    assert len(hostile) >= 40
    assert {"statement", "multi", "hidden-write", "comments", "file-function", "environment",
            "replacement-scan", "unicode", "parser", "memory"} <= categories


@pytest.mark.parametrize("case", REJECTED, ids=[c.id for c in REJECTED])
def test_hostile_query_is_refused_with_one_actionable_line(case):
    with pytest.raises(SqlRejected) as info:
        guard(case.sql(), SCHEMA)
    message = str(info.value)
    assert message and "\n" not in message and len(message) <= 400


@pytest.mark.parametrize("case", LIMITED, ids=[c.id for c in LIMITED])
def test_runaway_query_is_left_to_the_engine_limits(case):
    guarded = guard(case.sql(), SCHEMA)
    assert guarded.sql.upper().startswith(("SELECT", "WITH"))


@pytest.mark.parametrize("case", HARMLESS, ids=[c.id for c in HARMLESS])
def test_lookalike_data_is_not_refused(case):
    guard(case.sql(), SCHEMA)


@pytest.mark.parametrize("sql", GOOD)
def test_typical_finops_query_passes(sql):
    guarded = guard(sql, SCHEMA)
    assert sqlglot.parse_one(guarded.sql, read="duckdb") is not None


@pytest.mark.parametrize(
    ("sql", "kind"),
    [("COPY focus TO 'x.csv'", "COPY"), ("LOAD httpfs", "LOAD"), ("CHECKPOINT", "CHECKPOINT"),
     ("CREATE TEMP MACRO m(x) AS x", "CREATE MACRO"), ("SELECT * INTO z FROM focus", "SELECT INTO"),
     ("WITH a AS (DELETE FROM focus RETURNING *) SELECT * FROM a", "DELETE")],
)
def test_refusal_names_the_statement_kind(sql, kind):
    with pytest.raises(SqlRejected, match=kind):
        guard(sql, SCHEMA)


def test_unknown_column_suggests_the_closest_name():
    with pytest.raises(SqlRejected, match=r"no column BiledCost in focus; did you mean BilledCost"):
        guard("SELECT sum(BiledCost) FROM focus", SCHEMA)


def test_unknown_column_of_an_aliased_table_names_the_table():
    with pytest.raises(SqlRejected, match=r"no column servicenme in focus; did you mean ServiceName"):
        guard("SELECT f.servicenme FROM focus AS f", SCHEMA)


def test_unknown_column_with_nothing_close_points_to_the_schema():
    with pytest.raises(SqlRejected, match=r"no column zzzz .*schema"):
        guard("SELECT zzzz FROM focus", SCHEMA)


def test_columns_resolve_case_insensitively_to_the_schema_spelling():
    guarded = guard('SELECT billedcost, SERVICENAME, "ServiceName" FROM FOCUS', SCHEMA)
    assert guarded.sql == 'SELECT BilledCost, ServiceName, "ServiceName" FROM focus'
    assert guarded.columns == ("BilledCost", "ServiceName")


def test_aliases_and_cte_columns_are_not_taken_for_unknown_columns():
    guarded = guard("WITH t AS (SELECT ServiceName AS svc, sum(EffectiveCost) AS c FROM focus GROUP BY 1) "
                    "SELECT svc, c FROM t ORDER BY c DESC", SCHEMA)
    assert guarded.tables == ("focus",)


def test_tag_dot_access_is_refused_with_the_bracket_idiom():
    with pytest.raises(SqlRejected, match=r"Tags\['team'\]"):
        guard("SELECT Tags.team, sum(EffectiveCost) FROM focus GROUP BY 1", SCHEMA)


def test_unknown_table_lists_the_tables_that_exist():
    with pytest.raises(SqlRejected, match="unknown table 'costs'; the tables are focus, agent_usage"):
        guard("SELECT * FROM costs", SCHEMA)


def test_parse_error_is_one_line_with_the_position():
    with pytest.raises(SqlRejected, match=r"could not parse the SQL: .*line 1") as info:
        guard("SELECT FROM WHERE (", SCHEMA)
    assert "\n" not in str(info.value)


def test_text_that_is_not_valid_utf8_is_refused():
    with pytest.raises(SqlRejected, match="not valid UTF-8"):
        guard("SELECT '\udcff' AS s", SCHEMA)


def test_oversized_sql_is_refused_before_parsing():
    with pytest.raises(SqlRejected, match="too long"):
        guard("SELECT 1" + " " * MAX_SQL_CHARS, SCHEMA)


def test_nesting_beyond_the_limit_is_refused_even_with_a_high_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        with pytest.raises(SqlRejected, match="too complex"):
            guard("SELECT " + "(" * (MAX_DEPTH + 10) + "1" + ")" * (MAX_DEPTH + 10), SCHEMA)
    finally:
        sys.setrecursionlimit(old)


def test_the_sql_that_runs_has_no_comments():
    guarded = guard("SELECT /* hidden */ 1 AS n -- trailing\n", SCHEMA)
    assert "hidden" not in guarded.sql and "trailing" not in guarded.sql


def test_padding_is_bounded_to_small_literal_lengths():
    guard("SELECT rpad(ServiceName, 30, '.') FROM focus", SCHEMA)
    with pytest.raises(SqlRejected, match="length must be a number literal"):
        guard("SELECT rpad(ServiceName, length(ChargeDescription) * 1000000, '.') FROM focus", SCHEMA)


def test_typed_class_table_matches_what_the_allowed_names_parse_to():
    derived = {c.__name__ for c in allowlist.derive_typed_classes()}
    assert derived == set(allowlist.TYPED_CLASS_NAMES)


def test_no_denied_class_is_reachable_from_an_allowed_name():
    assert not (allowlist.allowed_classes() & allowlist.DENIED_CLASSES)
    dangerous = {"read_csv", "read_text", "glob", "query", "getenv", "range", "repeat", "current_setting"}
    assert not (dangerous & allowlist.ALLOWED_FUNCTIONS)


SQL_WORDS = st.sampled_from([
    "SELECT", "FROM", "focus", "WHERE", "(", ")", ";", "'", '"', "--", "/*", "*/", "read_csv", "getenv",
    "COPY", "TO", "ATTACH", "WITH", "AS", "INSERT", "INTO", "UNION", "1", ",", "*", "Tags['team']",
    "BilledCost", "::", "$$", "[", "]", "{", "}", "->", "x", "\\", "\u200b", "о",
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text_never_raises_anything_but_sql_rejected(text):
    try:
        guard(text, SCHEMA)
    except SqlRejected:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SQL_WORDS, max_size=40).map(" ".join))
def test_random_sql_token_soup_never_raises_anything_but_sql_rejected(text):
    try:
        guarded = guard(text, SCHEMA)
    except SqlRejected:
        return
    tree = sqlglot.parse_one(guarded.sql, read="duckdb")
    assert isinstance(tree, (sqlglot.exp.Select, sqlglot.exp.SetOperation, sqlglot.exp.Subquery))
