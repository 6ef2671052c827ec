"""Desk screens: the scorecards (三率) with ranking, flags and drill-down; their Excel and CSV
exports; the printable monthly report; sending the requester a callback link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jiesu import clock
from jiesu.desk.views.actionkit import screen_url
from jiesu.desk.views.common import actor_of, page, staff_required
from jiesu.followup import exports, periods, selectors, services
from jiesu.followup.conf import knob
from jiesu.followup.present import COUNT_LABELS, LEVEL_LABELS, RATE_GROUPS, RATE_LABELS, reasons, text
from jiesu.followup.rates import Card
from jiesu.integrations.models import DeliveryStatus
from jiesu.orders.errors import DomainError

RATE_HEADS = [(name, RATE_LABELS[name]) for name, _parts in RATE_GROUPS]
PERIOD_KINDS = (("month", gettext_lazy("Month")), ("quarter", gettext_lazy("Quarter")), ("year", gettext_lazy("Year")),
                ("day", gettext_lazy("Day")))


# ---------------------------------------------------------------------------------------------
# What the page shows


@dataclass
class Num:
    col: str  # the column id of the exports (rate:…, count:…, score, rank)
    text: str
    url: str = ""
    label: str = ""


@dataclass
class RateCell:
    rate: Num
    counts: list[Num] = field(default_factory=list)


@dataclass
class Row:
    card: Card
    orders: Num
    rates: list[RateCell]
    score: Num
    reasons: list[str]


def _period(request: HttpRequest) -> periods.Period:
    kind = request.GET.get("kind", "")
    raw = request.GET.get("period", "")[:16]
    try:
        period = periods.parse(raw) if raw else periods.containing(kind or "month", clock.now())
    except periods.PeriodError:
        period = periods.containing(kind or "month", clock.now())
    if kind in periods.KINDS and kind != period.kind:
        period = periods.containing(kind, period.bounds()[0])
    return period


def drill_url(card: selectors.Scorecard, key: str, metric: str) -> str:
    query = {"from": card.period.start.isoformat(), "to": card.period.last_day.isoformat(), "metric": metric}
    query["unit" if card.level == "unit" else "area"] = key
    return f"{reverse('desk:orders')}?{urlencode(query)}"


def _rows(card: selectors.Scorecard, cards: list[Card], *, links: bool = True) -> list[Row]:
    out = []
    for c in cards:
        def num(metric: str, c: Card = c) -> Num:
            url = drill_url(card, c.key, metric) if links and c.key else ""
            return Num(f"count:{metric}", str(getattr(c.counts, metric)), url, str(COUNT_LABELS[metric]))

        cells = [RateCell(Num(f"rate:{name}", text(c.rates[name], "rate"), label=str(RATE_LABELS[name])),
                          [num(m) for m in parts]) for name, parts in RATE_GROUPS]
        out.append(Row(card=c, orders=num("orders"), rates=cells, score=Num("score", text(c.score, "score")),
                       reasons=reasons(c)))
    return out


def _scorecard(request: HttpRequest, level: str, period: periods.Period) -> tuple[selectors.Scorecard, list[Card]]:
    scope = selectors.scope_of(actor_of(request))
    if level not in scope.levels:
        raise PermissionDenied
    card = selectors.scorecard(level, period)
    return card, selectors.visible_cards(card, scope)


def _shown(cards: list[Card], show_all: bool) -> list[Card]:
    return cards if show_all else [c for c in cards if c.counts.orders or c.counts.assignments]


def _level(request: HttpRequest) -> str:
    levels = selectors.scope_of(actor_of(request)).levels
    if not levels:
        raise PermissionDenied
    level = request.GET.get("level", "")
    return level if level in levels else levels[0]


def _notes(card: selectors.Scorecard) -> list[str]:
    c = card.config
    return [
        _("Orders received from %(start)s to %(end)s (Beijing time); counted at %(at)s.") % {
            "start": card.period.start.isoformat(), "end": card.period.last_day.isoformat(),
            "at": card.as_of.astimezone(periods.SHANGHAI).strftime("%Y-%m-%d %H:%M")},
        _("Score = 100 × (%(r)s × response + %(s)s × resolution + %(t)s × satisfaction), over the rates "
          "that have data; partly solved counts %(p)s, basically satisfied counts %(b)s.") % {
            "r": c.response_weight, "s": c.resolution_weight, "t": c.satisfaction_weight,
            "p": c.partly_weight, "b": c.basic_weight},
    ]


@require_GET
@staff_required("scorecards")
def scorecards(request: HttpRequest) -> HttpResponse:
    level = _level(request)
    period = _period(request)
    card, cards = _scorecard(request, level, period)
    show_all = request.GET.get("all") == "1"
    shown = _shown(cards, show_all)
    scope = selectors.scope_of(actor_of(request))
    query = {"level": level, "period": period.key, **({"all": "1"} if show_all else {})}
    return page(request, "followup/scorecards.html", {
        "card": card, "rows": _rows(card, shown), "hidden": len(cards) - len(shown), "show_all": show_all,
        "levels": [(k, LEVEL_LABELS[k]) for k in scope.levels], "level": level, "level_label": LEVEL_LABELS[level],
        "period": period, "kinds": PERIOD_KINDS,
        "prev": urlencode({**query, "period": period.shift(-1).key}),
        "next": urlencode({**query, "period": period.shift(1).key}),
        "export_query": urlencode(query),
        "flagged": [(c, reasons(c)) for c in cards if c.flagged],
        "total": _rows(card, [card.total], links=False)[0] if card.total and scope.all else None,
        "notes": _notes(card), "rate_heads": RATE_HEADS,
    }, screen="scorecards")


@require_GET
@staff_required("scorecards")
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    level = _level(request)
    period = _period(request)
    card, cards = _scorecard(request, level, period)
    shown = _shown(cards, request.GET.get("all") == "1")
    name = f"scorecard-{level}-{period.key}"
    if fmt == "xlsx":
        body = exports.xlsx([(str(LEVEL_LABELS[level]), shown)], notes=_notes(card))
        response = HttpResponse(body, content_type=exports.XLSX)
    elif fmt == "csv":
        response = HttpResponse(exports.csv_text(shown), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# ---------------------------------------------------------------------------------------------
# The monthly report

REPORT_TOP = 10


def _month(value: str) -> periods.Period:
    try:
        period = periods.parse(value)
    except periods.PeriodError:
        raise Http404 from None
    if period.kind != "month":
        raise Http404
    return period


def _report_tables(request: HttpRequest, period: periods.Period) -> dict[str, Any]:
    scope = selectors.scope_of(actor_of(request))
    if not scope.all:
        raise PermissionDenied  # the city's report: centre staff (analysts, supervisors) and admins
    tables = {level: selectors.scorecard(level, period) for level in ("district", "street", "unit")}
    active = {level: [c for c in t.cards if c.counts.orders] for level, t in tables.items()}
    return {"tables": tables, "active": active}


@require_GET
@staff_required("scorecards")
def report(request: HttpRequest, month: str) -> HttpResponse:
    period = _month(month)
    data = _report_tables(request, period)
    t, active = data["tables"], data["active"]
    ranked_streets = [c for c in active["street"] if c.rank is not None]
    ranked_units = [c for c in active["unit"] if c.rank is not None]
    sections = [
        ("districts", _("District ranking"), _rows(t["district"], active["district"])),
        ("flagged", _("Streets and townships for remedial governance (治理类街乡)"),
         _rows(t["street"], t["street"].flagged)),
        ("streets-top", _("Best streets and townships"), _rows(t["street"], ranked_streets[:REPORT_TOP])),
        ("units-top", _("Best units"), _rows(t["unit"], ranked_units[:REPORT_TOP])),
        ("units-bottom", _("Units at the bottom"), _rows(t["unit"], ranked_units[-REPORT_TOP:][::-1])),
    ]
    return page(request, "followup/report.html", {
        "period": period, "total": _rows(t["district"], [t["district"].total], links=False)[0],
        "sections": sections, "notes": _notes(t["district"]), "rate_heads": RATE_HEADS,
        "flag_rule": t["street"].config.flag,
        "printed": clock.now(),
    }, screen="scorecards")


@require_GET
@staff_required("scorecards")
def report_xlsx(request: HttpRequest, month: str) -> HttpResponse:
    period = _month(month)
    data = _report_tables(request, period)
    sheets = [(str(LEVEL_LABELS[level]), data["active"][level]) for level in ("district", "street", "unit")]
    body = exports.xlsx(sheets, notes=_notes(data["tables"]["district"]))
    response = HttpResponse(body, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="scorecard-report-{period.key}.xlsx"'
    return response


# ---------------------------------------------------------------------------------------------
# The callback link


@require_POST
@staff_required("supervise")
def send_link(request: HttpRequest, number: str) -> HttpResponse:
    actor = actor_of(request)
    channel = request.POST.get("channel", "")
    base = str(knob("PUBLIC_BASE_URL") or "") or request.build_absolute_uri("/")
    try:
        row = services.send_callback_link(actor=actor, number=number[:20], channel=channel, base_url=base,
                                          to=request.POST.get("to", "")[:254])
    except DomainError as err:
        messages.error(request, str(err))
    else:
        row.refresh_from_db()  # the first try ran when the service's transaction committed
        if row.status == DeliveryStatus.FAILED or row.last_error:
            messages.error(request, _("The link could not be sent: %(error)s") % {"error": row.last_error[:200]})
        else:
            messages.success(request, _("Callback link for %(number)s sent (%(channel)s).") % {
                "number": number, "channel": "SMS" if channel == "sms" else _("e-mail")})
    return redirect(screen_url("supervise", number, "callback"))
