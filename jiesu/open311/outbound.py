"""Jiesu as an Open311 client of units' own case systems (like FixMyStreet's send methods).

On dispatch to a unit with an enabled ``UnitLink``, an ``Outbound`` row is made for the
assignment and a task POSTs the request to the unit's ``requests.xml`` (XML: the one format
every GeoReport v2 server must speak). Connection failures and 5xx answers are retried with
exponential back-off; a 4xx answer is final (an admin fixes the link and sends again). The
poll reads the unit's ``servicerequestupdates`` (or ``requests`` by id) and records the unit's
progress through the order actions: accepted, replied, returned.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import requests
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.db import connection, transaction

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.open311 import statuses, w3c
from jiesu.open311.errors import Open311Error
from jiesu.open311.models import Outbound, PollMode, SendState, UnitLink
from jiesu.open311.services import MAX_DESCRIPTION, record_unit_progress
from jiesu.orders.models import Assignment, AssignmentState

log = logging.getLogger("jiesu.open311")
TIMEOUT = (5, 30)  # connect, read (seconds)
MAX_SEEN = 500


class RemoteError(Exception):
    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def _conf(name: str) -> int:
    jiesu: dict[str, Any] = settings.JIESU
    return int(jiesu.get("OPEN311", {}).get(name, {"SEND_ATTEMPTS": 6, "RETRY_SECONDS": 60}[name]))


def plan_sends(*, order_id: int) -> list[int]:
    """Outbound rows for the order's live assignments to linked units (idempotent: one row per
    assignment, ever). Returns the ids of the rows made now."""
    made: list[int] = []
    if not _any_linked(order_id):
        return made  # the common case, after every dispatch: one cheap read, no transaction
    live = list(Assignment.objects.filter(order_id=order_id, state=AssignmentState.DISPATCHED,
                                          unit__open311_link__enabled=True)
                .exclude(open311_outbound__isnull=False).select_related("unit__open311_link"))
    if not live:
        return made
    now = clock.now()
    with transaction.atomic():
        for assignment in live:
            row, created = Outbound.objects.get_or_create(
                assignment=assignment,
                defaults={"link": assignment.unit.open311_link, "created_at": now, "next_attempt_at": now},
            )
            if created:
                made.append(row.pk)
    return made


def _any_linked(order_id: int) -> bool:
    """Whether a dispatched assignment of the order went to a unit with an enabled link."""
    return bool(linked_orders([order_id]))


def linked_orders(order_ids: list[int]) -> list[int]:
    """Those of the orders with a dispatched assignment to a unit with an enabled link, in one
    query. Plain SQL: this runs after every dispatch and almost always answers none, and
    building the ORM's query with its joins and the reverse-relation exclusion cost more than
    the database's answer (about a sixth of an intake request's CPU, bench/profile_intake.py)."""
    if not order_ids:
        return []
    q = connection.ops.quote_name
    assignments, links = q(Assignment._meta.db_table), q(UnitLink._meta.db_table)
    marks = ", ".join(["%s"] * len(order_ids))
    with connection.cursor() as cursor:
        cursor.execute(  # our own table and column names; the values are parameters
            f"SELECT DISTINCT a.{q('order_id')} FROM {assignments} a JOIN {links} l "  # noqa: S608
            f"ON l.{q('unit_id')} = a.{q('unit_id')} WHERE a.{q('order_id')} IN ({marks}) AND a.{q('state')} = %s "
            f"AND l.{q('enabled')}", [*order_ids, AssignmentState.DISPATCHED.value])
        return sorted(row[0] for row in cursor.fetchall())


def _form(row: Outbound) -> dict[str, str]:
    order = row.assignment.order
    link = row.link
    form = {
        "api_key": link.api_key,
        "service_code": link.remote_code(order.category.code if order.category else None) or "",
        # The 12345 number leads, so that the unit's staff can quote it back.
        "description": f"[12345 {order.number}] {order.content}"[:MAX_DESCRIPTION],
    }
    if link.jurisdiction_id:
        form["jurisdiction_id"] = link.jurisdiction_id
    if order.latitude is not None and order.longitude is not None:
        form["lat"], form["long"] = str(order.latitude), str(order.longitude)
    address = order.address or (order.area.name if order.area else "")
    if address:
        form["address_string"] = address
    requester = order.requesters.filter(is_primary=True).first()
    hidden = order.is_confidential or (requester is not None and requester.wants_confidential)
    if requester is not None and not hidden:
        # The unit contacts the requester itself (Art. 16); a confidential report hides them.
        if requester.phone:
            form["phone"] = requester.phone
        if requester.email:
            form["email"] = requester.email
        if requester.name:
            form["first_name"] = requester.name
    return form


def _xml(response: requests.Response) -> Any:
    try:
        return SafeET.fromstring(response.content)
    except Exception as err:  # defusedxml raises several kinds
        raise RemoteError(f"HTTP {response.status_code}: not XML ({err})", retry=response.status_code >= 500) from None


def _errors(root: Any) -> str:
    return "; ".join(f"{e.findtext('code', '')} {e.findtext('description', '')}".strip()
                     for e in root.findall("error")) or "error"


def _call(method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as err:
        raise RemoteError(f"{type(err).__name__}: {err}"[:500], retry=True) from None
    if response.status_code >= 500:
        raise RemoteError(f"HTTP {response.status_code}", retry=True)
    root = _xml(response)
    if response.status_code >= 400 or root.tag == "errors":
        raise RemoteError(f"HTTP {response.status_code}: {_errors(root)}"[:1000], retry=False)
    return root


LEASE = dt.timedelta(seconds=120)  # longer than one attempt's timeouts


def _claim(outbound_id: int) -> tuple[Outbound | None, str]:
    """Take the row for one attempt (row lock, then commit before any HTTP, so that no
    transaction stays open while the unit's system answers). The lease keeps a second worker
    or the sync command from sending it at the same time."""
    with transaction.atomic():
        row = (Outbound.objects.select_for_update(of=("self",))
               .select_related("link", "assignment__order__category", "assignment__order__area")
               .filter(pk=outbound_id).first())
        now = clock.now()
        if row is None or row.state != SendState.PENDING:
            return None, "skipped"
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return None, "not_due"
        if not row.link.enabled:
            return None, "disabled"
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        row.save(update_fields=["attempts", "next_attempt_at"])
    return row, ""


def send(*, outbound_id: int) -> str:
    """One attempt to POST the assignment to the unit's system; records the outcome:
    "sent", "retry" (back-off), "failed" (final), or why nothing was tried."""
    row, why = _claim(outbound_id)
    if row is None:
        return why
    update: dict[str, Any] = {}
    try:
        root = _call("POST", f"{row.link.endpoint.rstrip('/')}/requests.xml", data=_form(row))
        request = root.find("request")
        if request is None:
            raise RemoteError("no <request> in the answer", retry=False)
        remote_id = (request.findtext("service_request_id") or "").strip()
        remote_token = (request.findtext("token") or "").strip()
        if not remote_id and not remote_token:
            raise RemoteError("neither service_request_id nor token in the answer", retry=False)
        update = {"state": SendState.SENT, "sent_at": clock.now(), "last_error": "", "next_attempt_at": None,
                  "remote_id": remote_id[:100], "remote_token": remote_token[:100]}
        outcome = "sent"
    except RemoteError as err:
        update = {"last_error": str(err)}
        if err.retry and row.attempts < _conf("SEND_ATTEMPTS"):
            delay = dt.timedelta(seconds=_conf("RETRY_SECONDS") * 2 ** (row.attempts - 1))
            update["next_attempt_at"] = clock.now() + delay
            outcome = "retry"
        else:
            update.update(state=SendState.FAILED, next_attempt_at=None)
            outcome = "failed"
    with transaction.atomic():
        Outbound.objects.filter(pk=row.pk).update(**update)
        if outcome == "retry":
            row_id, due = row.pk, update["next_attempt_at"]
            transaction.on_commit(lambda: enqueue_send(row_id, due), robust=True)
    return outcome


def enqueue_send(outbound_id: int, run_after: dt.datetime | None = None) -> None:
    from jiesu.open311.tasks import send_outbound

    task = send_outbound
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # ``jiesu open311_sync`` retries it when it is due
        task = task.using(run_after=run_after)
    task.enqueue(outbound_id)


def resend(*, outbound_id: int) -> None:
    """An admin sends a failed row again (after fixing the link)."""
    with transaction.atomic():
        updated = Outbound.objects.filter(pk=outbound_id, state=SendState.FAILED).update(
            state=SendState.PENDING, attempts=0, next_attempt_at=clock.now())
    if updated:
        transaction.on_commit(lambda: enqueue_send(outbound_id), robust=True)


def retry_due() -> int:
    """Attempt every pending row whose time has come (``jiesu open311_sync``)."""
    due = list(Outbound.objects.filter(state=SendState.PENDING, next_attempt_at__lte=clock.now())
               .values_list("pk", flat=True))
    for pk in due:
        send(outbound_id=pk)
    return len(due)


def _apply(row: Outbound, *, update_id: str, status: str, description: str) -> str:
    if update_id and update_id in row.seen_updates:
        return "seen"
    try:
        done = record_unit_progress(actor=Actor.of(row.link.acts_as), number=row.assignment.order.number,
                                    unit_code=row.link.unit.code, status=status, description=description)
    except Open311Error as err:
        done = "refused"
        row.last_error = "; ".join(err.descriptions)[:1000]
    if update_id:
        row.seen_updates = [*row.seen_updates, update_id][-MAX_SEEN:]
    row.remote_status = status[:32]
    if done == "replied":
        row.state = SendState.DONE
    row.save()
    return done


def _resolve_tokens(link: UnitLink) -> None:
    for row in link.outbound.filter(state=SendState.SENT, remote_id="").exclude(remote_token=""):
        try:
            root = _call("GET", f"{link.endpoint.rstrip('/')}/tokens/{row.remote_token}.xml",
                         params=_jurisdiction(link))
        except RemoteError as err:
            row.last_error = str(err)
            row.save(update_fields=["last_error"])
            continue
        remote_id = (root.findtext("request/service_request_id") or "").strip()
        if remote_id:
            row.remote_id = remote_id
            row.save(update_fields=["remote_id"])


def _jurisdiction(link: UnitLink) -> dict[str, str]:
    return {"jurisdiction_id": link.jurisdiction_id} if link.jurisdiction_id else {}


def poll(*, link_id: int) -> dict[str, int]:
    """Read the unit's progress on every request Jiesu sent it and record it. Returns counts."""
    link = UnitLink.objects.select_related("unit").get(pk=link_id)
    counts = {"updates": 0, "recorded": 0}
    if not link.enabled:
        return counts
    _resolve_tokens(link)
    rows = {r.remote_id: r for r in link.outbound.filter(state=SendState.SENT).exclude(remote_id="")
            .select_related("assignment__order", "link__unit", "link__acts_as")}
    if not rows:
        return counts
    now = clock.now()
    base = link.endpoint.rstrip("/")
    if link.poll_mode == PollMode.UPDATES:
        start = max(link.polled_until or min(r.sent_at or now for r in rows.values()), now - dt.timedelta(days=89))
        params = {"start_date": w3c.render(start - dt.timedelta(minutes=5), dt.UTC),
                  # W3C has whole seconds: round the end up so this second's updates are in.
                  "end_date": w3c.render(now + dt.timedelta(seconds=1), dt.UTC), "extensions": "true",
                  **_jurisdiction(link)}
        root = _call("GET", f"{base}/servicerequestupdates.xml", params=params)
        for update in root.findall("request_update"):
            row = rows.get((update.findtext("service_request_id") or "").strip())
            if row is None:
                continue
            counts["updates"] += 1
            done = _apply(row, update_id=(update.findtext("update_id") or "").strip(),
                          status=update.findtext("status") or "", description=update.findtext("description") or "")
            counts["recorded"] += done not in ("seen", "none", "refused")
        link.polled_until = now
        link.save(update_fields=["polled_until"])
    else:
        ids = list(rows)
        for chunk in (ids[i:i + 100] for i in range(0, len(ids), 100)):
            root = _call("GET", f"{base}/requests.xml",
                         params={"service_request_id": ",".join(chunk), **_jurisdiction(link)})
            for request in root.findall("request"):
                row = rows.get((request.findtext("service_request_id") or "").strip())
                status = (request.findtext("status") or "").strip()
                if row is None or statuses.remote_action(status) != "reply":
                    continue
                counts["updates"] += 1
                done = _apply(row, update_id=f"closed:{row.remote_id}", status=status,
                              description=request.findtext("status_notes") or "")
                counts["recorded"] += done not in ("seen", "none", "refused")
    return counts


def poll_all() -> dict[str, int]:
    totals = {"links": 0, "updates": 0, "recorded": 0, "failed": 0}
    for link_id in UnitLink.objects.filter(enabled=True).values_list("pk", flat=True):
        totals["links"] += 1
        try:
            counts = poll(link_id=link_id)
        except RemoteError as err:
            log.warning("Open311 poll of link %s failed: %s", link_id, err)
            totals["failed"] += 1
            continue
        totals["updates"] += counts["updates"]
        totals["recorded"] += counts["recorded"]
    return totals
