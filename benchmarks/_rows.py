"""Shared benchmark input: a grants register of N varied notice rows with shared defaults."""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = ROOT / "tests" / "data" / "batch" / "defaults.yaml"

_NAMES = ["Age Well", "Community Larder", "Men's Shed", "Youth Theatre", "Carers' Centre", "Food Bank",
          "Befriending Scheme", "Credit Union", "Women's Aid", "Refugee Network", "Sports Club",
          "Mind", "Citizens Advice", "Scouts", "Allotment Society", "Dementia Café"]
_PLACES = ["Bexley", "Sidcup", "Erith", "Crayford", "Welling", "Bexleyheath", "Thamesmead", "Belvedere"]
_PROGRAMMES = ["Community Connect", "Food Security Fund", "Healthy Ageing", "Youth Offer", "Warm Spaces"]


def write_register(path: Path, count: int, seed: int = 7) -> Path:
    """Write a CSV grants register of `count` notice rows (dotted headers, ` | ` lists)."""
    rng = random.Random(seed)
    headers = ["organisation.name", "organisation.address", "organisation.contact.name",
               "organisation.contact.email", "organisation.commissioned", "funding.programme",
               "funding.reference", "funding.annual_value", "funding.start", "funding.end",
               "decision.new_annual_value", "support"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for n in range(1, count + 1):
            place = rng.choice(_PLACES)
            name = f"{place} {rng.choice(_NAMES)}"
            value = rng.randrange(5_000, 90_000, 500)
            writer.writerow([
                name, f"{n} High Street | {place} | DA{rng.randint(1, 18)} {rng.randint(1, 9)}AB",
                f"Contact {n}", f"contact{n}@org{n}.example", "true", rng.choice(_PROGRAMMES),
                f"LBB-GR-2024-{n:04d}", value, "2024-04-01", "2027-03-31", int(value * 0.8),
                "A meeting with the commissioner | Help from BVSC with other funding",
            ])
    return path


def batch_notices(register: Path, out: Path, output_format: str, workers: int | None) -> int:
    """The register's notices made by `batch` in one format ('docx' or 'pdf'): how many, each written."""
    from compact_docs.rendering.batch import generate_batch  # after the caller put the checkout first

    results = list(generate_batch(register, "notice", out, formats=(output_format,), defaults=DEFAULTS,
                                  workers=workers))
    assert all(r.status == "written" for r in results), [r.reason for r in results if r.reason][:3]
    return len(results)


def print_timings(baseline: str, naive: tuple[float, int], batch: tuple[float, int], digits: int) -> None:
    """The naive loop's and the batch's (seconds, letters), each per letter too (in ms, to `digits`
    places), and last `ratio: X.XX`: the baseline's time over the batch's, higher is better."""
    for name, (seconds, letters) in ((f"naive loop ({baseline})", naive), ("compact-docs batch", batch)):
        print(f"{name}: {seconds:.2f} s ({seconds / letters * 1000:.{digits}f} ms/letter)")
    print(f"ratio: {naive[0] / batch[0]:.2f}")
