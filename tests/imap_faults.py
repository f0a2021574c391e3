"""A misbehaving IMAP server for tests: a proxy on loopback in front of the real Dovecot that
damages chosen answers, for the faults Dovecot itself never makes."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

__all__ = ["FaultyImapProxy"]

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_COMMAND = re.compile(rb"^(\S+) (?:UID )?(\S+)", re.IGNORECASE)
_UID = re.compile(rb"\bUID (\d+)")


@dataclass
class FaultyImapProxy:
    """Forwards IMAP between a client and ``upstream`` (host, port), with these faults:

    - ``drop_on_move``: "before" closes the session on each ``UID MOVE`` before the server sees
      it (nothing moves); "after" lets the server move, then closes the session in place of its
      answer. ``moves_to_drop`` limits how many MOVEs are treated so (None: every one).
    - ``without_uidvalidity``: the ``[UIDVALIDITY n]`` line of SELECT is left out.
    - ``malformed_uid``: the FETCH answer carrying this UID's ``BODY[]`` loses its closing
      parenthesis (the stream stays in step; the answer cannot be parsed).
    - ``inflate_uid`` / ``inflate_to``: this UID's ``BODY[]`` literal is replaced by
      ``inflate_to`` bytes, while RFC822.SIZE still says the true size.

    ``moves`` counts the UID MOVE commands seen and ``sessions`` the connections accepted.
    """

    upstream: tuple[str, int]
    drop_on_move: str | None = None
    moves_to_drop: int | None = None
    without_uidvalidity: bool = False
    malformed_uid: int | None = None
    inflate_uid: int | None = None
    inflate_to: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    moves: int = 0
    sessions: int = 0
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FaultyImapProxy:
        listener = socket.create_server((self.host, 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        if self._listener is not None:
            _hang_up(self._listener)  # shutdown wakes the thread waiting in accept()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _hang_up(sock)
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=30)
            server.settimeout(None)
            with self._lock:
                self.sessions += 1
                self._sockets += [client, server]
            session = _Session(self, client, server)
            self._spawn(session.commands)
            self._spawn(session.answers)


class _Session:
    """One client's session: commands flow up, answers flow down, each through the faults."""

    def __init__(self, proxy: FaultyImapProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.drop_after_tag: bytes | None = None

    def close(self) -> None:
        _hang_up(self.client)
        _hang_up(self.server)

    def commands(self) -> None:
        with contextlib.suppress(OSError, ValueError), self.client.makefile("rb") as incoming:
            continuing = False  # the rest of a command after a literal is not a new command
            for line in _lines(incoming):
                found = None if continuing else _COMMAND.match(line)
                moving = found and found.group(2).upper() == b"MOVE" and b" UID " in b" " + line.upper()
                if found and moving and self._drops_this_move():
                    if self.proxy.drop_on_move == "before":
                        self.close()
                        return
                    self.drop_after_tag = found.group(1)
                self.server.sendall(line)
                literal = _LITERAL.search(line)
                continuing = literal is not None
                if literal:
                    self.server.sendall(incoming.read(int(literal.group(1))))
        self.close()

    def _drops_this_move(self) -> bool:
        proxy = self.proxy
        with proxy._lock:
            proxy.moves += 1
            limit = proxy.moves_to_drop
            return proxy.drop_on_move is not None and (limit is None or proxy.moves <= limit)

    def answers(self) -> None:
        with contextlib.suppress(OSError, ValueError), self.server.makefile("rb") as incoming:
            for parts in _responses(incoming):
                if self.drop_after_tag is not None and parts[0].startswith(self.drop_after_tag + b" "):
                    self.close()  # the server moved them; the client never hears so
                    return
                for chunk in self._damaged(parts):
                    self.client.sendall(chunk)
        self.close()

    def _damaged(self, parts: list[bytes]) -> Iterator[bytes]:
        proxy, first = self.proxy, parts[0]
        if proxy.without_uidvalidity and first.startswith(b"* OK [UIDVALIDITY "):
            return
        uids = {int(m) for part in parts[0::2] for m in _UID.findall(part)}
        body = b"BODY[]" in first and len(parts) > 1
        if body and proxy.malformed_uid in uids and parts[-1].endswith(b")\r\n"):
            parts = [*parts[:-1], parts[-1][:-3] + b"\r\n"]
        if body and proxy.inflate_uid in uids:
            yield _LITERAL.sub(b"{%d}\r\n" % proxy.inflate_to, first)
            left = proxy.inflate_to
            block = (b"X" * 76 + b"\r\n") * 8192
            while left:
                piece = block[: min(left, len(block))]
                yield piece
                left -= len(piece)
            yield from parts[2:]
            return
        yield from parts


def _lines(incoming: BinaryIO) -> Iterator[bytes]:
    while line := incoming.readline():
        yield line


def _responses(incoming: BinaryIO) -> Iterator[list[bytes]]:
    """Whole responses: a line, and after each literal its bytes and the line that goes on."""
    for line in _lines(incoming):
        parts = [line]
        while literal := _LITERAL.search(parts[-1]):
            parts.append(incoming.read(int(literal.group(1))))
            parts.append(incoming.readline())
        yield parts


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
