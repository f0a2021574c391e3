"""The report's figures as plain data: each a title, its main finding in words, a table and maybe a chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from compact_docs.report._calendar import month_label, months_between

Cell = str | int | float | None
ChartKind = Literal["bar", "barh", "grouped"]


@dataclass(frozen=True)
class Period:
    """The dates a report covers, both included."""

    start: date
    end: date

    @classmethod
    def last_months(cls, months: int, today: date) -> Period:
        """The `months` calendar months up to and including today's (12: a year of whole months)."""
        index = today.year * 12 + today.month - 1 - (months - 1)
        return cls(date(index // 12, index % 12 + 1, 1), today)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) the period touches, in order."""
        return months_between(self.start, self.end)

    def describe(self) -> str:
        """'1 December 2025 to 30 November 2026'."""
        return f"{_long(self.start)} to {_long(self.end)}"

    def month_labels(self) -> list[str]:
        """'Dec 2025', 'Jan 2026', ... for each month of the period."""
        return [month_label(year, month) for year, month in self.months()]

    def to_dict(self) -> dict[str, str]:
        """The period as ISO dates."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class Table:
    """The numbers behind a figure: column headings and rows (the first column names the row)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """The table as plain data."""
        return {"columns": list(self.columns), "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class Series:
    """One coloured (and hatched) part of a chart: a name and a value per category."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """What a chart draws: categories along one axis, one or more series of values."""

    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    value_label: str
    category_label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The chart's data as plain data."""
        return {"kind": self.kind, "categories": list(self.categories),
                "series": [{"name": s.name, "values": list(s.values)} for s in self.series],
                "value_label": self.value_label, "category_label": self.category_label}


@dataclass(frozen=True)
class Figure:
    """One figure of the report. `finding` is its text alternative: the main point in words.

    `chart` is None where a sentence says it better than a picture; the table is always shown.
    """

    id: str
    section: Literal["disputes", "notices"]
    title: str
    finding: str
    table: Table
    chart: Chart | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The figure as plain data."""
        return {"id": self.id, "section": self.section, "title": self.title, "finding": self.finding,
                "table": self.table.to_dict(), "chart": self.chart.to_dict() if self.chart else None,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Report:
    """Every figure of a Compact Working Group report, and what it was made from."""

    compact: str
    period: Period
    as_of: date
    figures: tuple[Figure, ...]
    totals: dict[str, int] = field(default_factory=dict)
    deadlines: dict[int, int] = field(default_factory=dict)
    anonymised: bool = False
    sources: tuple[str, ...] = ()

    def figure(self, figure_id: str) -> Figure:
        """The figure with this id; KeyError when there is none."""
        for found in self.figures:
            if found.id == figure_id:
                return found
        raise KeyError(figure_id)

    def section(self, name: str) -> list[Figure]:
        """The figures of one section ('disputes' or 'notices'), in order."""
        return [f for f in self.figures if f.section == name]

    @property
    def charts(self) -> list[Figure]:
        """The figures drawn as charts."""
        return [f for f in self.figures if f.chart is not None]

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain data (report.json)."""
        return {"compact": self.compact, "period": self.period.to_dict(),
                "as_of": self.as_of.isoformat(), "anonymised": self.anonymised,
                "deadlines": {f"stage-{n}": days for n, days in sorted(self.deadlines.items())},
                "totals": dict(self.totals), "sources": list(self.sources),
                "figures": [f.to_dict() for f in self.figures]}
