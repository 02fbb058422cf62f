"""Fill a desk with benchmark volume: people, teams, tickets and messages.

    python bench/seed.py --tickets 1000000 --messages 3

On PostgreSQL the rows go in with COPY (the fastest path the database offers); on SQLite
with executemany inside one transaction. The text is generated from a fixed seed, so two
runs of the same size produce the same desk. It refuses to seed a database that already
holds tickets unless --append is given.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

WORDS = [
    "printer",
    "laptop",
    "screen",
    "password",
    "email",
    "outlook",
    "vpn",
    "wifi",
    "network",
    "finance",
    "report",
    "invoice",
    "excel",
    "teams",
    "meeting",
    "phone",
    "voicemail",
    "scanner",
    "dock",
    "monitor",
    "keyboard",
    "mouse",
    "slow",
    "crash",
    "error",
    "login",
    "locked",
    "account",
    "access",
    "folder",
    "share",
    "drive",
    "backup",
    "update",
    "install",
    "licence",
    "calendar",
    "mailbox",
    "signature",
    "browser",
    "website",
    "portal",
    "payroll",
    "expenses",
    "camera",
    "headset",
    "battery",
    "charger",
    "toner",
    "paper",
    "jam",
    "server",
    "disk",
    "space",
    "sync",
    "mobile",
    "app",
    "certificate",
    "warning",
    "blocked",
    "attachment",
]
FIRST = [
    "Ada",
    "Ben",
    "Cara",
    "Dev",
    "Ema",
    "Finn",
    "Gus",
    "Hana",
    "Ivo",
    "Jill",
    "Kai",
    "Lena",
    "Mo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rui",
    "Sara",
    "Tom",
]
LAST = [
    "Adams",
    "Brown",
    "Clarke",
    "Diaz",
    "Evans",
    "Fox",
    "Green",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lee",
    "Moss",
    "Nunez",
    "Owen",
    "Park",
]


def _vocabulary() -> tuple[list[str], list[float]]:
    """About 3,000 made-up filler words plus the IT words, with Zipf frequencies.

    Real ticket text has a long tail: a topical word such as "printer" appears in a few
    per cent of tickets, not in most of them. A small uniform vocabulary would make every
    search word match most of the desk, which no real desk looks like. The IT words sit at
    ranks 150 to 1,500, so each appears in roughly 1 to 6 % of tickets.
    """
    maker = random.Random(7)  # noqa: S311  (benchmark data, reproducible on purpose)
    syllables = ["ka", "lo", "mi", "ne", "ta", "ru", "si", "po", "de", "va", "qu", "ex"]
    filler: list[str] = []
    seen = set(WORDS)
    while len(filler) < 3000:
        word = "".join(maker.choice(syllables) for _ in range(maker.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            filler.append(word)
    ranked = filler[:150]
    rest = filler[150:]
    step = max(1, 1350 // len(WORDS))
    for index, word in enumerate(WORDS):
        ranked += [*rest[index * step : (index + 1) * step - 1], word]
    ranked += rest[len(WORDS) * step :]
    cumulative = []
    total = 0.0
    for rank in range(1, len(ranked) + 1):
        total += 1 / rank
        cumulative.append(total)
    return ranked, cumulative


VOCABULARY, CUMULATIVE = _vocabulary()


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=count))


def progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)   ")
    sys.stderr.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=3, help="messages per ticket")
    parser.add_argument("--requesters", type=int, default=5_000)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from deskside.accounts.models import Role, Team, TeamMembership, User
    from deskside.tickets.models import Category, Status, StatusKind, Ticket

    call_command("migrate", verbosity=0)
    if Ticket.objects.exists() and not args.append:
        print("This desk already has tickets; use --append to add more.", file=sys.stderr)
        return 1
    rng = random.Random(1042)  # noqa: S311  (benchmark data, reproducible on purpose)
    # Benchmark people never sign in with a password.
    UNUSABLE = make_password(None)
    started = time.monotonic()

    with transaction.atomic():
        teams = [
            Team.objects.get_or_create(name=name, defaults={"tier": tier})[0]
            for name, tier in [
                ("Bench Service Desk", "service_desk"),
                ("Bench Infrastructure", "specialist"),
                ("Bench Applications", "specialist"),
                ("Bench Security", "specialist"),
            ]
        ]
        tag = f"{int(time.time())}"
        agents = User.objects.bulk_create(
            User(email=f"agent{i}.{tag}@bench.example", full_name=f"{rng.choice(FIRST)} Agent{i}",
                 role=Role.AGENT, password=UNUSABLE)
            for i in range(args.agents)
        )  # fmt: skip
        TeamMembership.objects.bulk_create(
            TeamMembership(team=teams[i % len(teams)], user=agent) for i, agent in enumerate(agents)
        )
        requesters = User.objects.bulk_create(
            User(email=f"user{i}.{tag}@bench.example",
                 full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", password=UNUSABLE)
            for i in range(args.requesters)
        )  # fmt: skip
    statuses = {s.kind: s.pk for s in Status.objects.filter(is_default_for_kind=True)}
    categories = list(Category.objects.values_list("pk", flat=True))
    kinds = [
        (StatusKind.NEW, 10), (StatusKind.OPEN, 20), (StatusKind.WAITING_REQUESTER, 5),
        (StatusKind.RESOLVED, 15), (StatusKind.CLOSED, 50),
    ]  # fmt: skip
    kind_names, kind_weights = zip(*kinds, strict=True)
    channels = ["email", "portal", "phone", "api", "agent"]
    epoch = datetime.now(UTC) - timedelta(days=3 * 365)
    start_id = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    def ticket_rows() -> Iterator[tuple[object, ...]]:
        for offset in range(args.tickets):
            created = epoch + timedelta(seconds=offset * (3 * 365 * 86400) // args.tickets)
            kind = rng.choices(kind_names, kind_weights)[0]
            assigned = kind != StatusKind.NEW and rng.random() < 0.9
            done = kind in (StatusKind.RESOLVED, StatusKind.CLOSED)
            yield (
                start_id + offset, words(rng, rng.randint(3, 8)).capitalize(),
                rng.choice(requesters).pk, rng.choice(channels), rng.choice(categories),
                teams[offset % len(teams)].pk, rng.choice(agents).pk if assigned else None,
                rng.choices((1, 2, 3, 4), (2, 10, 60, 28))[0], statuses[kind], kind,
                created, created + timedelta(hours=rng.randint(1, 72)),
                created + timedelta(minutes=rng.randint(5, 240)) if assigned else None,
                created + timedelta(hours=rng.randint(2, 96)) if done else None,
                created + timedelta(days=5) if kind == StatusKind.CLOSED else None,
                created, 0, False, words(rng, 25) if done else "",
            )  # fmt: skip

    ticket_columns = (
        "id, subject, requester_id, channel, category_id, team_id, assignee_id, priority, "
        "status_id, status_kind, created_at, updated_at, first_response_at, resolved_at, "
        "closed_at, last_requester_activity_at, reopen_count, first_contact_resolution, "
        "resolution_note"
    )

    def message_rows() -> Iterator[tuple[object, ...]]:
        for offset in range(args.tickets):
            created = epoch + timedelta(seconds=offset * (3 * 365 * 86400) // args.tickets)
            for index in range(args.messages):
                body = words(rng, rng.randint(12, 60))
                kind = "note" if index == 2 else "public"
                yield (
                    start_id + offset, kind, body, f"<p>{body}</p>", "email",
                    created + timedelta(hours=index), None,
                )  # fmt: skip

    message_columns = "ticket_id, kind, body, body_html, channel, created_at, author_id"
    total_messages = args.tickets * args.messages
    if connection.vendor == "postgresql":
        _copy(connection, "tickets_ticket", ticket_columns, ticket_rows(), args.tickets, "tickets")
        _copy(connection, "tickets_message", message_columns, message_rows(), total_messages,
              "messages")  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
                "(SELECT MAX(id) FROM tickets_ticket))"
            )
            cursor.execute("ANALYZE")
    else:
        _insert(connection, "tickets_ticket", ticket_columns, ticket_rows(), args.tickets,
                "tickets")  # fmt: skip
        _insert(connection, "tickets_message", message_columns, message_rows(), total_messages,
                "messages")  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    sys.stderr.write("\n")
    _reindex()
    print(
        f"Seeded {args.tickets:,} tickets and {total_messages:,} messages in "
        f"{time.monotonic() - started:,.0f} s ({connection.vendor})."
    )
    return 0


def _copy(connection, table, columns, rows, total, label):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for done, row in enumerate(rows, 1):
                copy.write_row(row)
                if done % 50_000 == 0:
                    progress(label, done, total, started)
    progress(label, total, total, started)
    sys.stderr.write("\n")


def _insert(connection, table, columns, rows, total, label):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    marks = ", ".join("%s" for _ in columns.split(","))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608  (fixed names)
    batch: list[tuple[object, ...]] = []
    done = 0
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == 20_000:
                cursor.executemany(sql, batch)
                done += len(batch)
                batch.clear()
                progress(label, done, total, started)
        if batch:
            cursor.executemany(sql, batch)
    progress(label, total, total, started)
    sys.stderr.write("\n")


def _reindex() -> None:
    """Build the search index, if the search app offers a bulk rebuild."""
    try:
        from deskside.search.interface import reindex_all
    except ImportError:
        print("Search index not built: deskside.search has no reindex_all().", file=sys.stderr)
        return
    started = time.monotonic()
    sys.stderr.write("  search index: building...\n")
    reindex_all()
    sys.stderr.write(f"  search index: built in {time.monotonic() - started:,.0f} s\n")


if __name__ == "__main__":
    raise SystemExit(main())
