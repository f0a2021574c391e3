"""Benchmark: how soon new mail is filed while `mail watch` idles (APPEND to the message in its folder).

Starts Dovecot, runs `compact-docs mail watch` as a process until it reports that it is waiting
in IDLE, then appends messages one at a time and times each from the APPEND to the moment the
message is in its stage folder. Goal: p95 under 2 s. Prints `ratio: X.XX` (the 2 s goal over the
measured p95, higher is better) last.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's packages, not an installed copy
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backlog import EXPECTED, realistic_backlog  # noqa: E402
from mailbox_backlog import PASSWORD_ENV, write_config  # noqa: E402
from servers import DovecotServer  # noqa: E402

from mailflows.config import require_config  # noqa: E402

GOAL_SECONDS = 2.0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="compact-bench-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="compact-bench-"))
    server = DovecotServer(root).start()
    process: subprocess.Popen[str] | None = None
    try:
        user = server.new_user()
        config_path = write_config(work, user, 200)
        folders = require_config(config_path).mail.folders
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "mail", "watch", "--config", str(config_path)],
            cwd=ROOT, env={**os.environ, PASSWORD_ENV: user.password},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        idling = threading.Event()

        def read_log() -> None:
            assert process is not None and process.stderr is not None
            for line in process.stderr:
                if "waiting for new mail" in line:
                    idling.set()

        threading.Thread(target=read_log, daemon=True).start()
        if not idling.wait(30):
            raise SystemExit("mail watch did not start idling within 30 s")

        backlog = [(n, raw) for n, raw in realistic_backlog(args.messages, seed=30)]
        latencies: list[float] = []
        with user.connect() as client:
            for name, raw in backlog:
                folder = folders.for_disposition(EXPECTED[name])
                before = int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])
                started = time.perf_counter()
                client.append("INBOX", raw)
                deadline = started + 30
                while int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]) == before:
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"{name} was not filed within 30 s")
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - started)
                time.sleep(0.2)  # mail arrives one message at a time
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(f"{len(latencies)} messages appended one at a time while idling")
        print(f"p50: {p50 * 1000:.0f} ms   p95: {p95 * 1000:.0f} ms   max: {max(latencies) * 1000:.0f} ms "
              f"(goal: p95 under {GOAL_SECONDS:.0f} s)")
        print(f"ratio: {GOAL_SECONDS / p95:.2f}")
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
