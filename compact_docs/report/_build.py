"""build_report: the figures of a Compact Working Group report from a case register and letter folders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

from compact_docs.errors import OutputError
from compact_docs.register.cases import CaseRegister
from compact_docs.register.deadlines import DEFAULT_DEADLINES
from compact_docs.report._disputes import DisputeFigures
from compact_docs.report._notices import NoticeFigures, notice_records
from compact_docs.report._page import ReportFiles, write_report
from compact_docs.report.figures import Period, Report
from compact_docs.rules.dates import LONDON
from compact_docs.rules.profile import Profile


def today_in_london() -> date:
    """Today's date in Europe/London."""
    return datetime.now(LONDON).date()


def build_report(register: CaseRegister, letters: Iterable[str | Path] = (), period: Period | None = None,
                 *, deadlines: Mapping[int, int] | None = None, anonymise: bool = False,
                 today: date | None = None) -> Report:
    """Every figure of the report: disputes from the register, notices from the letter folders'
    manifests, over `period` (default: the last 12 calendar months, this one included).

    Flows (cases opened, closed, escalated; messages; notices) count within the period; open cases
    are those open now, aged in working days at their current stage against `deadlines`.
    """
    today = today or today_in_london()
    period = period or Period.last_months(12, today)
    folders = [Path(f) for f in letters]
    disputes = DisputeFigures(register, period, deadlines or DEFAULT_DEADLINES, today, anonymise)
    notices = NoticeFigures(notice_records(folders), period, register.profile, bool(folders))
    figures = [*disputes.figures(), *notices.figures()]
    return Report(
        compact=register.profile.name, period=period, as_of=today, figures=tuple(figures),
        totals={**disputes.totals, **notices.totals}, deadlines=dict(deadlines or DEFAULT_DEADLINES),
        anonymised=anonymise, sources=(str(register.path), *(str(f) for f in folders)))


def report_from_register(database: str | Path, profile: Profile, out_dir: str | Path, *,
                         letters: Iterable[str | Path] = (), period: Period | None = None,
                         deadlines: Mapping[int, int] | None = None, anonymise: bool = False,
                         today: date | None = None) -> tuple[Report, ReportFiles]:
    """Open the case register at `database` read-only (it is never created or changed), build the
    report and write report.html, report.pdf and report.json into `out_dir`."""
    for folder in letters:
        if not Path(folder).is_dir():
            raise OutputError(f"no letters folder {folder}")
    with CaseRegister(database, profile, readonly=True) as register:
        report = build_report(register, letters, period, deadlines=deadlines, anonymise=anonymise,
                              today=today)
    return report, write_report(report, out_dir)
