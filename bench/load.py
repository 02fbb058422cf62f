"""One HTTP load generator for every benchmark, whichever system is behind the port.

``run_load`` sends ``total`` requests over ``concurrency`` keep-alive connections, after a
few warm-up requests, and reports requests per second, latency percentiles and errors. A
request is built by a callable ``make(index, client) -> (method, path, headers, body)``,
so the same generator drives Deskside and the peer with each system's own URLs,
authentication and bodies.

The requests are built here, in Python, and sent by ``wrk`` (a load generator written in
C, Debian's package ``wrk``), which a generated Lua script feeds with them. The first
generator sent them from Python threads with ``http.client``; on 2 cores, which also run
the server and PostgreSQL, it held Deskside's creation rate down by about a quarter
(alternating runs against one server: 266 to 289 req/s from Python threads, 383 to 400 req/s
from wrk; docs/benchmarks.md), so it measured itself as much as the server.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Request = tuple[str, str, dict[str, str], bytes]
MakeRequest = Callable[[int, int], Request]
WRK = os.environ.get("BENCH_WRK", "wrk")
# Most threads wrk uses (each runs an event loop over its share of the connections); two,
# one per core, as the machine has.
WRK_THREADS = 2
# How long one request may take before wrk counts it as timed out (the peer's slowest
# page at 1M tickets takes about 11 s).
REQUEST_TIMEOUT_SECONDS = 120


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


def wrk_version() -> str:
    """What ``wrk -v`` says of itself, or why it cannot run."""
    if shutil.which(WRK) is None:
        return "missing"
    found = subprocess.run([WRK, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (found.stdout or found.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def require_wrk() -> None:
    """Stop with a plain instruction when wrk cannot be run."""
    if shutil.which(WRK) is None:
        raise SystemExit(
            f"The load generator '{WRK}' is missing. Install it with 'apt-get install wrk' "
            "(or point BENCH_WRK at it), then run the benchmark again."
        )


def _lua_string(value: str | bytes) -> str:
    """A Lua string literal holding exactly ``value``'s bytes (CR and LF included)."""
    data = value.encode() if isinstance(value, str) else value
    out = []
    for byte in data:
        if 32 <= byte < 127 and byte not in (34, 92):  # printable, not " or \
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _script(
    requests: list[Request], *, threads: int, ok: tuple[int, ...], max_seconds: float | None
) -> str:
    """The Lua script that has wrk send ``requests``, each once, and report the results.

    Thread ``t`` sends requests ``t``, ``t + threads``, ...; it stops once all its own have
    been answered, or (with ``max_seconds``) at its first answer after that long. The
    ``done`` hook prints one JSON line that :func:`run_load` reads back.
    """
    entries = []
    for method, path, headers, body in requests:
        header_table = ", ".join(
            f"[{_lua_string(name)}] = {_lua_string(value)}" for name, value in headers.items()
        )
        entries.append(
            f"{{{_lua_string(method)}, {_lua_string(path)}, {{{header_table}}}, "
            f"{_lua_string(body) if body else 'nil'}}}"
        )
    ok_table = ", ".join(f"[{status}] = true" for status in ok)
    deadline = "nil" if max_seconds is None else repr(float(max_seconds))
    return (
        "local requests = {\n" + ",\n".join(entries) + "\n}\n"
        f"local ok = {{{ok_table}}}\n"
        f"local threads = {threads}\n"
        f"local max_seconds = {deadline}\n" + _LUA_BODY
    )


# Thread ``id`` (numbered by ``setup``) sends its share; the first request of a spare
# connection (more connections than requests) repeats its share's last one, uncounted.
# A thread stops itself once its share is answered or the time is up; the last thread to
# stop sends wrk SIGINT, which ends wrk's run at once instead of at ``-d``. Times come
# from clock_gettime through LuaJIT's FFI (Debian's wrk 4.1 has no wrk.time_us).
_LUA_BODY = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } deskside_timespec;
int clock_gettime(int clock, deskside_timespec *tp);
int getpid(void);
int kill(int pid, int sig);
]]
local clock = ffi.new("deskside_timespec")
local function now()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local all_threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(all_threads, thread)
end

local mine, next_one, started, finished_file, stopped
errors, first_error, answered = 0, "", 0
function init(args)
  finished_file = args[1]
  mine = {}
  for i = id + 1, #requests, threads do table.insert(mine, requests[i]) end
  next_one, started, stopped = 1, now(), false
end

function request()
  local r = mine[math.min(next_one, #mine)]
  next_one = next_one + 1
  return wrk.format(r[1], r[2], r[3], r[4])
end

local function finish()
  stopped = true
  wrk.thread:stop()
  local out = io.open(finished_file, "a")
  out:write("x\n")
  out:close()
  local count = 0
  for _ in io.lines(finished_file) do count = count + 1 end
  if count >= threads then ffi.C.kill(ffi.C.getpid(), 2) end
end

function response(status, headers, body)
  if stopped then return end
  answered = answered + 1
  if not ok[status] then
    errors = errors + 1
    if first_error == "" then first_error = "HTTP " .. status end
  end
  if answered >= #mine or (max_seconds and now() - started >= max_seconds) then finish() end
end

function done(summary, latency, requests_done)
  local errors_total, answered_total, first = 0, 0, ""
  for _, thread in ipairs(all_threads) do
    errors_total = errors_total + (thread:get("errors") or 0)
    answered_total = answered_total + (thread:get("answered") or 0)
    if first == "" then first = thread:get("first_error") or "" end
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.timeout
  if first == "" and socket > 0 then first = "connection errors" end
  io.write(string.format(
    '\nWRK-RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"first_error": "%s"}\n',
    answered_total, summary.duration, errors_total, socket, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.mean, first))
end
"""


def _warm_up(host: str, port: int, make: MakeRequest, concurrency: int, warmup: int) -> None:
    """``warmup`` requests per client, sequentially, on one keep-alive connection (not timed).

    Built with negative indexes, so they never collide with the timed ones."""
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        for number in range(concurrency):
            for warm in range(warmup):
                method, path, headers, body = make(-1 - warm - number * warmup, number)
                connection.request(method, path, body=body or None, headers=headers)
                connection.getresponse().read()
    finally:
        connection.close()


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
    """``total`` requests over ``concurrency`` keep-alive connections; rate, latency, errors.

    Request ``index`` (0 to ``total - 1``) is ``make(index, index % concurrency)``, so
    the requests spread evenly over the clients' credentials. Warm-up requests (``warmup``
    per client) are sent before the clock starts and are not counted. A response whose
    status is not in ``ok``, or a failed connection, is an error (wrk reconnects and goes
    on). With ``max_seconds``, wrk stops at its first answer after that long (to the
    millisecond, per wrk thread), so a slow system is measured on fewer requests (``n``
    says how many).
    """
    require_wrk()
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if warmup:
        _warm_up(host, port, make, concurrency, warmup)
    threads = min(WRK_THREADS, concurrency, total)
    requests = [make(index, index % concurrency) for index in range(total)]
    limit = (max_seconds or 3600) + REQUEST_TIMEOUT_SECONDS
    with tempfile.TemporaryDirectory(prefix="deskside-wrk-") as work:
        script = os.path.join(work, "load.lua")
        finished = os.path.join(work, "finished")
        with open(script, "w", encoding="ascii") as out:
            out.write(_script(requests, threads=threads, ok=ok, max_seconds=max_seconds))
        command = [
            *(WRK, "-t", str(threads), "-c", str(concurrency), "-d", f"{math.ceil(limit)}s"),
            *("--timeout", f"{REQUEST_TIMEOUT_SECONDS}s", "-s", script, base_url, "--", finished),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = [line for line in done.stdout.splitlines() if line.startswith("WRK-RESULT ")]
    if done.returncode != 0 or not found:
        raise SystemExit(
            f"wrk failed ({label or base_url}, exit code {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-600:]}"
        )
    figures = json.loads(found[-1].removeprefix("WRK-RESULT "))
    seconds = figures["duration_us"] / 1e6
    errors = figures["status_errors"] + figures["socket_errors"]
    result: dict[str, Any] = {
        "name": label,
        "concurrency": concurrency,
        "requests_per_second": round(figures["requests"] / seconds, 1) if seconds else 0.0,
        "errors": errors,
        "n": figures["requests"],
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p95_ms": round(figures["p95_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "mean_ms": round(figures["mean_us"] / 1000, 2),
        "generator": "wrk",
    }
    if errors:
        result["first_error"] = figures["first_error"] or "errors"
    if figures["requests"] < total:
        result["stopped_after_seconds"] = max_seconds
    return result
