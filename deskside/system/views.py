"""Health endpoint for load balancers and monitoring."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deskside.system.health import run_checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database, job queue and disk are all fine; 503 naming what is not."""
    checks = run_checks()
    healthy = all(result["ok"] for result in checks.values())
    body = {
        "status": "ok" if healthy else "failing",
        "checked_at": timezone.now().isoformat(),
        "checks": checks,
    }
    return JsonResponse(body, status=200 if healthy else 503)
