"""The mailbox's own tables in the case register: the watcher's journal and the acknowledgement outbox."""

from __future__ import annotations

from compact_docs.register.schema import Migrations

MAILBOX_TABLES = Migrations.from_package("mailflows", "mailflows", latest=3)
"""Applied by everything in mailflows that opens the register (``open_register``, the journal, the outbox);
the steps are the .sql files in mailflows/migrations."""
