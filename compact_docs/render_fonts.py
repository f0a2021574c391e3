"""The letters' font family, shipped inside the package: Liberation Sans 2 (SIL Open Font License).

Every PDF lays its text out in these files, loaded with @font-face, so a letter breaks its lines
and pages the same way on every machine, one with no fonts installed included. The family is
metrically compatible with Arial, which Word substitutes for it; the DOCX names it too.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

FAMILY = "Liberation Sans"
"""The family the letters are set in (the name a DOCX gives, and the name inside the font files)."""

CSS_FAMILY = "Compact Docs Sans"
"""The name the bundled templates use for the bundled files. It is our own, so WeasyPrint can
never pick a differently built 'Liberation Sans' that a machine happens to have installed."""

LICENCE = "SIL Open Font License 1.1"


@dataclass(frozen=True)
class FontFace:
    """One file of the family and the style it sets."""

    file: str
    weight: str
    style: str


FACES = (
    FontFace("LiberationSans-Regular.ttf", "normal", "normal"),
    FontFace("LiberationSans-Bold.ttf", "bold", "normal"),
    FontFace("LiberationSans-Italic.ttf", "normal", "italic"),
    FontFace("LiberationSans-BoldItalic.ttf", "bold", "italic"),
)


def load_weasyprint() -> ModuleType:
    """WeasyPrint, imported without its warning that the machine has no fonts: letters bring their own."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No fonts configured in FontConfig", UserWarning)
        warnings.filterwarnings("ignore", "FontConfig cannot load default config file", UserWarning)
        module = importlib.import_module("weasyprint")
        importlib.import_module("weasyprint.text.fonts")  # the module that warns, on import
    return module


def font_folder() -> Path:
    """The folder of the bundled font files (inside the installed package or the checkout)."""
    return Path(str(resources.files("compact_docs").joinpath("fonts")))


def missing_faces() -> list[str]:
    """The bundled font files that are not where they should be (empty when all are there)."""
    folder = font_folder()
    return [face.file for face in FACES if not (folder / face.file).is_file()]


def font_face_css() -> str:
    """@font-face rules that load the bundled family under `CSS_FAMILY` from package data."""
    folder = font_folder()
    return "\n".join(
        f'@font-face {{ font-family: "{CSS_FAMILY}"; font-weight: {face.weight}; '
        f'font-style: {face.style}; src: url("{(folder / face.file).as_uri()}"); }}'
        for face in FACES
    )


def font_version(file: Path) -> str:
    """The version a font file states in its name table ('2.1.5'), or '' when it says none."""
    from fontTools.ttLib import TTFont  # a WeasyPrint dependency

    with TTFont(file, lazy=True) as font:
        record = font["name"].getDebugName(5) or ""
    return record.removeprefix("Version ").split(";")[0].strip()


def resolved_font_file(font_config: object, family: str = CSS_FAMILY) -> Path | None:
    """The file WeasyPrint's font configuration lays `family` out in (its own copy of an
    @font-face file), or None when Fontconfig finds nothing for it."""
    from weasyprint.text.ffi import ffi, fontconfig

    config = font_config._config  # type: ignore[attr-defined]
    pattern = ffi.gc(fontconfig.FcPatternCreate(), fontconfig.FcPatternDestroy)
    fontconfig.FcPatternAddString(pattern, b"family", family.encode())
    fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
    fontconfig.FcDefaultSubstitute(pattern)
    result = ffi.new("FcResult *")
    match = fontconfig.FcFontMatch(config, pattern, result)
    if match == ffi.NULL:
        return None
    try:
        string = ffi.new("FcChar8 **")
        if fontconfig.FcPatternGetString(match, b"file", 0, string) != 0:
            return None
        return Path(ffi.string(string[0]).decode())
    finally:
        fontconfig.FcPatternDestroy(match)
