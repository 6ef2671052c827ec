"""Open311 errors: the HTTP status is 404 (no such resource), 403 (missing or wrong api_key)
or 400 (everything else), and the body is the spec's list of ``code`` + ``description``."""

from __future__ import annotations

from typing import Any


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: Any) -> None:
        super().__init__(status, descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions]

    def errors(self) -> list[tuple[int, str]]:
        return [(self.status, d) for d in self.descriptions]


def bad_request(*descriptions: Any) -> Open311Error:
    return Open311Error(400, *descriptions)


def not_found(*descriptions: Any) -> Open311Error:
    return Open311Error(404, *descriptions)


def forbidden(*descriptions: Any) -> Open311Error:
    return Open311Error(403, *descriptions)
