"""Service-definition attributes: reading ``attribute[CODE]`` form fields and checking them
against the definition (pure Python; the caller translates the problems it gets back).

A problem is ``(kind, code, detail)``; kinds: ``required``, ``unknown``, ``not_a_number``,
``not_a_datetime``, ``not_in_list``, ``too_long``, ``one_value``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from jiesu.open311 import w3c

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
MAX_STRING = 255
MAX_TEXT = 4000

_FIELD = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")


@dataclass(frozen=True)
class AttributeRule:
    code: str
    datatype: str
    required: bool = False
    variable: bool = True
    keys: tuple[str, ...] = field(default=())


Problem = tuple[str, str, str]


def from_form(items: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """``attribute[WHISHETN]=123`` and ``attribute[COLORS][]=r&attribute[COLORS][]=g`` →
    ``{"WHISHETN": ["123"], "COLORS": ["r", "g"]}``; empty values count as absent."""
    found: dict[str, list[str]] = {}
    for name, values in items:
        match = _FIELD.match(name)
        if match:
            kept = [v.strip() for v in values if v.strip()]
            if kept:
                found.setdefault(match[1], []).extend(kept)
    return found


def check(rules: Iterable[AttributeRule], given: dict[str, list[str]]) -> tuple[dict[str, str | list[str]], list[Problem]]:
    """The clean values (list types as lists, the rest as one string) and the problems."""
    by_code = {r.code: r for r in rules if r.variable}
    problems: list[Problem] = []
    clean: dict[str, str | list[str]] = {}
    for code in given:
        if code not in by_code:
            problems.append(("unknown", code, ""))
    for code, rule in by_code.items():
        values = given.get(code, [])
        if not values:
            if rule.required:
                problems.append(("required", code, ""))
            continue
        if rule.datatype == "multivaluelist":
            wrong = [v for v in values if v not in rule.keys]
            if wrong:
                problems.append(("not_in_list", code, wrong[0]))
            else:
                clean[code] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            problems.append(("one_value", code, ""))
            continue
        value = values[0]
        problem = _check_one(rule, value)
        if problem:
            problems.append((problem, code, value[:40]))
        else:
            clean[code] = value
    return clean, problems


def _check_one(rule: AttributeRule, value: str) -> str | None:
    if rule.datatype == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return "not_a_number"
        return None if number.is_finite() else "not_a_number"
    if rule.datatype == "datetime":
        try:
            w3c.parse(value)
        except w3c.BadDatetime:
            return "not_a_datetime"
        return None
    if rule.datatype == "singlevaluelist":
        return None if value in rule.keys else "not_in_list"
    limit = MAX_TEXT if rule.datatype == "text" else MAX_STRING
    return "too_long" if len(value) > limit else None
