"""Real mail servers for tests: Dovecot IMAP in a temporary folder, aiosmtpd SMTP in-process."""

from __future__ import annotations

import contextlib
import email
import email.policy
import grp
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psutil
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

__all__ = [
    "CAPABILITIES_WITHOUT_MOVE",
    "CAPABILITIES_WITHOUT_MOVE_OR_UIDPLUS",
    "PASSWORD",
    "DovecotServer",
    "MailUser",
    "ReceivedMail",
    "SmtpServer",
    "dovecot",
    "free_port",
    "mail_user",
    "require_dovecot",
    "smtp_server",
    "start_dovecot",
    "start_smtp",
]

DOVECOT = Path(os.environ.get("COMPACT_TEST_DOVECOT", "/usr/sbin/dovecot"))
PASSWORD = "secret"
USERS_PER_SERVER = 400  # passwd-file is re-read at most once a second, so users are made up front

# Dovecot 2.3's own post-login list, less the extensions a test wants to hide (imap_capability
# replaces the list when it does not start with "+").
_BASE_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
    "NAMESPACE LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN "
    "CONTEXT=SEARCH LIST-STATUS BINARY LITERAL+"
)
CAPABILITIES_WITHOUT_MOVE = f"{_BASE_CAPABILITIES} UIDPLUS"
CAPABILITIES_WITHOUT_MOVE_OR_UIDPLUS = _BASE_CAPABILITIES

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


def require_dovecot() -> None:
    """Skip the test when Dovecot is missing, or fail it under CI=true where it must be there."""
    if DOVECOT.is_file() and os.access(DOVECOT, os.X_OK) and shutil.which("doveadm"):
        return
    reason = f"Dovecot is not installed ({DOVECOT} or doveadm missing; apt-get install dovecot-imapd)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _make_certificate(certificate: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    key.chmod(0o644)  # read by Dovecot's login processes, which are not root


def _mail_owner() -> tuple[int, int]:
    """The uid and gid mail is stored as: ours, or nobody's when we are root (Dovecot refuses 0)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _still_running(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait for processes to end; return those still running after ``timeout``.

    Dovecot's children pass to PID 1 when the master exits, which may leave them as zombies
    that never go away: a zombie has ended, so it counts as gone.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for process in processes:
            with contextlib.suppress(psutil.Error):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


@dataclass
class DovecotServer:
    """A Dovecot 2.3 started from its own configuration in ``root``, listening on 127.0.0.1."""

    root: Path
    settings: dict[str, str] = field(default_factory=dict)
    tls: bool = False
    host: str = "127.0.0.1"
    port: int = 0
    tls_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _next_user: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def startup_log(self) -> Path:
        return self.root / "startup.log"

    @property
    def certificate(self) -> Path:
        """The self-signed certificate (for 127.0.0.1 and localhost) when started with ``tls``."""
        return self.root / "cert.pem"

    def start(self, attempts: int = 3) -> DovecotServer:
        """Write the configuration and start ``dovecot -F``; wait until the port accepts."""
        self._prepare_folders()
        failure = ""
        for _ in range(attempts):
            self.port = free_port()
            self.tls_port = free_port() if self.tls else 0
            self.config.write_text(self._config_text(), encoding="utf-8")
            with self.startup_log.open("wb") as startup_log:  # errors before log_path is open
                self.process = subprocess.Popen(
                    [str(DOVECOT), "-F", "-c", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=startup_log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_until_listening():
                return self
            # Another process may have taken the port between probing and binding: try again.
            failure = self._failure_text()
            self.stop()
        raise RuntimeError(f"Dovecot did not start after {attempts} attempts:\n{failure}")

    def stop(self) -> None:
        """Stop the master and every child it started; nothing is left running."""
        if self.process is None:
            return
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for child in _still_running(children, timeout=5):
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process = None

    def new_user(self) -> MailUser:
        """A user nobody has logged in as yet: an empty mailbox of their own."""
        with self._lock:
            self._next_user += 1
            number = self._next_user
        if number > USERS_PER_SERVER:
            raise RuntimeError(f"this Dovecot has only {USERS_PER_SERVER} users")
        return MailUser(self, f"box{number:04d}", PASSWORD)

    def log(self) -> str:
        """Dovecot's log so far (read it when a test fails)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def doveadm(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        """Run ``doveadm -c <our config> ARGS`` and return its output; raise on another exit code."""
        result = subprocess.run(
            ["doveadm", "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode not in ok:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def _prepare_folders(self) -> None:
        uid, gid = _mail_owner()
        for folder in (self.root, self.root / "run", self.root / "state", self.root / "home"):
            folder.mkdir(parents=True, exist_ok=True)
            # Dovecot's auth and login processes run as other users: they must reach these.
            folder.chmod(0o755)
        os.chown(self.root / "home", uid, gid)
        users = self.root / "users"
        users.write_text(
            "".join(f"box{n:04d}:{{PLAIN}}{PASSWORD}::::::\n" for n in range(1, USERS_PER_SERVER + 1)),
            encoding="utf-8",
        )
        users.chmod(0o644)
        if self.tls:
            _make_certificate(self.certificate, self.root / "key.pem")

    def _config_text(self) -> str:
        uid, gid = _mail_owner()
        lines = [
            f"base_dir = {self.root / 'run'}",
            f"state_dir = {self.root / 'state'}",
            f"log_path = {self.log_path}",
            "protocols = imap",
            f"listen = {self.host}",
            "disable_plaintext_auth = no",
            "auth_failure_delay = 0",
            f"first_valid_uid = {min(uid, 500)}",
            "mail_location = maildir:~/Maildir",
            "passdb {",
            "  driver = passwd-file",
            f"  args = {self.root / 'users'}",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = {self.root / 'users'}",
            f"  default_fields = uid={uid} gid={gid} home={self.root / 'home'}/%u",
            "}",
            "service imap-login {",
            "  chroot =",
            f"  inet_listener imap {{\n    port = {self.port}\n  }}",
            f"  inet_listener imaps {{\n    port = {self.tls_port}\n  }}",
            "}",
            # No growing delay after the failed logins some tests make on purpose.
            "service anvil {\n  chroot =\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}",
            "namespace inbox {\n  inbox = yes\n  separator = /\n}",
        ]
        if self.tls:
            lines += [
                "ssl = yes",
                f"ssl_cert = <{self.certificate}",
                f"ssl_key = <{self.root / 'key.pem'}",
            ]
        else:
            lines.append("ssl = no")
        if os.geteuid() != 0:
            # Not root: every service runs as us, and its sockets belong to our group.
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            lines += [
                f"default_internal_user = {user}",
                f"default_login_user = {user}",
                f"default_internal_group = {group}",
            ]
        lines += [f"{name} = {value}" for name, value in self.settings.items()]
        return "\n".join(lines) + "\n"

    def _wait_until_listening(self, timeout: float = 10.0) -> bool:
        """Wait for Dovecot's own greeting on the port (not another program's that took it)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 2) as probe:
                greeting = probe.recv(1024)
                if greeting.startswith(b"* OK") and self.process.poll() is None:
                    probe.sendall(b"a LOGOUT\r\n")
                    return True
                return False
            time.sleep(0.005)
        return False

    def _failure_text(self) -> str:
        startup = self.startup_log.read_text(errors="replace") if self.startup_log.exists() else ""
        return startup + self.log()


@dataclass
class MailUser:
    """One mailbox on a Dovecot server, with the checks a test makes from outside the code under test."""

    server: DovecotServer
    name: str
    password: str

    @property
    def maildir(self) -> Path:
        return self.server.root / "home" / self.name / "Maildir"

    @contextlib.contextmanager
    def connect(self) -> Iterator[IMAPClient]:
        """A logged-in imapclient connection, logged out afterwards."""
        client = IMAPClient(self.server.host, port=self.server.port, ssl=False, timeout=30)
        try:
            client.login(self.name, self.password)
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # the server may have dropped us already: just close the socket
                with contextlib.suppress(Exception):
                    client.shutdown()

    def append(
        self, message: bytes | str | EmailMessage, folder: str = "INBOX", flags: tuple[str, ...] = ()
    ) -> int:
        """APPEND a message and return its UID."""
        if isinstance(message, EmailMessage):
            raw = message.as_bytes(policy=email.policy.SMTP)
        elif isinstance(message, str):
            raw = message.encode("utf-8")
        else:
            raw = message
        with self.connect() as client:
            response = client.append(folder, raw, flags=flags)
        found = _APPENDUID.search(response)
        if found is None:
            raise AssertionError(f"no APPENDUID in {response!r}")
        return int(found.group(2))

    def create_folder(self, folder: str) -> None:
        with self.connect() as client:
            client.create_folder(folder)

    def folders(self) -> list[str]:
        """Every folder name, decoded from modified UTF-7."""
        with self.connect() as client:
            return [name for _, _, name in client.list_folders()]

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))

    def count(self, folder: str = "INBOX") -> int:
        """How many messages the folder holds (expunged ones gone, \\Deleted ones still counted)."""
        with self.connect() as client:
            status = client.folder_status(folder, ["MESSAGES"])
            return int(status[b"MESSAGES"])

    def flags(self, folder: str = "INBOX") -> dict[int, set[bytes]]:
        """Each message's flags by UID, less the per-session \\Recent."""
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            found = client.get_flags(client.search("ALL"))
            return {uid: set(flags) - {b"\\Recent"} for uid, flags in found.items()}

    def add_flags(self, uids: list[int], flags: list[str], folder: str = "INBOX") -> None:
        with self.connect() as client:
            client.select_folder(folder)
            client.add_flags(uids, flags)

    def messages(self, folder: str = "INBOX") -> dict[int, bytes]:
        """Every message's bytes by UID, read with BODY.PEEK[] so nothing is marked read."""
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return {uid: bytes(data[b"BODY[]"]) for uid, data in fetched.items()}

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.connect() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def kick(self) -> str:
        """Drop every connection of this user (``doveadm kick``), as a server restart would."""
        # doveadm exits 68 when the user had no session to drop.
        return self.server.doveadm("kick", self.name, ok=(0, 68))

    def sessions(self) -> int:
        """How many IMAP sessions this user has open now (``doveadm who``)."""
        output = self.server.doveadm("who", "-1", self.name)
        return sum(1 for line in output.splitlines()[1:] if line.split()[:1] == [self.name])

    def recreate_inbox(self, keep_messages: bool = True) -> int:
        """Delete INBOX on disk and let Dovecot make it again: a new UIDVALIDITY, new UIDs.

        IMAP forbids deleting INBOX, so this drops the user's sessions and removes the Maildir's
        own files (subfolders stay). With ``keep_messages`` the old messages are appended again,
        as after a server migration. Returns the new UIDVALIDITY.
        """
        kept = list(self.messages().values()) if keep_messages else []
        self.kick()
        deadline = time.monotonic() + 5
        while self.sessions() and time.monotonic() < deadline:
            time.sleep(0.02)
        for name in ("cur", "new", "tmp"):
            shutil.rmtree(self.maildir / name, ignore_errors=True)
        for pattern in ("dovecot-uidlist", "dovecot.index*", "dovecot.list.index*"):
            for path in self.maildir.glob(pattern):
                path.unlink()
        for raw in kept:
            self.append(raw)
        return self.uidvalidity()


def _server_folder() -> Path:
    """A new folder for one server, outside pytest's own 0700 base folder.

    Dovecot's auth process runs as the ``dovecot`` user and must traverse every parent.
    """
    return Path(tempfile.mkdtemp(prefix="compact-dovecot-"))


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session, default settings; take a fresh ``mail_user`` per test."""
    require_dovecot()
    server = DovecotServer(_server_folder()).start()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def mail_user(dovecot: DovecotServer) -> MailUser:
    """A user with an empty mailbox on the session's Dovecot."""
    return dovecot.new_user()


@pytest.fixture
def start_dovecot() -> Iterator[Callable[..., DovecotServer]]:
    """Start a Dovecot of this test's own with extra settings, e.g. ``imap_capability=...``.

    ``tls=True`` adds an implicit-TLS port (``tls_port``) and STARTTLS, with a self-signed
    ``certificate`` a test can trust explicitly.

    Every server started is stopped at the end of the test.
    """
    require_dovecot()
    started: list[DovecotServer] = []

    def start(tls: bool = False, **settings: str) -> DovecotServer:
        server = DovecotServer(_server_folder(), settings=dict(settings), tls=tls)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@dataclass
class ReceivedMail:
    """One message the SMTP server accepted: its envelope and its parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    login: str | None
    smtputf8: bool = False


class _RecordingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        auth = session.auth_data
        self.received.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=[str(rcpt) for rcpt in envelope.rcpt_tos],
                raw=raw,
                message=parsed,
                login=auth.login.decode() if isinstance(auth, LoginPassword) else None,
                smtputf8=bool(envelope.smtp_utf8),
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """An aiosmtpd server on 127.0.0.1; ``received`` lists what arrived, in order.

    It offers AUTH PLAIN/LOGIN for ``username``/``password``; with STARTTLS or implicit TLS it
    presents the self-signed ``certificate``.
    """

    host: str
    port: int
    handler: _RecordingHandler
    certificate: Path | None = None
    username: str = "sender"
    password: str = PASSWORD

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received


@pytest.fixture
def start_smtp(tmp_path: Path) -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers: ``start_smtp("none" | "starttls" | "tls")``; all stop at the end.

    ``smtputf8=True`` offers SMTPUTF8 (RFC 6531), for non-ASCII addresses.
    """
    controllers: list[Controller] = []

    def start(security: str = "none", smtputf8: bool = False) -> SmtpServer:
        handler = _RecordingHandler()
        server = SmtpServer("127.0.0.1", free_port(), handler)
        options: dict[str, Any] = {}
        if security != "none":
            folder = Path(tempfile.mkdtemp(prefix="smtp-", dir=tmp_path))
            server.certificate = folder / "cert.pem"
            _make_certificate(server.certificate, folder / "key.pem")
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(server.certificate, folder / "key.pem")
            if security == "tls":
                options["ssl_context"] = context
            else:
                options.update(tls_context=context, require_starttls=True)

        def authenticate(
            smtp: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
        ) -> AuthResult:
            good = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == server.username.encode()
                and auth_data.password == server.password.encode()
            )
            return AuthResult(success=good, handled=False, auth_data=auth_data)

        controller = Controller(
            handler,
            hostname=server.host,
            port=server.port,
            authenticator=authenticate,
            auth_require_tls=security == "starttls",
            enable_SMTPUTF8=smtputf8,
            **options,
        )
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server on loopback (aiosmtpd) with AUTH as sender/secret."""
    return start_smtp()
