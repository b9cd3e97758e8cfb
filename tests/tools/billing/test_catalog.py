"""The FOCUS column catalog is data, and it matches the spec's column counts per version."""

from __future__ import annotations

from tools.billing import catalog


def test_column_counts_per_focus_version_match_the_spec() -> None:
    counts = {v: len(catalog.columns_for_version(v)) for v in catalog.VERSIONS}
    assert counts == {"1.0": 43, "1.1": 50, "1.2": 57, "1.3": 65}


def test_every_column_has_a_type_description_and_duckdb_type() -> None:
    for col in catalog.columns():
        assert col.type in ("String", "Decimal", "DateTime", "JSON")
        assert col.description and col.level in ("M", "C", "R")
        assert col.duckdb_type
    assert catalog.by_name()["BilledCost"].duckdb_type == "DECIMAL(38,12)"
    assert catalog.by_name()["Tags"].duckdb_type == "MAP(VARCHAR, VARCHAR)"
    assert catalog.by_name()["ChargePeriodStart"].duckdb_type == "TIMESTAMP"
    assert catalog.by_name()["SubAccountId"].duckdb_type == "VARCHAR"


def test_allowed_values_are_listed_where_the_spec_lists_them() -> None:
    assert catalog.by_name()["ChargeCategory"].allowed == ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
    assert len(catalog.by_name()["ServiceCategory"].allowed) == 19


def test_version_detection_uses_the_newest_added_columns() -> None:
    assert catalog.detect_version({"BilledCost", "ChargePeriodStart"}) == "1.0"
    assert catalog.detect_version({"BilledCost", "SkuMeter"}) == "1.1"
    assert catalog.detect_version({"InvoiceId", "SkuMeter"}) == "1.2"
    assert catalog.detect_version({"ServiceProviderName"}) == "1.3"
