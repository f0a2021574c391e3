"""The Compact Working Group's report: dispute and notice figures, drawn as an accessible page and PDF."""

from __future__ import annotations

from compact_docs.register.deadlines import DEFAULT_DEADLINES
from compact_docs.report._build import (
    build_report,
    report_from_register,
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
    "report_from_register",
    "report_html",
    "report_pdf",
    "today_in_london",
    "write_report",
]
