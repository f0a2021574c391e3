"""Values as UK spreadsheets write them: dd/mm/yyyy dates and amounts such as '£36,000.00'."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationInfo

DateLocale = Literal["en-GB", "en-US"]
"""How a numeric date such as 01/04/2025 is read: day first (en-GB, the default) or month first."""

DATE_LOCALES: tuple[DateLocale, ...] = ("en-GB", "en-US")
DEFAULT_DATE_LOCALE: DateLocale = "en-GB"

_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_WORDED_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})$")
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONEY = re.compile(r"^(?:£|GBP)?\s*(-?[\d,]*\.?\d*)\s*(?:GBP)?$", re.IGNORECASE)
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")

DATE_HINT = "use YYYY-MM-DD, e.g. 2027-03-01, or DD/MM/YYYY, e.g. 01/03/2027"
"""How to write a date, said with every date that cannot be read."""


def date_locale(info: ValidationInfo | None) -> DateLocale:
    """The date locale a validation was asked to use (en-GB unless the context says otherwise)."""
    context = info.context if info is not None else None
    if isinstance(context, dict) and context.get("date_locale") in DATE_LOCALES:
        locale: DateLocale = context["date_locale"]
        return locale
    return DEFAULT_DATE_LOCALE


def _numeric(text: str, locale: DateLocale) -> tuple[date, tuple[int, int, int] | None] | None:
    found = _NUMERIC_DATE.match(text)
    if found is None:
        return None
    first, second, year = int(found.group(1)), int(found.group(2)), int(found.group(3))
    day, month = (first, second) if locale == "en-GB" else (second, first)
    try:
        day_value = date(year, month, day)
    except ValueError as exc:
        order = "DD/MM/YYYY" if locale == "en-GB" else "MM/DD/YYYY"
        raise ValueError(f"is not a real date (read as {order}; {DATE_HINT})") from exc
    time = None
    if found.group(4) is not None:
        time = (int(found.group(4)), int(found.group(5)), int(found.group(6) or 0))
    return day_value, time


def _worded(text: str) -> date | None:
    found = _WORDED_DATE.match(text)
    if found is None:
        return None
    month = _MONTHS.get(found.group(2)[:3].lower())
    if month is None:
        return None
    try:
        return date(int(found.group(3)), month, int(found.group(1)))
    except ValueError as exc:
        raise ValueError(f"is not a real date ({DATE_HINT})") from exc


def uk_date(value: Any, info: ValidationInfo) -> Any:
    """A date written as 01/04/2025 (or 04/01/2025 for en-US) or '1 April 2025', as an ISO date.

    ISO dates (2025-04-01) and anything else pass through to pydantic unchanged.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    numeric = _numeric(text, date_locale(info))
    if numeric is not None:
        return numeric[0]
    worded = _worded(text)
    return worded if worded is not None else value


def uk_moment(value: Any, info: ValidationInfo) -> Any:
    """A date and time written as '30/11/2026 10:00' (or a date alone), as a datetime."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    numeric = _numeric(text, date_locale(info))
    if numeric is not None:
        day, time = numeric
        hour, minute, second = time or (0, 0, 0)
        try:
            return datetime(day.year, day.month, day.day, hour, minute, second)
        except ValueError as exc:
            raise ValueError("is not a real time of day (use HH:MM, e.g. 10:00)") from exc
    worded = _worded(text)
    return datetime(worded.year, worded.month, worded.day) if worded is not None else value


def uk_money(value: Any) -> Any:
    """An amount written as '£36,000.00', '15,400' or '36000 GBP', as a Decimal."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    found = _MONEY.match(text)
    if not text or found is None or not any(c.isdigit() for c in found.group(1)):
        raise ValueError("must be a number: an amount such as 36000 or £36,000.00")
    number = found.group(1)
    if "," in number and not _THOUSANDS.match(number):
        raise ValueError("must be a number: commas only between thousands, such as £36,000.00")
    try:
        return Decimal(number.replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError("must be a number: an amount such as 36000 or £36,000.00") from exc
