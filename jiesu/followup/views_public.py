"""The requester's callback page, opened from the signed link in an SMS or e-mail (no login):
the unit's reply and the same three questions as the phone script."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from jiesu import clock
from jiesu.followup import links, services
from jiesu.orders.errors import DomainError
from jiesu.orders.models import WorkOrder
from jiesu.portal.forms import CallbackAnswerForm
from jiesu.security.ratelimit import rate_limit

STATUS = {"invalid": 404, "expired": 410, "used": 410}


AnswerForm = CallbackAnswerForm


def _refused(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "followup/link_refused.html", {"code": code}, status=STATUS[code])


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limit("callback_link", methods=None)
def answer(request: HttpRequest, number: str, token: str) -> HttpResponse:
    order = WorkOrder.objects.filter(number=number[:20]).first()
    if order is None:
        return _refused(request, "invalid")
    try:
        grant = links.check(order, token[:500], now=clock.now())
    except links.LinkError as err:
        return _refused(request, err.code)
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.answer_by_link(number=order.number, token=token[:500], contacted=d["contacted"] == "yes",
                                        resolution=d["resolution"], satisfaction=d["satisfaction"],
                                        comment=d["comment"])
            except links.LinkError as err:
                return _refused(request, err.code)
            except DomainError as err:
                form.add_domain_error(err)
            else:
                return render(request, "followup/link_thanks.html", {"order": order})
        status = 422
    else:
        form = AnswerForm()
    replies = list(order.replies.select_related("assignment__unit").order_by("created_at", "id"))
    return render(request, "followup/link_answer.html",
                  {"order": order, "form": form, "replies": replies, "overdue": grant.overdue_id is not None},
                  status=status)
