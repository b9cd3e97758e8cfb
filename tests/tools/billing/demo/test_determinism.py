"""Same spec, same bytes; another seed, another org. Uses one month so the tests stay quick."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tools.billing.demo import DEFAULT_INCIDENTS, DemoFiles, DemoSpec, generate
from tools.errors import BadInput

NOVEMBER = {"first_day": date(2025, 11, 1), "last_day": date(2025, 11, 30)}


def digest(root: Path, part: str) -> str:
    h = hashlib.sha256()
    for path in sorted((root / part).rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoFiles, DemoFiles, DemoFiles]:
    spec = DemoSpec(seed=42, **NOVEMBER)  # type: ignore[arg-type]
    a = generate(spec, tmp_path_factory.mktemp("a"))
    b = generate(spec, tmp_path_factory.mktemp("b"))
    c = generate(DemoSpec(seed=7, **NOVEMBER), tmp_path_factory.mktemp("c"))  # type: ignore[arg-type]
    return a, b, c


def test_same_seed_gives_identical_rows_evidence_and_history(twice: tuple[DemoFiles, DemoFiles, DemoFiles]) -> None:
    a, b, _ = twice
    assert a.rows == b.rows > 5_000
    for part in ("focus", "cloudtrail"):
        assert digest(a.root, part) == digest(b.root, part)
    assert (a.root / "manifest.json").read_bytes() == (b.root / "manifest.json").read_bytes()
    assert (a.root / "calendar.yaml").read_bytes() == (b.root / "calendar.yaml").read_bytes()
    assert head(a.git_repo) == head(b.git_repo)


def test_different_seed_gives_different_rows(twice: tuple[DemoFiles, DemoFiles, DemoFiles]) -> None:
    a, _, c = twice
    ta = pq.read_table(a.focus_dir / "focus-2025-11.parquet")
    tc = pq.read_table(c.focus_dir / "focus-2025-11.parquet")
    assert not ta.equals(tc)
    assert set(ta.column("ResourceId").to_pylist()) != set(tc.column("ResourceId").to_pylist())
    assert digest(a.root, "cloudtrail") != digest(c.root, "cloudtrail")
    assert ta.schema == tc.schema


def test_short_periods_drop_the_incidents_outside_them(twice: tuple[DemoFiles, DemoFiles, DemoFiles]) -> None:
    import json

    a, _, _ = twice
    manifest = json.loads((a.root / "manifest.json").read_text())
    assert (manifest["first_day"], manifest["last_day"]) == ("2025-11-01", "2025-11-30")
    assert [i["kind"] for i in manifest["incidents"]] == ["calendar_surge"]


def test_bad_specs_are_refused_with_one_actionable_line() -> None:
    with pytest.raises(BadInput, match="unknown demo scale 'huge'"):
        DemoSpec(scale="huge")  # type: ignore[arg-type]
    twin = DEFAULT_INCIDENTS[1]
    with pytest.raises(BadInput, match="at most one incident of each kind"):
        DemoSpec(incidents=(twin, twin))
    with pytest.raises(BadInput, match="before first_day"):
        DemoSpec(first_day=date(2026, 5, 1), last_day=date(2026, 4, 1))


def test_an_incident_list_override_moves_the_incident_and_its_evidence(tmp_path: Path) -> None:
    import json
    from datetime import datetime

    import duckdb

    from tools.billing.demo import IncidentSpec

    moved = IncidentSpec("asg-moved", "asg_min_size", date(2026, 1, 13), None, datetime(2026, 1, 13, 9, 30), 12)
    files = generate(DemoSpec(incidents=(moved,), first_day=date(2026, 1, 1), last_day=date(2026, 1, 31)), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    inc = next(i for i in manifest["incidents"] if i["is_anomaly"])
    assert (inc["id"], inc["start"], inc["end"]) == ("asg-moved", "2026-01-13", None)
    assert inc["cause"]["time"] == "2026-01-13T09:30:00Z" and inc["daily_delta_usd"] > 50
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT day(ChargePeriodStart), sum(EffectiveCost) FROM '{files.focus_dir}/*.parquet' "
            "WHERE SubAccountId = '238476512093' AND x_ServiceCode = 'AmazonEC2' GROUP BY 1"
        )
        .fetchall()
    )
    ec2 = dict(rows)
    assert ec2[20] > ec2[6] + 50


def test_large_scale_bills_the_services_hourly_with_a_daily_shape(tmp_path: Path) -> None:
    import duckdb

    files = generate(DemoSpec(scale="large", first_day=date(2026, 6, 10), last_day=date(2026, 6, 10)), tmp_path)
    glob = f"{files.focus_dir}/*.parquet"
    con = duckdb.connect()
    spans = con.execute(
        f"SELECT DISTINCT ChargePeriodEnd - ChargePeriodStart FROM '{glob}' WHERE ChargeCategory = 'Usage' "
        "AND CommitmentDiscountStatus IS DISTINCT FROM 'Unused'"
    ).fetchall()
    assert spans == [(timedelta(hours=1),)]
    hours = dict(
        con.execute(
            f"SELECT hour(ChargePeriodStart), sum(EffectiveCost) FROM '{glob}' "
            "WHERE ServiceName = 'Amazon CloudFront' GROUP BY 1"
        ).fetchall()
    )
    assert len(hours) == 24 and hours[16] > 2 * hours[3]
    assert files.rows > 24 * 1000
