"""Domain errors of the legal services, in the shape of jiesu.orders.errors (a code, an HTTP
status and a translatable message), so that the desk, the portal and the API answer them alike."""

from __future__ import annotations

from jiesu.orders.errors import DomainError, IllegalTransition, InvalidInput, NotAllowed, NotFound


class SlotFull(DomainError):
    code = "slot_full"
    status = 409


class WrongState(IllegalTransition):
    code = "illegal_transition"


__all__ = ["DomainError", "IllegalTransition", "InvalidInput", "NotAllowed", "NotFound", "SlotFull", "WrongState"]
