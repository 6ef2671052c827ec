"""Domain errors. Each carries a stable code and a translatable message, so that the desk shows
it in the user's language and the API answers ``{"code": …, "message": …}``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: Any, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class IllegalTransition(DomainError):
    code = "illegal_transition"
    status = 409


class ChangedMeanwhile(DomainError):
    """The caller decided on an older version of the order (jiesu.orders.concurrency)."""

    code = "changed"
    status = 409


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class InvalidInput(DomainError):
    code = "invalid"
    status = 422

    def __init__(self, message: Any, *, field: str = "", **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class NotFound(DomainError):
    code = "not_found"
    status = 404


def illegal(source: str, action: Any) -> IllegalTransition:
    return IllegalTransition(_("This order is %(state)s; it cannot be %(action)s now."), state=source, action=action)
