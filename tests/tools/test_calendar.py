"""tools.calendar: company events from YAML / iCalendar files and public holidays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tools.calendar import CalendarEvent, event_days, holiday_days, load_calendar
from tools.errors import BadInput

D = dt.date


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


YAML = """\
events:
  - {name: Black Friday sale, start: 2025-11-28, end: 2025-11-30, repeat: yearly, effect: "+40%"}
  - name: EU region launch
    start: 2026-03-16
    end: 2026-03-16
  - {name: Freeze, start: "2026-12-20", end: "2026-12-31", repeat: none, effect: "-20%"}
"""

ICS = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:a@test
SUMMARY:Black Friday sale
DTSTART;VALUE=DATE:20251128
DTEND;VALUE=DATE:20251201
RRULE:FREQ=YEARLY
X-FINOPS-EFFECT:+40%
END:VEVENT
BEGIN:VEVENT
UID:b@test
SUMMARY:Load test
DTSTART:20260310T090000Z
DTEND:20260310T170000Z
DESCRIPTION:big run\\, effect: +25%
END:VEVENT
END:VCALENDAR
"""


def test_yaml_calendar_loads_events_with_repeat_and_effect(tmp_path: Path) -> None:
    events = load_calendar(write(tmp_path, "cal.yaml", YAML))
    assert [e.name for e in events] == ["Black Friday sale", "EU region launch", "Freeze"]
    assert events[0].repeat == "yearly" and events[0].effect == "+40%"
    assert events[0].effect_ratio == pytest.approx(1.4)
    assert events[1].repeat == "none" and events[1].effect is None and events[1].effect_ratio is None
    assert events[2].start == D(2026, 12, 20) and events[2].effect_ratio == pytest.approx(0.8)


def test_ics_calendar_maps_yearly_rrule_and_exclusive_all_day_end(tmp_path: Path) -> None:
    events = load_calendar(write(tmp_path, "cal.ics", ICS))
    bf, load = events
    assert (bf.start, bf.end, bf.repeat, bf.effect) == (D(2025, 11, 28), D(2025, 11, 30), "yearly", "+40%")
    assert (load.start, load.end) == (D(2026, 3, 10), D(2026, 3, 10))
    assert (load.repeat, load.effect) == ("none", "+25%")


def test_event_days_expands_yearly_repeats_into_later_years(tmp_path: Path) -> None:
    events = load_calendar(write(tmp_path, "cal.yaml", YAML))
    days = event_days(events, D(2026, 11, 1), D(2027, 1, 5))
    assert days[D(2026, 11, 28)] == ["Black Friday sale"]
    assert D(2026, 11, 30) in days and D(2026, 12, 1) not in days
    assert days[D(2026, 12, 31)] == ["Freeze"]
    assert D(2027, 1, 1) not in days
    assert all(D(2026, 11, 1) <= d <= D(2027, 1, 5) for d in days)


def test_event_days_clips_a_one_off_event_to_the_window() -> None:
    ev = CalendarEvent(name="Migration", start=D(2026, 1, 30), end=D(2026, 2, 2))
    assert list(event_days([ev], D(2026, 2, 1), D(2026, 2, 28))) == [D(2026, 2, 1), D(2026, 2, 2)]


def test_yearly_event_on_29_february_falls_on_28_february_in_common_years() -> None:
    ev = CalendarEvent(name="Leap", start=D(2024, 2, 29), end=D(2024, 2, 29), repeat="yearly")
    assert list(event_days([ev], D(2025, 1, 1), D(2025, 12, 31))) == [D(2025, 2, 28)]


def test_holiday_days_lists_the_countrys_public_holidays_in_range() -> None:
    us = holiday_days("US", D(2026, 11, 1), D(2026, 12, 31))
    assert us[D(2026, 11, 26)].startswith("Thanksgiving")
    assert D(2026, 12, 25) in us and all(D(2026, 11, 1) <= d <= D(2026, 12, 31) for d in us)
    de = holiday_days("DE", D(2026, 10, 1), D(2026, 10, 31))
    assert list(de) == [D(2026, 10, 3)]


def test_unknown_country_is_bad_input_naming_the_code() -> None:
    with pytest.raises(BadInput, match="'ZZ'"):
        holiday_days("ZZ", D(2026, 1, 1), D(2026, 1, 31))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("events:\n  - {name: Sale, start: 2026-11-30, end: 2026-11-27}\n", r"events\[0\] \(Sale\).*before"),
        ("events:\n  - {name: Sale, start: 2026-11-27, effect: lots}\n", r"events\[0\] \(Sale\) effect"),
        ("events:\n  - {name: A, start: 2026-01-01}\n  - {name: B, start: x}\n", r"events\[1\] \(B\) start"),
        ("events:\n  - {name: Sale, start: 2026-11-27, repeat: monthly}\n", r"events\[0\] \(Sale\) repeat"),
        ("events:\n  - just a string\n", r"events\[0\] is not a mapping"),
        ("events: [unclosed\n", r"not valid YAML"),
        ("- a list at the top\n", r"expected a mapping"),
    ],
)
def test_malformed_yaml_calendar_is_one_line_naming_file_and_entry(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(BadInput, match=expected) as info:
        load_calendar(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_malformed_ics_calendar_is_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.ics", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n")
    with pytest.raises(BadInput, match=r"bad.ics.*events\[0\] \(x\) has no DTSTART"):
        load_calendar(path)


def test_missing_calendar_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="not found"):
        load_calendar(tmp_path / "nope.yaml")


def test_empty_yaml_calendar_has_no_events(tmp_path: Path) -> None:
    assert load_calendar(write(tmp_path, "empty.yaml", "")) == []
