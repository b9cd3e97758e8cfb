"""`finops demo`: JSON contract with --export, human output, and bad input (exit 2, one line)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest


def finops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("cli")
    home, out = root / "home", root / "export"
    return home, out, finops(home, "--json", "--export", str(out))


def test_json_prints_one_summary_document(exported: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    home, out, proc = exported
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON document, nothing else
    assert proc.stdout.count("\n") == 1
    assert doc["rows"] > 100_000 and doc["first_day"] == "2025-11-01" and doc["last_day"] == "2026-11-30"
    assert doc["seed"] == 42 and doc["scale"] == "small"
    assert set(doc["providers"]) == {"AWS", "Microsoft", "Anthropic", "OpenAI"}
    assert len(doc["monthly_cost"]) == 13
    assert Path(doc["export_dir"]) == out.resolve()
    assert Path(doc["git_repo"]) == home / "demo" / "infra-repo"
    assert (home / "finops.duckdb").is_file()


def test_export_writes_every_format(exported: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    _, out, proc = exported
    assert proc.returncode == 0, proc.stderr
    parquet = sorted((out / "focus").glob("*.parquet"))
    csvs = sorted((out / "focus-csv").glob("*.csv"))
    assert len(parquet) == len(csvs) == 13
    header, first = csvs[0].read_text().splitlines()[:2]
    assert header.startswith("AvailabilityZone,BilledCost,BillingAccountId")
    assert "2025-11-01T00:00:00Z" in first
    log = next((out / "cloudtrail").rglob("*.json.gz"))
    with gzip.open(log, "rt") as fh:
        assert json.load(fh)["Records"]
    git = subprocess.run(["git", "log", "--oneline"], cwd=out / "infra-repo", capture_output=True, text=True)
    assert git.returncode == 0 and len(git.stdout.splitlines()) > 100
    assert (out / "calendar.yaml").read_text().startswith("# Acme company calendar")
    assert json.loads((out / "manifest.json").read_text())["incidents"]


def test_human_output_shows_period_providers_money_and_evidence(
    exported: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    home, _, first = exported
    assert first.returncode == 0, first.stderr
    proc = finops(home)  # the same seed and scale: the demo already there is reused
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Demo org loaded:" in out and "2025-11-01 to 2026-11-30" in out
    assert "AWS, Anthropic, Microsoft, OpenAI" in out
    assert "$" in out and "total" in out
    assert str(home / "demo" / "cloudtrail") in out and "git repository" in out
    assert "demo org (seed 42, scale small)" in proc.stderr
    assert "reused (same seed and scale" in out and json.loads(first.stdout)["reused"] is False


def test_unknown_scale_is_bad_input(tmp_path: Path) -> None:
    proc = finops(tmp_path / "home", "--scale", "huge")
    assert proc.returncode == 2
    assert "huge" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
