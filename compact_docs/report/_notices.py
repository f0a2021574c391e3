"""The notices half of the report: funders' notices read from the manifests of letter folders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from compact_docs.dates import add_months, describe_period
from compact_docs.output import read_manifest
from compact_docs.profile import Profile
from compact_docs.report._calendar import london_date, median
from compact_docs.report._words import count_of, join_words
from compact_docs.report.figures import Cell, Chart, Figure, Period, Series, Table

ACTIONS = ("end", "reduce", "vary")
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class NoticeRecord:
    """One notice as its manifest record tells it."""

    given: date
    effective: date | None
    earliest_effective: date | None
    action: str
    exceptional: bool | None
    findings: tuple[tuple[str, str], ...]

    @property
    def days(self) -> int | None:
        """Days of notice: from the day notice counts as given to the day the change takes effect."""
        return (self.effective - self.given).days if self.effective else None

    @property
    def short(self) -> bool:
        """Whether the change takes effect before the Compact's minimum notice runs out."""
        return bool(self.effective and self.earliest_effective and self.effective < self.earliest_effective)


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def notice_records(folders: Iterable[str | Path]) -> list[NoticeRecord]:
    """Every notice in the folders' manifests, once each (a letter written again from the same data
    counts once: its latest record is kept)."""
    latest: dict[str, dict[str, Any]] = {}
    for folder in folders:
        for number, record in enumerate(read_manifest(folder)):
            if record.get("kind") != "notice":
                continue
            data = record.get("data") or {}
            key = str(data.get("sha256") or f"{folder}#{number}")
            latest[key] = record
    found = []
    for record in latest.values():
        dates = record.get("dates") or {}
        made = str(record.get("made") or "")
        given = _date(dates.get("notice_given")) or (london_date(made) if made else None)
        if given is None:
            continue
        facts = record.get("notice") or {}
        action = str(facts.get("action") or NOT_RECORDED)
        exceptional = facts.get("exceptional_circumstances")
        found.append(NoticeRecord(
            given=given, effective=_date(dates.get("effective")),
            earliest_effective=_date(dates.get("earliest_effective")), action=action,
            exceptional=exceptional if isinstance(exceptional, bool) else None,
            findings=tuple((str(f.get("code", "")), str(f.get("severity", "")))
                           for f in record.get("findings") or [] if isinstance(f, dict))))
    return sorted(found, key=lambda n: n.given)


class NoticeFigures:
    """Computes the notices figures of some letter folders over one period."""

    def __init__(self, records: Sequence[NoticeRecord], period: Period, profile: Profile,
                 folders_given: bool = True) -> None:
        self.period = period
        self.folders_given = folders_given
        self.profile = profile
        self.notices = [n for n in records if n.given in period]
        self.minimum = describe_period(profile.notice.length, profile.notice.unit)
        self.totals: dict[str, int] = {}

    def figures(self) -> list[Figure]:
        """Every notices figure, in the order the report shows them."""
        return [self.per_month(), self.findings(), self.notice_length()]

    def per_month(self) -> Figure:
        """Notices issued each month, by the action they give notice of."""
        months, labels = self.period.months(), self.period.month_labels()
        counts = Counter((n.given.year, n.given.month, n.action) for n in self.notices)
        actions = list(ACTIONS) + sorted({n.action for n in self.notices} - set(ACTIONS))
        by_action = Counter(n.action for n in self.notices)
        rows: tuple[tuple[Cell, ...], ...] = tuple(
            (label, *(counts[(y, m, a)] for a in actions), sum(counts[(y, m, a)] for a in actions))
            for label, (y, m) in zip(labels, months, strict=True))
        table = Table(("Month", *(_action_heading(a) for a in actions), "All notices"),
                      (*rows, ("Total", *(by_action[a] for a in actions), len(self.notices))))
        self.totals["notices"] = len(self.notices)
        title = "Notices issued each month, by decision"
        if not self.folders_given:
            return Figure("notices-issued", "notices", title,
                          "No letter folders were given (--letters), so there are no notices to count.", table)
        if not self.notices:
            return Figure("notices-issued", "notices", title,
                          f"No notices were issued from {self.period.describe()}.", table)
        split = join_words([f"{by_action[a]} {_action_words(a)}" for a in actions if by_action[a]])
        finding = f"{count_of(len(self.notices), 'notice')} issued: {split}."
        series = tuple(Series(_action_heading(a), tuple(float(counts[(y, m, a)]) for y, m in months))
                       for a in actions if by_action[a] or a in ACTIONS)
        chart = Chart("bar", tuple(labels), series, "Notices", "Month")
        return Figure("notices-issued", "notices", title, finding, table, chart)

    def findings(self) -> Figure:
        """How many notices had findings (warnings: a letter with an error is never written), and which."""
        with_findings = [n for n in self.notices if n.findings]
        codes = Counter(code for n in self.notices for code in {c for c, _s in n.findings})
        severity = {code: sev for n in self.notices for code, sev in n.findings}
        rows = tuple((code, severity[code], codes[code]) for code in sorted(codes, key=lambda c: (-codes[c], c)))
        table = Table(("Finding", "Severity", "Notices"), rows)
        self.totals["notices_with_findings"] = len(with_findings)
        if not self.notices:
            finding = "No notices, so no findings."
        elif not with_findings:
            finding = f"None of the {count_of(len(self.notices), 'notice')} had a finding."
        else:
            which = join_words([f"{code} ({codes[code]})" for code, _sev, _n in rows])
            finding = (f"{len(with_findings)} of {count_of(len(self.notices), 'notice')} had findings: {which}.")
        return Figure("notice-findings", "notices", "Findings on notices", finding, table,
                      notes=("A notice with an error finding is refused and never written, so these are warnings.",))

    def notice_length(self) -> Figure:
        """Notice given in days against the Compact's minimum, and exceptional circumstances."""
        measured = [n for n in self.notices if n.days is not None]
        length = self.profile.notice.length if self.profile.notice.unit == "months" else 3
        labels = (f"Less than {self.minimum}", f"{length} to {length + 1} months",
                  f"{length + 1} to {length + 3} months", f"{length + 3} months or more")
        bands = Counter(_band(n, length) for n in measured)
        band_counts = [(label, bands[i]) for i, label in enumerate(labels)]
        days = [float(n.days) for n in measured if n.days is not None]
        short = [n for n in measured if n.short]
        exceptional = sum(1 for n in self.notices if n.exceptional)
        unknown = sum(1 for n in self.notices if n.exceptional is None)
        mid, low = median(days), (min(days) if days else None)
        rows: list[tuple[Any, ...]] = [(label, count) for label, count in band_counts]
        rows += [("Median notice (days)", mid), ("Shortest notice (days)", low),
                 ("Used exceptional circumstances", exceptional)]
        if unknown:
            rows.append(("Exceptional circumstances not recorded (older manifests)", unknown))
        table = Table(("Notice given", "Notices"), tuple(rows))
        self.totals.update(notices_short=len(short), notices_exceptional=exceptional)
        title = f"Notice given, against the Compact's {self.minimum}"
        if not measured:
            return Figure("notice-length", "notices", title, "No notices with dates to measure.", table)
        assert mid is not None and low is not None
        span = " (89 to 92 days)" if (self.profile.notice.length, self.profile.notice.unit) == (3, "months") else ""
        finding = (f"Median notice was {_days(mid)} and the shortest {_days(low)}, against the Compact's "
                   f"{self.minimum}{span}. ")
        if short:
            finding += (f"{len(short)} of {len(measured)} gave less than {self.minimum}"
                        + (f"; {exceptional} used exceptional circumstances." if exceptional
                           else "; none stated exceptional circumstances."))
        else:
            finding += (f"Every notice gave at least {self.minimum}"
                        + (f"; {exceptional} still cited exceptional circumstances." if exceptional else "."))
        notes = ("A month is a calendar month from the day notice counts as given (Dodds v Walker).",)
        if len(measured) < 3:
            return Figure("notice-length", "notices", title, finding, table, None, notes)
        chart = Chart("barh", tuple(label for label, _c in band_counts),
                      (Series("Notices", tuple(float(c) for _l, c in band_counts)),), "Notices", "Notice given")
        return Figure("notice-length", "notices", title, finding, table, chart, notes)


def _band(notice: NoticeRecord, months: int) -> int:
    """0: shorter than the minimum; 1: up to a month over it; 2: up to three months over; 3: more."""
    assert notice.effective is not None
    if notice.short:
        return 0
    if notice.effective < add_months(notice.given, months + 1):
        return 1
    if notice.effective < add_months(notice.given, months + 3):
        return 2
    return 3


def _action_heading(action: str) -> str:
    return {"end": "Funding ends", "reduce": "Funding reduced", "vary": "Funding varied"}.get(
        action, action.capitalize())


def _action_words(action: str) -> str:
    return {"end": "ending funding", "reduce": "reducing it", "vary": "varying it"}.get(action, action)


def _days(value: float) -> str:
    whole = int(value) if value == int(value) else round(value, 1)
    return f"{whole} day" if whole == 1 else f"{whole} days"
