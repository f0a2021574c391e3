"""Benchmark: 500 notice letters as DOCX through `batch`, against the naive docxtpl loop.

The naive baseline (see the README's benchmarks): per letter, a new `docxtpl.DocxTemplate`, render, save, on the
same template and the same letter data (each row validated, checked and worded the same way).
Prints `ratio: X.XX` (baseline time / batch time, higher is better) last.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from _rows import DEFAULTS, ROOT, write_register
from docxtpl import DocxTemplate
from jinja2 import Environment

from compact_docs.batch import generate_batch
from compact_docs.renderer import Renderer, file_stem
from compact_docs.rows import read_rows

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


def batch(register: Path, out: Path, workers: int | None) -> int:
    results = list(generate_batch(register, "notice", out, formats=("docx",), defaults=DEFAULTS,
                                  workers=workers))
    assert all(r.status == "written" for r in results), [r.reason for r in results if r.reason][:3]
    return len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None, help="default: the number of cores")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-docx-"))
    try:
        register = write_register(work / "register.csv", args.letters)
        (work / "naive").mkdir()
        start = time.perf_counter()
        n_naive = naive(register, work / "naive")
        naive_s = time.perf_counter() - start
        start = time.perf_counter()
        n_batch = batch(register, work / "batch", args.workers)
        batch_s = time.perf_counter() - start
        print(f"letters: {n_naive} naive, {n_batch} batch; cores: {os.cpu_count()}")
        print(f"naive loop (new DocxTemplate per letter): {naive_s:.2f} s ({naive_s / n_naive * 1000:.1f} ms/letter)")
        print(f"compact-docs batch: {batch_s:.2f} s ({batch_s / n_batch * 1000:.1f} ms/letter)")
        print(f"ratio: {naive_s / batch_s:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
