"""The REST API object. Each app adds its own router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Deskside API", version="1", urls_namespace="api")
