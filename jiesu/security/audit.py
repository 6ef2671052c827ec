"""Admin actions are logged: Django's admin records every add, change and delete in its
LogEntry table; ``audited`` does the same for a custom admin action (bulk change), which Django
does not log by itself. tests/test_audit.py fails for any admin action that is not audited."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType


def audited(action: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(action)
    def wrapped(modeladmin, request, queryset):
        objects = list(queryset)
        result = action(modeladmin, request, queryset)
        content_type = ContentType.objects.get_for_model(queryset.model)
        LogEntry.objects.bulk_create([
            LogEntry(user_id=request.user.pk, content_type=content_type, object_id=str(obj.pk),
                     object_repr=str(obj)[:200], action_flag=CHANGE,
                     change_message=f'[{{"changed": {{"fields": ["action: {action.__name__}"]}}}}]')
            for obj in objects
        ])
        return result

    wrapped.audited = True  # type: ignore[attr-defined]
    wrapped.short_description = getattr(action, "short_description", None)  # type: ignore[attr-defined]
    return wrapped
