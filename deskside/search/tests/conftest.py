from __future__ import annotations

from deskside.search.tests.helpers import desk  # noqa: F401  (fixture)
