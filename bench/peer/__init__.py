"""The django-helpdesk 2.6.1 peer for Deskside's side-by-side benchmarks.

:class:`bench.peer.driver.Peer` installs it from PyPI into ``.bench/peer/venv``,
configures it (``bench/peer/site/``), seeds it with bench/seed.py's text, serves it and
runs its workloads. Nothing of the peer itself is committed.

    from bench.peer.driver import Peer
"""

from __future__ import annotations
