"""Who may do what to which order (DESIGN §1). One policy answers both "may this user" and
"which objects", in the manner of Wagtail's permission policies.

A role is held *in a unit*. Centre roles (call-taker, dispatcher, supervisor, analyst) held in
the city hotline centre reach every order; held in a district centre, they reach the orders of
that district. Unit roles (handler, unit lead) reach only the orders assigned to their unit.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from jiesu.accounts.models import Membership, Role, token_hash
from jiesu.accounts.token_memory import TOKENS
from jiesu.org.models import UnitKind

if TYPE_CHECKING:
    from jiesu.orders.models import Assignment, WorkOrder


class Action(enum.StrEnum):
    CREATE = "create"
    # 未诉先办: a proactive work item opened by the centre with no requester (DESIGN §6).
    CREATE_PROACTIVE = "create_proactive"
    ANSWER = "answer"
    DISPATCH = "dispatch"
    REQUEUE = "requeue"
    REFER = "refer"
    DECLINE = "decline"
    MERGE = "merge"
    CLOSE = "close"
    ACCEPT = "accept"
    RETURN = "return"
    EXTEND = "extend"
    DECIDE_EXTENSION = "decide_extension"
    CONTACT = "contact"
    REPLY = "reply"
    CALLBACK = "callback"
    REOPEN = "reopen"
    URGE = "urge"
    NOTE = "note"


R = Role
# Actions taken by the centre on the order as a whole.
CENTRE_ACTIONS: dict[Action, frozenset[str]] = {
    Action.CREATE: frozenset({R.CALL_TAKER, R.DISPATCHER, R.OUTREACH, R.SUPERVISOR}),
    Action.CREATE_PROACTIVE: frozenset({R.ANALYST, R.SUPERVISOR}),
    Action.ANSWER: frozenset({R.CALL_TAKER, R.DISPATCHER}),
    Action.DISPATCH: frozenset({R.DISPATCHER}),
    Action.REQUEUE: frozenset({R.DISPATCHER}),
    Action.REFER: frozenset({R.CALL_TAKER, R.DISPATCHER}),
    Action.DECLINE: frozenset({R.DISPATCHER}),
    Action.MERGE: frozenset({R.DISPATCHER}),
    Action.CLOSE: frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR}),
    Action.DECIDE_EXTENSION: frozenset({R.DISPATCHER, R.SUPERVISOR}),
    Action.CALLBACK: frozenset({R.SUPERVISOR, R.CALL_TAKER}),
    Action.REOPEN: frozenset({R.SUPERVISOR}),
    Action.URGE: frozenset({R.SUPERVISOR}),
    Action.NOTE: frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR}),
}
# Actions a unit takes on its own assignment.
UNIT_ACTIONS: dict[Action, frozenset[str]] = {
    Action.ACCEPT: frozenset({R.HANDLER, R.UNIT_LEAD}),
    Action.RETURN: frozenset({R.HANDLER, R.UNIT_LEAD}),
    Action.EXTEND: frozenset({R.HANDLER, R.UNIT_LEAD}),
    Action.CONTACT: frozenset({R.HANDLER, R.UNIT_LEAD}),
    Action.REPLY: frozenset({R.HANDLER, R.UNIT_LEAD}),
    Action.NOTE: frozenset({R.HANDLER, R.UNIT_LEAD}),
}
CENTRE_ROLES = frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR, R.ANALYST})
UNIT_ROLES = frozenset({R.HANDLER, R.UNIT_LEAD})
# Roles that need the requester's identity to do their job (DESIGN §9: masked for the rest).
IDENTITY_ROLES = frozenset({R.CALL_TAKER, R.DISPATCHER, R.SUPERVISOR})


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    unit_path: str
    unit_kind: str
    area_path: str  # "" for a city-wide centre


@dataclass
class Actor:
    """A user with their grants loaded once per request."""

    user_id: int | None
    is_admin: bool
    grants: list[Grant] = field(default_factory=list)
    username: str = ""
    # The user it was made of, so that an answer naming the caller needs no query.
    user: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, is_admin=True, username="system")

    @classmethod
    def of(cls, user) -> Actor:
        if user is None or not user.is_authenticated:
            return cls(user_id=None, is_admin=False, username="anonymous")
        grants = [
            _grant(m.role, m.unit_id, m.unit.path, m.unit.kind, m.unit.area.path if m.unit.area else None)
            for m in Membership.objects.filter(user=user).select_related("unit__area")
        ]
        return cls._of_user(user, grants)

    @classmethod
    def _of_user(cls, user, grants: list[Grant]) -> Actor:
        is_admin = user.is_superuser or any(g.role == R.ADMIN for g in grants)
        return cls(user_id=user.pk, is_admin=is_admin, grants=grants, username=user.get_username(), user=user)

    @classmethod
    def of_token(cls, raw: str, *, remembered: bool = False) -> Actor | None:
        """The actor of a raw API token, or None when the token is unknown or revoked or its
        user inactive; else what ``of`` answers for its user. One statement of plain SQL (issue
        8: every API request authenticates, and the token's and the grants' ORM queries, with
        their joins, cost a tenth of an intake request's CPU: 1.4 ms, now 0.15).

        ``remembered`` (the API's bearer check): the rows of a token accepted in the last
        ``TOKEN_CACHE_SECONDS`` may answer instead of the statement (``token_memory``, which
        says what that trades); the actor is built anew from them either way."""
        sql, user_fields = _token_sql()
        key = token_hash(raw)
        rows = TOKENS.recall(key) if remembered else None
        fresh = rows is None
        if rows is None:
            generation = TOKENS.generation
            with connection.cursor() as cursor:
                cursor.execute(sql, [key])
                rows = cursor.fetchall()
        if not rows:
            return None
        n = len(user_fields)
        user = get_user_model().from_db(connection.alias, user_fields, rows[0][:n])
        if not user.is_active:
            return None
        if remembered and fresh:
            seconds = float(getattr(settings, "JIESU", {}).get("TOKEN_CACHE_SECONDS", 5))
            TOKENS.remember(key, rows, seconds=seconds, read_at_generation=generation)
        grants = [_grant(*row[n:]) for row in rows if row[n] is not None]  # None: no membership
        return cls._of_user(user, grants)

    @property
    def roles(self) -> set[str]:
        return {g.role for g in self.grants} | ({R.ADMIN} if self.is_admin else set())

    def has_role(self, *roles: str) -> bool:
        return self.is_admin or any(g.role in roles for g in self.grants)

    def unit_ids(self, roles: frozenset[str] = UNIT_ROLES) -> set[int]:
        return {g.unit_id for g in self.grants if g.role in roles}

    def _centre_grants(self, roles: frozenset[str]) -> list[Grant]:
        return [g for g in self.grants if g.role in roles and g.unit_kind in (UnitKind.HOTLINE_CENTRE, UnitKind.DISTRICT_CENTRE)]


def _grant(role: str, unit_id: int, unit_path: str, unit_kind: str, area_path: str | None) -> Grant:
    """A membership's grant, with its unit's area path; the hotline centre's, and any grant of
    a unit without an area, carry none (``Grant.area_path``). The one rule for ``Actor.of``
    and ``Actor.of_token``."""
    return Grant(role=role, unit_id=unit_id, unit_path=unit_path, unit_kind=unit_kind,
                 area_path="" if unit_kind == UnitKind.HOTLINE_CENTRE or area_path is None else area_path)


@functools.cache
def _token_sql() -> tuple[str, list[str]]:
    """The token's user and memberships (each with its unit's path and kind and the unit's
    area's path), one row per membership; ``of``'s grants in membership order. Built once per
    process from the models' own table and column names."""
    from jiesu.accounts.models import ApiToken
    from jiesu.org.models import Area, Unit

    q = connection.ops.quote_name
    user_model = get_user_model()
    user_fields = [f.attname for f in user_model._meta.concrete_fields]
    columns = ", ".join(f"u.{q(str(f.column))}" for f in user_model._meta.concrete_fields)
    token, user, membership = ApiToken._meta, user_model._meta, Membership._meta
    unit, area = Unit._meta, Area._meta

    def col(meta, name: str) -> str:
        return q(str(meta.get_field(name).column))

    # Our own table and column names; the hash is a parameter.
    sql = (
        f"SELECT {columns}, m.{col(membership, 'role')}, m.{col(membership, 'unit')}, "  # noqa: S608
        f"un.{col(unit, 'path')}, un.{col(unit, 'kind')}, ar.{col(area, 'path')} "
        f"FROM {q(token.db_table)} t JOIN {q(user.db_table)} u ON u.{col(user, user.pk.name)} = t.{col(token, 'user')} "
        f"LEFT JOIN {q(membership.db_table)} m ON m.{col(membership, 'user')} = u.{col(user, user.pk.name)} "
        f"LEFT JOIN {q(unit.db_table)} un ON un.{col(unit, 'id')} = m.{col(membership, 'unit')} "
        f"LEFT JOIN {q(area.db_table)} ar ON ar.{col(area, 'id')} = un.{col(unit, 'area')} "
        f"WHERE t.{col(token, 'key_hash')} = %s AND t.{col(token, 'revoked_at')} IS NULL "
        f"ORDER BY m.{col(membership, 'id')}"
    )
    return sql, user_fields


def _covers(grant: Grant, order: WorkOrder) -> bool:
    if not grant.area_path:
        return True
    area = order.area
    return area is not None and (area.path == grant.area_path or area.path.startswith(grant.area_path + "/"))


def can(actor: Actor, action: Action, order: WorkOrder | None = None, assignment: Assignment | None = None) -> bool:
    """May ``actor`` take ``action`` on ``order`` (or on one of its assignments)?"""
    if actor.is_admin:
        return True
    if (
        action in UNIT_ACTIONS
        and assignment is not None
        and any(g.role in UNIT_ACTIONS[action] and g.unit_id == assignment.unit_id for g in actor.grants)
    ):
        return True
    roles = CENTRE_ACTIONS.get(action)
    if not roles:
        return False
    grants = actor._centre_grants(roles)
    if action == Action.CREATE and any(g.role == R.OUTREACH for g in actor.grants):
        return True
    if (action == Action.ANSWER and order is not None and actor.user_id is not None
            and order.created_by_id == actor.user_id and any(g.role == R.OUTREACH for g in actor.grants)):
        return True  # 外出服务: a request solved on the spot at the desk, by who recorded it
    if order is None:
        return bool(grants)
    return any(_covers(g, order) for g in grants)


def visible_orders(actor: Actor, qs: QuerySet) -> QuerySet:
    """The orders ``actor`` may see at all."""
    if actor.is_admin:
        return qs
    cond: Any = Q(pk__in=[])  # Q, then Q | Exists
    for g in actor._centre_grants(CENTRE_ROLES):
        if not g.area_path:
            return qs
        cond |= Q(area__path=g.area_path) | Q(area__path__startswith=g.area_path + "/")
    unit_ids = actor.unit_ids()
    if unit_ids:
        from jiesu.orders.models import Assignment

        # A correlated EXISTS, not "id IN (every order ever assigned to the unit)": one index probe
        # per order looked at, so that one order or one page costs the same for a unit with ten
        # or with a million assignments (docs/benchmarks.md), and no join to repeat orders.
        cond |= Exists(Assignment.objects.filter(order_id=OuterRef("pk"), unit_id__in=unit_ids))
    if actor.user_id is not None and actor.has_role(R.OUTREACH):
        cond |= Q(created_by_id=actor.user_id)
    return qs.filter(cond)


def visible_districts(actor: Actor) -> frozenset[str] | None:
    """What ``visible_orders`` lets ``actor`` see, when it is whole districts: ``ALL_DISTRICTS``
    (the whole city, including orders with no area), the district codes, or None when the
    visibility is finer (a street, a unit's assignments, an outreach worker's own orders)."""
    if actor.is_admin:
        return ALL_DISTRICTS
    if actor.unit_ids() or (actor.user_id is not None and actor.has_role(R.OUTREACH)):
        return None
    grants = actor._centre_grants(CENTRE_ROLES)
    if not grants:
        return None
    codes: set[str] = set()
    for g in grants:
        if not g.area_path:
            return ALL_DISTRICTS
        parts = g.area_path.split("/")
        if len(parts) != 2:
            return None
        codes.add(parts[1])
    return frozenset(codes)


ALL_DISTRICTS: frozenset[str] = frozenset({"*"})


def sees_every_order(actor: Actor) -> bool:
    """Whether ``visible_orders`` is every order for ``actor`` (an administrator, or a
    city-wide centre role), which is known without a query."""
    return actor.is_admin or any(not g.area_path for g in actor._centre_grants(CENTRE_ROLES))


def can_see(actor: Actor, order: WorkOrder) -> bool:
    from jiesu.orders.models import WorkOrder

    return visible_orders(actor, WorkOrder.objects.filter(pk=order.pk)).exists()


def can_see_requester(actor: Actor, order: WorkOrder) -> bool:
    """Unmasked requester identity: the centre staff who talk to them, and the handling unit
    unless the report is confidential (Art. 8: never shown to the unit it may be about)."""
    if actor.is_admin:
        return True
    if any(g.role in IDENTITY_ROLES and _covers(g, order) for g in actor._centre_grants(IDENTITY_ROLES)):
        return True
    if order.is_confidential or any(r.wants_confidential for r in order.requesters.all()):
        return False
    unit_ids = actor.unit_ids()
    return any(a.unit_id in unit_ids for a in order.assignments.all())
