"""SLA benchmarks on PostgreSQL: the minute sweep, and recomputation after a calendar edit.

    python bench/sla.py [--tickets 1000000] [--runs 30] [--recompute 20000] [--due-runs 1]
                        [--write-docs] [--out FILE]

Creates (or empties) the database ``deskside_bench_sla`` on the server of
``DESKSIDE_TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432``), seeds
``--tickets`` open tickets that all run SLA clocks on one office-hours calendar (COPY,
then one INSERT ... SELECT for the clocks), and measures, in this process:

- the sweep when no clock is due (the usual minute), ``--runs`` times;
- the sweep when 1 % of the clocks are due: the first batch, and working off all of them;
- recomputing open tickets after a calendar edit, on ``--recompute`` tickets (a full
  recomputation of a million tickets is a background job of many minutes; the rate per
  ticket is what is reported, with the projection for all of them; 0 skips it).

``--due-runs`` repeats the 1 % due measurement (the same clocks made due again); the median
is reported. ``--out`` writes the JSON report to a file of its own (used by bench/compare.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import machine, save_report, write_docs_section  # noqa: E402

DATABASE = "deskside_bench_sla"


def _server_url() -> str:
    url = os.environ.get(
        "DESKSIDE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/deskside"
    )
    return url.rsplit("/", 1)[0]


def _recreate_database(server: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')


def _timed(label: str, action: Any, runs: int) -> dict[str, Any]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    result = {
        "name": label,
        "n": runs,
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }
    print(f"  {label:<44} p50 {result['p50_ms']:>9.2f} ms   p95 {result['p95_ms']:>9.2f} ms")
    return result


def seed(tickets: int) -> tuple[Any, Any]:
    from datetime import time as clock_time

    from django.core.management import call_command
    from django.db import connection

    from deskside.accounts.models import Role, User
    from deskside.sla.models import BusinessCalendar, SlaPolicy, WorkingPeriod
    from deskside.tickets.models import Status, StatusKind

    call_command("migrate", verbosity=0)
    requester = User.objects.create(
        email="bench.requester@bench.example", full_name="Bench Requester", role=Role.REQUESTER
    )
    calendar = BusinessCalendar.objects.create(name="Bench office", timezone="Europe/London")
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=calendar,
            weekday=weekday,
            start_time=clock_time(9),
            end_time=clock_time(17),
        )
    policy = SlaPolicy.objects.create(
        name="Bench standard",
        calendar=calendar,
        first_response_minutes=8 * 60,
        next_update_minutes=4 * 60,
        resolution_minutes=5 * 8 * 60,
    )
    status = Status.objects.get(kind=StatusKind.OPEN, is_default_for_kind=True)
    now = datetime.now(UTC)
    future = now + timedelta(days=3)
    started = time.monotonic()
    columns = (
        "id, subject, requester_id, channel, priority, status_id, status_kind, created_at, "
        "updated_at, first_response_at, reopen_count, first_contact_resolution, "
        "resolution_note, sla_due_at"
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
        with raw.copy(f"COPY tickets_ticket ({columns}) FROM STDIN") as copy:
            for number in range(1, tickets + 1):
                created = now - timedelta(minutes=number % 600)
                copy.write_row(
                    (number, f"Bench ticket {number}", requester.pk, "portal", 3, status.pk,
                     StatusKind.OPEN, created, created, created, 0, False, "", future)
                )  # fmt: skip
                if number % 100_000 == 0:
                    print(f"  seeded {number:,} tickets", file=sys.stderr)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [tickets]
        )
        # Every ticket's clocks run; none is due for three days.
        cursor.execute(
            "INSERT INTO sla_ticketsla (ticket_id, policy_id, first_response_due, "
            "resolution_due, next_update_due, next_update_started_at, next_update_cycle, "
            "next_update_paused_minutes, paused_since, paused_minutes, first_response_level, "
            "resolution_level, next_update_level, first_response_breached, "
            "resolution_breached, next_update_breaches, next_check_at, updated_at) "
            "SELECT id, %s, NULL, %s, NULL, NULL, 0, 0, NULL, 0, 0, 0, 0, false, false, 0, "
            "%s, %s FROM tickets_ticket",
            [policy.pk, future, future, now],
        )
        cursor.execute("ANALYZE")
    print(f"  seeded {tickets:,} tickets with clocks in {time.monotonic() - started:.0f} s")
    return calendar, policy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--recompute", type=int, default=20_000)
    parser.add_argument("--due-runs", type=int, default=1, help="times the 1 %% due sweep is run")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--out", help="write the JSON report here instead (no docs)")
    args = parser.parse_args()

    server = _server_url()
    _recreate_database(server)
    os.environ["DESKSIDE_DATABASE_URL"] = f"{server}/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")
    import django

    django.setup()
    from django.db import connection

    from deskside.sla.models import TicketSla
    from deskside.sla.services import sla_recompute, sla_sweep

    print(f"SLA benchmarks on {connection.vendor}, {args.tickets:,} open tickets")
    calendar, _policy = seed(args.tickets)
    results = [_timed("sweep, none due", sla_sweep, args.runs)]

    due = max(1, args.tickets // 100)
    first_batches, drains, sweep_counts = [], [], []
    for _ in range(args.due_runs):
        past = datetime.now(UTC) - timedelta(minutes=1)
        TicketSla.objects.filter(ticket_id__lte=due).update(next_check_at=past)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_ticketsla")
        first = _timed("sweep, 1 % due: first batch of 500", sla_sweep, 1)
        started = time.perf_counter()
        sweeps = 1
        while TicketSla.objects.filter(next_check_at__lte=datetime.now(UTC)).exists():
            sla_sweep()
            sweeps += 1
        rest = (time.perf_counter() - started) * 1000
        print(
            f"  the rest of the {due:,} due clocks worked off in {rest:,.0f} ms ({sweeps} sweeps)"
        )
        first_batches.append(first["p50_ms"])
        drains.append(first["p50_ms"] + rest)
        sweep_counts.append(sweeps)
    results.append({**first, "n": len(first_batches), "p50_ms": statistics.median(first_batches),
                    "runs_ms": first_batches})  # fmt: skip
    results.append(
        {"name": f"sweep, 1 % due: all {due:,} clocks", "n": len(drains),
         "total_ms": round(statistics.median(drains), 1),
         "runs_ms": [round(value, 1) for value in drains], "sweeps": sweep_counts[-1]}
    )  # fmt: skip

    sample = min(args.recompute, args.tickets)
    if sample <= 0:
        return _finish(args, connection.vendor, results, due)
    started = time.perf_counter()
    done = sla_recompute(calendar=calendar, limit=sample)
    elapsed = time.perf_counter() - started
    per_ticket_ms = elapsed * 1000 / max(done, 1)
    projected_minutes = per_ticket_ms * args.tickets / 1000 / 60
    print(
        f"  recompute after a calendar edit: {done:,} tickets in {elapsed:.1f} s "
        f"({per_ticket_ms:.2f} ms each; all {args.tickets:,} would take about "
        f"{projected_minutes:.0f} min in the background)"
    )
    results.append(
        {
            "name": "recompute after a calendar edit",
            "tickets": done,
            "per_ticket_ms": round(per_ticket_ms, 3),
            "projected_all_minutes": round(projected_minutes, 1),
        }
    )

    return _finish(args, connection.vendor, results, due)


def _finish(args: argparse.Namespace, vendor: str, results: list[dict[str, Any]], due: int) -> int:
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": vendor,
        "tickets": args.tickets,
        "machine": machine(),
        "results": results,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
        return 0
    save_report(report, f"{report['date'][:10]}-sla-{vendor}-{args.tickets}.json")
    if args.write_docs and len(results) == 4:
        lines = [
            f"### SLA sweep, {report['database']}, {args.tickets:,} open tickets "
            f"({report['date'][:10]}, {report['machine']['cores']} cores)",
            "",
            "| Benchmark | Result |",
            "|---|---|",
            f"| sweep, none due | p50 {results[0]['p50_ms']} ms, p95 {results[0]['p95_ms']} ms "
            f"({results[0]['n']} runs) |",
            f"| sweep, 1 % due: first batch of 500 | {results[1]['p50_ms']} ms |",
            f"| sweep, 1 % due: all {due:,} | {results[2]['total_ms']} ms in "
            f"{results[2]['sweeps']} sweeps |",
            f"| recompute after a calendar edit | {results[3]['per_ticket_ms']} ms a ticket "
            f"({results[3]['tickets']:,} measured; about {results[3]['projected_all_minutes']} "
            f"min for all, in the background) |",
        ]
        write_docs_section("<!-- sla results -->", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
