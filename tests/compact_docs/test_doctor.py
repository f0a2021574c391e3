"""doctor's checks, each in a fresh interpreter where nothing was laid out before."""

from __future__ import annotations

import json
import subprocess
import sys

from testdata import ROOT


def test_the_font_check_finds_the_bundled_family_in_a_fresh_process() -> None:
    script = ("import json; from compact_docs.doctor import check_fonts; c = check_fonts(); "
              "print(json.dumps([c.status, c.detail]))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=120)
    status, detail = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == "ok", detail
    assert "Liberation Sans" in detail and "Compact Docs Sans" in detail
