"""Benchmark: 500 notice letters as DOCX through `batch`, against the naive docxtpl loop.

The naive baseline (see the README's benchmarks): per letter, a new `docxtpl.DocxTemplate`, render, save, on the
same template and the same letter data (each row validated, checked and worded the same way).
Prints `ratio: X.XX` (baseline time / batch time, higher is better) last.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's compact_docs, not an installed copy

from _rows import DEFAULTS, batch_notices, print_timings, write_register  # noqa: E402
from docxtpl import DocxTemplate  # noqa: E402
from jinja2 import Environment  # noqa: E402

from compact_docs.rendering.renderer import Renderer, file_stem  # noqa: E402
from compact_docs.rows import read_rows  # noqa: E402

TEMPLATE = ROOT / "templates" / "letter.docx"


def naive(register: Path, out: Path) -> int:
    renderer = Renderer()  # only for validating, checking and wording each row
    count = 0
    for row in read_rows(register, "notice", DEFAULTS):
        prepared = renderer.prepare(row.data, "notice")
        document = DocxTemplate(str(TEMPLATE))
        document.render(prepared.context.as_template_context(), Environment(autoescape=True), autoescape=True)
        document.save(str(out / f"{file_stem(prepared.context)}-{row.number}.docx"))
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None, help="default: the number of cores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-docx-", ignore_cleanup_errors=True) as folder:
        work = Path(folder)
        register = write_register(work / "register.csv", args.letters)
        (work / "naive").mkdir()
        start = time.perf_counter()
        n_naive = naive(register, work / "naive")
        naive_s = time.perf_counter() - start
        start = time.perf_counter()
        n_batch = batch_notices(register, work / "batch", "docx", args.workers)
        batch_s = time.perf_counter() - start
        print(f"letters: {n_naive} naive, {n_batch} batch; cores: {os.cpu_count()}")
        print_timings("new DocxTemplate per letter", (naive_s, n_naive), (batch_s, n_batch), digits=1)


if __name__ == "__main__":
    main()
