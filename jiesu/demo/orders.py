"""Planning the demo's orders: who calls, when, about what, and how far each order has got by
the anchor (its *fate*). Pure Python, no database: ``lifecycle.py`` plays the plans through
the real service functions.

Everything is drawn from ``random.Random(seed)`` in a fixed order, and times are offsets from
the anchor (a midnight in Asia/Shanghai), so a seed and an anchor give the same plans.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from jiesu.deadlines.calendar import SHANGHAI
from jiesu.demo import phrases as P
from jiesu.demo import texts
from jiesu.demo.org import World, route
from jiesu.demo.people import PANGGEZHUANG, WANGJING
from jiesu.demo.texts import Caller, Place, Street

WINDOW_DAYS = 60

# Fates: the state an order has reached at the anchor. "*_closed" close after the first step.
HANDLED = ("dispatched", "returned", "accepted", "replied", "callback_due", "reopened", "closed")
# With few orders (tests), the first orders take one fate each so that every state shows.
FIRST_FATES = (
    "closed",
    "accepted",
    "answered",
    "dispatched",
    "callback_due",
    "received",
    "returned",
    "replied",
    "reopened",
    "referred",
    "declined",
    "merged",
    "draft",
    "answered_closed",
    "referred_closed",
)
FATE_WEIGHTS: dict[str, dict[str, float]] = {
    "consult": {
        "answered_closed": 66,
        "answered": 5,
        "received": 3,
        "dispatched": 2,
        "accepted": 5,
        "callback_due": 3,
        "closed": 14,
        "draft": 0.5,
    },
    "praise": {"answered_closed": 80, "answered": 8, "received": 4, "closed": 8},
    "suggest": {
        "closed": 50,
        "accepted": 15,
        "callback_due": 8,
        "answered_closed": 15,
        "dispatched": 5,
        "received": 4,
        "replied": 1,
    },
    "problem": {
        "received": 3,
        "draft": 0.3,
        "dispatched": 6.5,
        "returned": 2,
        "accepted": 16,
        "replied": 1,
        "callback_due": 8,
        "reopened": 3,
        "closed": 50,
        "referred": 0.8,
        "referred_closed": 2.2,
        "declined": 0.6,
        "declined_closed": 1.4,
        "merged": 3.5,
    },
}
# Hours before the anchor in which an order with this fate was received.
RECEIVED_HOURS: dict[str, tuple[float, float]] = {
    "draft": (1, 72),
    "received": (0.2, 20),
    "answered": (0.5, 30),
    "referred": (0.5, 48),
    "declined": (0.5, 48),
    "dispatched": (1, 48),
    "returned": (2, 72),
    "accepted": (6, 240),
    "replied": (24, 192),
    "callback_due": (48, 360),
    "reopened": (240, 384),
    "closed": (240, WINDOW_DAYS * 24),
    "answered_closed": (2, WINDOW_DAYS * 24),
    "referred_closed": (6, WINDOW_DAYS * 24),
    "declined_closed": (12, WINDOW_DAYS * 24),
}
# ...and the older tail: stuck orders, the overdue ones on the desk.
RECEIVED_TAIL: dict[str, tuple[float, float, float]] = {
    "received": (0.3, 20, 96),
    "dispatched": (0.08, 48, 240),
    "accepted": (0.12, 240, 720),
}
REQUEST_TYPES = (
    ("consult", 28),
    ("complaint", 34),
    ("help", 18),
    ("report", 6),
    ("suggest", 6),
    ("praise", 3),
    ("other", 1),
)
CHANNELS = (
    ("hotline", 62),
    ("web", 10),
    ("app", 12),
    ("outreach", 4),
    ("special_hotline", 2),
    ("api", 3),
    ("letter", 2),
    ("walk_in", 5),
)
TOP_WEIGHTS = {
    "01": 18,
    "02": 16,
    "03": 9,
    "04": 8,
    "05": 8,
    "06": 9,
    "07": 6,
    "08": 4,
    "09": 4,
    "10": 6,
    "11": 3,
    "12": 3,
    "13": 2,
    "14": 2,
    "15": 1.5,
    "16": 1.5,
}
DISTRICT_WEIGHTS = {
    "朝阳区": 22,
    "海淀区": 20,
    "丰台区": 12,
    "昌平区": 12,
    "大兴区": 10,
    "通州区": 10,
    "西城区": 7,
    "东城区": 5,
    "顺义区": 7,
    "房山区": 7,
    "石景山区": 3,
    "门头沟区": 2,
    "怀柔区": 2,
    "平谷区": 2,
    "密云区": 2,
    "延庆区": 2,
}
EMERGENCY_LEAVES = {"030301": 0.6, "030103": 0.2, "030201": 0.2, "020103": 0.15}


@dataclass
class Plan:
    index: int
    fate: str
    received_at: dt.datetime
    request_type: str
    channel: str
    urgency: str
    leaf: str
    street: Street
    place: Place
    title: str
    content: str
    callers: list[Caller]
    creator: str  # username; "" for the public portal / API (the system actor)
    lead: str = ""
    co: list[str] = field(default_factory=list)
    answer: str = ""
    outcome: str = ""
    referred_to: str = ""
    reason: str = ""
    confidential: bool = False
    survivor: Plan | None = None
    duplicates: list[Plan] = field(default_factory=list)
    number: str = ""

    @property
    def draft(self) -> bool:
        return self.fate == "draft"


def _weighted(rng: random.Random, pairs) -> str:
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return rng.choices([k for k, _w in items], weights=[w for _k, w in items])[0]


class Planner:
    def __init__(self, *, world: World, seed: int, anchor: dt.datetime, orders: int) -> None:
        self.world, self.rng, self.anchor, self.n = world, random.Random(seed), anchor, orders
        self.by_district: dict[str, list[Street]] = {}
        for s in world.streets:
            # Development zones and the airport have no residents of their own to call.
            if texts.TOWN_SUFFIX.search(s.name):
                self.by_district.setdefault(s.district, []).append(s)
        self.rural = [
            s
            for streets in self.by_district.values()
            for s in streets
            if s.name.endswith(("镇", "乡")) or any(name.endswith("村") for _c, name in s.communities)
        ]
        self.focus = world.street(WANGJING)
        self.outreach = world.street(PANGGEZHUANG)
        # Regular callers: a few people call again and again, so caller history shows.
        self.regulars = [texts.make_caller(self.rng) for _ in range(max(3, orders // 40))]

    # -- pieces ---------------------------------------------------------------------------

    def _received(self, fate: str) -> dt.datetime:
        lo, hi = RECEIVED_HOURS[fate]
        tail = RECEIVED_TAIL.get(fate)
        if tail and self.rng.random() < tail[0]:
            lo, hi = tail[1], tail[2]
        hours = min(self.rng.uniform(lo, hi), WINDOW_DAYS * 24)
        at = self.anchor - dt.timedelta(hours=hours)
        # Fewer calls at night: most night draws move to the evening before.
        if at.astimezone(SHANGHAI).hour < 7 and self.rng.random() < 0.75 and hours + 9 < WINDOW_DAYS * 24:
            at -= dt.timedelta(hours=9)
        return at.replace(microsecond=0)

    def _leaf(self, *, pool, at: dt.datetime) -> str:
        top = _weighted(
            self.rng, {t: w for t, w in TOP_WEIGHTS.items() if any(k.startswith(t) for k in pool)}
        )
        leaves = sorted(k for k in pool if k.startswith(top))
        local = at.astimezone(SHANGHAI)
        heating = (local.month, local.day) >= (11, 15) or (local.month, local.day) <= (3, 15)
        weights = [(5 if heating else 0.1) if k.startswith("0304") else 1 for k in leaves]
        return self.rng.choices(leaves, weights=weights)[0]

    def _street(self, leaf: str, channel: str) -> Street:
        r = self.rng.random()
        if channel == "outreach":
            return self.outreach if r < 0.6 else self.rng.choice(self.by_district["大兴区"])
        if leaf.startswith("1001") and r < 0.35 or r < 0.07:
            return self.focus  # the demo's handler1/handler3 need full inboxes
        if leaf.startswith("13"):
            return self.rng.choice(self.rural)
        district = _weighted(self.rng, DISTRICT_WEIGHTS)
        return self.rng.choice(self.by_district[district])

    def _caller(self, channel: str) -> Caller:
        if self.rng.random() < 0.15:
            return self.rng.choice(self.regulars)
        return texts.make_caller(self.rng, landline=channel == "hotline" and self.rng.random() < 0.08)

    def _creator(self, channel: str) -> str:
        if channel in ("web", "app", "api"):
            return ""
        if channel == "outreach":
            return "outreach1"
        if channel == "special_hotline":
            return "calltaker2"
        return self.rng.choice(("calltaker1", "calltaker1", "calltaker2", "calltaker3"))

    # -- one order ------------------------------------------------------------------------

    def plan(self, index: int) -> Plan:
        rng = self.rng
        fate = FIRST_FATES[index] if index < len(FIRST_FATES) and self.n >= 20 else ""
        request_type = _weighted(rng, REQUEST_TYPES)
        if fate in ("answered", "answered_closed"):
            request_type = "consult"
        elif fate and request_type in ("consult", "praise", "suggest"):
            request_type = "complaint"
        kind = request_type if request_type in ("consult", "praise", "suggest") else "problem"
        fate = fate or _weighted(rng, FATE_WEIGHTS[kind])
        channel = _weighted(rng, CHANNELS)
        if channel == "special_hotline" and kind != "problem":
            channel = "hotline"
        received_at = self._received("closed" if fate == "merged" else fate)
        caller = self._caller(channel)
        repeat = caller in self.regulars
        urgency = "urgent" if rng.random() < 0.08 else "normal"
        answer = outcome = referred_to = reason = praised = ""
        if fate.startswith(("referred", "declined")):
            if fate.startswith("referred"):
                leaf, template, outcome, referred_to, reason = rng.choice(P.REFERRALS)
                urgency = "emergency" if outcome == "emergency" else urgency
            else:
                leaf, template, outcome, reason = rng.choice(P.DECLINES)
            street = self._street(leaf, channel)
            place = texts.place_for(rng, street)
            content = template.format(place=place.text)
            request_type = "help" if outcome == "emergency" else request_type
        elif kind == "consult":
            leaf, question, answer = rng.choice(P.QUESTIONS)
            street = self._street(leaf, channel)
            place = texts.place_for(rng, street)
            content = texts.question_text(rng, question, caller, by_phone=channel == "hotline")
        elif kind == "suggest":
            leaf, template = rng.choice(P.SUGGESTIONS)
            street = self._street(leaf, channel)
            place = texts.place_for(rng, street)
            content = texts.suggestion_text(rng, template, place=place, street=street, caller=caller)
            answer = "感谢您的建议，已记录并将转相关部门研究参考。"
        elif kind == "praise":
            leaf = "160202"
            street = self._street(leaf, channel)
            place = texts.place_for(rng, street)
            praised = rng.choice((f"SO{street.code}", "UT-WATER", "UT-HEAT", "CB-CGW", "UT-POWER"))
            content = texts.praise_text(rng, unit=self.world.units[praised])
            answer = "已记录诉求人的表扬，将转达相关单位。"
        else:
            if channel == "special_hotline":
                leaf = rng.choice(("110401", "110401", "110402"))
                request_type = "report"
            else:
                leaf = self._leaf(pool=P.PROBLEMS, at=received_at)
            if leaf in P.QUESTION_LIKE:
                request_type = "help"
            street = self._street(leaf, channel)
            place = texts.place_for(rng, street)
            content = texts.problem_text(
                rng,
                leaf=leaf,
                request_type=request_type,
                caller=caller,
                place=place,
                street=street,
                repeat=repeat,
                by_phone=channel == "hotline",
            )
            if rng.random() < EMERGENCY_LEAVES.get(leaf, 0.004):
                urgency = "emergency"
        callers = [caller]
        if channel == "outreach" and rng.random() < 0.3:
            callers += [texts.make_caller(rng) for _ in range(rng.randint(1, 3))]  # villagers filing together
        elif rng.random() < 0.03:
            callers.append(texts.make_caller(rng))  # a family member on the same order
        lead, co = (praised, []) if praised else route(self.world, leaf, street)
        leaf_name = self.world.categories[leaf][0]
        return Plan(
            index=index,
            fate=fate,
            received_at=received_at,
            request_type=request_type,
            channel=channel,
            urgency=urgency,
            leaf=leaf,
            street=street,
            place=place,
            title=f"表扬{self.world.units[praised]}"
            if praised
            else texts.title_for(request_type=request_type, leaf_name=leaf_name, street=street),
            content=content,
            callers=callers,
            creator=self._creator(channel),
            lead=lead,
            co=co,
            answer=answer,
            outcome=outcome,
            referred_to=referred_to,
            reason=reason,
            confidential=request_type == "complaint" and rng.random() < 0.05,
        )

    def _attach_duplicates(self, plans: list[Plan]) -> None:
        """A merged order duplicates an earlier, still open one: same place, same problem,
        another caller, a few hours later."""
        latest = self.anchor - dt.timedelta(days=1)
        survivors = [
            p
            for p in plans
            if p.fate in HANDLED
            and p.fate != "returned"
            and p.urgency != "emergency"
            and p.received_at < latest
            and p.channel != "special_hotline"
            and p.request_type != "suggest"
        ]
        for plan in plans:
            if plan.fate != "merged":
                continue
            if not survivors:
                plan.fate = "closed"
                continue
            survivor = self.rng.choice(survivors)
            caller = self._caller(plan.channel)
            plan.survivor = survivor
            survivor.duplicates.append(plan)
            plan.received_at = survivor.received_at + dt.timedelta(minutes=self.rng.randint(20, 480))
            plan.leaf, plan.street, plan.place = survivor.leaf, survivor.street, survivor.place
            plan.request_type, plan.title, plan.urgency = "complaint", survivor.title, "normal"
            plan.lead, plan.co, plan.callers = survivor.lead, survivor.co, [caller]
            plan.content = texts.dedupe_text(
                self.rng,
                leaf=plan.leaf if plan.leaf in P.PROBLEMS else "010201",
                caller=caller,
                place=plan.place,
                street=plan.street,
            )

    def plans(self) -> list[Plan]:
        plans = [self.plan(i) for i in range(self.n)]
        self._attach_duplicates(plans)
        # Creation order is time order, so that order numbers rise through each day.
        return sorted(plans, key=lambda p: (p.received_at, p.index))


def plan_orders(*, world: World, seed: int, anchor: dt.datetime, orders: int) -> list[Plan]:
    return Planner(world=world, seed=seed, anchor=anchor, orders=orders).plans()
