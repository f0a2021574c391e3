"""Checks of the set-up: PDF engine, font subsetting, line breaking, fonts, profiles, templates, time zones."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from typing import Literal

Status = Literal["ok", "warning", "problem"]

@dataclass(frozen=True)
class SetupCheck:
    """One thing the doctor looked at, and what it found in plain words."""

    name: str
    status: Status
    detail: str

    def line(self) -> str:
        """The check for a person: 'PROBLEM  IMAP: cannot reach ...'."""
        mark = "PROBLEM" if self.status == "problem" else self.status
        return f"{mark:<8} {self.name}: {self.detail}"

    def to_dict(self) -> dict[str, str]:
        """The check as JSON-friendly data."""
        return {"name": self.name, "status": self.status, "detail": self.detail}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def check_pdf_engine() -> list[SetupCheck]:
    """WeasyPrint loads, and which font subsetter it will use (HarfBuzz is about six times faster)."""
    try:
        from compact_docs.rendering.fonts import load_weasyprint

        load_weasyprint()
        from weasyprint.text.ffi import harfbuzz_subset, pango
    except Exception as exc:  # any import failure means no PDFs: say why, do not crash
        return [SetupCheck("PDF engine", "problem",
                           f"WeasyPrint cannot load ({type(exc).__name__}: {exc}); install Pango "
                           "(Debian: libpango-1.0-0 libpangoft2-1.0-0). DOCX letters still work.")]
    number = int(pango.pango_version())
    pango_version = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    found = [SetupCheck("PDF engine", "ok", f"WeasyPrint {_version('weasyprint')} with Pango {pango_version}")]
    if harfbuzz_subset is not None:
        found.append(SetupCheck("font subsetting", "ok", "HarfBuzz subsetting (fast)"))
    else:
        found.append(SetupCheck("font subsetting", "warning",
                                "fontTools fallback (slow: about 0.45 s a letter instead of 0.07 s); "
                                "install Debian's libharfbuzz-subset0"))
    from compact_docs.rendering.line_memo import unsupported

    why_not = unsupported()
    if why_not is None:
        found.append(SetupCheck("line breaking", "ok", "remembered across the letters of a batch"))
    else:
        found.append(SetupCheck("line breaking", "warning",
                                f"worked out afresh for each letter: {why_not}. PDFs are right, but a "
                                "batch is about a sixth slower"))
    return found


def check_fonts() -> SetupCheck:
    """The font the PDFs are set in: the bundled family, and that WeasyPrint really lays text out in it."""
    from compact_docs.rendering.fonts import (
        CSS_FAMILY,
        FACES,
        FAMILY,
        LICENCE,
        font_folder,
        font_version,
        missing_faces,
        resolved_font_file,
    )

    folder = font_folder()
    missing = missing_faces()
    if missing:
        return SetupCheck("fonts", "problem", f"bundled font files missing from {folder}: "
                          f"{', '.join(missing)}; reinstall compact-docs")
    regular = folder / FACES[0].file
    try:
        from compact_docs.rendering.fonts import font_face_css
        from compact_docs.rendering.pdf import pdf_engine
        from compact_docs.rendering.template_policy import default_fetch_policy

        engine = pdf_engine()
        engine.stylesheet(font_face_css(), default_fetch_policy())  # what every letter's <style> loads
        used = resolved_font_file(engine.font_config)
    except Exception as exc:  # no WeasyPrint: the PDF engine check says why
        return SetupCheck("fonts", "warning", f"{FAMILY} is bundled in {folder}, but WeasyPrint "
                          f"could not be asked which font it uses ({type(exc).__name__})")
    if used is None or not used.is_file() or used.read_bytes() != regular.read_bytes():
        return SetupCheck("fonts", "problem", f"WeasyPrint does not lay letters out in the bundled "
                          f"{FAMILY} (it found {used or 'no font'}): PDFs will not match elsewhere")
    return SetupCheck("fonts", "ok", f"PDFs embed {FAMILY} {font_version(regular)} (as "
                      f"'{CSS_FAMILY}'), bundled in {folder} under the {LICENCE}; DOCX letters "
                      f"name {FAMILY} (Word substitutes the metrically equal Arial)")


def check_profiles() -> SetupCheck:
    """Every bundled profile loads."""
    from compact_docs.errors import ProfileError
    from compact_docs.rules.profile import bundled_profile_names, load_profile

    names = bundled_profile_names()
    try:
        for name in names:
            load_profile(name)
    except ProfileError as exc:
        return SetupCheck("profiles", "problem", str(exc))
    return SetupCheck("profiles", "ok", ", ".join(names))


def check_templates() -> SetupCheck:
    """The bundled letter templates are installed with the package."""
    from compact_docs.rendering.template_folder import bundled_folder

    folder = bundled_folder()
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not names:
        return SetupCheck("templates", "problem", "no bundled templates found: reinstall compact-docs")
    return SetupCheck("templates", "ok", f"{len(names)} bundled template files")


def check_calendar() -> SetupCheck:
    """Europe/London and UK bank holidays work offline."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from compact_docs.rules.dates import bank_holidays

    try:
        ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:
        return SetupCheck("time zone", "problem", "Europe/London is unknown: install tzdata")
    year = date.today().year
    count = len(bank_holidays("england-and-wales", year))
    return SetupCheck("time zone and bank holidays", "ok",
                      f"Europe/London; {count} England and Wales bank holidays in {year} (offline)")


def setup_checks() -> list[SetupCheck]:
    """Every set-up check, in the order a person would fix them."""
    found = [SetupCheck("python", "ok", f"Python {sys.version.split()[0]}, compact-docs "
                        f"{_version('compact-docs')}")]
    found += check_pdf_engine()
    found += [check_fonts(), check_profiles(), check_templates(), check_calendar()]
    return found
