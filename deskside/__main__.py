"""``python -m deskside`` is the same as the ``deskside`` command."""

from __future__ import annotations

from deskside.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
