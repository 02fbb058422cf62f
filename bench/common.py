"""What every benchmark script shares: the machine record, result files, the docs table."""

from __future__ import annotations

import json
import os
import platform
import socket
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


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
