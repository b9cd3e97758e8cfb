"""`finops forecast`: JSON contract, human output and bad input (exit 2, one line, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.tools.test_forecast import daily_series, make_db


def run_process(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "forecast", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Done]:
    """`finops --home HOME forecast ARGS` in this process (the exit code from SystemExit)."""

    def go(home: Path, *args: str) -> Done:
        from agent.cli import main

        with pytest.raises(SystemExit) as info:
            main(["--home", str(home), "forecast", *args])
        out = capsys.readouterr()
        return Done(int(info.value.code or 0), out.out, out.err)

    return go


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fc") / "home"
    y = daily_series(546)
    y[-1] *= 0.2  # yesterday is still being billed
    make_db(root, {"Amazon EC2": y, "Amazon S3": daily_series(546, seed=9, level=200)})
    return root


def test_json_output_follows_the_contract(home: Path, tmp_path: Path) -> None:
    cal = tmp_path / "cal.yaml"
    cal.write_text("events:\n  - {name: Summer sale, start: 2025-06-10, end: 2025-06-12, repeat: yearly}\n")
    done = run_process(home, "--json", "--horizon", "14", "--by", "ServiceName", "--calendar", str(cal))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert set(doc) == {"method", "cutoff", "series", "events_used", "backtest", "unsettled_days"}
    assert doc["cutoff"] == "2026-06-29" and "fitted on 545 settled days through 2026-06-29" in doc["method"]
    assert [s["key"] for s in doc["series"]] == ["total", "Amazon EC2", "Amazon S3"]
    for s in doc["series"]:
        assert set(s) == {"key", "points", "total", "total_lo", "total_hi"}
        assert len(s["points"]) == 14 and set(s["points"][0]) == {"date", "yhat", "lo", "hi"}
    assert set(doc["backtest"]) == {"wape", "baseline_wape"}
    assert set(doc["backtest"]["baseline_wape"]) == {"seasonal_naive", "run_rate"}
    assert [u["date"] for u in doc["unsettled_days"]] == ["2026-06-30"]
    parts = np.array([[p["yhat"] for p in s["points"]] for s in doc["series"][1:]]).sum(axis=0)
    assert np.allclose(parts, [p["yhat"] for p in doc["series"][0]["points"]], atol=0.05)


def test_human_output_shows_projection_budget_method_and_chart(home: Path, run: Callable[..., Done]) -> None:
    done = run(home, "--budget", "40000")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Month-end and quarter-end projection" in out and "2026-07" in out and "2026-Q3" in out
    assert "vs budget" in out and "$40,000.00" in out and "$120,000.00" in out
    assert "fitted on 545 settled days through 2026-06-29" in out.replace("\n", " ")
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")
    assert "Unsettled" in out and "2026-06-30" in out
    assert "Backtest" in out and "seasonal-naive" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "Servce"], "did you mean ServiceName"),
        (["--country", "ZZ"], "unknown country 'ZZ'"),
        (["--budget", "-5"], "--budget"),
        (["--horizon", "0"], "--horizon"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    home: Path, args: list[str], message: str, run: Callable[..., Done]
) -> None:
    done = run(home, *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_malformed_calendar_exits_2_naming_file_and_entry(home: Path, tmp_path: Path, run: Callable[..., Done]) -> None:
    cal = tmp_path / "bad.yaml"
    cal.write_text("events:\n  - {name: Launch, start: 2026-07-01, effect: huge}\n")
    done = run(home, "--calendar", str(cal))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.yaml" in lines[0] and "events[0] (Launch) effect" in lines[0]


def test_too_little_history_exits_2(tmp_path: Path, run: Callable[..., Done]) -> None:
    short = tmp_path / "short"
    make_db(short, {"x": daily_series(30)})
    done = run(short, "--json")
    assert done.returncode == 2 and "too little history" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_all_zero_spend_exits_2(tmp_path: Path, run: Callable[..., Done]) -> None:
    zero = tmp_path / "zero"
    make_db(zero, {"x": np.zeros(90)})
    done = run(zero)
    assert done.returncode == 2 and "zero EffectiveCost" in done.stderr


def test_gaps_exit_2(tmp_path: Path, run: Callable[..., Done]) -> None:
    gappy = tmp_path / "gappy"
    make_db(gappy, {"x": daily_series(120)}, skip_days=[60])
    done = run(gappy)
    assert done.returncode == 2 and "missing day" in done.stderr


def test_draft_calendar_turns_notes_into_yaml_via_a_real_openai_client(
    tmp_path: Path, run: Callable[..., Done], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.llm_stub import OpenAIWire, Turn, serve

    notes = tmp_path / "notes.txt"
    notes.write_text("Black Friday sale Nov 27-30, about +40%.\n")
    events = {"events": [{"name": "Black Friday sale", "start": "2026-11-27", "end": "2026-11-30", "effect": "+40%"}]}
    with serve(OpenAIWire()) as (url, state):
        state.actions.append(Turn(text=json.dumps(events)))
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        done = run(tmp_path / "home", "--draft-calendar", str(notes), "--provider", "openai")
    assert done.returncode == 0, done.stderr
    assert "name: Black Friday sale" in done.stdout and "effect: +40%" in done.stdout
    assert "1 event(s) drafted" in done.stderr and len(state.requests) == 1
    assert (tmp_path / "home" / "ledger.sqlite").exists()


def test_draft_calendar_without_a_provider_exits_2(tmp_path: Path, run: Callable[..., Done]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Launch in March")
    done = run(tmp_path / "home", "--draft-calendar", str(notes))
    assert done.returncode == 2 and "needs an LLM provider" in done.stderr
