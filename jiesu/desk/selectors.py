"""Reads the desk screens need beyond jiesu.orders.selectors: pick lists, routing suggestions,
counts, and the requester block with its access log. Every function costs a fixed number of
queries whatever the size of the lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from jiesu import clock
from jiesu.accounts import policy
from jiesu.accounts.models import Role
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, RoutingRule
from jiesu.orders import selectors
from jiesu.orders.models import (
    Assignment,
    AssignmentRole,
    AssignmentState,
    PersonalDataView,
    WorkOrder,
)
from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

# ---------------------------------------------------------------------------------------------
# Pick lists


@dataclass
class Group:
    label: str
    options: list[tuple[str, str]] = field(default_factory=list)


class PickList(list[Group]):
    """The groups of a select's options, kept per language until the catalogue changes
    (``runtime.kept_with_catalogue``), with their <option>s rendered once: the dispatcher's form
    shows 1,600 of them four times, on every page (``desk_tags.options``)."""

    html: str | None = None
    codes: list[str] | None = None


def _kept(name: str, build: Callable[[], list[Group]]) -> PickList:
    from jiesu.dispatch import runtime

    return runtime.kept_with_catalogue(("picklist", name, get_language() or ""), lambda: PickList(build()))


def area_choices() -> PickList:
    """Districts with their streets/townships, in code order: one optgroup per district."""
    return _kept("areas", _area_groups)


def category_choices() -> PickList:
    """Leaf categories with their full path, grouped by top-level category."""
    return _kept("categories", _category_groups)


def unit_choices() -> PickList:
    """Active handling units (no centres), grouped by kind."""
    return _kept("units", _unit_groups)


def _area_groups() -> list[Group]:
    rows = Area.objects.filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET]).values_list(
        "code", "name", "alias", "level", "path"
    ).order_by("path")
    groups: dict[str, Group] = {}
    for code, name, alias, level, path in rows:
        if level == AreaLevel.DISTRICT:
            groups[code] = Group(name, [(code, _("%(name)s (whole district)") % {"name": name})])
            continue
        district = path.split("/")[-2] if "/" in path else ""
        group = groups.get(district)
        if group is None:
            group = groups.setdefault(district, Group(district or "—"))
        label = f"{name}（{alias}）" if alias else name
        group.options.append((code, label))
    return list(groups.values())


def _category_name(name: str, name_en: str) -> str:
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


def _category_groups() -> list[Group]:
    rows = list(
        Category.objects.filter(is_active=True).values_list("id", "code", "name", "name_en", "parent_id")
        .order_by("path")
    )
    by_id = {r[0]: r for r in rows}
    parents = {r[4] for r in rows if r[4] is not None}
    groups: dict[int, Group] = {}

    def chain(row) -> list[tuple]:
        out = [row]
        while out[-1][4] is not None and out[-1][4] in by_id:
            out.append(by_id[out[-1][4]])
        return out[::-1]

    for row in rows:
        if row[0] in parents:
            continue
        path = chain(row)
        top = path[0]
        group = groups.setdefault(top[0], Group(_category_name(top[2], top[3])))
        label = " / ".join(_category_name(r[2], r[3]) for r in path[1:]) or _category_name(top[2], top[3])
        group.options.append((row[1], label))
    return list(groups.values())


def _unit_groups() -> list[Group]:
    rows = Unit.objects.filter(is_active=True).exclude(
        kind__in=[UnitKind.HOTLINE_CENTRE, UnitKind.DISTRICT_CENTRE]
    ).values_list("code", "name", "kind").order_by("kind", "path")
    labels = dict(UnitKind.choices)
    groups: dict[str, Group] = {}
    for code, name, kind in rows:
        groups.setdefault(kind, Group(str(labels.get(kind, kind)))).options.append((code, name))
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# Routing suggestion (派单目录)


@dataclass(frozen=True)
class Suggestion:
    lead: str = ""
    co: tuple[str, ...] = ()
    rule: str = ""


def routing_suggestion(order: WorkOrder) -> Suggestion:
    """The most specific routing rule for the order's category and area: a deeper category
    beats a shallower one, then a deeper area, then a rule without area."""
    if order.category is None:
        return Suggestion()
    cat_codes = order.category.path.split("/")
    area_codes = order.area.path.split("/") if order.area else []
    rules = list(
        RoutingRule.objects.filter(is_active=True, category__code__in=cat_codes)
        .select_related("category", "area", "lead_unit")
        .prefetch_related("co_units")
    )
    best: tuple[int, int] | None = None
    chosen: RoutingRule | None = None
    for rule in rules:
        if rule.area is not None and rule.area.code not in area_codes:
            continue
        rank = (rule.category.path.count("/"), rule.area.path.count("/") + 1 if rule.area else 0)
        if best is None or rank > best:
            best, chosen = rank, rule
    if chosen is None:
        return Suggestion()
    return Suggestion(
        lead=chosen.lead_unit.code,
        co=tuple(u.code for u in chosen.co_units.all() if u.is_active),
        rule=str(chosen),
    )


# ---------------------------------------------------------------------------------------------
# Deadlines as people read them


@dataclass(frozen=True)
class TimeLeft:
    css: str  # dl-over | dl-soon | dl-ok | dl-none
    text: str


def _span(delta: dt.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    if hours:
        return _("%(h)sh %(m)sm") % {"h": hours, "m": mins}
    return _("%(m)sm") % {"m": mins}


def time_left(due: dt.datetime | None, now: dt.datetime | None = None, *, soon_hours: int = 24) -> TimeLeft:
    """Overdue red, under ``soon_hours`` amber, else green; with words, never colour alone."""
    if due is None:
        return TimeLeft("dl-none", _("no deadline"))
    now = now or clock.now()
    delta = due - now
    if delta.total_seconds() < 0:
        return TimeLeft("dl-over", _("overdue by %(span)s") % {"span": _span(delta)})
    css = "dl-soon" if delta < dt.timedelta(hours=soon_hours) else "dl-ok"
    return TimeLeft(css, _("%(span)s left") % {"span": _span(delta)})


# ---------------------------------------------------------------------------------------------
# Who holds what on an order


LIVE = (AssignmentState.DISPATCHED, AssignmentState.ACCEPTED, AssignmentState.REPLIED)


def my_assignment(actor: Actor, order: WorkOrder) -> Assignment | None:
    """The acting unit's live assignment (lead first), as the handling services choose it.
    Uses the order's prefetched assignments."""
    live = [a for a in order.assignments.all() if a.state in LIVE]
    mine = actor.unit_ids()
    own = [a for a in live if a.unit_id in mine]
    if not own and actor.is_admin:
        own = live
    own.sort(key=lambda a: (a.role != AssignmentRole.LEAD, a.id))
    return own[0] if own else None


def returned_assignment(order: WorkOrder) -> Assignment | None:
    """The latest returned lead assignment, for "returned by …, because …"."""
    returned = [a for a in order.assignments.all() if a.state == AssignmentState.RETURNED]
    returned.sort(key=lambda a: (a.returned_at is not None, a.returned_at or dt.datetime.min, a.id))
    return returned[-1] if returned else None


def live_assignments(order: WorkOrder) -> list[Assignment]:
    return [a for a in order.assignments.all() if a.state != AssignmentState.CANCELLED]


@dataclass(frozen=True)
class RequesterRow:
    name: str
    phone: str
    primary: bool
    confidential: bool
    masked: bool
    email: str = ""  # a requester without a phone (Open311) may have left only this


def requester_rows(actor: Actor, order: WorkOrder, *, where: str, reveal: bool = True) -> list[RequesterRow]:
    """The requesters as this user may see them. Unmasked data is logged (DESIGN §9). With
    ``reveal=False`` the block is masked for everyone (screens that do not need identity)."""
    requesters = list(order.requesters.all())
    unmasked = reveal and policy.can_see_requester(actor, order)
    if unmasked and requesters and actor.user_id is not None:
        PersonalDataView.objects.create(order=order, user_id=actor.user_id, where=where[:32])
    return [
        RequesterRow(
            name=(r.name if unmasked else r.masked_name),
            phone=(r.phone if unmasked else r.masked_phone),
            email=(r.email if unmasked else r.masked_email),
            primary=r.is_primary,
            confidential=r.wants_confidential,
            masked=not unmasked,
        )
        for r in requesters
    ]


# ---------------------------------------------------------------------------------------------
# Home counts


SCREEN_ROLES: dict[str, frozenset[str]] = {
    "intake": frozenset({Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.OUTREACH}),
    "dispatch": frozenset({Role.DISPATCHER}),
    "inbox": frozenset({Role.HANDLER, Role.UNIT_LEAD}),
    "supervise": frozenset({Role.SUPERVISOR}),
    "orders": frozenset(
        {Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.ANALYST, Role.HANDLER, Role.UNIT_LEAD,
         Role.OUTREACH}
    ),
    # 三率 scorecards (jiesu.followup): a unit lead sees only the own unit's card.
    "scorecards": frozenset({Role.ANALYST, Role.SUPERVISOR, Role.UNIT_LEAD}),
    # Dashboards, hotspots, monthly topics, proactive items, measures (jiesu.insight).
    "insight": frozenset({Role.ANALYST, Role.SUPERVISOR}),
    # Excel/CSV import with its per-row report (jiesu.integrations).
    "import": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    # A unit's webhook subscriptions: the delivery log and the replay (jiesu.integrations).
    "webhooks": frozenset({Role.UNIT_LEAD, Role.ADMIN}),
    # Public legal services (jiesu.services): bookings, outreach, circuit filing, special hotlines.
    "services": frozenset({Role.SERVICE_STAFF, Role.OUTREACH, Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR,
                           Role.ANALYST, Role.UNIT_LEAD}),
}


def screens_for(actor: Actor) -> list[str]:
    return [name for name, roles in SCREEN_ROLES.items() if actor.has_role(*roles)]


def home_counts(actor: Actor, screens: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    if "dispatch" in screens:
        queue = selectors.triage_queue(actor)
        counts["triage"] = queue.count()
        counts["returned"] = queue.filter(state="returned").count()
        counts["extensions"] = selectors.pending_extensions(actor).count()
    if "inbox" in screens:
        inbox = selectors.unit_inbox(actor)
        counts["inbox"] = inbox.count()
        counts["inbox_new"] = inbox.filter(state=AssignmentState.DISPATCHED).count()
        counts["inbox_overdue"] = inbox.filter(due_at__lt=clock.now()).count()
    if "supervise" in screens:
        counts["overdue"] = selectors.overdue(actor).count()
        counts["at_risk"] = selectors.at_risk(actor).count()
        from jiesu.followup.selectors import callback_queue  # replied and overdue orders

        counts["callbacks"] = callback_queue(actor).count()
    return counts
