"""The dispute mailbox over IMAP: a safe connection, folders, batched fetches, moves and IDLE."""

from __future__ import annotations

import imaplib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import ProtocolError

from compact_docs.errors import MailError, MalformedResponse
from mailflows.servers.credentials import Security
from mailflows.servers.imap_client import fetch, quiet_protocol_log
from mailflows.servers.imap_fetch import LiteralLimit, fetch_messages
from mailflows.servers.imap_responses import (
    SIZE_MARGIN,
    CopiedMessages,
    FetchedMessage,
    FolderState,
    FolderStatus,
    MessageIdentity,
    bye_text,
    copied_messages,
    fetched_size,
    folder_state,
    untagged,
)
from mailflows.servers.session import ServerSession, exception_text, peer_closed

DEFAULT_PORTS: dict[str, int] = {"tls": 993, "starttls": 143, "none": 143}
DEFAULT_SIZE_CAP = 2 * 1024 * 1024  # bytes: a larger message is read as header + text start
DEFAULT_TEXT_CAP = 64 * 1024  # bytes of the first text part read from a message over the cap
DEFAULT_BATCH_SIZE = 200  # UIDs per FETCH round
DEFAULT_BATCH_BYTES = 16 * 1024 * 1024  # at most this much message data per FETCH command
CHANGES = frozenset({b"EXISTS", b"EXPUNGE", b"RECENT", b"FETCH"})
"""The untagged responses that say a selected folder changed (RFC 3501 section 7.3, 7.4)."""
STOP_POLL_SECONDS = 0.5
"""How often IDLE looks at its stop flag, when it has one (the server sends nothing meanwhile)."""
_DELETED = b"\\Deleted"
_UNEXPECTED = re.compile(r"(unexpected (?:tagged )?response)\s*:.*", re.DOTALL)


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


class ImapConnection(ServerSession[ImapAccount]):
    """One logged-in IMAP4rev1 session (RFC 3501) on the dispute mailbox, built on IMAPClient.

    Methods are named after the protocol commands they issue. Every imaplib, IMAPClient, socket
    and TLS error is wrapped where it enters: ``Disconnected`` when the session is lost (the
    caller may reconnect with ``connect()``), ``MailError`` otherwise, always with secrets
    removed from the text. The connection is made by ``_create_client``, the one place a
    subclass or a test overrides to change how the socket is opened.
    """

    protocol = "IMAP"
    _client: IMAPClient | None = None
    _idling = False
    _selected: FolderState | None = None
    _literals: LiteralLimit | None = None

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

    def connect(self) -> ImapConnection:
        """Connect, secure the channel as configured and log in (LOGIN, or AUTHENTICATE XOAUTH2).

        Can be called again after ``Disconnected`` to start a new session.
        """
        self.close()
        account = self.account
        secret = self._read_secret()
        with self._errors(f"connecting to {account.host}:{account.effective_port}"):
            self._client = self._create_client()
        quiet_protocol_log(self._client)
        self._literals = LiteralLimit.install(self._client, DEFAULT_SIZE_CAP + SIZE_MARGIN)
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

    def end(self) -> None:
        """End the session politely: LOGOUT."""
        self.logout()

    def close(self) -> None:
        """Drop the socket without a word to the server (after a failure)."""
        client, self._client = self._client, None
        self._idling = False
        self._selected = None
        if client is not None:
            _shutdown_quietly(client)

    @property
    def connected(self) -> bool:
        """Whether a session is open (as far as this side knows)."""
        return self._client is not None

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
        self._selected = folder_state(name, response)
        return self._selected

    def examine_folder(self, name: str) -> FolderState:
        """EXAMINE a folder (select it read-only): nothing in it can change, not even \\Recent."""
        self._selected = None
        with self._errors(f"examining folder {name!r}"):
            response = self.client.select_folder(name, readonly=True)
        return folder_state(name, response)

    @property
    def selected(self) -> FolderState | None:
        """The folder selected read-write (as SELECT reported it), or None."""
        return self._selected

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
        return [found for found in self.search(["UID", f"{max(uid, 1)}:*"]) if found >= uid]

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The header of each message (BODY.PEEK[HEADER]: never marks it read), by UID."""
        if not uids:
            return {}
        with self._errors("reading message headers"):
            data = fetch(self.client, sorted(set(uids)), ["BODY.PEEK[HEADER]"])
        return {int(uid): bytes(item.get(b"BODY[HEADER]") or b"") for uid, item in data.items()}

    def search_all(self) -> list[int]:
        """The UIDs of every message in the selected folder, ascending (UID SEARCH ALL)."""
        return self.search("ALL")

    def search(self, criteria: bytes | str | list[Any], charset: str | None = None) -> list[int]:
        """The UIDs of the messages in the selected folder that match (UID SEARCH), ascending."""
        with self._errors("searching the folder"):
            return sorted(int(uid) for uid in self.client.search(criteria, charset))

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
        return fetch_messages(self, uids, batch_size=batch_size, size_cap=size_cap, text_cap=text_cap,
                              batch_bytes=batch_bytes)

    def fetch_items(self, uids: list[int], items: list[str], action: str, limit: int,
                    declared: Mapping[int, int] | None = None) -> tuple[dict[int, Any], dict[int, str]]:
        """FETCH ``items`` of ``uids``, keeping literals to ``limit`` bytes; and the UIDs whose
        answer could not be read, with why.

        One malformed answer spoils the parse of the whole response, so the UIDs are fetched
        again without the one at fault (when a literal cut short names its UID), or in halves
        until it is found; the rest are read as usual. ``declared`` gives the sizes the server
        declared, for the reasons.
        """
        literals = self._literals or LiteralLimit(limit)
        literals.cut.clear()
        try:
            with literals.up_to(limit), self._errors(action):
                return fetch(self.client, uids, items), {}
        except MalformedResponse as exc:
            bad = {uid: (f"the server declared {declared[uid]:,} bytes but sent {size:,}"
                         if declared and uid in declared else
                         f"the server sent {size:,} bytes where at most {limit:,} were expected")
                   for uid, size in literals.cut.items() if uid is not None and uid in uids}
            if bad:
                others = [uid for uid in uids if uid not in bad]
                found, more = self.fetch_items(others, items, action, limit, declared) if others else ({}, {})
                return found, {**bad, **more}
            if len(uids) == 1:
                return {}, {uids[0]: str(exc)}
        half = len(uids) // 2
        first, first_bad = self.fetch_items(uids[:half], items, action, limit, declared)
        second, second_bad = self.fetch_items(uids[half:], items, action, limit, declared)
        return {**first, **second}, {**first_bad, **second_bad}

    # -- moving ----------------------------------------------------------------------------

    def move(self, uids: Sequence[int], folder: str, *,
             on_copied: Callable[[CopiedMessages], None] | None = None) -> None:
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
        copied = copied_messages(folder, message_set, copyuid)
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

    def identities(self, uids: list[int]) -> dict[int, MessageIdentity]:
        """What tells messages of the selected folder from their copies: header, size, date."""
        with self._errors("reading message headers"):
            data = self.client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]"])
        return {
            uid: MessageIdentity(bytes(item.get(b"BODY[HEADER]") or b""), fetched_size(item), item.get(b"INTERNALDATE"))
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
                    raise imaplib.IMAP4.abort(bye_text(response))
            if not responses and peer_closed(self.client.socket()):
                raise imaplib.IMAP4.abort("the server closed the connection")
        return responses

    def idle_done(self) -> list[tuple[Any, ...]]:
        """End IDLE (DONE) and return responses that arrived since the last check."""
        self._idling = False
        with self._errors("ending IDLE"):
            _text, responses = self.client.idle_done()
        return list(responses)

    def wait_for_changes(
        self,
        timeout: float,
        *,
        renew_after: float,
        stop: threading.Event | None = None,
        kinds: frozenset[bytes] = CHANGES,
    ) -> list[tuple[Any, ...]]:
        """IDLE until the selected folder changes, ``timeout`` passes or ``stop`` is set.

        Returns the untagged responses of ``kinds`` (EXISTS, EXPUNGE, RECENT, FETCH by default),
        empty on timeout or stop; IDLE is ended before returning, so other commands can follow.
        IDLE is renewed every ``renew_after`` seconds, before servers and NAT boxes drop a silent
        session (RFC 2177 asks for a new IDLE at least every 29 minutes). Keep-alives ("OK Still
        here") are ignored. With ``stop``, it is looked at every STOP_POLL_SECONDS.
        """
        deadline = time.monotonic() + timeout
        changes: list[tuple[Any, ...]] = []
        while not changes and not (stop is not None and stop.is_set()):
            changes = self._idle_once(min(deadline, time.monotonic() + renew_after), stop, kinds)
            if time.monotonic() >= deadline:
                break
        return changes

    def _idle_once(self, until: float, stop: threading.Event | None,
                   kinds: frozenset[bytes]) -> list[tuple[Any, ...]]:
        """One IDLE command, ended (DONE) when a response of ``kinds`` comes, at ``until`` or on stop."""
        changes: list[tuple[Any, ...]] = []
        self.idle()
        try:
            while not changes and not (stop is not None and stop.is_set()):
                left = until - time.monotonic()
                if left <= 0:
                    break
                wait = left if stop is None else min(left, STOP_POLL_SECONDS)
                changes = untagged(self.idle_check(wait), kinds)
        finally:
            if self._idling:  # a lost session has already stopped idling
                changes += untagged(self.idle_done(), kinds)
        return changes

    def noop(self) -> None:
        """NOOP: check the session is alive and collect pending updates."""
        with self._errors("sending NOOP"):
            self.client.noop()

    # -- errors ----------------------------------------------------------------------------

    def _wrapped(self, exc: Exception, action: str) -> MailError | None:
        if isinstance(exc, ProtocolError):  # its text may quote the answer, other messages included
            return MalformedResponse(
                f"IMAP {self.account.host}: the server's answer could not be read while {action} "
                f"({type(exc).__name__}; not shown, as it may quote a message)")
        if isinstance(exc, (imaplib.IMAP4.abort, OSError, EOFError)):
            # abort: BYE, EOF or a garbled stream; OSError: reset, refused, timeout, TLS.
            return self._lost(action, _describe(exc))
        if isinstance(exc, imaplib.IMAP4.error):
            return self._failed(action, _describe(exc))
        return None


def _describe(exc: BaseException) -> str:
    """What imaplib said, at most 300 characters; what it could not make sense of (which may be
    a line of a message) is not shown."""
    text = _UNEXPECTED.sub(r"\1 (not shown, as it may quote a message)", exception_text(exc))
    return (text[:300] + "...") if len(text) > 300 else text


def _folder_key(name: str) -> str:
    # INBOX is case-insensitive (RFC 3501 section 5.1); every other name is exact.
    return "INBOX" if name.upper() == "INBOX" else name


def _shutdown_quietly(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # closing a socket that is already gone
        return
