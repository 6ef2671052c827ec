"""``jiesu triage --jsonl``: triage JSON lines from stdin, one JSON line out per line in.

In:  {"id": …, "text": "…", "address": "…"}   (latitude, longitude, channel optional)
Out: {"id", "type", "urgency", "referral", "category", "district", "street", "community", "unit",
      "confidence": {"type", "urgency", "category", "area", "unit"}, "error"}

Areas by their official names (朝阳区, 望京街道), type and urgency by their code names. A line
that cannot be triaged (not JSON, not an object, no text) gets ``error`` and the run goes on.
``jiesu triage --order NUMBER`` triages one recorded order again (and may auto-dispatch it);
``jiesu triage --pending`` every order waiting for dispatch that has no suggestion yet (after
the worker was down, or for a demo database loaded without the worker).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jiesu.triage.engine import TriageInput

MAX_LINE = 200_000


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def triage_line(engine, line: str, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"id": None}
    if len(line) > MAX_LINE:
        return {**out, "line": n, "error": f"line longer than {MAX_LINE} characters"}
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return {**out, "line": n, "error": f"invalid JSON: {exc.msg}"}
    except (ValueError, RecursionError) as exc:
        return {**out, "line": n, "error": f"invalid JSON: {type(exc).__name__}"}
    if not isinstance(data, dict):
        return {**out, "line": n, "error": "not a JSON object"}
    out["id"] = data.get("id")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return {**out, "error": "missing text"}
    address = data.get("address") or ""
    if not isinstance(address, str):
        address = str(address)
    result = engine.triage(TriageInput(text=text, address=address, latitude=_number(data.get("latitude")),
                                       longitude=_number(data.get("longitude")), channel=str(data.get("channel") or "")))
    out.update(result.summary())
    errors = out.pop("errors")
    out["error"] = "; ".join(e["message"] for e in result.errors) if errors else None
    return out


class Command(BaseCommand):
    help = "Triage texts: JSON lines on stdin (--jsonl), or one recorded order again (--order)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", action="store_true", help="read JSON lines from stdin, write JSON lines")
        parser.add_argument("--order", help="triage this recorded order again (it must be waiting for dispatch)")
        parser.add_argument("--pending", action="store_true",
                            help="triage every order waiting for dispatch that has no suggestion yet")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["order"]:
            self._order(options["order"])
            return
        if options["pending"]:
            self._pending()
            return
        if not options["jsonl"]:
            raise CommandError("give --jsonl (JSON lines on stdin), --order NUMBER or --pending")
        from jiesu.dispatch import runtime

        engine = runtime.engine()
        stdin = options.get("stdin") or sys.stdin
        write = self.stdout.write
        for n, raw in enumerate(stdin, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                out = triage_line(engine, line, n)
            except Exception as exc:  # never let one line stop the run
                out = {"id": None, "line": n, "error": f"could not triage: {type(exc).__name__}"}
            write(json.dumps(out, ensure_ascii=False, default=str))
        self.stdout.flush()

    def _order(self, number: str) -> None:
        from jiesu.dispatch.services import triage_order
        from jiesu.orders.models import WorkOrder

        order = WorkOrder.objects.filter(number=number).first()
        if order is None:
            raise CommandError(f"no order {number}")
        suggestion = triage_order(order.pk)
        if suggestion is None:
            raise CommandError(f"order {number} is not waiting for dispatch")
        self.stdout.write(json.dumps({"number": number, "auto_dispatched": suggestion.auto_dispatched,
                                      **suggestion.result}, ensure_ascii=False, default=str))

    def _pending(self) -> None:
        from collections import Counter

        from jiesu.dispatch.services import triage_safely
        from jiesu.orders.models import WorkOrder
        from jiesu.orders.states import State

        ids = list(WorkOrder.objects.filter(state=State.RECEIVED, triage__isnull=True)
                   .order_by("received_at").values_list("pk", flat=True))
        outcomes = Counter(triage_safely(pk) for pk in ids)
        self.stdout.write(json.dumps({"orders": len(ids), **outcomes}))
