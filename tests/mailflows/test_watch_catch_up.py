"""Mail that arrives while the watcher routes a backlog is routed in the same catch-up."""

from __future__ import annotations

from pathlib import Path

from backlog import realistic_backlog
from servers import MailUser
from watching import ENVIRON, write_config

from mailflows.config import require_config
from mailflows.watch import WatchedMessage, watch_mailbox


def test_mail_arriving_during_a_backlog_is_not_left_waiting(tmp_path: Path, mail_user: MailUser) -> None:
    backlog = realistic_backlog(12, seed=3)
    with mail_user.connect() as client:
        for _name, raw in backlog[:10]:
            client.append("INBOX", raw)
    config = require_config(write_config(tmp_path, mail_user, watch={"batch_size": 2}))
    seen: list[WatchedMessage] = []

    def on_message(watched: WatchedMessage) -> None:
        seen.append(watched)
        if len(seen) == 4:  # two batches in: two more messages arrive
            with mail_user.connect() as client:
                for _name, raw in backlog[10:]:
                    client.append("INBOX", raw)

    summary = watch_mailbox(config, once=True, on_message=on_message, environ=ENVIRON)
    assert len(seen) == 12
    assert summary.moved == 12
    assert mail_user.count("INBOX") == 0
