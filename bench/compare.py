"""Deskside side by side with django-helpdesk, at one scale, with one command.

    python bench/compare.py --scale small|1m [--no-peer] [--runs 3] [--only create,pages,...]
                            [--no-docs]

Every workload runs on both systems where the peer (django-helpdesk, driven by
bench/peer/driver.py) has the feature, on this machine, one system at a time:

- ``create``: ``POST`` a ticket through each system's API over real HTTP, 1 and 16
  concurrent keep-alive clients (bench/load.py), requests per second and latency;
- ``raw``: the same rows (ticket, first message, history event) inserted straight into
  Deskside's PostgreSQL database with psycopg in one process, one transaction per ticket
  (and batched, labelled) -- the limit the API's rate is compared with;
- ``pages``: the agent queue's first page, a filtered page and a one-word search over
  tickets and messages, signed in with a session cookie over real HTTP, at each stage of
  the scale (small: 20,000 tickets; 1m: 100,000, then appended to 1,000,000);
- ``sla``: the escalation/SLA sweep with the scale's open tickets, none due and 1 % due
  (Deskside: bench/sla.py in its own database; the peer: its escalation command);
- ``intake``: 1,000 messages from bench/intake.make_corpus on SQLite, collected from a
  local IMAP mailbox by each system's poller, and over LMTP for Deskside only;
- the resident memory (VmRSS) of one web worker after the run.

Each figure is the median of ``--runs`` runs with its spread (min to max). The side-by-side
table is printed, written to bench/results/<date>-compare-<scale>.json and, unless
--no-docs, put into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import intake  # noqa: E402
from bench.common import (  # noqa: E402
    child_pids,
    free_port,
    machine,
    median_spread,
    rss_mb,
    save_report,
    source_commit,
    write_docs_section,
)
from bench.load import MakeRequest, run_load, wait_until_up, wrk_version  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
DESK_DB = "deskside_bench_cmp"
PEER_VERSION = "2.6.1"
SEARCH_WORDS = ["printer", "password", "vpn", "invoice", "laptop", "outlook", "scanner", "backup"]
DESK_QUEUE = {
    "first": "/console/tickets/?queue=all",
    "filtered": "/console/tickets/?priority=2&kind=open",
}
DOCS_MARKER = "<!-- side-by-side results -->"
WHY = "_why: to be written_"


@dataclass(frozen=True)
class Scale:
    stages: tuple[int, ...]  # tickets on the desk when the pages are measured
    sla_tickets: int
    create: int  # tickets created per run and concurrency level
    page_requests: int  # timed requests per page and run
    raw: int  # tickets inserted per raw-insert run
    intake_messages: int
    intake_runs: int  # IMAP, both systems
    lmtp_runs: int  # LMTP, Deskside only
    sla_none_runs: int
    budget: float  # seconds at most per load run (a slow system does fewer requests)


SCALES = {
    "small": Scale((20_000,), 20_000, 1_000, 60, 2_000, 1_000, 3, 2, 30, 8.0),
    "1m": Scale((100_000, 1_000_000), 1_000_000, 2_000, 100, 5_000, 1_000, 3, 3, 30, 60.0),
}
WORKLOADS = ("create", "raw", "pages", "sla", "intake")


# --- Progress -------------------------------------------------------------------------

STARTED = time.monotonic()


def say(text: str) -> None:
    elapsed = int(time.monotonic() - STARTED)
    print(f"[{elapsed // 60:2d}:{elapsed % 60:02d}] {text}", flush=True)


def show(result: dict[str, Any]) -> None:
    print(
        f"         {result['name']:<44} n {result['n']:>4} "
        f"{result['requests_per_second']:>7.1f} req/s "
        f"p50 {result['p50_ms']:>7.1f}  p95 {result['p95_ms']:>7.1f}  "
        f"p99 {result['p99_ms']:>7.1f} ms"
        f"  errors {result['errors']}"
        + (f" ({result['first_error']})" if result["errors"] else ""),
        flush=True,
    )


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians (with spread) over runs of one load: rate, percentiles, errors in total."""
    return {
        "requests_per_second": median_spread([run["requests_per_second"] for run in runs]),
        "p50_ms": median_spread([run["p50_ms"] for run in runs], 2),
        "p95_ms": median_spread([run["p95_ms"] for run in runs], 2),
        "p99_ms": median_spread([run["p99_ms"] for run in runs], 2),
        "errors": sum(run["errors"] for run in runs),
        "reconnects": sum(run.get("reconnects", 0) for run in runs),
        "requests": sum(run["n"] for run in runs),
        "runs": runs,
    }


def guarded(report: dict[str, Any], what: str, action: Callable[[], Any]) -> Any:
    """Run a peer step; a failure is recorded and reported, and the run goes on."""
    try:
        return action()
    except Exception as exc:
        say(f"PEER FAILED in {what}: {type(exc).__name__}: {exc}")
        report.setdefault("peer_errors", []).append(f"{what}: {type(exc).__name__}: {exc}")
        return None


# --- Deskside ------------------------------------------------------------------------


class Desk:
    """Deskside on PostgreSQL database DESK_DB, seeded by bench/seed.py, served over HTTP."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = f"{PG_SERVER}/{DESK_DB}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DESKSIDE_")},
            "DESKSIDE_DATABASE_URL": self.url,
            "DESKSIDE_DATA_DIR": str(data_dir),
            "DESKSIDE_API_RATE_LIMIT": "100000000",
            "DESKSIDE_LOG_LEVEL": "warning",
            "DESKSIDE_HEALTH_MIN_FREE_DISK_MB": "0",
        }
        self.tickets = 0
        self.tokens: list[str] = []
        self.password = "bench-" + os.urandom(9).hex()
        self.manager_email = ""

    def recreate(self) -> None:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DESK_DB}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DESK_DB}"')

    def seed(self, tickets: int) -> None:
        more = tickets - self.tickets
        command = [sys.executable, str(ROOT / "bench" / "seed.py"), "--tickets", str(more)]
        if self.tickets:
            command.append("--append")
        subprocess.run(command, env=self.env, check=True, timeout=3 * 3600)  # noqa: S603
        self.tickets = tickets

    def setup_django(self) -> None:
        """This process talks to the benchmark desk too (accounts, tokens, table names)."""
        os.environ.update(self.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")
        import django

        django.setup()

    def make_people(self) -> None:
        from deskside.accounts.models import Role
        from deskside.accounts.services import api_token_create, person_create

        stamp = int(time.time())
        for index in range(16):
            person = person_create(
                email=f"bench.api{index}.{stamp}@bench.example",
                full_name=f"Bench Integration {index}",
                role=Role.AGENT,
            )
            _token, raw = api_token_create(user=person, name="bench", scope="write")
            self.tokens.append(raw)
        manager = person_create(
            email=f"bench.manager.{stamp}@bench.example",
            full_name="Bench Manager",
            role=Role.IT_MANAGER,
        )
        manager.set_password(self.password)
        manager.save(update_fields=["password"])
        self.manager_email = manager.email

    @contextlib.contextmanager
    def serve(self, *, workers: int = 2, threads: int = 4) -> Iterator[tuple[str, int]]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (self.data_dir / "serve.log").open("ab")
        server = subprocess.Popen(  # noqa: S603  (our own command)
            [sys.executable, "-m", "deskside", "serve", "--no-worker", "--port", str(port),
             "--workers", str(workers), "--threads", str(threads)],
            env={**self.env, "DESKSIDE_BASE_URL": base},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            wait_until_up(base, "/healthz", timeout=120)
            yield base, server.pid
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
            log.close()

    def create_request(self) -> MakeRequest:
        from bench.run import create_request

        return create_request(self.tokens)

    def session_headers(self, base_url: str) -> dict[str, str]:
        """Sign in through the real sign-in form and keep the session cookie."""
        return form_login(
            base_url,
            "/accounts/sign-in/",
            {"email": self.manager_email, "password": self.password},
        )


def form_login(base_url: str, path: str, fields: dict[str, str]) -> dict[str, str]:
    """GET a Django sign-in form, POST it with its CSRF token; the cookies as headers."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    cookies: dict[str, str] = {}

    def remember(response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]

    connection.request("GET", path)
    page = connection.getresponse()
    html = page.read().decode("utf-8", "replace")
    remember(page)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise SystemExit(f"No CSRF token in {path} (HTTP {page.status})")
    body = urlencode({**fields, "csrfmiddlewaretoken": found.group(1)})
    connection.request(
        "POST",
        path,
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            "Referer": base_url + path,
            "Origin": base_url,
        },
    )
    answer = connection.getresponse()
    answer.read()
    remember(answer)
    connection.close()
    if answer.status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"Signing in at {path} failed (HTTP {answer.status})")
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def get_request(paths: list[str], headers: dict[str, str]) -> MakeRequest:
    def make(index: int, client: int) -> tuple[str, str, dict[str, str], bytes]:
        return "GET", paths[index % len(paths)], headers, b""

    return make


# --- Workloads -----------------------------------------------------------------------


def creation(base: str, make: MakeRequest, scale: Scale, runs: int, who: str) -> dict[str, Any]:
    results = {}
    for concurrency in (1, 16):
        label = f"{who}: create ticket, concurrency {concurrency}"
        done = []
        for _ in range(runs):
            result = run_load(base, make, total=scale.create, concurrency=concurrency,
                              warmup=2, label=label, max_seconds=scale.budget)  # fmt: skip
            show(result)
            done.append(result)
        results[f"c{concurrency}"] = summary(done)
    return results


def pages(
    base: str,
    headers: dict[str, str],
    queue: dict[str, str],
    search: Callable[[str], str],
    scale: Scale,
    runs: int,
    who: str,
) -> dict[str, Any]:
    targets = {
        "queue_first": [queue["first"]],
        "queue_filtered": [queue["filtered"]],
        "search": [search(word) for word in SEARCH_WORDS],
    }
    if "first_page" in queue:  # the peer: its list page is a shell, the rows come as JSON
        targets["queue_shell"] = [queue["first_page"]]
    results = {}
    for name, paths in targets.items():
        done = []
        for _ in range(runs):
            result = run_load(base, get_request(paths, headers), total=scale.page_requests,
                              concurrency=1, warmup=5, ok=(200,),
                              label=f"{who}: {name}", max_seconds=scale.budget)  # fmt: skip
            show(result)
            done.append(result)
        results[name] = summary(done)
    return results


def raw_insert(scale: Scale, runs: int) -> dict[str, Any]:
    """Ticket + first message + history event straight into Deskside's tables with psycopg."""
    import psycopg

    from deskside.accounts.models import User
    from deskside.tickets.models import Message, Status, StatusKind, Ticket, TicketEvent

    tickets, messages, events = (m._meta.db_table for m in (Ticket, Message, TicketEvent))
    requester = User.objects.order_by("id").values_list("id", flat=True).first()
    status = Status.objects.get(kind=StatusKind.NEW, is_default_for_kind=True).pk
    body = "The printer on floor 3 jams on every page since Monday."
    ticket_sql = (
        f"INSERT INTO {tickets} (subject, requester_id, channel, priority, status_id, "  # noqa: S608
        "status_kind, created_at, updated_at, last_requester_activity_at, reopen_count, "
        "first_contact_resolution, resolution_note) "
        "VALUES (%s, %s, 'api', 3, %s, 'new', now(), now(), now(), 0, false, '') RETURNING id"
    )
    message_sql = (
        f"INSERT INTO {messages} (ticket_id, kind, body, body_html, channel, created_at, "  # noqa: S608
        "author_id) VALUES (%s, 'public', %s, %s, 'api', now(), %s)"
    )
    event_sql = (
        f"INSERT INTO {events} (ticket_id, actor_id, at, action, field, old_value, "  # noqa: S608
        "new_value) VALUES (%s, %s, now(), 'created', 'channel', '', 'api')"
    )
    made: list[int] = []
    single, batched = [], []
    with psycopg.connect(f"{PG_SERVER}/{DESK_DB}") as conn:
        for run in range(runs):
            started = time.perf_counter()
            for index in range(scale.raw):
                with conn.transaction():
                    row = conn.execute(ticket_sql, (f"Raw insert {run}-{index}", requester, status))
                    ticket_id = row.fetchone()[0]  # type: ignore[index]
                    conn.execute(message_sql, (ticket_id, body, f"<p>{body}</p>", requester))
                    conn.execute(event_sql, (ticket_id, requester))
                made.append(ticket_id)
            single.append(scale.raw / (time.perf_counter() - started))
            say(f"  raw insert, one transaction a ticket: {single[-1]:,.0f} tickets/s")
        for run in range(runs):
            started = time.perf_counter()
            for start in range(0, scale.raw, 100):
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(
                        ticket_sql,
                        [(f"Raw batch {run}-{start + n}", requester, status) for n in range(100)],
                        returning=True,
                    )
                    ids = []
                    while True:
                        ids.append(cursor.fetchone()[0])  # type: ignore[index]
                        if not cursor.nextset():
                            break
                    cursor.executemany(
                        message_sql, [(i, body, f"<p>{body}</p>", requester) for i in ids]
                    )
                    cursor.executemany(event_sql, [(i, requester) for i in ids])
                made.extend(ids)
            batched.append(scale.raw / (time.perf_counter() - started))
            say(f"  raw insert, 100 tickets a transaction: {batched[-1]:,.0f} tickets/s")
        with conn.transaction():  # leave the desk as the pages benchmarks expect it
            conn.execute(f"DELETE FROM {events} WHERE ticket_id = ANY(%s)", (made,))  # noqa: S608
            conn.execute(f"DELETE FROM {messages} WHERE ticket_id = ANY(%s)", (made,))  # noqa: S608
            conn.execute(f"DELETE FROM {tickets} WHERE id = ANY(%s)", (made,))  # noqa: S608
    return {
        "tables": [tickets, messages, events],
        "per_transaction": median_spread(single),
        "batched_100": median_spread(batched),
    }


def desk_sla(tickets: int, scale: Scale, runs: int, data_dir: Path) -> dict[str, Any]:
    out = data_dir / "sla.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKSIDE_")}
    env.update(DESKSIDE_DATA_DIR=str(data_dir / "sla"), DESKSIDE_LOG_LEVEL="warning",
               DESKSIDE_TEST_DATABASE_URL=f"{PG_SERVER}/deskside")  # fmt: skip
    (data_dir / "sla").mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603  (our own script)
        [sys.executable, str(ROOT / "bench" / "sla.py"), "--tickets", str(tickets),
         "--runs", str(scale.sla_none_runs), "--recompute", "0", "--due-runs", str(runs),
         "--out", str(out)],
        env=env, check=True, timeout=3 * 3600,
    )  # fmt: skip
    report = json.loads(out.read_text())
    none, first, drained = report["results"][:3]
    return {
        "open_tickets": tickets,
        "none_due_ms": {"median": none["p50_ms"], "p95": none["p95_ms"],
                        "min": none["min_ms"], "max": none["max_ms"], "n": none["n"]},
        "due_1pct_ms": {**median_spread(drained["runs_ms"]), "due": max(1, tickets // 100),
                        "first_batch_ms": first["p50_ms"]},
    }  # fmt: skip


def desk_intake(corpus: list[bytes], scale: Scale) -> dict[str, Any]:
    results = {}
    for mode, label, runs in (("pollmail", "imap", scale.intake_runs),
                              ("lmtp", "lmtp", scale.lmtp_runs)):  # fmt: skip
        done = []
        for number in range(runs):
            with tempfile.TemporaryDirectory(prefix=f"deskside-bench-{mode}-") as tmp:
                data_dir = Path(tmp) / "data"
                data_dir.mkdir()
                result = intake.MODES[mode](corpus, data_dir)
            say(f"  Deskside intake {label} run {number + 1}: "
                f"{result['done_per_second']:.1f} messages/s on the desk")  # fmt: skip
            done.append(result)
        results[label] = {
            "per_second": median_spread([run["done_per_second"] for run in done]),
            "runs": done,
        }
        for key in intake.OPTIONAL_RATES:
            if all(key in run for run in done):
                results[label][key] = median_spread([run[key] for run in done])
    return results


def worker_rss(pids: list[int]) -> dict[str, Any]:
    values = [value for value in (rss_mb(pid) for pid in pids) if value is not None]
    return {"max_mb": max(values) if values else None, "workers_mb": values}


# --- Versions ------------------------------------------------------------------------


def versions(peer: Any) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    found: dict[str, Any] = {
        "python": sys.version.split()[0],
        "django": importlib.metadata.version("django"),
        "postgresql": server,
        "deskside": importlib.metadata.version("deskside"),
        "deskside_commit": source_commit(),
        "django_helpdesk": PEER_VERSION,
        "load_generator": wrk_version(),
    }
    if peer is not None:
        with contextlib.suppress(Exception):  # the figures matter more than this record
            installed = peer.installed_versions()
            found["peer_venv"] = installed
            found["django_helpdesk"] = installed.get("django-helpdesk", PEER_VERSION)
    return found


# --- Runner --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--no-peer", action="store_true", help="Deskside only")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median reported)")
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help="a subset of " + ", ".join(WORKLOADS)
    )
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--peer-workdir", type=Path, help="the peer's folder (default .bench/peer)")
    parser.add_argument("--peer-db", default="bench_peer", help="the peer's PostgreSQL database")
    args = parser.parse_args()
    peer_workdir = args.peer_workdir.resolve() if args.peer_workdir else None
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if only - set(WORKLOADS):
        parser.error(f"unknown workload(s): {', '.join(sorted(only - set(WORKLOADS)))}")
    scale = SCALES[args.scale]
    say(f"Benchmarks at scale {args.scale}: {', '.join(f'{n:,}' for n in scale.stages)} tickets; "
        f"{'Deskside only' if args.no_peer else 'Deskside and django-helpdesk'}; "
        f"{args.runs} runs per figure")  # fmt: skip

    peer_pg = peer_sqlite = None
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "stages": list(scale.stages),
        "runs": args.runs,
        "peer": not args.no_peer,
        "machine": machine(),
        "deskside": {},
        "peer_results": {},
    }
    if not args.no_peer:
        from bench.peer.driver import Peer

        say("Installing the peer (django-helpdesk) in its own virtualenv")
        peer_pg = Peer(database="postgresql", pg_server=PG_SERVER, workdir=peer_workdir,
                       db_name=args.peer_db)  # fmt: skip
        peer_pg.install()
    report["versions"] = versions(peer_pg)

    data_dir = Path(tempfile.mkdtemp(prefix="deskside-bench-cmp-"))
    desk = Desk(data_dir)
    desk_out, peer_out = report["deskside"], report["peer_results"]
    try:
        needs_desk = bool(only & {"create", "raw", "pages"})
        if needs_desk:
            desk.recreate()
        if peer_pg is not None and only & {"create", "pages", "sla"}:
            say("Resetting the peer's database")
            guarded(report, "reset", peer_pg.reset)
        peer_seeded = 0
        for stage, tickets in enumerate(scale.stages):
            if needs_desk:
                say(f"Seeding Deskside to {tickets:,} tickets (3 messages each)")
                desk.seed(tickets)
                if stage == 0:
                    desk.setup_django()
                    desk.make_people()
            if peer_pg is not None and only & {"create", "pages", "sla"}:
                say(f"Seeding the peer to {tickets:,} tickets (3 messages each)")
                more, append = tickets - peer_seeded, peer_seeded > 0
                guarded(report, f"seed {tickets}",
                        lambda m=more, a=append: peer_pg.seed(m, 3, append=a))  # fmt: skip
                peer_seeded = tickets
            last = stage == len(scale.stages) - 1
            if needs_desk:
                with desk.serve() as (base, pid):
                    say(f"Deskside serving at {base} (2 workers x 4 threads)")
                    if stage == 0 and "create" in only:
                        desk_out["create"] = creation(base, desk.create_request(), scale,
                                                      args.runs, "Deskside")  # fmt: skip
                    if "pages" in only:
                        headers = desk.session_headers(base)
                        desk_out.setdefault("pages", {})[str(tickets)] = pages(
                            base, headers, DESK_QUEUE,
                            lambda w: f"/console/search/?q={w}", scale, args.runs, "Deskside",
                        )  # fmt: skip
                    if last:
                        desk_out["rss"] = worker_rss(child_pids(pid))
                        say(f"  Deskside web worker RSS: {desk_out['rss']['workers_mb']} MB")
                if stage == 0 and "raw" in only:
                    say("Raw insert into Deskside's tables with psycopg")
                    desk_out["raw"] = raw_insert(scale, args.runs)
            if peer_pg is not None and only & {"create", "pages"}:
                guarded(report, f"serve at {tickets}",
                        lambda s=stage, t=tickets, last=last: peer_serve(
                            peer_pg, peer_out, scale, args.runs, s, t, last, only))  # fmt: skip

        if "sla" in only:
            say(f"SLA sweep: Deskside with {scale.sla_tickets:,} open tickets (bench/sla.py)")
            desk_out["sla"] = desk_sla(scale.sla_tickets, scale, args.runs, data_dir)
            if peer_pg is not None:
                say("SLA sweep: the peer's escalation command")
                guarded(report, "sla", lambda: peer_sla(peer_pg, peer_out, args.runs))

        if "intake" in only:
            corpus = intake.make_corpus(scale.intake_messages)
            say(f"Email intake, {len(corpus):,} messages, SQLite: Deskside (IMAP, LMTP)")
            desk_out["intake"] = desk_intake(corpus, scale)
            if not args.no_peer:
                from bench.peer.driver import Peer

                say("Email intake: the peer (IMAP, SQLite)")
                peer_sqlite = Peer(database="sqlite", pg_server=PG_SERVER, workdir=peer_workdir,
                                   db_name=args.peer_db)  # fmt: skip
                guarded(report, "intake", lambda: peer_intake(peer_sqlite, peer_out, corpus,
                                                                  scale.intake_runs))  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    report["seconds"] = round(time.monotonic() - STARTED)
    rows = table(report)
    lines = markdown(report, rows)
    print()
    print("\n".join(lines))
    name = f"{report['date'][:10]}-compare-{args.scale}{'' if report['peer'] else '-nopeer'}.json"
    report["table"] = rows
    save_report(report, name)
    if not args.no_docs:
        write_docs_section(DOCS_MARKER, lines)
        print("Table written to docs/benchmarks.md")
    say("Done")
    return 0


def peer_serve(peer: Any, out: dict[str, Any], scale: Scale, runs: int, stage: int,
               tickets: int, last: bool, only: set[str]) -> None:  # fmt: skip
    with peer.serve(workers=2, threads=4) as base:
        say(f"django-helpdesk serving at {base} (2 workers x 4 threads)")
        if stage == 0 and "create" in only:
            out["create"] = creation(base, peer.create_request, scale, runs, "peer")
        if "pages" in only:
            headers = peer.session_headers(base)
            out.setdefault("pages", {})[str(tickets)] = pages(
                base, headers, peer.queue_paths(), peer.search_path, scale, runs, "peer"
            )
        if last:
            out["rss"] = worker_rss(peer.worker_pids())
            say(f"  peer web worker RSS: {out['rss']['workers_mb']} MB")


def peer_sla(peer: Any, out: dict[str, Any], runs: int) -> None:
    """escalate_tickets with none due, then 1 % due (the driver restores them between runs)."""
    peer.make_due(0.0)
    none = [seconds * 1000 for seconds in peer.sweep_seconds(runs=max(runs, 5))]
    none_detail = getattr(peer, "last_sweep", None)
    due = peer.make_due(0.01)
    due_runs = [seconds * 1000 for seconds in peer.sweep_seconds(runs=runs)]
    out["sla"] = {
        "none_due_ms": {**median_spread(none, 2), "due": 0, "detail": none_detail},
        "due_1pct_ms": {**median_spread(due_runs, 1), "due": due,
                        "detail": getattr(peer, "last_sweep", None)},
    }  # fmt: skip
    say(f"  peer sweep none due: {out['sla']['none_due_ms']['median']} ms; "
        f"1 % ({due:,}) due: {out['sla']['due_1pct_ms']['median']} ms")  # fmt: skip


def peer_intake(peer: Any, out: dict[str, Any], corpus: list[bytes], runs: int) -> None:
    peer.install()
    result = peer.email_intake(corpus, runs=runs)
    done = result.get("runs") or [result]
    out["intake"] = {"imap": {"per_second": median_spread([r["per_second"] for r in done]),
                              "runs": done}}  # fmt: skip
    say(f"  peer intake: {out['intake']['imap']['per_second']['median']} messages/s")


# --- The table -----------------------------------------------------------------------


def spread(figure: dict[str, Any] | None, unit: str = "") -> str:
    if not figure:
        return "n/a"
    text = f"{figure['median']:,}{unit}"
    if figure.get("min") is not None and figure["min"] != figure["max"]:
        text += f" ({figure['min']:,} to {figure['max']:,})"
    return text


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: both systems, the ratio (oriented so > 1 favours Deskside)."""
    desk, peer = report["deskside"], report["peer_results"]
    at_1m = report["scale"] == "1m"
    final = str(report["stages"][-1])
    rows: list[dict[str, Any]] = []

    def row(name: str, unit: str, ours: dict[str, Any] | None, theirs: dict[str, Any] | None,
            *, higher_better: bool, target: str = "", met: bool | None = None,
            target_scale: bool = True) -> None:  # fmt: skip
        ratio = None
        if ours and theirs and ours["median"] and theirs["median"]:
            ratio = ours["median"] / theirs["median"] if higher_better else (
                theirs["median"] / ours["median"])  # fmt: skip
        verdict = ""
        if target and met is not None:
            verdict = "yes" if met else "no"
            if not target_scale:
                verdict += "*"
        elif target:
            verdict = "n/a"
        lost = (ratio is not None and ratio < 1) or verdict.startswith("no")
        rows.append({
            "workload": name, "unit": unit, "deskside": spread(ours), "peer": spread(theirs),
            "ratio": round(ratio, 2) if ratio is not None else None,
            "ratio_kind": "Deskside/peer" if higher_better else "peer/Deskside",
            "target": target, "met": verdict, "why": WHY if lost else "",
        })  # fmt: skip

    def plain(name: str, unit: str, ours: str, theirs: str = "", **extra: str) -> None:
        """A row without a ratio (a count, or a figure only Deskside has)."""
        rows.append({"workload": name, "unit": unit, "deskside": ours, "peer": theirs,
                     "ratio": None, "ratio_kind": "", "target": "", "met": "", "why": "",
                     **extra})  # fmt: skip

    for level in ("c1", "c16"):
        ours = _get(desk, "create", level, "requests_per_second")
        theirs = _get(peer, "create", level, "requests_per_second")
        concurrency = level[1:]
        if level == "c16":
            ratio = ours["median"] / theirs["median"] if ours and theirs else None
            row(f"create ticket over HTTP, {concurrency} clients", "req/s", ours, theirs,
                higher_better=True, target="≥ 5x peer",
                met=None if ratio is None else ratio >= 5)  # fmt: skip
        else:
            row(f"create ticket over HTTP, {concurrency} client", "req/s", ours, theirs,
                higher_better=True)  # fmt: skip
        for pct in ("p50_ms", "p95_ms", "p99_ms"):
            row(f"  latency {pct[:3]}, {concurrency} client{'s' if level == 'c16' else ''}", "ms",
                _get(desk, "create", level, pct), _get(peer, "create", level, pct),
                higher_better=False)  # fmt: skip
        errors_ours = _get(desk, "create", level, "errors")
        errors_theirs = _get(peer, "create", level, "errors")
        plain(
            f"  errors, {concurrency} client{'s' if level == 'c16' else ''}",
            "count",
            str(errors_ours if errors_ours is not None else "n/a"),
            str(errors_theirs if errors_theirs is not None else "n/a"),
        )
    raw = _get(desk, "raw", "per_transaction")
    if raw:
        plain("raw insert (ticket + message + event), 1 transaction each", "tickets/s",
              spread(raw))  # fmt: skip
        plain("raw insert, batched 100 a transaction (for reference)", "tickets/s",
              spread(_get(desk, "raw", "batched_100")))  # fmt: skip
        c16 = _get(desk, "create", "c16", "requests_per_second")
        if c16:
            share = 100 * c16["median"] / raw["median"]
            met = share >= 30
            plain("Deskside create, 16 clients, as % of raw insert", "%", f"{share:.1f} %",
                  target="≥ 30 %", met="yes" if met else "no", why="" if met else WHY)  # fmt: skip

    for tickets in report["stages"]:
        key = str(tickets)
        is_1m = tickets >= 1_000_000
        for page, label, target, limit in (
            ("queue_first", "queue, first page", "p95 < 30 ms at 1M", 30.0),
            ("queue_filtered", "queue, filtered (P2, open)", "", None),
            ("queue_shell", "peer's list page shell (its rows are the request above)", "", None),
            ("search", "search one word", "p95 < 100 ms at 1M", 100.0),
        ):
            for pct in ("p50_ms", "p95_ms"):
                ours = _get(desk, "pages", key, page, pct)
                if ours is None and _get(peer, "pages", key, page, pct) is None:
                    continue
                met = None
                if limit is not None and pct == "p95_ms" and ours:
                    met = ours["median"] < limit
                row(f"{label} at {tickets:,}, {pct[:3]}", "ms", ours,
                    _get(peer, "pages", key, page, pct), higher_better=False,
                    target=target if pct == "p95_ms" else "", met=met,
                    target_scale=is_1m)  # fmt: skip
    sla_tickets = _get(desk, "sla", "open_tickets")
    if sla_tickets is not None or _get(peer, "sla"):
        ours = _get(desk, "sla", "none_due_ms")
        row(f"SLA sweep, none due (Deskside {sla_tickets or 0:,} open; peer: its open)", "ms",
            ours,
            _get(peer, "sla", "none_due_ms"), higher_better=False, target="< 50 ms at 1M",
            met=None if not ours else ours["median"] < 50, target_scale=at_1m)  # fmt: skip
        ours_due, theirs_due = _get(desk, "sla", "due_1pct_ms"), _get(peer, "sla", "due_1pct_ms")
        due_ours = _get(ours_due or {}, "due") or 0
        due_theirs = _get(theirs_due or {}, "due") or 0
        counts = f"Deskside {due_ours:,}, peer {due_theirs:,}"
        row(f"SLA sweep, 1 % due, all worked off ({counts} due)", "ms", ours_due, theirs_due,
            higher_better=False)  # fmt: skip

        def per_ticket(figure: dict[str, Any] | None) -> dict[str, Any] | None:
            if not figure or not figure.get("due"):
                return None
            return {key: round(figure[key] / figure["due"], 2) for key in ("median", "min", "max")}

        row("SLA sweep, 1 % due, per due ticket", "ms", per_ticket(ours_due),
            per_ticket(theirs_due), higher_better=False)  # fmt: skip
    imap = _get(desk, "intake", "imap", "per_second")
    if imap or _get(peer, "intake"):
        row("email intake, IMAP, SQLite", "msg/s", imap, _get(peer, "intake", "imap", "per_second"),
            higher_better=True, target="≥ 300 msg/s",
            met=None if not imap else imap["median"] >= 300)  # fmt: skip
        lmtp = _get(desk, "intake", "lmtp", "per_second")
        row("email intake, LMTP, SQLite (peer has none)", "msg/s", lmtp, None,
            higher_better=True, target="≥ 300 msg/s",
            met=None if not lmtp else lmtp["median"] >= 300)  # fmt: skip
    ours_rss = _get(desk, "rss", "max_mb")
    theirs_rss = _get(peer, "rss", "max_mb")
    if ours_rss is not None or theirs_rss is not None:
        row(f"one web worker's RSS after the run (at {int(final):,})", "MB",
            {"median": ours_rss} if ours_rss is not None else None,
            {"median": theirs_rss} if theirs_rss is not None else None,
            higher_better=False, target="< 200 MB",
            met=None if ours_rss is None else ours_rss < 200)  # fmt: skip
    return rows


def markdown(report: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    m, v = report["machine"], report["versions"]
    peer_name = f"django-helpdesk {v['django_helpdesk']}" if report["peer"] else "peer skipped"
    lines = [
        f"### Scale {report['scale']} ({', '.join(f'{n:,}' for n in report['stages'])} tickets), "
        f"{report['date'][:10]}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}. Python {v['python']}, "
        f"Django {v['django']}, PostgreSQL {v['postgresql']}, Deskside {v['deskside']} "
        f"({v['deskside_commit'][:10] or 'unknown commit'}), {peer_name}; HTTP load from "
        f"{v.get('load_generator', 'Python threads (http.client)')}. "
        f"Medians of {report['runs']} runs (min to max in brackets); the whole run took "
        f"{report['seconds'] // 60} min {report['seconds'] % 60} s.",
        "",
        "Ratio: for rates Deskside ÷ peer, for times and memory peer ÷ Deskside, so above 1 "
        "always means Deskside is better.",
        "",
        "| Workload | Unit | Deskside | django-helpdesk | Ratio | Target | Met? | Why (where "
        "Deskside loses) |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio']}x ({r['ratio_kind']})" if r["ratio"] is not None else ""
        lines.append(
            f"| {r['workload']} | {r['unit']} | {r['deskside']} | {r['peer']} | {ratio} | "
            f"{r['target']} | {r['met']} | {r['why']} |"
        )
    if any(r["met"].endswith("*") for r in rows):
        lines += ["", "\\* Measured below the target's 1M tickets; the 1M run decides."]
    if report.get("peer_errors"):
        lines += ["", "Peer failures: " + "; ".join(report["peer_errors"])]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
