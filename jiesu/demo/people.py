"""The demo's people: about twenty accounts to log in with, one per role and then some, plus
a staff account per handling unit so that every step in an order's history has a named actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password

from jiesu.accounts.models import Membership, Role, User
from jiesu.accounts.policy import Actor
from jiesu.org.models import Unit, UnitKind

R = Role
# Street codes of the demo's focus places (codes from data/beijing_areas.csv).
WANGJING = "110105030"  # 朝阳区 望京街道
PANGGEZHUANG = "110115011"  # 大兴区 庞各庄镇


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    display_name: str
    roles: tuple[str, ...]
    unit: str  # unit code
    superuser: bool = False


def _acc(username: str, name: str, unit: str, *roles: str, superuser: bool = False) -> Account:
    password = "admin" if username == "admin" else f"{username}-demo"
    return Account(username, password, name, roles, unit, superuser)


ACCOUNTS: tuple[Account, ...] = (
    _acc("admin", "系统管理员", "C12345", R.ADMIN, superuser=True),
    _acc("calltaker1", "话务员 李静", "C12345", R.CALL_TAKER),
    _acc("calltaker2", "话务员 王磊", "C12345", R.CALL_TAKER),
    _acc("calltaker3", "话务员 赵敏", "C12345", R.CALL_TAKER),
    _acc("dispatcher1", "派单员 陈晨", "C12345", R.DISPATCHER),
    _acc("dispatcher2", "朝阳分中心派单员 刘洋", "DC110105", R.DISPATCHER),
    _acc("dispatcher3", "海淀分中心派单员 孙悦", "DC110108", R.DISPATCHER),
    _acc("handler1", "望京街道 承办人 张伟", f"SO{WANGJING}", R.HANDLER),
    _acc("lead1", "望京街道 负责人 周建国", f"SO{WANGJING}", R.UNIT_LEAD, R.HANDLER),
    _acc("handler2", "自来水集团 承办人 吴芳", "UT-WATER", R.HANDLER),
    _acc("lead2", "自来水集团 负责人 郑海", "UT-WATER", R.UNIT_LEAD, R.HANDLER),
    _acc("handler3", "望京派出所 民警 马超", f"PS{WANGJING}", R.HANDLER),
    _acc("handler4", "市城管委 承办人 何琳", "CB-CGW", R.HANDLER),
    _acc("handler5", "朝阳区检察院 检察官助理 林涛", "PR110105", R.HANDLER),
    _acc("handler6", "朝阳区法院 诉讼服务 高远", "CT110105", R.HANDLER),
    _acc("supervisor1", "督办员 黄丽", "C12345", R.SUPERVISOR),
    _acc("supervisor2", "朝阳分中心督办员 许刚", "DC110105", R.SUPERVISOR),
    _acc("analyst1", "分析员 郭明", "C12345", R.ANALYST),
    _acc("outreach1", "外出服务 庞各庄镇 田春生", f"SO{PANGGEZHUANG}", R.OUTREACH),
    _acc("service1", "方圆公证处 窗口 宋秀英", "NO-FANGYUAN", R.SERVICE_STAFF),
    _acc("service2", "朝阳区法院 立案窗口 韩冰", "CT110105", R.SERVICE_STAFF),
)


class _DemoPasswordHasher(PBKDF2PasswordHasher):
    """Few iterations, so that twenty demo passwords hash in milliseconds, not seconds: the
    demo must load fast. Django re-hashes with full strength at the first login, because
    ``must_update`` sees the lower iteration count."""

    iterations = 1000


def _hash(password: str) -> str:
    if type(get_hasher("default")) is PBKDF2PasswordHasher:
        fast = _DemoPasswordHasher()
        return fast.encode(password, fast.salt())
    return make_password(password)  # another configured hasher: use it as it is


def demo_accounts() -> list[tuple[str, str, str, str]]:
    """(username, password, role(s), unit name) of the accounts to log in with."""
    names = dict(Unit.objects.filter(code__in=[a.unit for a in ACCOUNTS]).values_list("code", "name"))
    labels = dict(Role.choices)
    return [
        (a.username, a.password, ", ".join(str(labels[r]) for r in a.roles), names.get(a.unit, a.unit))
        for a in ACCOUNTS
    ]


def format_accounts(rows: list[tuple[str, str, str, str]]) -> str:
    """A plain table for a terminal; CJK characters count double in width."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    header = ("username", "password", "role", "unit")
    table = [header, *rows]
    widths = [max(width(r[i]) for r in table) for i in range(3)]
    lines = []
    for row in table:
        cells = [row[i] + " " * (widths[i] - width(row[i])) for i in range(3)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
    return "\n".join(lines)


def create_people() -> dict[str, Actor]:
    """Create the accounts and unit staff; return an actor for every username."""
    units = {u.code: u for u in Unit.objects.select_related("area")}
    users = [
        User(
            username=a.username,
            display_name=a.display_name,
            is_superuser=a.superuser,
            is_staff=a.superuser,
            password=_hash(a.password),
        )
        for a in ACCOUNTS
    ]
    # Staff of every other unit: they act in the orders' histories but cannot log in.
    staff_units = [u for u in units.values() if u.kind != UnitKind.HOTLINE_CENTRE]
    users += [
        User(username=staff_name(u.code), display_name=f"{u.name} 工作人员", password=make_password(None))
        for u in sorted(staff_units, key=lambda u: u.code)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    ids = dict(User.objects.values_list("username", "id"))
    memberships = [
        Membership(user_id=ids[a.username], unit=units[a.unit], role=r) for a in ACCOUNTS for r in a.roles
    ]
    memberships += [
        Membership(
            user_id=ids[staff_name(u.code)],
            unit=u,
            role=R.DISPATCHER if u.kind == UnitKind.DISTRICT_CENTRE else R.HANDLER,
        )
        for u in staff_units
    ]
    Membership.objects.bulk_create(memberships, batch_size=1000)
    return _actors(ids, units)


def staff_name(unit_code: str) -> str:
    return f"staff-{unit_code.lower()}"


def _actors(ids: dict[str, int], units: dict[str, Unit]) -> dict[str, Actor]:
    """Actor objects built from what was just written (``Actor.of`` would query per user)."""
    from jiesu.accounts.policy import Grant

    def grant(unit: Unit, role: str) -> Grant:
        area_path = "" if unit.kind == UnitKind.HOTLINE_CENTRE or unit.area is None else unit.area.path
        return Grant(
            role=role, unit_id=unit.pk, unit_path=unit.path, unit_kind=unit.kind, area_path=area_path
        )

    actors: dict[str, Actor] = {}
    for a in ACCOUNTS:
        actors[a.username] = Actor(
            user_id=ids[a.username],
            is_admin=a.superuser or R.ADMIN in a.roles,
            grants=[grant(units[a.unit], r) for r in a.roles],
            username=a.username,
        )
    for code, unit in units.items():
        name = staff_name(code)
        if name in ids:
            role = R.DISPATCHER if unit.kind == UnitKind.DISTRICT_CENTRE else R.HANDLER
            actors[name] = Actor(user_id=ids[name], is_admin=False, grants=[grant(unit, role)], username=name)
    return actors
