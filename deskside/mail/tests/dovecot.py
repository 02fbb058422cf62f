"""A private Dovecot IMAP server on loopback, for the IMAP polling tests.

The session fixture :func:`dovecot` starts one ``dovecot -F`` with a configuration of
its own in a temporary folder: plain-text login on a free 127.0.0.1 port (no TLS, which
is fine on loopback), a passwd-file of test users, maildirs in the same folder and a log
file the failure messages quote. Each test gets fresh users (:meth:`Dovecot.user`), so
tests never see each other's mail, and puts mail in with a real IMAP client (APPEND).

Dovecot missing: the tests are skipped, except in CI (``CI=true``), where a missing
server is a failure, as for the browser tests. ``bin/test`` installs it when it can.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskside.system.tests.processes import free_port

DOVECOT = os.environ.get("DESKSIDE_DOVECOT", "/usr/sbin/dovecot")
HOST = "127.0.0.1"
PASSWORD = "imap-test-password"  # test-only, for throwaway test users
# Generous for a loaded CI machine; a healthy start takes a fraction of a second.
START_TIMEOUT = 20.0
# Test users made at start-up; each test takes fresh ones.
USERS = 500
IMAP_TIMEOUT = 10.0

_serial = itertools.count(1)

CONFIG = """\
# Written by deskside/mail/tests/dovecot.py for one test session; never a real server.
base_dir = {base}/run
state_dir = {base}/state
instance_name = deskside-test-{port}
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Failed logins are answered at once: the wrong-password tests need no brute-force delay.
auth_failure_delay = 0
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
# The mail belongs to a system account (below 500, Dovecot's default floor) when the
# tests run as root; root itself is never allowed.
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{base}/mail/%u
mail_home = {base}/home/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  # Nor are later logins from this address slowed down for seconds after a failed one:
  # the "auth penalty" is off when the auth process cannot reach this socket.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _system_user(*names: str) -> pwd.struct_passwd | None:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as conn:
            conn.settimeout(1)
            return conn.recv(100).startswith(b"* OK")
    except OSError:
        return False


@dataclass
class Dovecot:
    """A running test Dovecot: where it listens, and helpers to add users and mail."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]
    _uid: int
    _gid: int

    @property
    def log(self) -> str:
        path = self.base / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def user(self) -> str:
        """A user nobody has used yet, with :data:`PASSWORD` and an empty mailbox."""
        number = next(_serial)
        if number > USERS:
            raise AssertionError(f"the test Dovecot has only {USERS} users; raise USERS")
        return f"help{number}"

    def password_file(self, password: str = PASSWORD) -> Path:
        """A file holding ``password``, as a mailbox's ``imap_password_file`` names."""
        handle, name = tempfile.mkstemp(prefix="imap-password-", dir=self.base / "secrets")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(password + "\n")
        return Path(name)

    def connect(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(HOST, self.port, timeout=IMAP_TIMEOUT)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Deliver ``messages`` into ``user``'s ``folder`` with IMAP APPEND."""
        client = self.connect(user)
        try:
            for raw in messages:
                # typeshed types the answer as str; it is imaplib's usual (type, data).
                answer = client.append(_quoted(folder), "", "", raw)
                assert answer[0] == "OK", answer
        finally:
            client.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in ``folder`` (empty if the folder does not exist)."""
        client = self.connect(user)
        try:
            typ, _ = client.select(_quoted(folder), readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("SEARCH", "UNDELETED")
            assert typ == "OK", data
            found: list[bytes] = []
            for uid in (data[0] or b"").decode().split():
                typ, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
                assert typ == "OK", fetched
                found.extend(part[1] for part in fetched if isinstance(part, tuple))
            return found
        finally:
            client.logout()

    def count(self, user: str, folder: str = "INBOX") -> int:
        client = self.connect(user)
        try:
            typ, data = client.select(_quoted(folder), readonly=True)
            return int(data[0] or 0) if typ == "OK" else 0
        finally:
            client.logout()

    def folders(self, user: str) -> list[str]:
        client = self.connect(user)
        try:
            typ, data = client.list()
            assert typ == "OK", data
            return [
                line.decode().rsplit(" ", 1)[-1].strip('"')
                for line in data
                if isinstance(line, bytes)
            ]
        finally:
            client.logout()


def _start(base: Path) -> Dovecot:
    port = free_port()
    if os.geteuid() == 0:
        # Dovecot will not run its login and internal processes as root.
        internal = _system_user("dovecot")
        login = _system_user("dovenull", "nobody")
        if internal is None or login is None:
            pytest.fail("Dovecot needs the system users dovecot and dovenull.", pytrace=False)
        internal_user, login_user = internal.pw_name, login.pw_name
        internal_group = internal.pw_name
        # Dovecot never touches mail as root either: the mail belongs to its own user.
        mail_uid, mail_gid = internal.pw_uid, internal.pw_gid
    else:
        me = pwd.getpwuid(os.geteuid())
        internal_user = login_user = internal_group = me.pw_name
        mail_uid, mail_gid = me.pw_uid, me.pw_gid
    for folder in ("mail", "home", "secrets"):
        (base / folder).mkdir()
    for folder in ("mail", "home"):
        os.chown(base / folder, mail_uid, mail_gid)
    # Every user is written before the start: Dovecot notices a changed passwd-file only
    # when its modification time changes, which within one second it may not.
    with (base / "users").open("w", encoding="utf-8") as users:
        for number in range(1, USERS + 1):
            name = f"help{number}"
            users.write(f"{name}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{base}/home/{name}::\n")
    config = base / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            base=base,
            host=HOST,
            port=port,
            internal_user=internal_user,
            internal_group=internal_group,
            login_user=login_user,
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(  # noqa: S603  (the system's Dovecot, our own config)
        [DOVECOT, "-F", "-c", str(config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(base / "dovecot.stderr").open("wb"),
        start_new_session=True,
    )
    server = Dovecot(base=base, port=port, process=process, _uid=mail_uid, _gid=mail_gid)
    deadline = time.monotonic() + START_TIMEOUT
    while not _port_answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(server)
            stderr = (base / "dovecot.stderr").read_text(errors="replace")
            pytest.fail(
                f"Dovecot did not start on {HOST}:{port}.\n{stderr}\n{server.log}", pytrace=False
            )
        time.sleep(0.05)
    return server


def _stop(server: Dovecot) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, 9)
            server.process.wait(timeout=10)


def require_dovecot() -> None:
    if os.access(DOVECOT, os.X_OK):
        return
    message = (
        f"Dovecot is missing at {DOVECOT}, so the IMAP tests cannot run. "
        "Install it with 'apt-get install dovecot-imapd'."
    )
    if running_in_ci():
        pytest.fail(message + " It is required in CI.", pytrace=False)
    pytest.skip(message)


# Named so that test modules can import it (to use it) without their ``dovecot``
# arguments shadowing the import.
@pytest.fixture(scope="session", name="dovecot")
def dovecot_fixture() -> Iterator[Dovecot]:
    """One private Dovecot for the whole test session, stopped at the end."""
    require_dovecot()
    # Not pytest's tmp_path: its folders are private to the test user, and Dovecot's
    # unprivileged processes must read the user list and the socket folder.
    base = Path(tempfile.mkdtemp(prefix="deskside-dovecot-"))
    base.chmod(0o755)
    server = _start(base)
    try:
        yield server
    finally:
        _stop(server)
        shutil.rmtree(base, ignore_errors=True)
