"""What guarded SQL may call: DuckDB function names, and the sqlglot node classes they parse to.

An allow-list, never a deny-list: a function is callable only if its name is listed here. Typed
sqlglot nodes (``exp.Sum``, ``exp.TimestampTrunc`` ...) are allowed when parsing a listed DuckDB
name produces them, so the two views cannot drift apart. Table functions (``read_csv``, ``glob``,
``query``, ``range``, ``duckdb_*`` ...) and anything that reads files, settings or the environment
are simply absent. ``range``/``generate_series``/``repeat`` and ``format``/``printf`` (a width of
2e9) are absent on purpose: DuckDB's ``memory_limit`` does not bound them (security-checklist.md,
"Measured traps"); ``lpad``/``rpad`` take only small literal lengths.
"""

from __future__ import annotations

from functools import cache

from sqlglot import exp, parse_one

AGGREGATES = """
sum count count_star avg mean min max median mode quantile quantile_cont quantile_disc
percentile_cont percentile_disc stddev stddev_pop stddev_samp variance var_pop var_samp
approx_count_distinct approx_quantile any_value arbitrary arg_max arg_min argmax argmin max_by min_by
first last string_agg group_concat listagg list array_agg bool_and bool_or count_if countif product
corr covar_pop covar_samp regr_slope regr_intercept regr_r2 regr_count entropy kurtosis skewness fsum
sumkahan kahan_sum favg histogram bit_and bit_or
"""
WINDOW = "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value"
MATH = """
abs ceil ceiling floor round round_even even trunc sign sqrt cbrt exp ln log log10 log2 pow power mod
fmod greatest least pi isnan isinf isfinite divide
"""
STRING = """
lower upper lcase ucase length len char_length character_length strlen concat concat_ws substr substring
left right trim ltrim rtrim replace split_part string_split str_split string_to_array starts_with
ends_with contains position strpos instr regexp_matches regexp_replace regexp_extract
regexp_full_match reverse md5 sha256 hash prefix suffix like_escape ilike_escape lpad rpad
translate ascii chr unicode levenshtein jaro_winkler_similarity
"""
DATETIME = """
date_trunc datetrunc date_part datepart extract date_diff datediff date_sub datesub date_add
strftime strptime try_strptime make_date make_timestamp make_time current_date today now
current_timestamp get_current_timestamp last_day dayname monthname year month day dayofweek dayofmonth
dayofyear week weekofyear weekday isodow isoyear yearweek quarter hour minute second millisecond epoch
epoch_ms to_timestamp age to_days to_months to_years to_hours to_minutes to_seconds to_weeks
time_bucket epoch_us timezone
"""
CONDITIONAL = "coalesce ifnull nullif if iff cast try_cast typeof"
NESTED = """
list_value array_value list_extract list_element array_extract list_contains array_contains list_has
array_length list_sort array_sort list_distinct array_distinct list_unique list_sum list_avg list_min
list_max list_count list_aggregate list_transform array_transform list_filter array_filter flatten
list_slice array_slice list_position list_concat array_concat unnest map_keys map_values map_extract
map_extract_value element_at map_contains_key cardinality struct_extract struct_pack row map map_entries
list_reverse list_has_any list_has_all array_has list_reduce array_to_string list_aggr array_position
regexp_split_to_array string_split_regex strip_accents to_json json_object json_array
"""
JSON = """
json_extract json_extract_string json_extract_path json_extract_path_text json_value json_exists
json_keys json_array_length json_type json_valid
"""

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    " ".join((AGGREGATES, WINDOW, MATH, STRING, DATETIME, CONDITIONAL, NESTED, JSON)).split()
)
"""Lower-case DuckDB function names guarded SQL may call."""

BOUNDED_ARGUMENTS: dict[str, tuple[int, int]] = {"lpad": (1, 1_000), "rpad": (1, 1_000)}
"""name -> (argument index, largest literal allowed): padding to 2e9 characters is a memory bomb."""

SYNTAX_CLASSES: frozenset[type[exp.Expr]] = frozenset(
    {
        exp.Case, exp.Cast, exp.TryCast, exp.Struct, exp.Array, exp.ToMap, exp.Map, exp.VarMap,
        exp.Extract, exp.Exists, exp.Unnest, exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime,
        exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar,
        exp.Coalesce, exp.If, exp.Count, exp.And, exp.Or, exp.Xor, exp.Collate, exp.ArrayContainsAll,
        exp.ArrayContainedBy, exp.ArrayOverlaps, exp.RegexpILike, exp.Explode,
    }
)
"""Function-like nodes produced by syntax rather than by a call (``CASE``, ``::``, ``{..}``, ``->>``)."""

DENIED_CLASSES: frozenset[type[exp.Expr]] = frozenset(
    {exp.ReadCSV, exp.ReadParquet, exp.GenerateSeries, exp.Repeat, exp.Columns}
)
"""Never allowed, whatever name they came from (checked by a test against the derived set)."""


TYPED_CLASS_NAMES: tuple[str, ...] = (
    "Abs", "AnyValue", "ApproxDistinct", "ApproxQuantile", "ArgMax", "ArgMin", "ArrayAgg", "ArrayConcat",
    "ArrayContains", "ArrayDistinct", "ArrayFilter", "ArrayMax", "ArrayMin", "ArrayPosition", "ArraySize",
    "ArraySlice", "ArraySort", "ArrayToString", "Ascii", "Avg", "BitwiseAndAgg", "BitwiseOrAgg",
    "CastToStrType", "Cbrt", "Ceil", "Chr", "Concat", "ConcatWs", "Contains", "Corr", "CountIf", "CovarPop",
    "CovarSamp", "CumeDist", "DateAdd", "DateBin", "DateDiff", "DateFromParts", "DateSub", "DateTrunc",
    "Day", "DayOfMonth", "DayOfWeek", "DayOfWeekIso", "DayOfYear", "Dayname", "DenseRank", "EndsWith",
    "Exp", "First", "FirstValue", "Flatten", "Floor", "Greatest", "GroupConcat", "Hour", "IsInf", "IsNan",
    "JSONArray", "JSONKeys", "JSONObject", "JSONType", "JarowinklerSimilarity", "Kurtosis", "Lag", "Last",
    "LastDay", "LastValue", "Lead", "Least", "Left", "Length", "Levenshtein", "List", "Ln", "Log",
    "LogicalAnd", "LogicalOr", "Lower", "MD5", "MapContainsKey", "MapKeys", "Max", "Median", "Min",
    "Minute", "Mode", "Month", "Monthname", "NthValue", "Ntile", "Nullif", "Pad", "PercentRank",
    "PercentileCont", "PercentileDisc", "Pi", "Pow", "Quantile", "Quarter", "Rank", "RegexpExtract",
    "RegexpFullMatch", "RegexpLike", "RegexpReplace", "RegexpSplit", "RegrCount", "RegrIntercept", "RegrR2",
    "RegrSlope", "Replace", "Reverse", "Right", "Round", "RowNumber", "SHA2", "Second", "Sign", "Skewness",
    "Split", "SplitPart", "Sqrt", "StartsWith", "Stddev", "StddevPop", "StddevSamp", "StrPosition",
    "StrToTime", "StringToArray", "StructExtract", "Substring", "Sum", "TimeFromParts", "TimeToStr",
    "TimeToUnix", "TimestampFromParts", "TimestampTrunc", "ToDays", "Transform", "Translate", "Trim",
    "Trunc", "Typeof", "Unicode", "UnixToTime", "Upper", "Variance", "VariancePop", "Week", "WeekOfYear",
    "Year",
)
"""sqlglot classes the allowed names parse to; a test checks this equals :func:`derive_typed_classes`.

Kept as data so a CLI call does not pay ~0.6 s of parsing at start-up to rebuild it.
"""


@cache
def allowed_classes() -> frozenset[type[exp.Expr]]:
    """Typed function classes guarded SQL may use: derived from allowed names, plus syntax nodes."""
    typed = {getattr(exp, n) for n in TYPED_CLASS_NAMES if hasattr(exp, n)}
    return frozenset((typed | SYNTAX_CLASSES) - DENIED_CLASSES)


_PROBE_ARGS = (
    "", "a", "a, b", "a, b, c", "'x'", "'x', a", "'day', a", "'day', DATE '2026-01-01'",
    "DATE '2026-01-01'", "TIMESTAMP '2026-01-01 00:00:00'", "a, 'x'", "1", "1, 2", "a, 1, 'x'",
)
"""Argument shapes to parse each name with: sqlglot picks node classes by arity and literal type."""


def derive_typed_classes() -> frozenset[type[exp.Expr]]:
    """Parse every allowed DuckDB name with several argument shapes; collect the typed classes."""
    found: set[type[exp.Expr]] = set()
    for name in sorted(ALLOWED_FUNCTIONS):
        for args in _PROBE_ARGS:
            try:
                tree = parse_one(f"SELECT {name}({args})", read="duckdb")
            except Exception:  # noqa: S112 - this arity does not parse for this name
                continue
            found.update(type(n) for n in tree.find_all(exp.Func) if not isinstance(n, exp.Anonymous))
    found.update(_named_classes())
    return frozenset(found - SYNTAX_CLASSES - DENIED_CLASSES)


def _named_classes() -> set[type[exp.Expr]]:
    """Typed classes whose own SQL names include an allowed name (e.g. ``DateTrunc``)."""
    out: set[type[exp.Expr]] = set()
    for value in vars(exp).values():
        if isinstance(value, type) and issubclass(value, exp.Func) and value is not exp.Anonymous:
            try:
                names = {n.lower() for n in value.sql_names()}
            except Exception:  # noqa: S112 - abstract helpers without a SQL name
                continue
            if names & ALLOWED_FUNCTIONS:
                out.add(value)
    return out


def function_name(node: exp.Func) -> str:
    """The lower-case name a function node is called by (``Anonymous`` keeps the user's spelling)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def is_allowed(node: exp.Func) -> bool:
    """True when the function node may run."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower() in ALLOWED_FUNCTIONS
    return type(node) in allowed_classes()
