"""What to generate: the demo spec, its scales and the planted incidents (ground truth lives here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from tools.errors import BadInput

Scale = Literal["small", "medium", "large"]
IncidentKind = Literal["asg_min_size", "gpu_endpoint", "agent_loop", "nat_egress", "rds_resize"]

FIRST_DAY = date(2025, 11, 1)
LAST_DAY = date(2026, 11, 30)
EVIDENCE_START = date(2025, 9, 1)
"""CloudTrail and git history start here: the org's baseline resources were built in Sep-Oct 2025."""


@dataclass(frozen=True)
class ScaleSpec:
    """How big the org is: resource multiplier and whether the big services are billed hourly."""

    multiplier: int
    hourly: bool


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(multiplier=1, hourly=False),
    "medium": ScaleSpec(multiplier=14, hourly=False),
    "large": ScaleSpec(multiplier=5, hourly=True),
}


@dataclass(frozen=True)
class IncidentSpec:
    """One planted incident. ``end`` is the last affected day (inclusive); None = until the data ends.

    ``at`` is the moment the cause happened (the CloudTrail event or the commit), ``size`` is
    kind-specific: the new ASG min size, the token multiplier, the extra NAT GB per day, ...
    """

    id: str
    kind: IncidentKind
    start: date
    end: date | None
    at: datetime
    size: float


DEFAULT_INCIDENTS: tuple[IncidentSpec, ...] = (
    IncidentSpec("rds-ledger-resize", "rds_resize", date(2026, 2, 17), None, datetime(2026, 2, 17, 11, 25, 41), 2.0),
    IncidentSpec(
        "asg-web-prod-min-size",
        "asg_min_size",
        date(2026, 6, 9),
        date(2026, 7, 2),
        datetime(2026, 6, 9, 10, 2, 17),
        20,
    ),
    IncidentSpec(
        "forgotten-gpu-endpoint", "gpu_endpoint", date(2026, 8, 14), None, datetime(2026, 8, 14, 15, 20, 4), 1
    ),
    IncidentSpec(
        "support-assistant-agent-loop",
        "agent_loop",
        date(2026, 9, 23),
        date(2026, 9, 30),
        datetime(2026, 9, 22, 16, 5, 33),
        7.0,
    ),
    IncidentSpec(
        "search-indexer-nat-egress",
        "nat_egress",
        date(2026, 10, 13),
        date(2026, 10, 27),
        datetime(2026, 10, 13, 14, 10, 52),
        6000.0,
    ),
)


@dataclass(frozen=True)
class CalendarEvent:
    """A company event written to calendar.yaml; ``traffic`` multiplies customer-facing traffic."""

    name: str
    start: date
    end: date
    traffic: float
    effect: str | None
    repeat: str = "none"


CALENDAR_EVENTS: tuple[CalendarEvent, ...] = (
    CalendarEvent("Black Friday / Cyber Monday sale", date(2025, 11, 28), date(2025, 12, 1), 1.5, "+50%"),
    CalendarEvent("EU region launch", date(2026, 3, 16), date(2026, 3, 16), 1.0, None),
    CalendarEvent("Summer sale", date(2026, 7, 14), date(2026, 7, 16), 1.25, "+25%"),
    CalendarEvent("Black Friday / Cyber Monday sale", date(2026, 11, 27), date(2026, 11, 30), 1.5, "+50%"),
)
EU_LAUNCH = date(2026, 3, 16)


@dataclass(frozen=True)
class DemoSpec:
    """Everything that determines the demo org: same spec, same bytes."""

    seed: int = 42
    scale: Scale = "small"
    incidents: tuple[IncidentSpec, ...] | None = None
    first_day: date = FIRST_DAY
    last_day: date = LAST_DAY
    calendar_events: tuple[CalendarEvent, ...] = field(default=CALENDAR_EVENTS)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise BadInput(f"unknown demo scale {self.scale!r}; use one of: {', '.join(SCALES)}")
        if self.last_day < self.first_day:
            raise BadInput(f"demo last_day {self.last_day} is before first_day {self.first_day}")
        if self.first_day < EVIDENCE_START or (self.last_day - self.first_day).days > 800:
            raise BadInput(f"demo period must start on or after {EVIDENCE_START} and span at most 800 days")
        kinds = [i.kind for i in self.incident_list]
        if len(kinds) != len(set(kinds)):
            raise BadInput("demo incidents: at most one incident of each kind")
        for inc in self.incident_list:
            if not self.first_day <= inc.start <= self.last_day:
                raise BadInput(f"incident {inc.id} starts {inc.start}, outside {self.first_day}..{self.last_day}")

    @property
    def incident_list(self) -> tuple[IncidentSpec, ...]:
        """The incidents to plant: the override, or the defaults that fall inside the period."""
        if self.incidents is not None:
            return self.incidents
        return tuple(i for i in DEFAULT_INCIDENTS if self.first_day <= i.start <= self.last_day)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def scale_spec(self) -> ScaleSpec:
        return SCALES[self.scale]
