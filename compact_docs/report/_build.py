"""build_report: the figures of a Compact Working Group report from a case register and letter folders."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from compact_docs.dates import LONDON
from compact_docs.errors import ConfigError, OutputError
from compact_docs.profile import Profile
from compact_docs.register import CaseRegister
from compact_docs.report._disputes import DisputeFigures
from compact_docs.report._notices import NoticeFigures, notice_records
from compact_docs.report._page import ReportFiles, write_report
from compact_docs.report.figures import Period, Report

DEFAULT_DEADLINES: dict[int, int] = {1: 10, 2: 20}
"""BVSC's service standard when a configuration sets none: working days a case may stay at a stage."""


def today_in_london() -> date:
    """Today's date in Europe/London."""
    return datetime.now(LONDON).date()


def stage_deadlines(table: Mapping[str, Any] | None) -> dict[int, int]:
    """The `[cases.deadlines]` table ('stage-1 = 10') as {stage: working days}, defaults for any
    stage it leaves out; ConfigError for a value that is not a whole number of days."""
    deadlines = dict(DEFAULT_DEADLINES)
    for key, value in (table or {}).items():
        stage = str(key).removeprefix("stage-").removeprefix("stage_")
        if not stage.isdigit():
            raise ConfigError(f"[cases.deadlines] key {key!r} is not a stage such as 'stage-1'")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"[cases.deadlines] {key} must be a whole number of working days, "
                              f"not {value!r}")
        deadlines[int(stage)] = value
    return deadlines


def read_stage_deadlines(config_file: str | Path | None) -> dict[int, int]:
    """The stage deadlines a mail configuration file sets in `[cases.deadlines]`, or the defaults
    (stage 1: 10, stage 2: 20 working days) where it has no such table or there is no file."""
    if config_file is None or not Path(config_file).is_file():
        return dict(DEFAULT_DEADLINES)
    try:
        raw = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the case deadlines from {config_file}: {exc}") from exc
    cases = raw.get("cases")
    table = cases.get("deadlines") if isinstance(cases, dict) else None
    return stage_deadlines(table if isinstance(table, dict) else None)


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
