"""The Compact Working Group's report: dispute and notice figures, drawn as an accessible page and PDF."""

from __future__ import annotations

from compact_docs.report._build import (
    DEFAULT_DEADLINES,
    build_report,
    read_stage_deadlines,
    report_from_register,
    stage_deadlines,
    today_in_london,
)
from compact_docs.report._page import ReportFiles, report_html, report_pdf, write_report
from compact_docs.report.figures import Chart, Figure, Period, Report, Series, Table

__all__ = [
    "DEFAULT_DEADLINES",
    "Chart",
    "Figure",
    "Period",
    "Report",
    "ReportFiles",
    "Series",
    "Table",
    "build_report",
    "read_stage_deadlines",
    "report_from_register",
    "report_html",
    "report_pdf",
    "stage_deadlines",
    "today_in_london",
    "write_report",
]
