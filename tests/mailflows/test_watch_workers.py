"""The watcher's parsing workers never outlive it: killed outright, the watcher takes them along."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from backlog import realistic_backlog
from servers import PASSWORD, MailUser
from testdata import ROOT
from watching import PASSWORD_ENV, write_config

from mailflows.config import require_config


def test_sigkill_takes_the_parsing_workers_along(tmp_path: Path, mail_user: MailUser) -> None:
    with mail_user.connect() as client:
        for _name, raw in realistic_backlog(400, seed=5):
            client.append("INBOX", raw)
    # Batches large enough that parsing goes to worker processes.
    config_path = write_config(tmp_path, mail_user, watch={"batch_size": 100})
    database = require_config(config_path).database_path
    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    process = subprocess.Popen([sys.executable, "-m", "cli", "mail", "watch", "--config", str(config_path),
                                "--once"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    watcher = psutil.Process(process.pid)
    workers: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while not workers and process.poll() is None and time.monotonic() < deadline:
        try:
            workers = watcher.children()
        except psutil.Error:
            break
        time.sleep(0.01)
    assert workers, "the watcher finished before it started parsing workers"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()
    assert not alive, f"parsing workers outlived the killed watcher: {[w.pid for w in alive]}"
    # And a clean run afterwards still routes everything.
    final = subprocess.run([sys.executable, "-m", "cli", "mail", "watch", "--config", str(config_path),
                            "--once"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert mail_user.count("INBOX") == 0
    assert database.exists()
