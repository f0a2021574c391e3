"""Benchmark: 200 notice letters as PDF through `batch`, against the naive WeasyPrint loop.

The naive baseline (see the README's benchmarks): per letter, the same HTML template rendered with Jinja, then
`weasyprint.HTML(string=...).write_pdf(...)` (tagged PDF/UA-1, like ours), HarfBuzz subsetting on
for both. Each row is validated, checked and worded the same way in both. WeasyPrint is loaded
before either is timed, so neither pays for the import.

This machine's speed drifts from minute to minute, so the two are run in --rounds rounds (4) on
the same 200 letters, alternating which goes first; the ratio is the total naive time over the
total batch time. Once compact-docs has made a PDF in this process, the naive loop's line splits
pass through the line memo's wrapper too, which only checks that its font configuration is not
ours (no memo) and calls WeasyPrint's own function.

Also measures the peak resident memory (this process and its workers together) of a 1,000-letter
PDF batch unless --no-memory. Prints `ratio: X.XX` (baseline time / batch time, higher is better)
last.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's compact_docs, not an installed copy

import psutil  # noqa: E402
from _rows import DEFAULTS, batch_notices, print_timings, write_register  # noqa: E402

from compact_docs.rendering.pdf import warm_up  # noqa: E402
from compact_docs.rendering.renderer import Renderer, file_stem  # noqa: E402
from compact_docs.rows import read_rows  # noqa: E402


def naive(register: Path, out: Path) -> int:
    """The naive baseline: per letter, the same HTML through `HTML(string=...).write_pdf()`."""
    import weasyprint
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None, "install libharfbuzz-subset0: the baseline must use HarfBuzz"
    renderer = Renderer()
    count = 0
    for row in read_rows(register, "notice", DEFAULTS):
        prepared = renderer.prepare(row.data, "notice")
        html = renderer.html(prepared.context)
        weasyprint.HTML(string=html, base_url=".").write_pdf(
            str(out / f"{file_stem(prepared.context)}-{row.number}.pdf"), pdf_variant="pdf/ua-1")
        count += 1
    return count


class PeakMemory:
    """Samples the resident memory of this process and its children every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="default: the number of cores")
    parser.add_argument("--rounds", type=int, default=4,
                        help="naive/batch pairs, alternating which goes first (even: each first as often)")
    parser.add_argument("--memory-letters", type=int, default=1000)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pdf-", ignore_cleanup_errors=True) as folder:
        work = Path(folder)
        if not args.no_memory:
            big = write_register(work / "big.csv", args.memory_letters, seed=11)
            with PeakMemory() as memory:
                start = time.perf_counter()
                n_big = batch_notices(big, work / "big", "pdf", args.workers)
                big_s = time.perf_counter() - start
            shutil.rmtree(work / "big")
            print(f"{n_big} PDF letters in {big_s:.1f} s; peak RSS (all processes): "
                  f"{memory.peak / 2**20:.0f} MB")
        register = write_register(work / "register.csv", args.letters)
        warm_up()
        naive_s = batch_s = 0.0
        for round_number in range(args.rounds):
            timings = {}
            order = ("naive", "batch") if round_number % 2 == 0 else ("batch", "naive")
            for which in order:
                out = work / f"{which}-{round_number}"
                out.mkdir()
                start = time.perf_counter()
                count = naive(register, out) if which == "naive" else batch_notices(register, out, "pdf", args.workers)
                timings[which] = time.perf_counter() - start
                assert count == args.letters, (which, count)
                shutil.rmtree(out)
            naive_s += timings["naive"]
            batch_s += timings["batch"]
            print(f"round {round_number + 1} ({' then '.join(order)}): naive {timings['naive']:.2f} s, "
                  f"batch {timings['batch']:.2f} s, ratio {timings['naive'] / timings['batch']:.2f}")
        letters = args.letters * args.rounds
        print(f"letters: {args.letters} per round, {args.rounds} rounds; cores: {os.cpu_count()}")
        print_timings("HTML().write_pdf() per letter", (naive_s, letters), (batch_s, letters), digits=0)


if __name__ == "__main__":
    main()
