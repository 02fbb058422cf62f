"""Search over tickets: one interface, with SQLite FTS5 and PostgreSQL full-text backends.

Import from :mod:`deskside.search.interface`; this package stays empty so importing it
never touches models before Django is ready.
"""

from __future__ import annotations
