"""What a locked-out login sees (django-axes calls this instead of its own English page)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed sign-in attempts. This account is locked on this computer for %(minutes)s "
                "minutes; ask an administrator if you need it sooner.") % {"minutes": minutes}
    return render(request, "security/locked_out.html", {"message": message}, status=429)
