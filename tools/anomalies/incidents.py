"""From flagged days to incidents: runs, drill-down to resources, de-duplication across dimensions."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np

from tools.anomalies.baseline import DayKinds, Result
from tools.anomalies.models import Anomaly, Contributor, Severity
from tools.anomalies.series import ATTRS, DIMENSION_ORDER, NONE_KEY, Cells

MAX_GAP = 1
EXPLAINED_SHARE = 0.6
COVER_SHARE = 0.8
MAX_CONTRIBUTORS = 10
CHURN_SHARE = 0.05
SINGLE_DAY_FACTOR = 1.4  # a one-day blip must leave the band by 40% more than a sustained change


@dataclass
class Candidate:
    """One run of flagged days in one series, before de-duplication."""

    dimension: str
    key: str
    start: int
    end: int
    sign: int
    actual: float
    expected: float
    low: float
    high: float
    cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cell_delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    all_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    all_delta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    context: list[str] = field(default_factory=list)
    persisting: bool = False

    @property
    def churn(self) -> bool:
        """A resource appearing from nothing or vanishing to nothing (replacement, scheduled jobs)."""
        if self.dimension != "ResourceId":
            return False
        if self.sign > 0:
            return self.expected <= CHURN_SHARE * self.actual
        return self.actual <= CHURN_SHARE * self.expected

    @property
    def impact(self) -> float:
        return self.actual - self.expected

    def overlaps(self, other: Candidate) -> bool:
        return self.start <= other.end and other.start <= self.end and self.sign == other.sign


def runs(flags: np.ndarray, restart: np.ndarray | None = None) -> list[tuple[int, int, int]]:
    """(start, end, sign) of same-sign flagged runs, bridging gaps of at most MAX_GAP days.

    A run also ends where the detector accepted a new level (``restart``)."""
    out: list[tuple[int, int, int]] = []
    cuts = np.zeros(len(flags), dtype=bool) if restart is None else restart
    for t in np.flatnonzero(flags):
        sign = int(flags[t])
        fresh = bool(cuts[out[-1][1] + 1 : t + 1].any()) if out else False
        if out and out[-1][2] == sign and t - out[-1][1] <= MAX_GAP + 1 and not fresh:
            out[-1] = (out[-1][0], int(t), sign)
        else:
            out.append((int(t), int(t), sign))
    return out


def candidates(dimension: str, keys: list[str], y: np.ndarray, res: Result, first: int) -> list[Candidate]:
    """Every run starting on or after day index ``first``, with its sums over the run."""
    found = []
    for i in np.flatnonzero((res.flag[:, first:] != 0).any(axis=1)):
        floor = 0
        for start, end, sign in runs(res.flag[i], None if res.restart is None else res.restart[i]):
            if start == end and _blip(float(y[i, start]), res, int(i), start):
                continue
            start = max(_onset(y[i], res.expected[i], start, end, sign), floor)
            floor = end + 1
            if start < first:
                continue
            window = slice(start, end + 1)
            kept = res.restart is not None and end + 1 < res.restart.shape[1] and bool(res.restart[i, end + 1])
            found.append(
                Candidate(
                    dimension,
                    keys[i],
                    start,
                    end,
                    sign,
                    float(y[i, window].sum()),
                    float(res.expected[i, window].sum()),
                    float(res.low[i, window].sum()),
                    float(res.high[i, window].sum()),
                    persisting=kept,
                )
            )
    return found


def _onset(y: np.ndarray, expected: np.ndarray, start: int, end: int, sign: int) -> int:
    """Walk the start back over days that already moved the same way by at least half the run's mean
    (a level shift often starts below the threshold), at most a week."""
    dev = y[start : end + 1] - expected[start : end + 1]
    half = 0.5 * float(np.abs(dev).mean())
    t = start
    while t > max(start - 7, 0) and sign * float(y[t - 1] - expected[t - 1]) >= half > 0:
        t -= 1
    return t


def _blip(value: float, res: Result, i: int, t: int) -> bool:
    """A one-day move that only just leaves the band: noise, not an incident."""
    exp = float(res.expected[i, t])
    band = float(res.high[i, t]) - exp
    return abs(value - exp) < SINGLE_DAY_FACTOR * band


def _onset_baseline(vals: np.ndarray, start: int, end: int, month_start: np.ndarray) -> np.ndarray:
    """Expected cost of each cell over [start, end]: same weekday before the onset (month starts apart)."""
    total = np.zeros(vals.shape[0])
    starts = np.flatnonzero(month_start[:start])
    for t in range(start, end + 1):
        if month_start[t] and len(starts):
            total += np.median(vals[:, starts[-3:]], axis=1)
            continue
        offset = 7 * ((t - start) // 7 + 1)
        lags = [t - offset - 7 * j for j in range(4) if t - offset - 7 * j >= 0]
        total += np.median(vals[:, lags], axis=1) if lags else 0.0
    return total


def drill_down(cand: Candidate, cells: Cells, month_start: np.ndarray) -> None:
    """Attach the smallest set of cells (same sign, largest first) covering 80% of the delta."""
    idx = cells.members(cand.dimension, cand.key)
    if len(idx) == 0:
        return
    vals = cells.values[idx]
    delta = vals[:, cand.start : cand.end + 1].sum(axis=1) - _onset_baseline(vals, cand.start, cand.end, month_start)
    same = np.flatnonzero(np.sign(delta) == cand.sign)
    cand.all_cells, cand.all_delta = idx[same], delta[same]
    if len(same) == 0:
        return
    order = same[np.argsort(-np.abs(delta[same]))]
    cum = np.cumsum(np.abs(delta[order]))
    need = int(np.searchsorted(cum, COVER_SHARE * cum[-1]) + 1)
    keep = order[: min(need, MAX_CONTRIBUTORS)]
    cand.cells, cand.cell_delta = idx[keep], delta[keep]


def deduplicate(found: list[Candidate], cells: Cells) -> list[Candidate]:
    """Report each incident once, at its most specific dimension; parents become context."""
    rank = {d: i for i, d in enumerate(DIMENSION_ORDER)}
    found = [c for c in found if not c.churn or _churn_counts(c, found, cells)]
    ordered = sorted(found, key=lambda c: (rank.get(c.dimension, 99), -abs(c.impact)))
    accepted: list[Candidate] = []
    for cand in ordered:
        members = cells.members(cand.dimension, cand.key)
        explained = 0.0
        explainers = []
        for acc in accepted:
            if not acc.overlaps(cand) or len(acc.all_cells) == 0:
                continue
            inside = np.isin(acc.all_cells, members)
            share = float(np.abs(acc.all_delta[inside]).sum())
            if share > 0:
                explained += share
                explainers.append(acc)
        if _scattered(explainers, cand):
            # many small children moving together (a scale-out): one incident at the parent
            cand.context += [f"{a.dimension}={a.key}" for a in explainers if a.dimension != "ResourceId"]
            accepted = [a for a in accepted if all(a is not e for e in explainers)]
            accepted.append(cand)
            continue
        if explainers and explained >= EXPLAINED_SHARE * abs(cand.impact):
            for acc in explainers:
                acc.context.append(f"{cand.dimension}={cand.key}")
            continue
        accepted.append(cand)
    return accepted


def _churn_counts(child: Candidate, found: list[Candidate], cells: Cells) -> bool:
    """A vanished resource counts unless a new one of its usage type replaced it; a new one counts
    only when its usage type moved with it (scheduled jobs and replaced instances get new ids)."""
    if child.sign > 0:
        return _parent_moved(child, found, cells)
    mine = {cells.attrs.get("UsageType", [""] * (i + 1))[i] for i in cells.members("ResourceId", child.key)}
    for other in found:
        if other.dimension != "ResourceId" or other.sign < 0 or not other.churn:
            continue
        if abs(other.start - child.start) > 1:
            continue
        theirs = {cells.attrs.get("UsageType", [""] * (i + 1))[i] for i in cells.members("ResourceId", other.key)}
        if mine & theirs:
            return False
    return True


def _parent_moved(child: Candidate, found: list[Candidate], cells: Cells) -> bool:
    """A new/vanished resource counts only when its usage type (or a parent) moved with it.

    Without this, every replaced instance or scheduled job (a new id each run) would be an incident.
    """
    mine = cells.members("ResourceId", child.key)
    has_usage = any(c.dimension == "UsageType" for c in found) or "UsageType" in cells.attrs
    for parent in found:
        if parent.dimension == "ResourceId" or not parent.overlaps(child):
            continue
        if has_usage and parent.dimension != "UsageType":
            continue
        if np.isin(mine, cells.members(parent.dimension, parent.key)).any():
            return True
    return False


def _scattered(explainers: list[Candidate], parent: Candidate) -> bool:
    """Several children, none carrying half of the parent's delta on its own."""
    if len(explainers) < 2:
        return False
    biggest = max(float(np.abs(a.cell_delta).sum()) for a in explainers)
    return biggest < 0.5 * abs(parent.impact)


ANNOUNCED_SHARE = 0.3


def split_announced(accepted: list[Candidate], announced_days: np.ndarray) -> tuple[list[Candidate], list[Candidate]]:
    """Changes that start on (or the day after) an announced calendar event without a stated effect
    are expected, and so are changes that follow them in the same cells while they last (a launch
    ramping up shows in its team and account later). Returns (anomalies, announced)."""
    news = [c for c in accepted if announced_days[max(0, c.start - 1) : c.start + 1].any()]
    rest = [c for c in accepted if all(c is not n for n in news)]
    keep = []
    for cand in rest:
        follows = [n for n in news if n.sign == cand.sign and n.start <= cand.start <= n.end + 1]
        inside = sum(float(np.abs(cand.all_delta[np.isin(cand.all_cells, n.all_cells)]).sum()) for n in follows)
        total = float(np.abs(cand.all_delta).sum())
        if follows and total > 0 and inside >= ANNOUNCED_SHARE * total:
            follows[0].context.append(f"{cand.dimension}={cand.key}")
            continue
        keep.append(cand)
    return keep, news


def severity(impact: float, per_day: float) -> Severity:
    """Severity from the dollar impact (total and per day)."""
    total, daily = abs(impact), abs(per_day)
    if total >= 10_000 or daily >= 2_000:
        return "critical"
    if total >= 2_500 or daily >= 500:
        return "high"
    if total >= 500 or daily >= 100:
        return "medium"
    return "low"


def fingerprint(dimension: str, key: str, start: dt.date, sign: int) -> str:
    """Stable id: the same incident gets the same id on every run."""
    text = f"{dimension}\x1f{key}\x1f{start.isoformat()}\x1f{'up' if sign > 0 else 'down'}"
    return "an-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _contributors(cand: Candidate, cells: Cells) -> list[Contributor]:
    out = []
    for i, delta in zip(cand.cells, cand.cell_delta, strict=True):
        attr = {a: cells.attrs.get(a, [NONE_KEY] * (i + 1))[i] for a in ATTRS}
        val = {a: (None if v == NONE_KEY else v) for a, v in attr.items()}
        out.append(
            Contributor(
                resource_id=cells.resource_id[i],
                resource_name=cells.resource_name[i],
                usage_type=val["UsageType"],
                service=val["ServiceName"],
                account=val["SubAccountId"],
                region=val["RegionId"],
                team=val["tag:team"],
                delta_usd=round(float(delta), 2),
            )
        )
    return out


def _shared_dimensions(cand: Candidate, cells: Cells) -> dict[str, str]:
    dims = {cand.dimension: cand.key}
    for attr in ATTRS:
        values = {cells.attrs[attr][i] for i in cand.cells} if attr in cells.attrs else set()
        if len(values) == 1 and NONE_KEY not in values and attr not in dims:
            dims[attr] = values.pop()
    if cand.dimension == "ResourceId" and len(cand.cells):
        name = cells.resource_name[cand.cells[0]]
        if name and name != cand.key:
            dims["ResourceName"] = name
    return dims


def to_anomaly(cand: Candidate, cells: Cells, days: list[dt.date], kinds: DayKinds, settled: int) -> Anomaly:
    """The public record of an accepted candidate."""
    n_days = cand.end - cand.start + 1
    impact = cand.actual - cand.expected
    labels = sorted({name for t in range(cand.start, cand.end + 1) for name in kinds.labels[t]})
    return Anomaly(
        id=fingerprint(cand.dimension, cand.key, days[cand.start], cand.sign),
        start=days[cand.start],
        end=days[cand.end],
        days=n_days,
        ongoing=cand.end >= settled,
        persisting=cand.persisting,
        provisional=cand.start > settled,
        direction="up" if cand.sign > 0 else "down",
        dimension=cand.dimension,
        key=cand.key,
        dimensions=_shared_dimensions(cand, cells),
        context=sorted(set(cand.context)),
        expected_usd=round(cand.expected, 2),
        expected_low_usd=round(cand.low, 2),
        expected_high_usd=round(cand.high, 2),
        actual_usd=round(cand.actual, 2),
        impact_usd=round(impact, 2),
        impact_per_day_usd=round(impact / n_days, 2),
        severity=severity(impact, impact / n_days),
        calendar=labels,
        top_contributors=_contributors(cand, cells),
    )
