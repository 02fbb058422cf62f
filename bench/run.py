"""Run Deskside's benchmarks against a seeded desk and report p50/p95 and throughput.

    python bench/run.py [--requests 60] [--create 400] [--write-docs]

Page timings are measured in process through Django's test client (server time: URL
routing, middleware, queries and template rendering, without network), as an agent who sees
every ticket. Ticket creation is measured over real HTTP against `deskside serve` (gunicorn,
2 workers) with 1 and 16 concurrent clients, each with its own API token.
Results go to bench/results/<date>-<vendor>-<tickets>.json and, with --write-docs, into the
table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, machine, save_report, write_docs_section  # noqa: E402
from bench.load import run_load, summarise, wait_until_up  # noqa: E402


def time_requests(label: str, fetch: Callable[[int], int], count: int) -> dict[str, Any]:
    for warm in range(5):
        fetch(warm)
    samples = []
    for index in range(count):
        started = time.perf_counter()
        status = fetch(index)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{label}: got HTTP {status}; is the desk seeded?")
    result = {"name": label, **summarise(samples)}
    print(f"  {label:<28} p50 {result['p50_ms']:>8.2f} ms   p95 {result['p95_ms']:>8.2f} ms")
    return result


def page_benchmarks(count: int) -> list[dict[str, Any]]:
    from django.test import Client

    from deskside.accounts.models import Role, User
    from deskside.tickets.models import Ticket

    viewer = User.objects.filter(role=Role.IT_MANAGER, is_active=True).first()
    if viewer is None:
        from deskside.accounts.services import person_create

        viewer = person_create(
            email="bench.manager@bench.example", full_name="Bench Manager", role=Role.IT_MANAGER
        )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(viewer)
    newest = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rng = random.Random(7)  # noqa: S311  (benchmark sampling)
    ids = [rng.randint(max(1, newest - 100_000), newest) for _ in range(count + 5)]
    words = ["printer", "password", "vpn", "invoice", "laptop", "outlook", "scanner", "backup"]
    return [
        time_requests(
            "queue first page",
            lambda i: client.get("/console/tickets/?queue=all").status_code,
            count,
        ),
        time_requests(
            "queue filtered (P2, open)",
            lambda i: client.get("/console/tickets/?priority=2&kind=open").status_code,
            count,
        ),
        time_requests(
            "ticket page",
            lambda i: client.get(f"/console/tickets/{ids[i]}/").status_code,
            count,
        ),
        time_requests(
            "search one word",
            lambda i: client.get(f"/console/search/?q={words[i % len(words)]}").status_code,
            count,
        ),
    ]


def creation_benchmarks(total: int) -> list[dict[str, Any]]:
    from deskside.accounts.models import Role
    from deskside.accounts.services import api_token_create, person_create

    stamp = int(time.time())
    tokens = []
    for index in range(16):
        person = person_create(
            email=f"bench.api{index}.{stamp}@bench.example",
            full_name=f"Bench Integration {index}",
            role=Role.AGENT,
        )
        _token, raw = api_token_create(user=person, name="bench", scope="write")
        tokens.append(raw)
    port = free_port()
    env = {**os.environ, "DESKSIDE_API_RATE_LIMIT": "1000000"}
    server = subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "deskside", "serve", "--no-worker", "--port", str(port),
         "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, "/healthz")  # a 503 only says the (absent) worker is missing
        results = []
        for concurrency in (1, 16):
            result = run_load(
                base,
                create_request(tokens),
                total=total,
                concurrency=concurrency,
                warmup=0,
                label=f"create ticket over HTTP, concurrency {concurrency}",
            )
            print(
                f"  {result['name']:<42} {result['requests_per_second']:>7.1f} req/s   "
                f"p95 {result['p95_ms']:.1f} ms   errors {result['errors']}"
            )
            results.append(result)
        return results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def create_request(
    tokens: list[str],
) -> Callable[[int, int], tuple[str, str, dict[str, str], bytes]]:
    """POST /api/v1/tickets as client ``client``, each client with its own API token."""

    def make(index: int, client: int) -> tuple[str, str, dict[str, str], bytes]:
        body = json.dumps(
            {"subject": f"Benchmark ticket {client}-{index}",
             "description": "The printer on floor 3 jams on every page since Monday."}
        )  # fmt: skip
        headers = {
            "Authorization": f"Bearer {tokens[client % len(tokens)]}",
            "Content-Type": "application/json",
        }
        return "POST", "/api/v1/tickets", headers, body.encode()

    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--create", type=int, default=400, help="tickets created per level")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--pages-only", action="store_true", help="skip the HTTP creation run")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")
    import django

    django.setup()
    from django.db import connection

    from deskside.tickets.models import Message, Ticket

    tickets, messages = Ticket.objects.count(), Message.objects.count()
    print(f"Deskside benchmarks on {connection.vendor} with {tickets:,} tickets, "
          f"{messages:,} messages")  # fmt: skip
    results = page_benchmarks(args.requests)
    if not args.pages_only:
        results += creation_benchmarks(args.create)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "tickets": tickets,
        "messages": messages,
        "machine": machine(),
        "results": results,
    }
    save_report(report, f"{report['date'][:10]}-{connection.vendor}-{tickets}.json")
    if args.write_docs:
        write_docs(report)
    return 0


def write_docs(report: dict[str, Any]) -> None:
    lines = [
        f"### {report['database']}, {report['tickets']:,} tickets, {report['messages']:,} "
        f"messages ({report['date'][:10]}, {report['machine']['cores']} cores)",
        "",
        "| Benchmark | p50 ms | p95 ms | p99 ms | req/s | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        lines.append(
            f"| {row['name']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
            f"{row.get('requests_per_second', '')} | {row.get('errors', '')} |"
        )
    write_docs_section("<!-- results -->", lines)


if __name__ == "__main__":
    raise SystemExit(main())
