"""What every benchmark script shares: the machine record, result files, the docs table."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, Python and the OS: what a figure was measured on."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def source_commit() -> str:
    """The checked-out commit, read from .git's files (no git command needed), or ''."""
    git = ROOT / ".git"
    with contextlib.suppress(OSError):
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        common = git
        with contextlib.suppress(OSError):
            common = (git / (git / "commondir").read_text().strip()).resolve()
        for base in (git, common):
            with contextlib.suppress(OSError):
                return (base / ref).read_text().strip()
            with contextlib.suppress(OSError):
                for line in (base / "packed-refs").read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
    return ""


def median_spread(values: list[float], digits: int = 1) -> dict[str, Any]:
    """The median of several runs with their spread (min and max) and every value."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(value, digits) for value in values],
    }


def rss_mb(pid: int) -> float | None:
    """Resident memory (VmRSS) of one process in MB, or None if it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc, so no extra package is needed)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            # The command name may hold spaces or brackets; fields follow the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return sorted(children)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def save_report(report: dict[str, Any], name: str) -> None:
    """Write ``report`` to bench/results/<name> and say where."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(f"Results written to bench/results/{name}")


def write_docs_section(marker: str, lines: list[str]) -> None:
    """Put ``lines`` right after ``marker`` in docs/benchmarks.md (newest results first).

    A marker not yet in the file is added just before the general ``<!-- results -->``.
    """
    text = DOC.read_text()
    if marker not in text:
        text = text.replace("<!-- results -->", marker + "\n\n<!-- results -->", 1)
    head, _sep, tail = text.partition(marker)
    DOC.write_text(head + marker + "\n\n" + "\n".join(lines) + "\n" + tail)
