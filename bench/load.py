"""One HTTP load generator for every benchmark, whichever system is behind the port.

``run_load`` sends ``total`` requests from ``concurrency`` threads, each with its own
keep-alive ``http.client`` connection, after a few warm-up requests, and reports requests
per second, latency percentiles and errors. A request is built by a callable
``make(index, client) -> (method, path, headers, body)``, so the same generator drives
Deskside and the peer with each system's own URLs, authentication and bodies.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Request = tuple[str, str, dict[str, str], bytes]
MakeRequest = Callable[[int, int], Request]
# How a request on a kept-alive connection that the server already closed fails.
STALE = (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "p99_ms": round(percentile(samples_ms, 99), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2) if samples_ms else float("nan"),
    }


def wait_until_up(base_url: str, path: str = "/", *, timeout: float = 90) -> None:
    """Return once ``base_url + path`` answers at all (any HTTP status counts as up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + path, timeout=2)  # noqa: S310  (loopback)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{base_url} did not answer within {timeout:.0f} s")


def run_load(
    base_url: str,
    make: MakeRequest,
    *,
    total: int,
    concurrency: int,
    warmup: int = 5,
    ok: tuple[int, ...] = (200, 201),
    label: str = "",
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """``total`` requests from ``concurrency`` keep-alive clients; rate, latency, errors.

    Warm-up requests (``warmup`` per client, built with negative indexes so they never
    collide with the timed ones) are sent before the clock starts and are not counted.
    A response whose status is not in ``ok``, or a failed connection, is an error; the
    client reconnects and goes on. With ``max_seconds``, no client starts a request after
    that long, so a slow system is measured on fewer requests (``n`` says how many).
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors: list[str] = []
    reconnects = 0
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    shares = [
        total // concurrency + (1 if n < total % concurrency else 0) for n in range(concurrency)
    ]
    offsets = [sum(shares[:n]) for n in range(concurrency)]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)

        used = False  # whether the connection has carried a request (keep-alive)

        def send(index: int) -> tuple[str, float]:
            """One request; returns what went wrong ("" if nothing) and milliseconds.

            A kept-alive connection the server closed meanwhile (gunicorn closes idle ones
            after 2 s) fails before any answer; like any HTTP client with a connection
            pool, the request is sent again once on a new connection (counted in
            ``reconnects``; the time includes both tries).
            """
            nonlocal connection, used, reconnects
            method, path, headers, body = make(index, number)
            started = time.perf_counter()
            for attempt in (1, 2):
                try:
                    connection.request(method, path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    break
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    connection = http.client.HTTPConnection(host, port, timeout=60)
                    stale = isinstance(exc, STALE) and used and attempt == 1
                    used = False
                    if not stale:
                        elapsed = (time.perf_counter() - started) * 1000
                        return f"{type(exc).__name__}: {exc}", elapsed
                    with lock:
                        reconnects += 1
            used = not response.will_close
            if response.will_close:
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            return ("" if response.status in ok else f"HTTP {response.status}"), elapsed

        for warm in range(warmup):
            send(-1 - warm - number * warmup)
        start.wait()
        stop = time.perf_counter() + max_seconds if max_seconds else float("inf")
        mine = []
        for index in range(offsets[number], offsets[number] + shares[number]):
            if time.perf_counter() > stop:
                break
            problem, elapsed = send(index)
            mine.append(elapsed)
            if problem:
                with lock:
                    errors.append(problem)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    result: dict[str, Any] = {
        "name": label,
        "concurrency": concurrency,
        "requests_per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "errors": len(errors),
        "reconnects": reconnects,
        **summarise(latencies),
    }
    if errors:
        result["first_error"] = errors[0]
    if len(latencies) < total:
        result["stopped_after_seconds"] = max_seconds
    return result
