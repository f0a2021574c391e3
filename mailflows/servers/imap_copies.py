"""Which messages a stopped run already copied: a copy is found by its header, size and date."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from compact_docs.errors import Disconnected, MailError
from mailflows.servers.imap_responses import CopiedMessages

if TYPE_CHECKING:
    from mailflows.servers.imap import ImapConnection


def find_copies(connection: ImapConnection, uids: Sequence[int], folder: str) -> CopiedMessages:
    """Which of these messages of the selected folder already have a copy in ``folder``.

    For a run that stopped while copying (a server without MOVE): the copy may or may not have
    been made. Each message is looked for in ``folder`` (EXAMINE, then ``UID SEARCH HEADER
    Message-ID``, or by its exact size when it has no Message-ID), and a message found counts as
    a copy only with the same header, size and INTERNALDATE, which COPY keeps: another message
    reusing the Message-ID is not a copy. The folder that was selected is selected again
    afterwards; if its UIDVALIDITY changed meanwhile, the UIDs mean nothing any more and
    Disconnected is raised (reconnect and start over).
    """
    inbox = connection.selected
    if inbox is None:
        raise MailError("no folder is selected: select the folder the messages are in first")
    if not uids:
        return CopiedMessages(folder, ())
    wanted = connection.identities(sorted(set(uids)))
    found: dict[int, int] = {}
    validity: int | None = None
    try:
        validity = connection.examine_folder(folder).uidvalidity
        for uid, identity in wanted.items():
            candidates = [c for c in connection.search(*identity.search_key()) if c not in found.values()]
            if not candidates:
                continue
            known = connection.identities(candidates)
            match = next((c for c in sorted(known) if known[c] == identity), None)
            if match is not None:
                found[uid] = match
    finally:
        if connection.connected:
            again = connection.select_folder(inbox.name)
            if again.uidvalidity != inbox.uidvalidity:
                connection.close()
                raise Disconnected(
                    f"IMAP {connection.account.host}: {inbox.name} has a new UIDVALIDITY "
                    f"({again.uidvalidity}, was {inbox.uidvalidity}); its UIDs must be read again")
    return CopiedMessages(folder, tuple(sorted(found)), validity, found)
