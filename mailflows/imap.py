"""The dispute mailbox over IMAP: a safe connection, folders, batched fetches, moves and IDLE."""

from __future__ import annotations

import email.parser
import email.policy
import imaplib
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import ProtocolError

from compact_docs.errors import MailError

# The credential helpers moved to mailflows.credentials; still importable from here.
from mailflows.credentials import Secret as Secret
from mailflows.credentials import Security as Security
from mailflows.credentials import is_loopback as is_loopback
from mailflows.credentials import read_secret as read_secret
from mailflows.credentials import require_safe_transport as require_safe_transport
from mailflows.credentials import scrub_secrets as scrub_secrets
from mailflows.credentials import xoauth2_string as xoauth2_string

DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "none": 143}
DEFAULT_SIZE_CAP = 2 * 1024 * 1024  # bytes: a larger message is read as header + text start
DEFAULT_TEXT_CAP = 64 * 1024  # bytes of the first text part read from a message over the cap
DEFAULT_BATCH_SIZE = 200  # UIDs per FETCH round
DEFAULT_BATCH_BYTES = 16 * 1024 * 1024  # at most this much message data per FETCH command
DEFAULT_IDLE_RENEW = 9 * 60.0  # seconds; RFC 2177 asks for a new IDLE at least every 29 minutes
SIZE_MARGIN = 64 * 1024  # bytes a message may exceed its declared RFC822.SIZE by (line-end quirks)
MAX_SKIPPED = 256 * 1024 * 1024  # bytes of an oversized item read past (and dropped) before hanging up
_CHANGES = frozenset({b"EXISTS", b"EXPUNGE", b"RECENT", b"FETCH"})
_DELETED = b"\\Deleted"
_COPYUID = re.compile(rb"(\d+) ([\d:,]+) ([\d:,]+)")  # the COPYUID code's arguments
_UID_IN_LINE = re.compile(rb"\bUID (\d+)")
_UNEXPECTED = re.compile(r"(unexpected (?:tagged )?response)\s*:.*", re.DOTALL)


class Disconnected(MailError):
    """Raised when the server cannot be reached or drops the session (BYE, EOF, reset, timeout).

    Reconnecting later may succeed: the watcher reconnects with backoff and catches up.
    """


class MalformedResponse(MailError):
    """Raised when the server's answer to a command cannot be parsed; the session stays usable.

    The text never quotes the answer, which may hold other messages' content.
    """


@dataclass(frozen=True)
class ImapAccount:
    """Where the mailbox is and how to log in: the design's ``[mail.imap]`` table.

    Secrets are never held here, only the names of where to find them: ``password_env`` (an
    environment variable holding the password), or for XOAUTH2 (Exchange Online, Gmail)
    ``oauth2_token_env`` or ``oauth2_token_command`` (a command, run without a shell, that
    prints an access token).
    """

    host: str
    username: str
    security: Security = "tls"
    port: int | None = None
    password_env: str | None = "COMPACT_IMAP_PASSWORD"
    oauth2_token_env: str | None = None
    oauth2_token_command: str | None = None
    inbox: str = "INBOX"
    timeout: float = 60.0

    @property
    def effective_port(self) -> int:
        """The configured port, or the usual one for the security mode (993 or 143)."""
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]


@dataclass(frozen=True)
class FolderState:
    """What SELECT reported about a folder (RFC 3501 section 6.3.1)."""

    name: str
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class FolderStatus:
    """What STATUS reported about a folder (RFC 3501 section 6.3.10; HIGHESTMODSEQ from CONDSTORE,
    RFC 7162 section 3.1.2.1, when the server has it)."""

    name: str
    uidvalidity: int
    uidnext: int
    messages: int
    highestmodseq: int | None = None


@dataclass(frozen=True)
class CopiedMessages:
    """Messages of the selected folder that have a copy in ``folder``.

    ``uids`` maps each source UID to the UID of its copy, when known: from the COPYUID answer
    to UID COPY (UIDPLUS, RFC 4315 section 3), or from finding the copy (``find_copies``).
    ``uidvalidity`` is the destination folder's, when known.
    """

    folder: str
    source: tuple[int, ...]
    uidvalidity: int | None = None
    uids: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchedMessage:
    """One message as fetched, never marked read.

    ``raw`` is the whole message, or, when the message was over the size cap (``truncated``),
    a stand-in message made of its header and the start of its first text part, so a parser
    sees the sender, subject, threading headers and the opening of the text. ``size`` is
    always the full size on the server (RFC822.SIZE). ``unreadable`` says why a message could
    not be read at all (a malformed answer, more bytes than the server declared); its ``raw``
    is empty and it is for a person to look at.
    """

    uid: int
    size: int
    raw: bytes
    flags: frozenset[bytes]
    truncated: bool = False
    internaldate: datetime | None = None
    """When the server took the message in (INTERNALDATE, RFC 3501 section 2.3.3), if it said."""
    unreadable: str | None = None


class ImapConnection:
    """One logged-in IMAP4rev1 session (RFC 3501) on the dispute mailbox, built on IMAPClient.

    Methods are named after the protocol commands they issue. Every imaplib, IMAPClient, socket
    and TLS error is wrapped where it enters: ``Disconnected`` when the session is lost (the
    caller may reconnect with ``connect()``), ``MailError`` otherwise, always with secrets
    removed from the text. The connection is made by ``_create_client``, the one place a
    subclass or a test overrides to change how the socket is opened.
    """

    def __init__(
        self,
        account: ImapAccount,
        *,
        environ: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        require_safe_transport(account.host, account.security)
        self.account = account
        self._environ = environ
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._secret_forms: list[str] = []
        self._idling = False
        self._selected: FolderState | None = None
        self._literal_limit = DEFAULT_SIZE_CAP + SIZE_MARGIN
        self._cut: dict[int | None, int] = {}  # UID (if known) -> size of a literal cut short

    # -- connecting ------------------------------------------------------------------------

    def _create_client(self) -> IMAPClient:
        """Open the socket: implicit TLS for ``tls``, plain TCP for ``starttls`` and ``none``."""
        account = self.account
        use_tls = account.security == "tls"
        return IMAPClient(
            account.host,
            port=account.effective_port,
            ssl=use_tls,
            ssl_context=self._tls_context() if use_tls else None,
            timeout=account.timeout,
        )

    def _tls_context(self) -> ssl.SSLContext:
        # The system's trusted CAs, hostname checked: never an unverified context.
        return self._ssl_context or ssl.create_default_context()

    def connect(self) -> ImapConnection:
        """Connect, secure the channel as configured and log in (LOGIN, or AUTHENTICATE XOAUTH2).

        Can be called again after ``Disconnected`` to start a new session.
        """
        self.close()
        account = self.account
        secret = read_secret(
            password_env=account.password_env,
            oauth2_token_env=account.oauth2_token_env,
            oauth2_token_command=account.oauth2_token_command,
            environ=self._environ,
        )
        self._secret_forms = secret.forms(account.username)
        with self._errors(f"connecting to {account.host}:{account.effective_port}"):
            self._client = self._create_client()
        self._bound_literals(self._client)
        try:
            with self._errors("securing the connection with STARTTLS"):
                if account.security == "starttls":
                    if not self._client.has_capability("STARTTLS"):
                        raise MailError(f"{account.host} does not offer STARTTLS")
                    self._client.starttls(self._tls_context())
            with self._errors(f"logging in as {account.username}"):
                if secret.kind == "xoauth2":
                    self._client.oauth2_login(account.username, secret.value)
                else:
                    self._client.login(account.username, secret.value)
        except BaseException:
            self.close()
            raise
        return self

    def _bound_literals(self, client: IMAPClient) -> None:
        """Keep at most ``_literal_limit`` bytes of any literal (RFC 3501 section 4.3) the server sends.

        imaplib reads a literal whole, whatever size the server announces; past the limit the
        rest is read in small pieces and dropped, so the session stays in step and memory stays
        bounded (IMAPClient then refuses the answer, and ``_fetch_each`` sets the message aside).
        An item over MAX_SKIPPED beyond the limit ends the session instead.
        """
        imap = getattr(client, "_imap", None)
        read = getattr(imap, "read", None)
        if imap is None or read is None:
            return

        def bounded_read(size: int) -> bytes:
            limit = self._literal_limit
            if size <= limit:
                return bytes(read(size))
            # imaplib matched the line announcing the literal just now: whose it is, if it says.
            line = getattr(getattr(imap, "mo", None), "string", b"")
            found = _UID_IN_LINE.search(line) if isinstance(line, bytes) else None
            self._cut[int(found.group(1)) if found else None] = size
            if size - limit > MAX_SKIPPED:
                raise imaplib.IMAP4.abort(f"the server sent a {size:,}-byte item where at most "
                                          f"{limit:,} were expected")
            kept = bytes(read(limit))
            left = size - limit
            while left:
                skipped = read(min(left, 64 * 1024))
                if not skipped:
                    raise imaplib.IMAP4.abort("the server closed the connection")
                left -= len(skipped)
            return kept

        imap.read = bounded_read

    @contextmanager
    def _literals_up_to(self, limit: int) -> Iterator[None]:
        """While inside, keep at most ``limit`` bytes of each literal the server sends."""
        previous, self._literal_limit = self._literal_limit, max(limit, 1)
        try:
            yield
        finally:
            self._literal_limit = previous

    def logout(self) -> None:
        """End the session politely (DONE if idling, then LOGOUT); a lost session is just closed."""
        client, self._client = self._client, None
        idling, self._idling = self._idling, False
        self._selected = None
        if client is None:
            return
        try:
            if idling:
                client.idle_done()
            client.logout()
        except Exception:  # lost already: only the socket is left to close
            _shutdown_quietly(client)

    def close(self) -> None:
        """Drop the socket without a word to the server (after a failure)."""
        client, self._client = self._client, None
        self._idling = False
        self._selected = None
        if client is not None:
            _shutdown_quietly(client)

    def __enter__(self) -> ImapConnection:
        if self._client is None:
            self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.logout()
        else:
            self.close()

    @property
    def client(self) -> IMAPClient:
        """The logged-in IMAPClient, for what this class does not wrap."""
        if self._client is None:
            raise MailError(f"not connected to {self.account.host}: call connect() first")
        return self._client

    def has_capability(self, name: str) -> bool:
        """Whether the server advertised capability ``name`` after login (e.g. MOVE, UIDPLUS)."""
        with self._errors("reading the server's capabilities"):
            return bool(self.client.has_capability(name))

    # -- folders ---------------------------------------------------------------------------

    def list_folders(self) -> list[str]:
        """Every folder name (LIST), decoded from modified UTF-7 (RFC 3501 section 5.1.3)."""
        with self._errors("listing folders"):
            return [str(name) for _flags, _delimiter, name in self.client.list_folders()]

    def ensure_folders(self, names: Iterable[str]) -> list[str]:
        """Create the folders that do not exist yet and subscribe them; return those created.

        Names are Unicode ("Disputes/Étape 2"); IMAPClient encodes them in modified UTF-7.
        New folders are subscribed (SUBSCRIBE) so caseworkers' mail programs show them.
        """
        existing = {_folder_key(name) for name in self.list_folders()}
        created: list[str] = []
        for name in dict.fromkeys(names):
            if _folder_key(name) in existing:
                continue
            with self._errors(f"creating folder {name!r}"):
                try:
                    self.client.create_folder(name)
                except IMAPClient.AbortError:
                    raise
                except IMAPClient.Error:
                    # Another client may have made it meanwhile; only a real failure is raised.
                    if _folder_key(name) not in {_folder_key(n) for n in self.list_folders()}:
                        raise
                    continue
            with self._errors(f"subscribing folder {name!r}"):
                self.client.subscribe_folder(name)
            existing.add(_folder_key(name))
            created.append(name)
        return created

    def select_folder(self, name: str) -> FolderState:
        """SELECT a folder read-write and report its UIDVALIDITY, UIDNEXT and size."""
        with self._errors(f"selecting folder {name!r}"):
            response = self.client.select_folder(name)
        self._selected = _folder_state(name, response)
        return self._selected

    def examine_folder(self, name: str) -> FolderState:
        """EXAMINE a folder (select it read-only): nothing in it can change, not even \\Recent."""
        self._selected = None
        with self._errors(f"examining folder {name!r}"):
            response = self.client.select_folder(name, readonly=True)
        return _folder_state(name, response)

    def status(self, name: str) -> FolderStatus:
        """STATUS of a folder that is not selected: UIDVALIDITY, UIDNEXT, MESSAGES, and
        HIGHESTMODSEQ when the server offers CONDSTORE, so a caller can tell that nothing changed."""
        items = ["UIDVALIDITY", "UIDNEXT", "MESSAGES"]
        if self.has_capability("CONDSTORE"):
            items.append("HIGHESTMODSEQ")
        with self._errors(f"reading the status of folder {name!r}"):
            found = self.client.folder_status(name, items)
        modseq = found.get(b"HIGHESTMODSEQ")
        return FolderStatus(name, int(found[b"UIDVALIDITY"]), int(found[b"UIDNEXT"]),
                            int(found[b"MESSAGES"]), int(modseq) if modseq is not None else None)

    def search_from(self, uid: int) -> list[int]:
        """The UIDs of the selected folder from ``uid`` on, ascending (UID SEARCH UID n:*).

        ``n:*`` always matches the last message, even one below ``n`` (RFC 3501 section 6.4.8):
        those are left out.
        """
        with self._errors("searching the folder"):
            return sorted(int(found) for found in self.client.search(["UID", f"{max(uid, 1)}:*"])
                          if int(found) >= uid)

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The header of each message (BODY.PEEK[HEADER]: never marks it read), by UID."""
        if not uids:
            return {}
        with self._errors("reading message headers"):
            data = self.client.fetch(sorted(set(uids)), ["BODY.PEEK[HEADER]"])
        return {int(uid): bytes(item.get(b"BODY[HEADER]") or b"") for uid, item in data.items()}

    def search_all(self) -> list[int]:
        """The UIDs of every message in the selected folder, ascending (UID SEARCH ALL)."""
        with self._errors("searching the folder"):
            return sorted(int(uid) for uid in self.client.search("ALL"))

    # -- fetching --------------------------------------------------------------------------

    def fetch_messages(
        self,
        uids: Sequence[int],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        size_cap: int = DEFAULT_SIZE_CAP,
        text_cap: int = DEFAULT_TEXT_CAP,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
    ) -> Iterator[FetchedMessage]:
        """Fetch messages in UID order with ``BODY.PEEK[]``, which never sets \\Seen.

        Sizes (RFC822.SIZE) come first, one FETCH per ``batch_size`` UIDs; messages up to
        ``size_cap`` bytes are then fetched whole, grouped so one FETCH carries at most about
        ``batch_bytes``. A larger message is read as ``BODY.PEEK[HEADER]`` plus the first
        ``text_cap`` bytes of its first text part (found from BODYSTRUCTURE), so memory stays
        small whatever arrives. A UID that no longer exists (expunged meanwhile) is skipped.
        A message whose answer cannot be parsed, or that comes longer than its declared size
        allows (at most that much of it is kept), is yielded ``unreadable``; the others are
        read as usual.
        """
        ordered = sorted(dict.fromkeys(uids))
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start : start + batch_size]
            described, unreadable = self._fetch_each(batch, ["RFC822.SIZE", "FLAGS", "INTERNALDATE"],
                                                     "reading message sizes", size_cap + SIZE_MARGIN)
            for uid, item in described.items():
                if _declared_size(item) is None:
                    unreadable[uid] = "the server gave no usable RFC822.SIZE"
            present = [uid for uid in batch if uid in described and uid not in unreadable]
            listed = {uid: described.get(uid, {}) for uid in batch if uid in described or uid in unreadable}
            # Chunks in UID order, each at most about batch_bytes, yielded before the next.
            for chunk in _chunks(list(listed), listed, size_cap, text_cap, batch_bytes):
                found: dict[int, FetchedMessage] = {}
                small = [uid for uid in chunk if uid in present and _size(described[uid]) <= size_cap]
                large = [uid for uid in chunk if uid in present and _size(described[uid]) > size_cap]
                if small:
                    found.update(self._fetch_whole(small, described, unreadable))
                if large:
                    for message in self._fetch_truncated(large, described, text_cap, size_cap, unreadable):
                        found[message.uid] = message
                for uid in chunk:
                    if uid in unreadable:
                        yield FetchedMessage(uid, _size(listed[uid]), b"", _flags(listed[uid]),
                                             internaldate=_internaldate(listed[uid]), unreadable=unreadable[uid])
                    elif uid in found:
                        yield found.pop(uid)

    def _fetch_each(self, uids: list[int], items: list[str], action: str, limit: int,
                    declared: Mapping[int, int] | None = None) -> tuple[dict[int, Any], dict[int, str]]:
        """FETCH ``items`` of ``uids``, keeping literals to ``limit`` bytes; and the UIDs whose
        answer could not be read, with why.

        One malformed answer spoils the parse of the whole response, so the UIDs are fetched
        again without the one at fault (when a literal cut short names its UID), or in halves
        until it is found; the rest are read as usual. ``declared`` gives the sizes the server
        declared, for the reasons.
        """
        self._cut = {}
        try:
            with self._literals_up_to(limit), self._errors(action):
                return dict(self.client.fetch(uids, items)), {}
        except MalformedResponse as exc:
            bad = {uid: (f"the server declared {declared[uid]:,} bytes but sent {size:,}"
                         if declared and uid in declared else
                         f"the server sent {size:,} bytes where at most {limit:,} were expected")
                   for uid, size in self._cut.items() if uid is not None and uid in uids}
            if bad:
                others = [uid for uid in uids if uid not in bad]
                found, more = self._fetch_each(others, items, action, limit, declared) if others else ({}, {})
                return found, {**bad, **more}
            if len(uids) == 1:
                return {}, {uids[0]: str(exc)}
        half = len(uids) // 2
        first, first_bad = self._fetch_each(uids[:half], items, action, limit, declared)
        second, second_bad = self._fetch_each(uids[half:], items, action, limit, declared)
        return {**first, **second}, {**first_bad, **second_bad}

    def _fetch_whole(self, uids: list[int], described: dict[int, Any],
                     unreadable: dict[int, str]) -> dict[int, FetchedMessage]:
        """Fetch messages whole; one longer than its declared size (plus a margin) is set aside."""
        allowed = {uid: _allowed(_size(described[uid])) for uid in uids}
        bodies, bad = self._fetch_each(uids, ["BODY.PEEK[]"], "fetching messages", max(allowed.values()) + 1,
                                       {uid: _size(described[uid]) for uid in uids})
        unreadable.update(bad)
        found: dict[int, FetchedMessage] = {}
        for uid, data in bodies.items():
            body = data.get(b"BODY[]") if uid in allowed else None
            if body is None:
                continue
            if len(body) > allowed[uid]:
                unreadable[uid] = (f"the server declared {_size(described[uid]):,} bytes but sent more "
                                   f"than {allowed[uid]:,}")
                continue
            found[uid] = FetchedMessage(uid, _size(described[uid]), bytes(body), _flags(described[uid]),
                                        internaldate=_internaldate(described[uid]))
        return found

    def _fetch_truncated(
        self, uids: list[int], described: dict[int, Any], text_cap: int, size_cap: int,
        unreadable: dict[int, str],
    ) -> Iterator[FetchedMessage]:
        heads, bad = self._fetch_each(uids, ["BODYSTRUCTURE", "BODY.PEEK[HEADER]"],
                                      "fetching message headers", size_cap + SIZE_MARGIN)
        unreadable.update(bad)
        by_section: dict[str, list[int]] = {}
        parts: dict[int, _TextPart | None] = {}
        for uid in uids:
            if uid not in heads:
                continue
            parts[uid] = _first_text_part(heads[uid].get(b"BODYSTRUCTURE"))
            part = parts[uid]
            if part is not None:
                by_section.setdefault(part.section, []).append(uid)
        texts: dict[int, bytes] = {}
        for section, group in by_section.items():
            fetched, bad = self._fetch_each(group, [f"BODY.PEEK[{section}]<0.{text_cap}>"],
                                            "fetching the start of message texts", text_cap + SIZE_MARGIN)
            unreadable.update(bad)
            key = f"BODY[{section}]<0>".encode()
            for uid, data in fetched.items():
                if key in data and data[key] is not None:
                    texts[uid] = bytes(data[key])
        for uid, part in parts.items():
            if uid in unreadable:
                continue
            header = bytes(heads[uid].get(b"BODY[HEADER]") or b"")
            yield FetchedMessage(
                uid=uid,
                size=_size(described[uid]),
                raw=_stand_in(header, part, texts.get(uid, b"")),
                flags=_flags(described[uid]),
                truncated=True,
                internaldate=_internaldate(described[uid]),
            )

    # -- moving ----------------------------------------------------------------------------

    def move(
        self,
        uids: Sequence[int],
        folder: str,
        *,
        on_copied: Callable[[CopiedMessages], None] | None = None,
    ) -> None:
        """Move messages of the selected folder to ``folder``, one command for the whole set.

        With MOVE (RFC 6851): ``UID MOVE``. Without it: ``UID COPY``, then ``expunge`` of
        exactly these UIDs (UIDPLUS, RFC 4315), so messages another client marked \\Deleted
        are left alone. A server with neither is refused (MailError) before anything is
        copied: a plain EXPUNGE would remove other people's deletions. ``on_copied`` is
        called between the copy and the expunge, so a caller can note that the copies exist
        before the originals go (a run stopped there then only expunges, never copies again).
        """
        if not uids:
            return
        message_set = sorted(set(uids))
        if self.has_capability("MOVE"):
            with self._errors(f"moving messages to {folder!r}"):
                self.client.move(message_set, folder)
            return
        self._require_uidplus("moved")
        with self._errors(f"copying messages to {folder!r}"):
            # imaplib files response codes such as COPYUID by name; IMAPClient has no accessor.
            codes = self.client._imap
            codes.response("COPYUID")  # drop any an earlier command left
            self.client.copy(message_set, folder)
            _typ, copyuid = codes.response("COPYUID")
        copied = _copied(folder, message_set, copyuid)
        if on_copied is not None:
            on_copied(copied)
        self.expunge(message_set)

    def expunge(self, uids: Sequence[int]) -> None:
        """Remove exactly these messages from the selected folder (after copying them elsewhere).

        ``UID STORE +FLAGS.SILENT (\\Deleted)`` and ``UID EXPUNGE`` of these UIDs (UIDPLUS),
        never a folder-wide EXPUNGE. MailError, with nothing changed, without UIDPLUS.
        """
        if not uids:
            return
        message_set = sorted(set(uids))
        self._require_uidplus("removed")
        with self._errors("removing copied messages from the folder"):
            self.client.add_flags(message_set, [_DELETED], silent=True)
            self.client.uid_expunge(message_set)

    def find_copies(self, uids: Sequence[int], folder: str) -> CopiedMessages:
        """Which of these messages of the selected folder already have a copy in ``folder``.

        For a run that stopped while copying: the copy may or may not have been made. Each
        message is looked for in ``folder`` (EXAMINE, then ``UID SEARCH HEADER Message-ID``,
        or by its exact size when it has no Message-ID), and a message found counts as a copy
        only with the same header, size and INTERNALDATE, which COPY keeps: another message
        reusing the Message-ID is not a copy. The folder that was selected is selected again
        afterwards; if its UIDVALIDITY changed meanwhile, the UIDs mean nothing any more and
        Disconnected is raised (reconnect and start over).
        """
        inbox = self._selected
        if inbox is None:
            raise MailError("no folder is selected: select the folder the messages are in first")
        if not uids:
            return CopiedMessages(folder, ())
        wanted = self._identities(sorted(set(uids)))
        found: dict[int, int] = {}
        validity: int | None = None
        try:
            validity = self.examine_folder(folder).uidvalidity
            for uid, identity in wanted.items():
                criteria, charset = identity.search_key()
                with self._errors(f"searching {folder!r} for a copy"):
                    candidates = self.client.search(criteria, charset)
                candidates = [c for c in candidates if c not in found.values()]
                if not candidates:
                    continue
                known = self._identities(sorted(candidates))
                match = next((c for c in sorted(known) if known[c] == identity), None)
                if match is not None:
                    found[uid] = match
        finally:
            if self._client is not None:
                again = self.select_folder(inbox.name)
                if again.uidvalidity != inbox.uidvalidity:
                    self.close()
                    raise Disconnected(
                        f"IMAP {self.account.host}: {inbox.name} has a new UIDVALIDITY "
                        f"({again.uidvalidity}, was {inbox.uidvalidity}); its UIDs must be read again")
        return CopiedMessages(folder, tuple(sorted(found)), validity, found)

    def _identities(self, uids: list[int]) -> dict[int, _Identity]:
        """What tells messages of the selected folder from their copies: header, size, date."""
        with self._errors("reading message headers"):
            data = self.client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]"])
        return {
            uid: _Identity(bytes(item.get(b"BODY[HEADER]") or b""), _size(item), item.get(b"INTERNALDATE"))
            for uid, item in data.items()
        }

    def _require_uidplus(self, what: str) -> None:
        if not self.has_capability("UIDPLUS"):
            raise MailError(
                f"{self.account.host} offers neither MOVE nor UIDPLUS: messages cannot be {what} "
                "without expunging every message marked \\Deleted in the folder, so none were "
                f"{what}"
            )

    # -- IDLE ------------------------------------------------------------------------------

    @property
    def idling(self) -> bool:
        """Whether IDLE is in progress (only ``idle_check`` and ``idle_done`` may follow)."""
        return self._idling

    def idle(self) -> None:
        """Start IDLE (RFC 2177) on the selected folder; MailError if the server lacks IDLE."""
        with self._errors("starting IDLE"):
            self.client.idle()
        self._idling = True

    def idle_check(self, timeout: float) -> list[tuple[Any, ...]]:
        """Wait up to ``timeout`` seconds for untagged responses during IDLE and return them.

        Raises Disconnected on BYE, on end of stream, and on socket errors, which IMAPClient's
        own ``idle_check`` would report as "nothing happened".
        """
        with self._errors("waiting in IDLE"):
            responses = list(self.client.idle_check(timeout=timeout))
            for response in responses:
                if response and response[0] == b"BYE":
                    raise imaplib.IMAP4.abort(_bye_text(response))
            if not responses and _peer_closed(self.client.socket()):
                raise imaplib.IMAP4.abort("the server closed the connection")
        return responses

    def idle_done(self) -> list[tuple[Any, ...]]:
        """End IDLE (DONE) and return responses that arrived since the last check."""
        self._idling = False
        with self._errors("ending IDLE"):
            _text, responses = self.client.idle_done()
        return list(responses)

    def wait_for_changes(
        self, timeout: float, *, renew_after: float = DEFAULT_IDLE_RENEW
    ) -> list[tuple[Any, ...]]:
        """IDLE until the selected folder changes (EXISTS, EXPUNGE...) or ``timeout`` passes.

        Returns the change responses (empty on timeout); IDLE is ended before returning, so
        other commands can follow. IDLE is renewed every ``renew_after`` seconds, before
        servers and NAT boxes drop a silent session. Keep-alives ("OK Still here") are ignored.
        """
        deadline = time.monotonic() + timeout
        changes: list[tuple[Any, ...]] = []
        while not changes:
            renew_at = time.monotonic() + renew_after
            self.idle()
            try:
                while not changes:
                    now = time.monotonic()
                    if now >= deadline or now >= renew_at:
                        break
                    changes = _changes(self.idle_check(min(deadline, renew_at) - now))
            except Disconnected:
                self._idling = False
                raise
            changes += _changes(self.idle_done())
            if time.monotonic() >= deadline:
                break
        return changes

    def noop(self) -> None:
        """NOOP: check the session is alive and collect pending updates."""
        with self._errors("sending NOOP"):
            self.client.noop()

    # -- errors ----------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Wrap what imaplib, IMAPClient, sockets and TLS raise while doing ``action``."""
        host = self.account.host
        try:
            yield
        except MailError:
            raise
        except ProtocolError as exc:  # its text may quote the answer, other messages included
            raise MalformedResponse(
                f"IMAP {host}: the server's answer could not be read while {action} "
                f"({type(exc).__name__}; not shown, as it may quote a message)") from exc
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailError(self._scrub(
                f"IMAP {host}: the server's certificate could not be verified while {action}: "
                f"{exc.verify_message or exc}"
            )) from exc
        except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
            # abort: BYE, EOF or a garbled stream; OSError: reset, refused, timeout, TLS.
            self.close()
            raise Disconnected(self._scrub(
                f"IMAP {host}: the connection failed while {action}: {_describe(exc)}"
            )) from exc
        except imaplib.IMAP4.error as exc:
            raise MailError(self._scrub(f"IMAP {host}: failed {action}: {_describe(exc)}")) from exc

    def _scrub(self, text: str) -> str:
        return scrub_secrets(text, self._secret_forms)


@dataclass(frozen=True)
class _Identity:
    """A message as COPY reproduces it: the same header bytes, size and INTERNALDATE."""

    header: bytes
    size: int
    internaldate: Any

    def search_key(self) -> tuple[bytes | list[Any], str | None]:
        """A SEARCH that finds this message's copies (and maybe others): by Message-ID, else size."""
        message_id = _message_id(self.header)
        if message_id is not None:
            return _header_search("Message-ID", message_id)
        return ["LARGER", self.size - 1, "SMALLER", self.size + 1], None


@dataclass(frozen=True)
class _TextPart:
    section: str
    subtype: str
    charset: str | None
    encoding: str


def _first_text_part(structure: Any) -> _TextPart | None:
    """The first text/plain part (else text/html) in BODYSTRUCTURE, depth first (RFC 3501 7.4.2)."""
    found: dict[str, _TextPart] = {}

    def walk(node: Any, section: str) -> None:
        if not isinstance(node, tuple) or not node:
            return
        if isinstance(node[0], list):  # multipart: (parts, subtype, ...)
            for index, child in enumerate(node[0], start=1):
                walk(child, f"{section}.{index}" if section else str(index))
            return
        maintype, subtype = _text(node[0]).lower(), _text(node[1]).lower() if len(node) > 1 else ""
        if maintype != "text" or subtype not in ("plain", "html") or subtype in found:
            return
        params = node[2] if len(node) > 2 and isinstance(node[2], tuple) else ()
        pairs = dict(zip(map(_text, params[::2]), map(_text, params[1::2]), strict=False))
        charset = next((value for name, value in pairs.items() if name.lower() == "charset"), None)
        encoding = _text(node[5]).lower() if len(node) > 5 and node[5] else "7bit"
        found[subtype] = _TextPart(section or "1", subtype, charset, encoding)

    walk(structure, "")
    return found.get("plain") or found.get("html")


_HEADER_LINE = re.compile(rb"(?m)^(?![ \t])")


def _stand_in(header: bytes, part: _TextPart | None, text: bytes) -> bytes:
    """A single-part message: the original header, the text part's content headers, its start."""
    fields = [f for f in _HEADER_LINE.split(header) if f.strip()]
    kept = [
        f for f in fields
        if not f.lower().startswith((b"content-type:", b"content-transfer-encoding:"))
    ]
    kept = [f if f.endswith(b"\n") else f + b"\r\n" for f in kept]
    if part is None:
        content = [b"Content-Type: text/plain; charset=us-ascii\r\n"]
        text = b""
    else:
        charset = f'; charset="{part.charset}"' if part.charset else ""
        content = [
            f"Content-Type: text/{part.subtype}{charset}\r\n".encode("ascii", "replace"),
            f"Content-Transfer-Encoding: {part.encoding}\r\n".encode("ascii", "replace"),
        ]
        text = _whole_lines(text, part.encoding)
    return b"".join(kept + content) + b"\r\n" + text


def _whole_lines(text: bytes, encoding: str) -> bytes:
    """Cut a partial body where it still decodes: at the last line end, or base64 quantum."""
    cut = text.rfind(b"\n")
    if cut >= 0:
        return text[: cut + 1]
    if encoding == "base64":
        return text[: len(text) - len(text) % 4]
    return text


def _chunks(
    uids: list[int], described: dict[int, Any], size_cap: int, text_cap: int, limit: int
) -> Iterator[list[int]]:
    """Consecutive runs of UIDs whose fetched bytes add up to at most ``limit`` (or one UID)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = _size(described[uid])
        if size > size_cap:
            size = text_cap + 16 * 1024  # the header and the start of the text
        if group and total + size > limit:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def _folder_state(name: str, response: Mapping[bytes, Any]) -> FolderState:
    if not isinstance(response.get(b"UIDVALIDITY"), int | bytes | str):
        raise MailError(f"IMAP: the server selected {name!r} without a UIDVALIDITY (RFC 3501 "
                        "section 6.3.1 requires one): its UIDs cannot be trusted, so nothing was read")
    return FolderState(
        name=name,
        uidvalidity=int(response[b"UIDVALIDITY"]),
        uidnext=int(response[b"UIDNEXT"]) if b"UIDNEXT" in response else None,
        exists=int(response.get(b"EXISTS", 0)),
    )


def _copied(folder: str, source: list[int], copyuid: list[Any]) -> CopiedMessages:
    """What a UID COPY did: with COPYUID (RFC 4315 section 3), where each copy landed."""
    text = copyuid[-1] if copyuid and isinstance(copyuid[-1], bytes) else b""
    found = _COPYUID.fullmatch(text.strip())
    if found is None:
        return CopiedMessages(folder, tuple(source))
    sources, copies = _uid_set(found.group(2)), _uid_set(found.group(3))
    # The two sets are listed in corresponding order; anything else is not trusted.
    uids = dict(zip(sources, copies, strict=True)) if len(sources) == len(copies) else {}
    return CopiedMessages(folder, tuple(source), int(found.group(1)), uids)


def _uid_set(text: bytes) -> list[int]:
    """The UIDs of a uid-set such as ``4,7:9`` in the order given (``9:7`` is the same as ``7:9``)."""
    uids: list[int] = []
    for part in text.split(b","):
        first, _, last = part.partition(b":")
        low, high = sorted((int(first), int(last or first)))
        uids.extend(range(low, high + 1))
    return uids


def _message_id(header: bytes) -> str | None:
    """The Message-ID in a message header (ASCII or UTF-8), if it has a usable one."""
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        return None
    value = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text).get("Message-ID")
    if not isinstance(value, str):
        return None
    value = "".join(value.split())
    return value if value and value.isprintable() else None


def _header_search(name: str, value: str) -> tuple[bytes | list[bytes], str | None]:
    """A ``HEADER name value`` search key and its CHARSET (RFC 3501 section 6.4.4).

    An ASCII value goes as a quoted string; any other as a UTF-8 literal (IMAPClient sends
    8-bit arguments as literals), with ``CHARSET UTF-8``.
    """
    if value.isascii():
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'HEADER {name} "{quoted}"'.encode("ascii"), None
    return [b"HEADER", name.encode("ascii"), value.encode("utf-8")], "UTF-8"


def _size(data: Mapping[bytes, Any]) -> int:
    return _declared_size(data) or 0


def _declared_size(data: Mapping[bytes, Any]) -> int | None:
    """RFC822.SIZE as a number, or None when the server gave none or nonsense."""
    value = data.get(b"RFC822.SIZE")
    if isinstance(value, int):
        return value if value >= 0 else None
    return int(value) if isinstance(value, bytes) and value.isdigit() else None


def _allowed(declared: int) -> int:
    """The most bytes of a message kept for its declared size: a margin for line-end quirks."""
    return declared + max(SIZE_MARGIN, declared // 4)


def _internaldate(data: Mapping[bytes, Any]) -> datetime | None:
    """INTERNALDATE as an aware datetime (IMAPClient gives local naive time unless told otherwise)."""
    value = data.get(b"INTERNALDATE")
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.astimezone()


def _flags(data: Mapping[bytes, Any]) -> frozenset[bytes]:
    return frozenset(bytes(flag) for flag in data.get(b"FLAGS", ()))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


def _folder_key(name: str) -> str:
    # INBOX is case-insensitive (RFC 3501 section 5.1); every other name is exact.
    return "INBOX" if name.upper() == "INBOX" else name


def _changes(responses: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [r for r in responses if len(r) > 1 and isinstance(r[1], bytes) and r[1].upper() in _CHANGES]


def _bye_text(response: tuple[Any, ...]) -> str:
    return "BYE " + " ".join(_text(part) for part in response[1:])


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    # imaplib quotes what it could not make sense of, which may be a line of a message: not shown.
    text = _UNEXPECTED.sub(r"\1 (not shown, as it may quote a message)", text)
    return (text[:300] + "...") if len(text) > 300 else text or type(exc).__name__


def _peer_closed(sock: socket.socket) -> bool:
    """Whether the server closed the TCP connection, peeking without consuming any data."""
    flags = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)
    if not getattr(socket, "MSG_DONTWAIT", 0):
        return False
    try:
        # A duplicate of the descriptor: peeking on the TLS object itself is not allowed.
        probe = socket.fromfd(sock.fileno(), sock.family, sock.type)
    except OSError:
        return True
    with probe:
        try:
            return probe.recv(1, flags) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


def _shutdown_quietly(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # closing a socket that is already gone
        return
