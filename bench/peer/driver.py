"""Drive django-helpdesk 2.6.1, the peer Deskside is benchmarked against.

    python -m bench.peer.driver --database postgresql --tickets 1000 --smoke

The calling process needs only the standard library (and, for email intake, Deskside's
own test Dovecot helper). Everything on the peer's side runs in its own virtualenv
under ``.bench/peer/venv`` with ``bench/peer/site`` on its path: the Django project in
``peer_settings.py`` / ``peer_urls.py`` / ``peer_wsgi.py`` (committed: it is the script
that configures the peer) and ``peer_tasks.py`` (reset, seed, make-due, sweep, intake).
Databases, the SQLite files, attachments and logs live under ``.bench/peer/`` too.

What is measured, and how it maps onto the peer (read from the 2.6.1 source):

- Ticket creation: ``POST /helpdesk/api/tickets/`` (DRF ``TicketViewSet``, staff only),
  with a DRF token per client. The peer creates the ticket through its ``TicketForm``:
  the ticket, an "Ticket Opened" follow-up, and the acknowledgement to the submitter,
  rendered and handed to the (dummy) mail backend inside the request.
- The agent ticket list: ``/helpdesk/tickets/`` is only a shell; its DataTables script
  fetches the rows from ``/helpdesk/datatables_ticket_list/<base64 query>?...``, which
  counts the matches (twice), sorts and serialises the first 25. :meth:`Peer.queue_paths`
  gives that JSON endpoint (what fills the first page a person sees), with the query the
  list view itself encodes: by default open and reopened tickets, oldest first (the
  peer's default sort is ``created`` ascending); filtered, also priority 2 ("High").
  The shells are there too (``first_page``, ``filtered_page``), for whoever wants the
  whole page (shell plus rows).
- Search: the same list with ``q=<word>``, i.e. the same JSON endpoint with the search
  string. The peer searches with ``icontains`` over ticket fields (id, title, description,
  priority, resolution, submitter, assignee's email, custom field values, dates): NOT the
  follow-ups. The seed puts each ticket's first message in its description (as the
  peer's own ticket form does), so the first message is searched, later ones are not.
  There is no search index; on PostgreSQL ``icontains`` is ``UPPER(..) LIKE UPPER(..)``.
- Escalation: ``manage.py escalate_tickets`` (see :meth:`Peer.make_due`).
- Email intake: ``get_email`` (``helpdesk.email.process_email``) against a private Dovecot.
- Memory: the gunicorn worker pids of :meth:`Peer.serve`, for the caller to read RSS.

Fairness choices are listed in ``site/peer_settings.py``. Also worth knowing:

- The seed makes bench/seed.py's 5,000 requesters active (non-staff) users. With the
  peer's default ``HELPDESK_STAFF_ONLY_TICKET_OWNERS = False``, every ticket form, the API
  creation included, builds an owner drop-down of all active users (about 5,100): some
  70-130 ms of each API creation on this machine. That is the peer as configured by
  default, holding the same people as Deskside.
- Two Peer objects with the same ``db_name`` on one server share (and reset) the same
  database; give concurrent users different names. Email intake uses ``<db_name>_intake``.
- The peer has no search index and no background worker: what Deskside defers to its
  worker (notifications), the peer does inside the request or command.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
TASKS = SITE / "peer_tasks.py"
PEER_VERSION = "2.6.1"
PREFIX = "/helpdesk"
ADMIN_USERNAME = "bench.admin"
ADMIN_PASSWORD = "bench-peer-password"  # noqa: S105  (a local benchmark account)
API_CLIENTS = 32  # tokens made by reset; client numbers wrap around
CREATE_BODY = "The printer on floor 3 jams on every page since Monday."
DESK_ADDRESS = "help@bench.deskside.test"  # the address bench/intake.py's corpus writes to


def api_token(index: int) -> str:
    """The fixed DRF token of API client ``index``; the same as peer_tasks.api_token."""
    return f"{index:08x}".rjust(40, "b")


def _query_path(query: dict[str, Any]) -> str:
    """The DataTables JSON URL for ``query``, encoded as helpdesk.query.query_to_base64 does,
    with the parameters DataTables sends for its first page (the view reads draw, start,
    length and search[value]; with the list's ``order: []`` it sends no order)."""
    encoded = base64.b64encode(json.dumps(query).encode("utf-8")).decode("ascii")
    return (
        f"{PREFIX}/datatables_ticket_list/{encoded}"
        "?draw=1&start=0&length=25&search%5Bvalue%5D=&search%5Bregex%5D=false"
    )


def _main_venv_version(package: str) -> str | None:
    """The version of ``package`` beside Deskside: this interpreter, else .venv."""
    from importlib import metadata

    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version(package)
    python = ROOT / ".venv" / "bin" / "python"
    if python.exists():
        found = subprocess.run(  # noqa: S603  (Deskside's own interpreter)
            [
                str(python),
                "-c",
                f"from importlib import metadata; print(metadata.version({package!r}))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode == 0:
            return found.stdout.strip()
    return None


class PeerError(RuntimeError):
    """A peer-side step failed; the message carries its output."""


class Peer:
    """One django-helpdesk 2.6.1 installation on one database (PostgreSQL or SQLite)."""

    def __init__(
        self,
        *,
        database: str,
        workdir: Path | None = None,
        pg_server: str = "postgresql://postgres@127.0.0.1:5432",
        db_name: str = "bench_peer",
    ) -> None:
        if database not in ("postgresql", "sqlite"):
            raise ValueError(f"database must be 'postgresql' or 'sqlite', not {database!r}")
        self.database = database
        self.workdir = (workdir or ROOT / ".bench" / "peer").resolve()
        self.pg_server = pg_server.rstrip("/")
        self.db_name = db_name
        self.venv = self.workdir / "venv"
        self.python = self.venv / "bin" / "python"
        self.data_dir = self.workdir / (
            f"data-pg-{db_name}" if database == "postgresql" else "data-sqlite"
        )
        self._server: subprocess.Popen[bytes] | None = None
        self._state: dict[str, Any] | None = None
        self.last_sweep: dict[str, Any] | None = None
        self.last_seed: dict[str, Any] | None = None

    # --- plumbing ------------------------------------------------------------------------

    def _env(self, *, intake: bool = False) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DESKSIDE_", "DJANGO_", "PEER_", "PYTHON", "VIRTUAL_ENV"))
        }
        data_dir = self._intake_dir() if intake else self.data_dir
        env.update(
            DJANGO_SETTINGS_MODULE="peer_settings",
            PYTHONPATH=str(SITE),
            PEER_DATABASE=self.database,
            PEER_PG_SERVER=self.pg_server,
            PEER_DB_NAME=f"{self.db_name}_intake" if intake else self.db_name,
            PEER_DATA_DIR=str(data_dir),
            PATH=f"{self.venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        )
        return env

    def _intake_dir(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + "-intake")

    def _task(self, *args: str, intake: bool = False, timeout: float = 6 * 3600) -> dict[str, Any]:
        """Run peer_tasks.py in the peer's virtualenv; stderr (progress) passes through."""
        (self._intake_dir() if intake else self.data_dir).mkdir(parents=True, exist_ok=True)
        finished = subprocess.run(  # noqa: S603  (the peer's interpreter, our script)
            [str(self.python), str(TASKS), *args],
            env=self._env(intake=intake),
            cwd=str(SITE),
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
        if finished.returncode != 0:
            raise PeerError(
                f"peer_tasks {' '.join(args)} failed ({finished.returncode}):\n{finished.stdout}"
            )
        lines = finished.stdout.strip().splitlines()
        if not lines:
            raise PeerError(f"peer_tasks {' '.join(args)} printed no result")
        result: dict[str, Any] = json.loads(lines[-1])
        return result

    def _state_file(self) -> Path:
        return self.data_dir / "state.json"

    def state(self) -> dict[str, Any]:
        if self._state is None:
            if not self._state_file().exists():
                raise PeerError("The peer has not been reset yet; call reset() first.")
            self._state = json.loads(self._state_file().read_text())
        return self._state

    # --- install, reset, seed -------------------------------------------------------------

    def requirements(self) -> list[str]:
        """The peer, and the pieces it shares with Deskside pinned to Deskside's versions.

        Django, gunicorn and psycopg are pinned to the versions in Deskside's virtualenv
        (django-helpdesk 2.6.1 allows any Django >= 5.2), so the framework, server and
        driver are the same on both sides. Everything else is what pip picks for 2.6.1.
        """
        pins = [f"django-helpdesk=={PEER_VERSION}"]
        for package, extra in (("Django", ""), ("gunicorn", ""), ("psycopg", "[binary]")):
            version = _main_venv_version(package)
            pins.append(f"{package}{extra}=={version}" if version else f"{package}{extra}")
        return pins

    def install(self) -> None:
        """Create .bench/peer/venv with the peer; does nothing when it is already there."""
        marker = self.venv / "bench-peer-installed.json"
        wanted = self.requirements()
        if (
            self.python.exists()
            and marker.exists()
            and json.loads(marker.read_text()).get("requirements") == wanted
        ):
            print(f"Peer already installed in {self.venv}")
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        # The same interpreter as Deskside's virtualenv (its base Python, not the venv's).
        base = getattr(sys, "_base_executable", sys.executable)
        print(f"Creating the peer virtualenv {self.venv} with {base}")
        subprocess.run([base, "-m", "venv", "--clear", str(self.venv)], check=True)  # noqa: S603
        print(f"Installing {' '.join(wanted)} from PyPI")
        subprocess.run(  # noqa: S603  (pip in the peer's own virtualenv)
            [str(self.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *wanted],
            check=True,
        )  # fmt: skip
        frozen = subprocess.run(  # noqa: S603
            [str(self.python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
        ).stdout.split()
        marker.write_text(json.dumps({"requirements": wanted, "freeze": frozen}, indent=1))
        print("Installed: " + ", ".join(frozen))

    def installed_versions(self) -> dict[str, str]:
        """Package versions in the peer's virtualenv (from the install marker)."""
        marker = self.venv / "bench-peer-installed.json"
        frozen = json.loads(marker.read_text())["freeze"] if marker.exists() else []
        return dict(line.split("==", 1) for line in frozen if "==" in line)

    def reset(self) -> None:
        """Empty the database (drop and create, or delete the SQLite file) and migrate; add
        the staff superuser, the first queue and API tokens for API_CLIENTS staff users."""
        started = time.monotonic()
        print(f"Resetting the peer on {self._where()}")
        state = self._task("reset")
        state.update(database=self.database, username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state_file().write_text(json.dumps(state))
        self._state = state
        print(f"  reset in {time.monotonic() - started:.1f} s")

    def _where(self) -> str:
        if self.database == "sqlite":
            return f"SQLite ({self.data_dir / 'peer.sqlite3'})"
        return f"PostgreSQL ({self.pg_server}/{self.db_name})"

    def seed(
        self, tickets: int, messages_per_ticket: int = 3, *, seed: int = 1, append: bool = False
    ) -> None:
        """bench/seed.py's volume and text: the same generator, drawn in the same order.

        ``seed=1`` is bench/seed.py's fixed Random(1042). Its 60 agents become staff users
        and its 5,000 requesters active non-staff users (the peer's equivalent of an
        account; tickets name them by submitter e-mail); its four teams are four queues;
        its statuses map to Open (new, open), Open and on hold (waiting on the
        requester), Resolved and Closed; priorities 1-4 are the peer's 1-4. Messages are
        follow-ups (the third an internal, non-public one) and each ticket's description
        is its first message. Rows go in with COPY (PostgreSQL) or executemany in one
        transaction (SQLite), then ANALYZE, as bench/seed.py does.
        """
        print(f"Seeding the peer with {tickets:,} tickets x {messages_per_ticket} messages")
        args = ["seed", "--tickets", str(tickets), "--messages", str(messages_per_ticket),
                "--seed", str(seed)]  # fmt: skip
        self.last_seed = self._task(*args, *(["--append"] if append else []))

    # --- escalation -----------------------------------------------------------------------

    def make_due(self, fraction: float) -> int:
        """Make ``fraction`` of the open tickets due for ``escalate_tickets``; returns how many.

        Every queue gets ``escalate_days = 2``. Open (status Open or Reopened) tickets are
        all marked as escalated an hour ago; the due ones, spread evenly over the open
        tickets that can escalate (not on hold, priority above 1), three days ago.
        """
        result = self._task("make-due", "--fraction", repr(fraction))
        print(f"  {result['due']:,} of {result['open']:,} open tickets due for escalation")
        return int(result["due"])

    def sweep_seconds(self, runs: int = 5) -> list[float]:
        """Time ``escalate_tickets`` ``runs`` times inside one peer process (django.setup once).

        Each due ticket that the command escalates gets its priority lowered by one, its
        last_escalation set to now, a follow-up and a ticket change, and an e-mail
        rendered for its submitter and owner. Between runs (not timed) the due tickets are
        put back: priority and last_escalation restored, the follow-ups (and their ticket
        changes) deleted, so every run finds the same work. ``self.last_sweep`` keeps how
        many each run escalated.
        """
        self.last_sweep = self._task("sweep", "--runs", str(runs))
        seconds: list[float] = self.last_sweep["seconds"]
        return seconds

    # --- web ------------------------------------------------------------------------------

    @contextmanager
    def serve(self, *, workers: int = 2, threads: int = 4) -> Iterator[str]:
        """gunicorn, gthread, ``workers`` x ``threads``, like ``deskside serve``; yields the
        base URL once /healthz answers, and stops the whole process group afterwards."""
        from bench.common import free_port

        port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "gunicorn.log").open("ab")
        server = subprocess.Popen(  # noqa: S603  (the peer's gunicorn, our settings)
            [
                str(self.venv / "bin" / "gunicorn"),
                "peer_wsgi:application",
                "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers),
                "--worker-class", "gthread",
                "--threads", str(threads),
                "--timeout", "120",
                "--graceful-timeout", "10",
                "--access-logfile", str(self.data_dir / "access.log"),
                "--error-logfile", "-",
                "--log-level", "info",
                "--name", "bench-peer",
                "--no-control-socket",
            ],
            env=self._env(),
            cwd=str(SITE),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._server = server
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise PeerError(
                        "gunicorn stopped:\n" + (self.data_dir / "gunicorn.log").read_text()[-3000:]
                    )
                with contextlib.suppress(OSError):
                    if self._get(base, "/healthz")[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise PeerError(f"the peer did not answer on {base} within 60 s")
                time.sleep(0.2)
            # Both workers up, not only the first one to answer.
            while len(self.worker_pids()) < workers and time.monotonic() < deadline:
                time.sleep(0.1)
            yield base
        finally:
            self._server = None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            log.close()

    def worker_pids(self) -> list[int]:
        """The pids of the running server's gunicorn workers (children of its master)."""
        if self._server is None:
            return []
        master = self._server.pid
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # The command may hold spaces or parentheses; fields follow the last ')'.
                fields = stat[stat.rindex(")") + 2 :].split()
                if int(fields[1]) == master:
                    pids.append(int(entry.name))
        return sorted(pids)

    def create_request(self, index: int, client: int) -> tuple[str, str, dict[str, str], bytes]:
        """One API ticket creation (answered 201), authenticated with client's DRF token.

        The submitter is the API user itself, as Deskside makes the token's person the
        requester when none is given; the peer's form needs a priority, 3 (Normal).
        """
        number = client % API_CLIENTS
        body = json.dumps(
            {
                "queue": self.state()["queue_id"],
                "title": f"Benchmark ticket {client}-{index}",
                "description": CREATE_BODY,
                "priority": 3,
                "submitter_email": f"bench.api{number}@bench.peer.test",
            }
        ).encode()
        headers = {
            "Authorization": f"Token {api_token(number)}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        return "POST", f"{PREFIX}/api/tickets/", headers, body

    def session_headers(self, base_url: str) -> dict[str, str]:
        """Log the staff superuser in through the peer's login form; the Cookie header."""
        status, headers, page = self._get(base_url, f"{PREFIX}/login/")
        if status != 200:
            raise PeerError(f"GET {PREFIX}/login/ answered {status}")
        cookies = _cookies(headers)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not found or "csrftoken" not in cookies:
            raise PeerError("no CSRF token on the peer's login page")
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": found.group(1).decode(),
                "username": ADMIN_USERNAME,
                "password": ADMIN_PASSWORD,
                "next": f"{PREFIX}/tickets/",
            }
        ).encode()
        status, headers, _ = self._request(
            base_url,
            "POST",
            f"{PREFIX}/login/",
            {
                "Cookie": _cookie_header(cookies),
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{base_url}{PREFIX}/login/",
            },
            form,
        )
        cookies.update(_cookies(headers))
        if status != 302 or "sessionid" not in cookies:
            raise PeerError(f"the peer's login answered {status} without a session")
        return {"Cookie": _cookie_header(cookies)}

    def queue_paths(self) -> dict[str, str]:
        """The agent ticket list: ``first`` and ``filtered`` are the JSON endpoints that fill
        the first page (25 rows); ``first_page`` and ``filtered_page`` the HTML shells."""
        default = {
            "filtering": {"status__in": [1, 2]},
            "sorting": "created",
            "search_string": "",
            "sortreverse": False,
        }  # ticket_list's default_query_params
        filtered = {
            "filtering": {"status__in": [1, 2], "priority__in": [2]},
            "filtering_null": {},
            "sorting": "created",
            "sortreverse": None,
            "search_string": "",
        }  # what ticket_list builds from ?status=1&status=2&priority=2
        return {
            "first": _query_path(default),
            "filtered": _query_path(filtered),
            "first_page": f"{PREFIX}/tickets/",
            "filtered_page": f"{PREFIX}/tickets/?status=1&status=2&priority=2",
        }

    def search_path(self, word: str) -> str:
        """The rows of the staff ticket list searched for ``word`` (what ``?q=word`` loads):
        every status, oldest first, 25 rows, with the total count."""
        query: dict[str, Any] = {
            "filtering": {},
            "filtering_null": {},
            "sorting": "created",
            "sortreverse": None,
            "search_string": word,
        }  # what ticket_list builds from ?q=word
        return _query_path(query)

    def search_page_path(self, word: str) -> str:
        """The HTML shell of the same search (the rows come from :meth:`search_path`)."""
        return f"{PREFIX}/tickets/?q={urllib.parse.quote(word)}"

    # --- email ----------------------------------------------------------------------------

    def email_intake(self, corpus: list[bytes], *, runs: int = 1) -> dict[str, Any]:
        """Time ``get_email`` collecting ``corpus`` from a private Dovecot over IMAP.

        Each run, like bench/intake.py's, starts from an empty desk: a separate database
        (``<db_name>_intake`` or a second SQLite file), so the seeded one is untouched,
        with the corpus in a fresh Dovecot user's inbox. The queue reads it over plain IMAP
        on loopback (its STARTTLS attempt fails and it carries on, as it is written to), and
        deletes each message it has turned into a ticket or follow-up. The time is that of
        one ``process_email()`` call in a peer process that has already run django.setup().
        Returned: the median run, with every run under ``runs``.
        """
        from deskside.mail.tests import dovecot as dovecot_module

        base = Path(tempfile.mkdtemp(prefix="bench-peer-dovecot-"))
        base.chmod(0o755)
        server = dovecot_module._start(base)
        results = []
        try:
            for number in range(1, runs + 1):
                user = server.user()
                server.append(user, *corpus)
                self._task("reset", intake=True)
                result = self._task(
                    "intake",
                    "--host", dovecot_module.HOST,
                    "--port", str(server.port),
                    "--user", user,
                    "--password", dovecot_module.PASSWORD,
                    "--address", DESK_ADDRESS,
                    intake=True,
                )  # fmt: skip
                left = server.count(user)
                seconds = float(result["seconds"])
                run = {
                    "messages": len(corpus),
                    "seconds": round(seconds, 3),
                    "per_second": round(len(corpus) / seconds, 1) if seconds else None,
                    "tickets_created": result["tickets_created"],
                    "followups_created": result["followups_created"],
                    "left_in_mailbox": left,
                }
                print(
                    f"  get_email run {number}: {run['per_second']} messages/s, "
                    f"{run['tickets_created']} tickets, {run['followups_created']} follow-ups, "
                    f"{left} left in the inbox"
                )
                results.append(run)
        finally:
            dovecot_module._stop(server)
            shutil.rmtree(base, ignore_errors=True)
        ordered = sorted(results, key=lambda run: run["seconds"])
        return {**ordered[len(ordered) // 2], "runs": results}

    # --- HTTP helpers ---------------------------------------------------------------------

    def _get(
        self, base_url: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        return self._request(base_url, "GET", path, headers or {}, None)

    @staticmethod
    def _request(
        base_url: str, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        url = urllib.parse.urlsplit(base_url)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key.strip()] = rest.split(";", 1)[0]
    return found


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{key}={value}" for key, value in cookies.items())


# --- smoke test ---------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def smoke(peer: Peer, tickets: int, messages: int, intake_messages: int) -> dict[str, Any]:
    """Every workload once, at small scale; prints status codes and timings."""
    report: dict[str, Any] = {"database": peer.database, "tickets": tickets}
    peer.install()
    peer.reset()
    started = time.monotonic()
    peer.seed(tickets, messages)
    report["seed_seconds"] = round(time.monotonic() - started, 1)

    for fraction in (0.0, 0.01):
        due = peer.make_due(fraction)
        seconds = peer.sweep_seconds(2)
        report[f"sweep_{fraction}"] = {
            "due": due,
            "seconds": [round(s, 4) for s in seconds],
            "escalated": (peer.last_sweep or {}).get("escalated"),
        }
        print(f"  sweep with {due} due: {', '.join(f'{s * 1000:.1f} ms' for s in seconds)}")

    with peer.serve() as base:
        pids = peer.worker_pids()
        report["worker_rss_kb_idle"] = [_rss_kb(pid) for pid in pids]
        print(f"Serving at {base}, workers {pids}, RSS {report['worker_rss_kb_idle']} kB")
        created = []
        for index in range(5):
            method, path, headers, body = peer.create_request(index, client=index % 2)
            began = time.perf_counter()
            status, _h, answer = peer._request(base, method, path, headers, body)
            elapsed = (time.perf_counter() - began) * 1000
            created.append(status)
            print(f"  {method} {path} -> {status} in {elapsed:.1f} ms")
            if status != 201:
                print(answer[:500].decode(errors="replace"))
        report["create_statuses"] = created
        session = peer.session_headers(base)
        paths = peer.queue_paths()
        pages = {**paths, "search": peer.search_path("printer"),
                 "search_page": peer.search_page_path("printer")}  # fmt: skip
        report["pages"] = {}
        for name, path in pages.items():
            timings = []
            for _ in range(3):
                began = time.perf_counter()
                status, _h, answer = peer._get(base, path, session)
                timings.append((time.perf_counter() - began) * 1000)
            extra = ""
            if answer.startswith(b"{"):
                data = json.loads(answer)
                extra = f", {len(data['data'])} rows of {data['recordsFiltered']:,}"
            report["pages"][name] = {"status": status, "ms": [round(t, 1) for t in timings]}
            print(f"  GET {name:<14} -> {status} in {min(timings):.1f} ms (best of 3){extra}")
        # The shells must point their tables at the JSON URLs measured above.
        for shell, rows in (("first_page", "first"), ("filtered_page", "filtered")):
            _s, _h, page = peer._get(base, paths[shell], session)
            embedded = paths[rows].split("?", 1)[0]
            same = embedded.encode() in page
            report["pages"][shell]["embeds_measured_json_url"] = same
            print(f"  {shell} embeds the '{rows}' JSON URL: {same}")
        _s, _h, page = peer._get(base, peer.search_page_path("printer"), session)
        same = peer.search_path("printer").split("?", 1)[0].encode() in page
        report["pages"]["search_page"]["embeds_measured_json_url"] = same
        print(f"  search_page embeds the 'search' JSON URL: {same}")
        report["worker_rss_kb_after"] = [_rss_kb(pid) for pid in peer.worker_pids()]
        print(f"  worker RSS after the requests: {report['worker_rss_kb_after']} kB")

    sys.path.insert(0, str(ROOT))
    from bench.intake import make_corpus

    report["intake"] = peer.email_intake(make_corpus(intake_messages))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--intake", type=int, default=50, help="messages for email intake")
    parser.add_argument("--smoke", action="store_true", help="run every workload once")
    parser.add_argument("--db-name", default="bench_peer", help="PostgreSQL database name")
    parser.add_argument("--workdir", type=Path, default=None, help="default .bench/peer")
    args = parser.parse_args()
    peer = Peer(database=args.database, db_name=args.db_name, workdir=args.workdir)
    if not args.smoke:
        peer.install()
        peer.reset()
        peer.seed(args.tickets, args.messages)
        return 0
    report = smoke(peer, args.tickets, args.messages, args.intake)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
