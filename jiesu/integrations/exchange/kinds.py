"""What can be imported and exported, one ``Kind`` each: its columns (the template), the
natural key that makes re-import idempotent, how one row is written, and the rows of the full
export (in the same columns, so that ``jiesu export`` output imports again).

| kind | natural key | notes |
|---|---|---|
| areas | code | parent first (or earlier in the file); level 1–4 or city/district/street/community |
| units | code | kind is a UnitKind code; parent and jurisdiction (area) by code |
| categories | code | at most three levels; moving a category takes its subtree along (``jiesu import_categories`` is an alias) |
| rules | category_code + area_code | lead_unit and co_units by unit code |
| users | username | a membership (unit_code + role) is added; passwords are never imported |
| orders | external_id | recorded through ``create_order`` (idempotency key ``import:<id>``) |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from jiesu import clock
from jiesu.accounts.models import Membership, Role, User
from jiesu.accounts.policy import Actor
from jiesu.catalogue.models import Category, Channel, RequestType, RoutingRule, Urgency
from jiesu.deadlines.calendar import SHANGHAI
from jiesu.orders.errors import DomainError
from jiesu.orders.models import WorkOrder
from jiesu.org.models import Area, AreaLevel, Unit, UnitKind

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
TRUE = {"1", "true", "yes", "y", "是", "有效", "启用", "√"}
FALSE = {"0", "false", "no", "n", "否", "无效", "停用", ""}


class RowError(Exception):
    """A row is refused: the message is translated when the report is shown."""

    def __init__(self, message: Any, **params: Any) -> None:
        super().__init__(message)
        self.message, self.params = message, params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


@dataclass(frozen=True)
class Column:
    name: str
    label: Any
    required: bool = False
    help: Any = ""
    alias: str = ""  # the Chinese header people type, accepted as well


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any
    columns: tuple[Column, ...]
    apply: Callable[[dict[str, str], Actor], str]
    export: Callable[[], Iterator[list[Any]]]
    admin_only: bool = True  # else: supervisors too (orders)

    def may_import(self, actor: Actor) -> bool:
        return actor.is_admin or (not self.admin_only and actor.has_role(Role.SUPERVISOR, Role.CALL_TAKER,
                                                                          Role.DISPATCHER))


# --- shared cell rules ------------------------------------------------------------------------


def text(row: dict[str, str], name: str, label: Any, *, max_length: int, required: bool = False) -> str:
    value = (row.get(name) or "").strip()
    if required and not value:
        raise RowError(_("%(column)s is empty."), column=label)
    if len(value) > max_length:
        raise RowError(_("%(column)s is too long: at most %(max)s characters."), column=label, max=max_length)
    if "\x00" in value:
        raise RowError(_("%(column)s contains invalid characters."), column=label)
    return value


def flag(row: dict[str, str], name: str, label: Any, default: bool = True) -> bool:
    value = (row.get(name) or "").strip().lower()
    if name not in row or value == "" and default:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise RowError(_("%(column)s must be yes or no (1/0), not “%(value)s”."), column=label, value=value[:20])


def choice(value: str, choices: Any, label: Any) -> str:
    """A choice by its code or by its label in either language."""
    value = value.strip()
    for code, name in choices.choices:
        if value.lower() == str(code).lower() or value == str(name):
            return code
    from django.utils import translation

    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            for code, name in choices.choices:
                if value == str(name):
                    return code
    raise RowError(_("Unknown %(column)s: “%(value)s”."), column=label, value=value[:40])


def by_code(model: type[Model], code: str, label: Any) -> Any:
    found = model._default_manager.filter(code=code).first()
    if found is None:
        raise RowError(_("Unknown %(column)s “%(value)s”."), column=label, value=code[:40])
    return found


def save_changes(obj: Model, fields: dict[str, Any], created: bool) -> str:
    changed = created or any(getattr(obj, k) != v for k, v in fields.items())
    if changed:
        for k, v in fields.items():
            setattr(obj, k, v)
        obj.full_clean(exclude=["path"], validate_unique=False, validate_constraints=False)
        obj.save()
    return CREATED if created else (UPDATED if changed else UNCHANGED)


def _tree_fields(model: type[Model], row: dict[str, str], parent_label: Any, *,
                 may_move: bool = False) -> tuple[Any, Any]:
    code = text(row, "code", _("code"), max_length=32, required=True)
    if any(c.isspace() or c == "/" for c in code):
        raise RowError(_("The code “%(code)s” must not contain spaces or slashes."), code=code[:40])
    parent_code = text(row, "parent_code", parent_label, max_length=32)
    if parent_code == code:
        raise RowError(_("“%(code)s” cannot be its own parent."), code=code)
    parent = by_code(model, parent_code, parent_label) if parent_code else None
    existing: Any = model._default_manager.filter(code=code).first()
    if not may_move and existing is not None and existing.parent_id != (parent.pk if parent else None) and \
            model._default_manager.filter(parent=existing).exists():
        raise RowError(_("“%(code)s” has children: move it in the admin, not by import."), code=code)
    node = parent
    while node is not None:  # a loop through an existing node
        if node.code == code:
            raise RowError(_("“%(code)s” would be its own ancestor."), code=code)
        node = node.parent
    return existing, parent


# --- areas ------------------------------------------------------------------------------------

LEVEL_WORDS = {"city": 1, "市": 1, "district": 2, "区": 2, "县": 2, "street": 3, "街道": 3, "乡镇": 3, "镇": 3,
               "乡": 3, "community": 4, "社区": 4, "村": 4}


def apply_area(row: dict[str, str], actor: Actor) -> str:
    existing, parent = _tree_fields(Area, row, _("parent code"))
    raw = text(row, "level", _("level"), max_length=20, required=True)
    level = LEVEL_WORDS.get(raw.lower()) or (int(raw) if raw.isdigit() and int(raw) in AreaLevel.values else None)
    if level is None:
        raise RowError(_("The level must be 1–4 (city, district, street, community), not “%(value)s”."),
                       value=raw[:20])
    if parent is not None and level <= parent.level:
        raise RowError(_("The level must be below the parent's level (%(level)s)."), level=parent.level)
    fields = {"name": text(row, "name", _("name"), max_length=100, required=True), "level": level,
              "parent": parent, "alias": text(row, "alias", _("alias"), max_length=100)}
    return save_changes(existing or Area(code=row["code"].strip()), fields, existing is None)


def export_areas() -> Iterator[list[Any]]:
    for a in Area.objects.select_related("parent").order_by("path"):
        yield [a.code, a.name, a.level, a.parent.code if a.parent else "", a.alias]


# --- units ------------------------------------------------------------------------------------


def apply_unit(row: dict[str, str], actor: Actor) -> str:
    existing, parent = _tree_fields(Unit, row, _("parent code"))
    area_code = text(row, "area_code", _("area code"), max_length=32)
    fields = {
        "name": text(row, "name", _("name"), max_length=100, required=True),
        "kind": choice(text(row, "kind", _("unit kind"), max_length=40, required=True), UnitKind, _("unit kind")),
        "parent": parent,
        "area": by_code(Area, area_code, _("area code")) if area_code else None,
        "phone": text(row, "phone", _("phone"), max_length=32),
        "is_active": flag(row, "active", _("active")),
    }
    return save_changes(existing or Unit(code=row["code"].strip()), fields, existing is None)


def export_units() -> Iterator[list[Any]]:
    for u in Unit.objects.select_related("parent", "area").order_by("path"):
        yield [u.code, u.name, u.kind, u.parent.code if u.parent else "", u.area.code if u.area else "", u.phone,
               int(u.is_active)]


# --- categories -------------------------------------------------------------------------------

MAX_CATEGORY_LEVEL = 3


def apply_category(row: dict[str, str], actor: Actor) -> str:
    existing, parent = _tree_fields(Category, row, _("parent code"), may_move=True)
    level = parent.level + 1 if parent else 1
    if level > MAX_CATEGORY_LEVEL:
        raise RowError(_("The catalogue has at most %(max)s levels; this would be level %(level)s."),
                       max=MAX_CATEGORY_LEVEL, level=level)
    moved = existing is not None and existing.parent_id != (parent.pk if parent else None)
    below = _descendants(existing) if moved else []
    if below:
        deepest = level + max(c.level for c in below) - existing.level
        if deepest > MAX_CATEGORY_LEVEL:
            raise RowError(_("Moving “%(code)s” would put its subcategories on level %(level)s; the catalogue has "
                             "at most %(max)s levels."), code=existing.code, level=deepest, max=MAX_CATEGORY_LEVEL)
    fields = {"name": text(row, "name", _("name"), max_length=100, required=True),
              "name_en": text(row, "name_en", _("English name"), max_length=100),
              "parent": parent, "level": level,
              "keywords": " ".join(text(row, "keywords", _("keywords"), max_length=2000).split()),
              "is_active": flag(row, "active", _("active"))}
    old_path = existing.path if existing is not None else ""
    outcome = save_changes(existing or Category(code=row["code"].strip()), fields, existing is None)
    if below:
        _carry_subtree(below, old_path, existing)
    return outcome


def _descendants(category: Category) -> list[Category]:
    return list(Category.objects.filter(path__startswith=f"{category.path}/").only("id", "path", "level"))


def _carry_subtree(below: list[Category], old_path: str, moved: Category) -> None:
    """A moved category takes its whole subtree along: new paths and levels below it. The
    moved row's own save told the deadline cache (post_save); the bulk update sends nothing."""
    shift = moved.level - old_path.count("/") - 1
    for child in below:
        child.path = moved.path + child.path[len(old_path):]
        child.level += shift
    Category.objects.bulk_update(below, ["path", "level"], batch_size=500)


def export_categories() -> Iterator[list[Any]]:
    for c in Category.objects.select_related("parent").order_by("path"):
        yield [c.code, c.name, c.name_en, c.parent.code if c.parent else "", c.keywords, int(c.is_active)]


# --- routing rules ----------------------------------------------------------------------------


def _codes(value: str) -> list[str]:
    for sep in (",", "，", "、", ";", "；"):
        value = value.replace(sep, " ")
    return list(dict.fromkeys(value.split()))


def apply_rule(row: dict[str, str], actor: Actor) -> str:
    category = by_code(Category, text(row, "category_code", _("category code"), max_length=32, required=True),
                       _("category code"))
    area_code = text(row, "area_code", _("area code"), max_length=32)
    area = by_code(Area, area_code, _("area code")) if area_code else None
    lead = by_code(Unit, text(row, "lead_unit", _("lead unit"), max_length=32, required=True), _("lead unit"))
    co = [by_code(Unit, code, _("co-handling units")) for code in _codes(row.get("co_units") or "")]
    if lead in co:
        raise RowError(_("The lead unit cannot also be a co-handling unit."))
    found = RoutingRule.objects.filter(category=category, area=area).first()
    rule = found or RoutingRule(category=category, area=area)
    outcome = save_changes(rule, {"lead_unit": lead, "is_active": flag(row, "active", _("active"))}, found is None)
    if set(rule.co_units.values_list("pk", flat=True)) != {u.pk for u in co}:
        rule.co_units.set(co)
        outcome = UPDATED if outcome == UNCHANGED else outcome
    return outcome


def export_rules() -> Iterator[list[Any]]:
    rules = RoutingRule.objects.select_related("category", "area", "lead_unit").prefetch_related("co_units")
    for r in rules.order_by("category__path", "area__path"):
        yield [r.category.code, r.area.code if r.area else "", r.lead_unit.code,
               " ".join(sorted(u.code for u in r.co_units.all())), int(r.is_active)]


# --- users ------------------------------------------------------------------------------------


def apply_user(row: dict[str, str], actor: Actor) -> str:
    username = text(row, "username", _("username"), max_length=150, required=True)
    if not all(c.isalnum() or c in "@.+-_" for c in username):
        raise RowError(_("The username “%(value)s” may contain only letters, digits and @.+-_"), value=username[:40])
    email = text(row, "email", _("e-mail"), max_length=254)
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise RowError(_("“%(value)s” is not an e-mail address."), value=email[:60])
    unit_code = text(row, "unit_code", _("unit code"), max_length=32)
    role_text = text(row, "role", _("role"), max_length=40)
    if bool(unit_code) != bool(role_text):
        raise RowError(_("Give both the unit code and the role, or neither."))
    unit = by_code(Unit, unit_code, _("unit code")) if unit_code else None
    role = choice(role_text, Role, _("role")) if role_text else None
    user = User.objects.filter(username=username).first()
    created = user is None
    if user is None:
        user = User(username=username)
        user.set_unusable_password()  # never a password in a spreadsheet: the admin sets or resets it
    outcome = save_changes(user, {"display_name": text(row, "display_name", _("display name"), max_length=64),
                                  "email": email, "is_active": flag(row, "active", _("active"))}, created)
    if unit is not None and role is not None:
        _m, new = Membership.objects.get_or_create(user=user, unit=unit, role=role)
        if new and outcome == UNCHANGED:
            outcome = UPDATED
    return outcome


def export_users() -> Iterator[list[Any]]:
    users = User.objects.prefetch_related("memberships__unit").order_by("username")
    for u in users:
        memberships: list[Any] = sorted(u.memberships.all(), key=lambda m: (m.unit.code, m.role)) or [None]
        for m in memberships:
            yield [u.username, u.display_name, u.email, m.unit.code if m else "", m.role if m else "",
                   int(u.is_active)]


# --- orders -----------------------------------------------------------------------------------


def _received_at(value: str) -> dt.datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise RowError(_("“%(value)s” is not a date and time such as 2026-03-01 09:30."), value=value[:30]) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)  # what people mean in Beijing
    if when > clock.now():
        raise RowError(_("The received time %(value)s is in the future."), value=value[:30])
    return when


def apply_order(row: dict[str, str], actor: Actor) -> str:
    from jiesu.orders.actions import RequesterInput, create_order
    from jiesu.orders.models import IdempotencyKey

    external_id = text(row, "external_id", _("external id"), max_length=100, required=True)
    key = f"import:{external_id}"
    if IdempotencyKey.objects.filter(owner="import", key=key).exists():
        return UNCHANGED  # imported before: an order is never imported twice
    received = _received_at(row.get("received_at") or "")
    kwargs: dict[str, Any] = dict(
        actor=actor,
        request_type=choice(text(row, "request_type", _("request type"), max_length=40, required=True),
                            RequestType, _("request type")),
        channel=choice(text(row, "channel", _("channel"), max_length=40) or Channel.HOTLINE, Channel, _("channel")),
        urgency=choice(text(row, "urgency", _("urgency"), max_length=40) or Urgency.NORMAL, Urgency, _("urgency")),
        content=row.get("content") or "", title=row.get("title") or "", address=row.get("address") or "",
        requesters=[RequesterInput(phone=row.get("phone") or "", name=row.get("name") or "")],
        category_code=(row.get("category_code") or "").strip() or None,
        area_code=(row.get("area_code") or "").strip() or None,
        idempotency_key=key, idempotency_owner="import",
    )
    try:
        if received is not None:
            with clock.frozen(received):
                create_order(**kwargs)
        else:
            create_order(**kwargs)
    except DomainError as err:
        raise RowError(err.message, **err.params) from None
    return CREATED


def export_orders() -> Iterator[list[Any]]:
    qs = WorkOrder.objects.select_related("category", "area").prefetch_related("requesters").order_by("received_at", "id")
    for o in qs.iterator(chunk_size=2000):
        requesters = sorted(o.requesters.all(), key=lambda r: (not r.is_primary, r.pk))
        first = requesters[0] if requesters else None
        yield [o.number, o.request_type, o.channel, o.urgency, o.title, o.content, first.phone if first else "",
               first.name if first else "", o.address, o.category.code if o.category else "",
               o.area.code if o.area else "", o.received_at.astimezone(SHANGHAI).replace(tzinfo=None), o.state]


C = Column
KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("areas", _("Areas"), (
        C("code", _("code"), True, alias="编码"), C("name", _("name"), True, alias="名称"),
        C("level", _("level"), True, _("1 city, 2 district, 3 street/township, 4 community/village"), alias="层级"),
        C("parent_code", _("parent code"), False, _("empty for the city"), alias="上级编码"),
        C("alias", _("alias"), alias="别名")), apply_area, export_areas),
    Kind("units", _("Units"), (
        C("code", _("code"), True, alias="编码"), C("name", _("name"), True, alias="名称"),
        C("kind", _("unit kind"), True, ", ".join(UnitKind.values), alias="类型"),
        C("parent_code", _("parent code"), alias="上级编码"), C("area_code", _("area code"), alias="辖区编码"),
        C("phone", _("phone"), alias="电话"), C("active", _("active"), False, "1/0", alias="有效")),
        apply_unit, export_units),
    Kind("categories", _("Categories"), (
        C("code", _("code"), True, alias="编码"), C("name", _("name"), True, alias="名称"),
        C("name_en", _("English name"), alias="英文名称"),
        C("parent_code", _("parent code"), False, _("empty for a top-level category"), alias="上级编码"),
        C("keywords", _("keywords"), False, _("space-separated"), alias="关键词"),
        C("active", _("active"), False, "1/0", alias="有效")), apply_category, export_categories),
    Kind("rules", _("Routing rules"), (
        C("category_code", _("category code"), True, alias="分类编码"),
        C("area_code", _("area code"), False, _("empty: everywhere"), alias="辖区编码"),
        C("lead_unit", _("lead unit"), True, _("unit code"), alias="主办单位"),
        C("co_units", _("co-handling units"), False, _("unit codes, separated by spaces"), alias="协办单位"),
        C("active", _("active"), False, "1/0", alias="有效")), apply_rule, export_rules),
    Kind("users", _("Users"), (
        C("username", _("username"), True, alias="用户名"), C("display_name", _("display name"), alias="姓名"),
        C("email", _("e-mail"), alias="邮箱"), C("unit_code", _("unit code"), alias="单位编码"),
        C("role", _("role"), False, ", ".join(Role.values), alias="角色"),
        C("active", _("active"), False, "1/0", alias="有效")), apply_user, export_users),
    Kind("orders", _("Orders"), (
        C("external_id", _("external id"), True, _("your own number: importing it again changes nothing"),
          alias="外部编号"),
        C("request_type", _("request type"), True, ", ".join(RequestType.values), alias="诉求类型"),
        C("channel", _("channel"), False, ", ".join(Channel.values), alias="渠道"),
        C("urgency", _("urgency"), False, ", ".join(Urgency.values), alias="紧急程度"),
        C("title", _("summary"), alias="标题"), C("content", _("content"), True, alias="诉求内容"),
        C("phone", _("phone"), True, alias="电话"), C("name", _("name"), alias="姓名"),
        C("address", _("address"), alias="地址"), C("category_code", _("category code"), alias="分类编码"),
        C("area_code", _("area code"), alias="辖区编码"),
        C("received_at", _("received at"), False, "2026-03-01 09:30", alias="受理时间"),
        C("state", _("state"), False, _("exported only; ignored on import"), alias="状态")),
        apply_order, export_orders, admin_only=False),
)}
