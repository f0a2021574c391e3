"""Benchmark: 1,000 dispute messages in a Dovecot inbox, `mail watch --once` against the naive IMAP loop.

The naive baseline (see the README's benchmarks): per message, fetch RFC822, parse, COPY, STORE \\Deleted and
EXPUNGE, on the same messages in another mailbox of the same server, doing the same routing
work (each message parsed, decided and recorded in a case register of its own). The naive loop
runs in this process with everything already imported, so the watcher is timed the same way
(`watch_mailbox`, what `mail watch --once` calls, on a third copy of the backlog); the command's
own time, interpreter start-up and imports included, is printed as well. Then the peak memory of
`mail watch --once` with twenty 10 MB messages in the backlog (goal: under 250 MB).
Prints `ratio: X.XX` (baseline time / watcher time, both in this process, higher is better) last.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's packages, not an installed copy
sys.path.insert(0, str(ROOT / "tests"))

import psutil  # noqa: E402
from backlog import large_dispute, realistic_backlog  # noqa: E402
from imapclient import IMAPClient  # noqa: E402
from servers import DovecotServer, MailUser  # noqa: E402
from testdata import MAIL  # noqa: E402

from compact_docs.register.cases import CaseRegister  # noqa: E402
from mailflows.config import MailConfig, require_config  # noqa: E402
from mailflows.route import route_message  # noqa: E402
from mailflows.watch import watch_mailbox  # noqa: E402

PASSWORD_ENV = "COMPACT_BENCH_IMAP_PASSWORD"


def write_config(folder: Path, user: MailUser, batch_size: int) -> Path:
    """A configuration for one mailbox: the corpus organisations, no SMTP (nothing to send)."""
    text = (MAIL / "compact.toml").read_text(encoding="utf-8")
    path = folder / "compact.toml"
    path.write_text(
        'profile = "bexley"\ndatabase = "cases.db"\n\n[mail.imap]\n'
        f'host = "{user.server.host}"\nport = {user.server.port}\nsecurity = "none"\n'
        f'username = "{user.name}"\npassword_env = "{PASSWORD_ENV}"\n\n'
        f"[mail.watch]\nbatch_size = {batch_size}\n\n" + text[text.index("[[organisations]]"):],
        encoding="utf-8")
    return path


def fill(user: MailUser, messages: list[bytes]) -> None:
    with user.connect() as client:
        for raw in messages:
            client.append("INBOX", raw)


def naive(user: MailUser, config: MailConfig, database: Path) -> int:
    """Per message: FETCH RFC822, parse and route, COPY, STORE \\Deleted, EXPUNGE."""
    count = 0
    with CaseRegister(database, config.compact_profile) as register:
        client = IMAPClient(user.server.host, port=user.server.port, ssl=False, timeout=60)
        client.login(user.name, user.password)
        for folder in {config.mail.folders.for_disposition(d) for d in
                       ("stage-1", "stage-2", "stage-3", "needs-triage", "ignored")}:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        client.select_folder("INBOX")
        for uid in client.search("ALL"):
            raw = client.fetch([uid], ["RFC822"])[uid][b"RFC822"]
            decision = route_message(bytes(raw), config, register)
            client.copy([uid], config.mail.folders.for_disposition(decision.disposition))
            client.add_flags([uid], [b"\\Deleted"])
            client.expunge()
            count += 1
        client.logout()
    return count


def watch_once(config_path: Path, password: str, sample_memory: bool = True) -> tuple[float, int]:
    """Run `compact-docs mail watch --once` as BVSC would; return seconds and peak RSS in bytes.

    The peak (of the watcher and its parsing workers) is sampled from outside every 10 ms (a
    forked child's own ru_maxrss would count this process's memory from before the exec). The
    timed run does not sample: on two cores the sampling itself would slow the watcher down.
    """
    env = {**os.environ, PASSWORD_ENV: password}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "mail", "watch", "--once", "--config", str(config_path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        if sample_memory:
            with contextlib.suppress(psutil.Error):
                family = [watched, *watched.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in family))
            time.sleep(0.01)
        else:
            time.sleep(0.005)
    seconds = time.perf_counter() - started
    output = process.stdout.read().decode() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"mail watch failed (status {process.returncode}): {output}")
    print(f"  {output.strip()}")
    return seconds, peak


def time_routing_alone(served: list[bytes], config: MailConfig, database: Path) -> None:
    """The routing both sides do (parse, decide, record), timed alone on the same bytes."""
    with CaseRegister(database, config.compact_profile) as register:
        started = time.perf_counter()
        with register.transaction():
            for raw in served:
                route_message(raw, config, register)
        routing = time.perf_counter() - started
    print(f"routing alone:      {routing:7.2f} s  (parse, decide, record; shared by both)")


def time_the_watcher(config: MailConfig, user: MailUser, messages: int) -> float:
    """`mail watch --once` in this process, like the naive loop; its summary line; the seconds."""
    started = time.perf_counter()
    summary = watch_mailbox(config, once=True, stop=threading.Event(), environ={PASSWORD_ENV: user.password})
    watched = time.perf_counter() - started
    print(f"  {summary.line()}")
    print(f"mail watch (here):  {watched:7.2f} s  ({messages / watched:6.0f} messages/s, "
          "like the naive loop: in this process)")
    return watched


def memory_run(user: MailUser, folder: Path, count: int, batch_size: int) -> None:
    """The peak memory of the command over ``count`` ten-megabyte messages."""
    fill(user, [large_dispute(10 * 1024 * 1024, message_id=f"<large-{n}@agewell.example>")
                for n in range(count)])
    folder.mkdir()
    seconds, peak = watch_once(write_config(folder, user, batch_size), user.password)
    print(f"{count} x 10 MB messages: {seconds:.2f} s, peak RSS {peak / 1e6:.0f} MB (goal: under 250 MB)")


def compare(server: DovecotServer, work: Path, args: argparse.Namespace) -> None:
    """The same backlog in three inboxes: the naive loop, the watcher here, the watcher as a command."""
    backlog = [raw for _name, raw in realistic_backlog(args.messages, seed=1000)]
    ours, here, theirs = server.new_user(), server.new_user(), server.new_user()
    for user in (ours, here, theirs):
        fill(user, backlog)
    print(f"{len(backlog)} messages in each of three Dovecot inboxes ({sum(map(len, backlog)) / 1e6:.1f} MB)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs "
          "(other work on the machine slows the watcher's parallel parsing most)")
    for name in ("ours", "here", "naive"):
        (work / name).mkdir()
    ours_config = write_config(work / "ours", ours, args.batch_size)
    here_config = require_config(write_config(work / "here", here, args.batch_size))
    naive_config = require_config(write_config(work / "naive", theirs, args.batch_size))
    time_routing_alone([raw for _uid, raw in sorted(theirs.messages().items())], naive_config,
                       work / "routing-only.db")
    started = time.perf_counter()
    routed = naive(theirs, naive_config, work / "naive" / "cases.db")
    baseline = time.perf_counter() - started
    print(f"naive loop:         {baseline:7.2f} s  ({routed / baseline:6.0f} messages/s)")
    watched = time_the_watcher(here_config, here, len(backlog))
    command, _ = watch_once(ours_config, ours.password, sample_memory=False)
    print(f"mail watch --once:  {command:7.2f} s  ({len(backlog) / command:6.0f} messages/s, "
          f"as a command: interpreter start-up and imports included; ratio {baseline / command:.2f})")
    left = ours.count("INBOX"), here.count("INBOX"), theirs.count("INBOX")
    if left != (0, 0, 0):
        raise SystemExit(f"messages left in the inboxes: {left}")
    if args.large:
        memory_run(server.new_user(), work / "large", args.large, args.batch_size)
    print(f"ratio: {baseline / watched:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20, help="10 MB messages for the memory run")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="compact-bench-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="compact-bench-"))
    server = DovecotServer(root).start()
    try:
        compare(server, work, args)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
