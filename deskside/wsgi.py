"""WSGI entry point, served by gunicorn through ``deskside serve``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskside.settings")
application = get_wsgi_application()
