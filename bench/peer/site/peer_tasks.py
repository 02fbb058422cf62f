"""Peer-side half of bench/peer/driver.py: runs inside the django-helpdesk virtualenv.

    python peer_tasks.py reset
    python peer_tasks.py seed --tickets N [--messages 3] [--seed 1] [--append]
    python peer_tasks.py make-due --fraction 0.01
    python peer_tasks.py sweep --runs 5
    python peer_tasks.py intake --host H --port P --user U --password W --address A

The database is chosen by the environment (see peer_settings.py). Progress goes to
stderr; the last line on stdout is one JSON object, which the driver reads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the Deskside repository, for bench/seed.py's generator
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

ADMIN_USERNAME = "bench.admin"
ADMIN_PASSWORD = "bench-peer-password"  # noqa: S105  (a local benchmark account)
API_CLIENTS = 32
# The queues stand for bench/seed.py's four teams; the first is made by reset.
QUEUES = [
    ("Bench Service Desk", "service-desk"),
    ("Bench Infrastructure", "infrastructure"),
    ("Bench Applications", "applications"),
    ("Bench Security", "security"),
]
# Days after which escalate_tickets raises an open ticket's priority (make-due sets it).
ESCALATE_DAYS = 2
# bench/seed.py draws from random.Random(1042); seed=1 reproduces it exactly.
SEED_BASE = 1041
# bench/seed.py picks categories from a fresh Deskside desk's eight (tickets migration
# 0002); the draw is kept, though the peer has no categories, so the text stays in step.
DESKSIDE_CATEGORIES = 8
DESKSIDE_CHANNELS = ["email", "portal", "phone", "api", "agent"]
# bench/seed.py's statuses: kind -> (peer status, on hold). Waiting on the requester
# is the peer's "on hold" (which, like Deskside's SLA pause, stops escalation).
OPEN, RESOLVED, CLOSED = 1, 3, 4
STATUS_MAP = {
    "new": (OPEN, False),
    "open": (OPEN, False),
    "waiting_requester": (OPEN, True),
    "resolved": (RESOLVED, False),
    "closed": (CLOSED, False),
}
KINDS = [("new", 10), ("open", 20), ("waiting_requester", 5), ("resolved", 15), ("closed", 50)]


def api_token(index: int) -> str:
    """The fixed DRF token of API client ``index`` (40 hex characters, like DRF's own)."""
    return f"{index:08x}".rjust(40, "b")


def emit(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def data_dir() -> Path:
    return Path(os.environ["PEER_DATA_DIR"])


def setup() -> None:
    import django

    django.setup()


# --- reset --------------------------------------------------------------------------------


def reset() -> dict[str, Any]:
    import shutil

    folder = data_dir()
    if os.environ.get("PEER_DATABASE") == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{folder / 'peer.sqlite3'}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        name = os.environ.get("PEER_DB_NAME", "bench_peer")
        server = os.environ.get("PEER_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(folder / "media", ignore_errors=True)
    (folder / "due.json").unlink(missing_ok=True)
    setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from helpdesk.models import Queue  # type: ignore[import-not-found]
    from rest_framework.authtoken.models import Token  # type: ignore[import-not-found]

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    say(f"  migrated in {time.monotonic() - started:.1f} s")
    # The peer's django.contrib.auth User (type checkers see Deskside's model instead).
    user_model: Any = get_user_model()
    user_model.objects.create_superuser(
        ADMIN_USERNAME, "bench.admin@bench.peer.test", ADMIN_PASSWORD
    )
    title, slug = QUEUES[0]
    queue = Queue.objects.create(title=title, slug=slug, allow_email_submission=True)
    for index in range(API_CLIENTS):
        person = user_model.objects.create_user(
            f"bench.api{index}", f"bench.api{index}@bench.peer.test", None, is_staff=True
        )
        Token.objects.create(user=person, key=api_token(index))
    return {"queue_id": queue.pk, "api_clients": API_CLIENTS}


# --- seed ---------------------------------------------------------------------------------


def _ticket_draws(
    rng: random.Random,
    count: int,
    requesters: int,
    agents: int,
    words: Any,
) -> Iterator[tuple[Any, ...]]:
    """bench/seed.py's ticket_rows(), drawing from ``rng`` in exactly the same order.

    Yields (offset, kind, subject, requester index, agent index or None, priority,
    hours to the last update, resolution or "").
    """
    names = [kind for kind, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    requester_slots = list(range(requesters))
    agent_slots = list(range(agents))
    categories = list(range(DESKSIDE_CATEGORIES))
    for offset in range(count):
        kind = rng.choices(names, weights)[0]
        assigned = kind != "new" and rng.random() < 0.9
        done = kind in ("resolved", "closed")
        subject = words(rng, rng.randint(3, 8)).capitalize()
        requester = rng.choice(requester_slots)
        rng.choice(DESKSIDE_CHANNELS)
        rng.choice(categories)
        agent = rng.choice(agent_slots) if assigned else None
        priority = rng.choices((1, 2, 3, 4), (2, 10, 60, 28))[0]
        updated_hours = rng.randint(1, 72)
        if assigned:
            rng.randint(5, 240)  # first response (Deskside only)
        if done:
            rng.randint(2, 96)  # resolved at (Deskside only)
        resolution = words(rng, 25) if done else ""
        yield offset, kind, subject, requester, agent, priority, updated_hours, resolution


def _message_draws(
    rng: random.Random, count: int, per_ticket: int, words: Any
) -> Iterator[list[str]]:
    """bench/seed.py's message_rows() bodies: one list of ``per_ticket`` bodies a ticket."""
    for _offset in range(count):
        yield [words(rng, rng.randint(12, 60)) for _ in range(per_ticket)]


class Progress:
    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()

    def step(self, amount: int = 1) -> None:
        self.done += amount
        if self.done % 50_000 < amount or self.done == self.total:
            rate = self.done / max(time.monotonic() - self.started, 1e-6)
            sys.stderr.write(f"\r  {self.label}: {self.done:,}/{self.total:,} ({rate:,.0f}/s)   ")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def seed(tickets: int, per_ticket: int, seed_number: int, append: bool) -> dict[str, Any]:
    setup()
    sys.path.insert(0, str(ROOT))
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from helpdesk.models import Queue, Ticket, UserSettings

    from bench.seed import FIRST, LAST, words

    if Ticket.objects.exists() and not append:
        raise SystemExit("The peer already has tickets; reset it, or seed with append.")
    started = time.monotonic()
    rng = random.Random(SEED_BASE + seed_number)  # noqa: S311  (benchmark data)
    unusable = make_password(None)
    # The peer's django.contrib.auth User (type checkers see Deskside's model instead).
    user_model: Any = get_user_model()
    tag = f"{int(time.time())}"
    agent_count, requester_count = 60, 5_000
    with transaction.atomic():
        queues = [
            Queue.objects.get_or_create(
                slug=slug, defaults={"title": title, "allow_email_submission": True}
            )[0]
            for title, slug in QUEUES
        ]
        agents = user_model.objects.bulk_create(
            user_model(username=f"agent{i}.{tag}", email=f"agent{i}.{tag}@bench.example",
                       first_name=rng.choice(FIRST), last_name=f"Agent{i}", is_staff=True,
                       password=unusable)
            for i in range(agent_count)
        )  # fmt: skip
        requesters = []
        for i in range(requester_count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            requesters.append(
                user_model(username=f"user{i}.{tag}", email=f"user{i}.{tag}@bench.example",
                           first_name=first, last_name=last, password=unusable)
            )  # fmt: skip
        requesters = user_model.objects.bulk_create(requesters)
        # The peer gives every user settings when it saves one (a post_save signal),
        # which bulk_create skips; its pages fail without them.
        UserSettings.objects.bulk_create(UserSettings(user=u) for u in [*agents, *requesters])
    agent_ids = [agent.pk for agent in agents]
    requester_emails = [person.email for person in requesters]
    queue_ids = [queue.pk for queue in queues]

    # bench/seed.py draws all tickets, then all messages. The peer wants each ticket's
    # first message as its description, so the ticket draws are run once to find where
    # the message draws start, then tickets and messages are drawn side by side.
    after_people = rng.getstate()
    for _ in _ticket_draws(rng, tickets, requester_count, agent_count, words):
        pass
    after_tickets = rng.getstate()
    say(f"  drew the ticket text once in {time.monotonic() - started:.0f} s")

    ticket_rng = random.Random()  # noqa: S311
    ticket_rng.setstate(after_people)
    message_rng = random.Random()  # noqa: S311
    message_rng.setstate(after_tickets)
    epoch = datetime.now(UTC) - timedelta(days=3 * 365)
    span = 3 * 365 * 86400
    start_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    sqlite = connection.vendor == "sqlite"

    def when(moment: datetime) -> Any:
        # Django keeps SQLite datetimes as naive UTC text; psycopg takes aware ones.
        return str(moment.replace(tzinfo=None)) if sqlite else moment

    def ticket_rows() -> Iterator[tuple[Any, ...]]:
        draws = _ticket_draws(ticket_rng, tickets, requester_count, agent_count, words)
        bodies = _message_draws(message_rng, tickets, per_ticket, words)
        for (offset, kind, subject, requester, agent, priority, hours, resolution), texts in zip(
            draws, bodies, strict=True
        ):
            created = epoch + timedelta(seconds=offset * span // tickets)
            status, on_hold = STATUS_MAP[kind]
            yield (
                start_id + offset, subject, queue_ids[offset % len(queue_ids)],
                when(created), when(created + timedelta(hours=hours)),
                requester_emails[requester], agent_ids[agent] if agent is not None else None,
                status, on_hold, texts[0] if texts else "", resolution or None, priority,
                None, None, str(uuid.uuid4()), None, None,
            )  # fmt: skip

    ticket_columns = (
        "id, title, queue_id, created, modified, submitter_email, assigned_to_id, status, "
        "on_hold, description, resolution, priority, due_date, last_escalation, secret_key, "
        "kbitem_id, merged_to_id"
    )

    followup_rng = random.Random()  # noqa: S311
    followup_rng.setstate(after_tickets)

    def followup_rows() -> Iterator[tuple[Any, ...]]:
        bodies = _message_draws(followup_rng, tickets, per_ticket, words)
        for offset, texts in enumerate(bodies):
            created = epoch + timedelta(seconds=offset * span // tickets)
            for index, body in enumerate(texts):
                note = index == 2  # bench/seed.py: the third message is an internal note
                title = "Ticket Opened" if index == 0 else ("Comment" if note else "Reply")
                yield (
                    start_id + offset, when(created + timedelta(hours=index)), title, body,
                    not note, None, None, None, None, None,
                )  # fmt: skip

    followup_columns = (
        "ticket_id, date, title, comment, public, user_id, new_status, message_id, "
        "time_spent, email_recipients"
    )
    if sqlite:
        with transaction.atomic():
            _insert(connection, "helpdesk_ticket", ticket_columns, ticket_rows(), tickets)
            _insert(connection, "helpdesk_followup", followup_columns, followup_rows(),
                    tickets * per_ticket)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        _copy(connection, "helpdesk_ticket", ticket_columns, ticket_rows(), tickets)
        _copy(connection, "helpdesk_followup", followup_columns, followup_rows(),
              tickets * per_ticket)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('helpdesk_ticket', 'id'), "
                "(SELECT MAX(id) FROM helpdesk_ticket))"
            )
            cursor.execute("ANALYZE")
    seconds = time.monotonic() - started
    say(f"  seeded {tickets:,} tickets and {tickets * per_ticket:,} follow-ups in {seconds:.0f} s")
    return {
        "tickets": Ticket.objects.count(),
        "followups": tickets * per_ticket,
        "seconds": round(seconds, 1),
    }


def _copy(connection: Any, table: str, columns: str, rows: Iterator[Any], total: int) -> None:
    progress = Progress(table, total)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                progress.step()


def _insert(connection: Any, table: str, columns: str, rows: Iterator[Any], total: int) -> None:
    progress = Progress(table, total)
    marks = ", ".join("%s" for _ in columns.split(","))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608  (fixed names)
    batch: list[Any] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == 20_000:
                cursor.executemany(sql, batch)
                progress.step(len(batch))
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
            progress.step(len(batch))


# --- escalation ---------------------------------------------------------------------------


Item = TypeVar("Item")


def _chunks(values: Sequence[Item], size: int = 500) -> Iterator[Sequence[Item]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def make_due(fraction: float) -> dict[str, Any]:
    """Make ``fraction`` of the open tickets due for escalate_tickets, and no others.

    Every queue escalates after ESCALATE_DAYS days. An open ticket is due when it is not
    on hold, not already at priority 1, and was last escalated (or, never escalated,
    created) longer ago than that. The seeded tickets are up to three years old, so all
    open tickets are marked as escalated an hour ago, then the chosen ones, spread evenly
    over the eligible tickets, three days ago. Their ids and priorities are kept in
    due.json so that the sweep can put them back between runs.
    """
    setup()
    from django.utils import timezone
    from helpdesk.models import Queue, Ticket

    now = timezone.now()
    Queue.objects.update(escalate_days=ESCALATE_DAYS)
    open_tickets = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    open_count = open_tickets.count()
    due_count = round(open_count * fraction)
    open_tickets.update(last_escalation=now - timedelta(hours=1))
    eligible = list(
        open_tickets.filter(on_hold=False)
        .exclude(priority=1)
        .order_by("id")
        .values_list("id", "priority")
    )
    if due_count > len(eligible):
        raise SystemExit(f"Only {len(eligible):,} open tickets can escalate, not {due_count:,}")
    chosen = []
    if due_count:
        step = len(eligible) / due_count
        chosen = [eligible[int(n * step)] for n in range(due_count)]
    ids = [ticket_id for ticket_id, _priority in chosen]
    for chunk in _chunks(ids):
        Ticket.objects.filter(id__in=chunk).update(
            last_escalation=now - timedelta(days=ESCALATE_DAYS + 1)
        )
    (data_dir() / "due.json").write_text(json.dumps({"tickets": chosen}))
    return {"open": open_count, "due": len(ids), "escalate_days": ESCALATE_DAYS}


def _rearm(chosen: list[list[int]], since: datetime) -> None:
    """Put the due tickets back as make-due left them, and drop what a sweep added."""
    from django.db import transaction
    from django.db.models import Case, IntegerField, Value, When
    from django.utils import timezone
    from helpdesk.models import FollowUp, Ticket

    past = timezone.now() - timedelta(days=ESCALATE_DAYS + 1)
    with transaction.atomic():
        for chunk in _chunks(chosen):
            ids = [ticket_id for ticket_id, _ in chunk]
            Ticket.objects.filter(id__in=ids).update(
                last_escalation=past,
                priority=Case(
                    *[When(id=ticket_id, then=Value(priority)) for ticket_id, priority in chunk],
                    output_field=IntegerField(),
                ),
            )
            FollowUp.objects.filter(
                ticket_id__in=ids, title="Ticket Escalated", date__gte=since
            ).delete()


def sweep(runs: int) -> dict[str, Any]:
    """Time ``manage.py escalate_tickets`` ``runs`` times in this one process."""
    setup()
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.models import Ticket

    state_file = data_dir() / "due.json"
    chosen: list[list[int]] = (
        json.loads(state_file.read_text())["tickets"] if state_file.exists() else []
    )
    seconds, escalated = [], []
    since = timezone.now()
    for run in range(runs):
        if run and chosen:
            _rearm(chosen, since)
        since = timezone.now()
        started = time.perf_counter()
        call_command("escalate_tickets")
        seconds.append(time.perf_counter() - started)
        escalated.append(Ticket.objects.filter(last_escalation__gte=since).count())
        say(f"  escalate_tickets run {run + 1}: {seconds[-1]:.3f} s, {escalated[-1]:,} escalated")
    if chosen:
        _rearm(chosen, since)
    return {"seconds": seconds, "escalated": escalated, "due": len(chosen)}


# --- email intake -------------------------------------------------------------------------


def intake(host: str, port: int, user: str, password: str, address: str) -> dict[str, Any]:
    """Point the first queue at the IMAP mailbox and time one get_email pass over it."""
    setup()
    from helpdesk.email import process_email  # type: ignore[import-not-found]
    from helpdesk.models import FollowUp, Queue, Ticket

    queue = Queue.objects.get(slug=QUEUES[0][1])
    queue.email_address = address
    queue.allow_email_submission = True
    queue.email_box_type = "imap"
    queue.email_box_host = host
    queue.email_box_port = port
    queue.email_box_ssl = False
    queue.email_box_user = user
    queue.email_box_pass = password
    queue.email_box_imap_folder = "INBOX"
    queue.email_box_interval = 0
    queue.email_box_last_check = None
    queue.logging_type = "none"
    queue.save()
    tickets_before, followups_before = Ticket.objects.count(), FollowUp.objects.count()
    started = time.perf_counter()
    process_email(quiet=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "tickets_created": Ticket.objects.count() - tickets_before,
        "followups_created": FollowUp.objects.count() - followups_before,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("reset")
    seeding = commands.add_parser("seed")
    seeding.add_argument("--tickets", type=int, required=True)
    seeding.add_argument("--messages", type=int, default=3)
    seeding.add_argument("--seed", type=int, default=1)
    seeding.add_argument("--append", action="store_true")
    due = commands.add_parser("make-due")
    due.add_argument("--fraction", type=float, required=True)
    sweeping = commands.add_parser("sweep")
    sweeping.add_argument("--runs", type=int, default=5)
    mail = commands.add_parser("intake")
    mail.add_argument("--host", required=True)
    mail.add_argument("--port", type=int, required=True)
    mail.add_argument("--user", required=True)
    mail.add_argument("--password", required=True)
    mail.add_argument("--address", required=True)
    args = parser.parse_args()
    if args.command == "reset":
        emit(reset())
    elif args.command == "seed":
        emit(seed(args.tickets, args.messages, args.seed, args.append))
    elif args.command == "make-due":
        emit(make_due(args.fraction))
    elif args.command == "sweep":
        emit(sweep(args.runs))
    else:
        emit(intake(args.host, args.port, args.user, args.password, args.address))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
