"""Playing the planned orders through the real service functions (``jiesu.orders.actions``),
each step at its own moment under ``clock.frozen``, so that numbers, deadlines and the event
log are exactly what the product would have produced. No row is written here directly.

An order's steps run in time order up to its fate; a step that would fall on or after the
anchor is not taken (the order stays where it is, as a snapshot of "now").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.demo import phrases as P
from jiesu.demo import texts
from jiesu.demo.orders import Plan
from jiesu.demo.org import World
from jiesu.demo.people import ACCOUNTS, staff_name
from jiesu.orders import actions
from jiesu.orders.actions import RequesterInput
from jiesu.orders.models import WorkOrder

BATCH = 100  # orders per transaction: few commits, small rollbacks
MIN = dt.timedelta(minutes=1)
REPLY_MARGIN = {
    "callback_due": dt.timedelta(hours=1),
    "reopened": dt.timedelta(hours=44),
    "closed": dt.timedelta(hours=48),
}


class _Stop(Exception):
    """The next step falls after the anchor."""


class Cast:
    """Who does what: the demo accounts where they fit, unit staff everywhere else."""

    def __init__(self, actors: dict[str, Actor]) -> None:
        self.actors = actors
        self.system = Actor.system()
        self.by_unit: dict[str, list[str]] = {}
        for a in ACCOUNTS:
            if any(r in ("handler", "unit_lead") for r in a.roles):
                self.by_unit.setdefault(a.unit, []).append(a.username)

    def __getitem__(self, username: str) -> Actor:
        return self.actors[username] if username else self.system

    def unit(self, rng: random.Random, code: str) -> Actor:
        people = self.by_unit.get(code)
        if people and rng.random() < 0.85:
            return self.actors[people[0] if rng.random() < 0.8 else people[-1]]
        return self.actors[staff_name(code)]

    def dispatcher(self, rng: random.Random, district_code: str) -> Actor:
        local = {"110105": "dispatcher2", "110108": "dispatcher3"}.get(district_code)
        if local and rng.random() < 0.6:
            return self.actors[local]
        if rng.random() < 0.3:
            return self.actors[staff_name(f"DC{district_code}")]
        return self.actors["dispatcher1"]

    def calltaker(self, rng: random.Random, creator: str) -> Actor:
        return (
            self.actors[creator]
            if creator.startswith("calltaker")
            else self.actors[rng.choice(("calltaker1", "calltaker2", "calltaker3"))]
        )

    def callbacker(self, rng: random.Random) -> Actor:
        return self.actors[rng.choice(("supervisor1", "calltaker1", "calltaker2", "calltaker3"))]


def create_all(plans: list[Plan], cast: Cast) -> None:
    """Phase 1: record every order at its moment, in time order (numbers rise through a day)."""
    for start in range(0, len(plans), BATCH):
        with transaction.atomic():
            for plan in plans[start : start + BATCH]:
                with clock.frozen(plan.received_at):
                    order = actions.create_order(
                        actor=cast[plan.creator],
                        request_type=plan.request_type,
                        channel=plan.channel,
                        content=plan.content,
                        urgency=plan.urgency,
                        title=plan.title,
                        address=plan.place.address,
                        category_code=plan.leaf,
                        area_code=plan.place.area_code,
                        confidential=plan.confidential,
                        draft=plan.draft,
                        requesters=[
                            RequesterInput(
                                phone=c.phone, name=c.name, wants_confidential=plan.confidential and i == 0
                            )
                            for i, c in enumerate(plan.callers)
                        ],
                    )
                plan.number = order.number


def play_all(plans: list[Plan], *, world: World, cast: Cast, seed: int, limit: dt.datetime) -> None:
    """Phase 2: each order's life. Duplicates are merged inside their survivor's episode."""
    episodes = [p for p in plans if p.survivor is None and not p.draft]
    for start in range(0, len(episodes), BATCH):
        with transaction.atomic():
            for plan in episodes[start : start + BATCH]:
                Episode(plan, world=world, cast=cast, seed=seed, limit=limit).run()


class Episode:
    def __init__(self, plan: Plan, *, world: World, cast: Cast, seed: int, limit: dt.datetime) -> None:
        self.plan, self.world, self.cast, self.limit = plan, world, cast, limit
        # Each order has its own generator: changing one order's steps never shifts another's.
        self.rng = random.Random(f"{seed}/{plan.index}")
        self.t = plan.received_at
        self.merges = sorted(
            (
                (d.received_at + dt.timedelta(minutes=self.rng.randint(5, 60)), d.index, d)
                for d in plan.duplicates
            ),
            key=lambda m: (m[0], m[1]),
        )
        self.last_merge = self.merges[-1][0] if self.merges else plan.received_at

    # -- time and steps ---------------------------------------------------------------------

    def later(self, lo: float, hi: float, *, unit: str = "minutes") -> dt.datetime:
        amount = self.rng.uniform(lo, hi)
        return (self.t + dt.timedelta(**{unit: amount})).replace(microsecond=0)

    def do(self, at: dt.datetime, fn: Callable[..., Any], **kwargs: Any) -> Any:
        at = max(at, self.t + MIN)
        self._merge_until(at)
        if at >= self.limit:
            raise _Stop
        self.t = at
        with clock.frozen(at):
            return fn(number=self.plan.number, **kwargs)

    def _merge_until(self, at: dt.datetime) -> None:
        while self.merges and self.merges[0][0] <= at and self.merges[0][0] < self.limit:
            when, _i, dup = self.merges.pop(0)
            with clock.frozen(max(when, self.t)):
                actions.merge_orders(
                    actor=self.cast["dispatcher1"],
                    number=dup.number,
                    into=self.plan.number,
                    reason=self.rng.choice(P.MERGE_REASONS),
                )

    def run(self) -> None:
        with contextlib.suppress(_Stop):
            self._run()
        self._merge_until(self.limit)

    def _run(self) -> None:
        plan, fate = self.plan, self.plan.fate
        if fate == "received":
            return
        if fate.startswith("answered"):
            actor = self.cast.calltaker(self.rng, plan.creator)
            self.do(self.later(1, 6), actions.answer_order, actor=actor, answer=plan.answer)
            if fate == "answered_closed":
                self.do(
                    self.later(1, 90), actions.close_order, actor=actor, reason=self.rng.choice(P.CLOSE_NOTES)
                )
            return
        if fate.startswith("referred"):
            actor = self.cast.calltaker(self.rng, plan.creator)
            self.do(
                self.later(1, 8),
                actions.refer_order,
                actor=actor,
                outcome=plan.outcome,
                referred_to=plan.referred_to,
                reason=plan.reason,
            )
            if fate == "referred_closed":
                self.do(self.later(10, 2000), actions.close_order, actor=actor)
            return
        if fate.startswith("declined"):
            actor = self.cast.dispatcher(self.rng, plan.street.district_code)
            self.do(
                self.later(20, 360),
                actions.decline_order,
                actor=actor,
                outcome=plan.outcome,
                reason=plan.reason,
            )
            if fate == "declined_closed":
                self.do(self.later(30, 2000), actions.close_order, actor=self.cast["dispatcher1"])
            return
        self._handle(fate)

    # -- dispatch to close ------------------------------------------------------------------

    def _unit_actor(self, code: str) -> Actor:
        return self.cast.unit(self.rng, code)

    def _wrong_unit(self) -> str:
        plan = self.plan
        if plan.lead.startswith("SO"):
            others = [
                s
                for s in self.world.streets
                if s.district_code == plan.street.district_code and s.code != plan.street.code
            ]
            return f"SO{self.rng.choice(others).code}"
        return self.rng.choice(
            [c for c in ("CB-CGW", "CB-ZJW", "CB-JTW", "CB-SCJG", "CB-STHJ") if c != plan.lead]
        )

    def _dispatch(self, lead: str, co: list[str]) -> None:
        online = self.plan.channel in ("web", "app", "api")
        hi = 40 if self.plan.urgency == "emergency" else (150 if online else 70)
        at = self.later(3, hi)
        actor = self.cast.dispatcher(self.rng, self.plan.street.district_code)
        self.do(at, actions.dispatch_order, actor=actor, lead_unit=lead, co_units=co)

    def _handle(self, fate: str) -> None:
        plan, rng = self.plan, self.rng
        chance = 0.6 if fate == "returned" else 0.07
        wrong = self._wrong_unit() if rng.random() < chance else ""
        self._dispatch(wrong or plan.lead, [] if wrong else plan.co)
        if wrong or fate == "returned":
            returner = wrong or plan.lead
            self.do(
                self.later(15, 100),
                actions.return_assignment,
                actor=self._unit_actor(returner),
                reason=rng.choice(P.RETURN_REASONS),
            )
            if fate == "returned":
                return
            if rng.random() < 0.25:
                self.do(
                    self.later(15, 60),
                    actions.requeue_order,
                    actor=self.cast["dispatcher1"],
                    reason=rng.choice(P.REQUEUE_REASONS),
                )
            self._dispatch(plan.lead, plan.co)
        due = self._due()
        if fate == "dispatched":
            if due < self.limit and rng.random() < 0.6:
                self.do(
                    max(due, self.t) + dt.timedelta(hours=rng.uniform(1, 20)),
                    actions.urge_order,
                    actor=self.cast["supervisor1"],
                    reason=rng.choice(P.URGE_REASONS),
                )
            return
        self._accept_and_work(due)

    def _due(self) -> dt.datetime:
        due = WorkOrder.objects.values_list("due_at", flat=True).get(number=self.plan.number)
        assert due is not None
        return due

    def _quick(self) -> bool:
        return self.plan.urgency == "emergency" or self.plan.leaf.startswith("03")

    def _accept_and_work(self, due: dt.datetime) -> None:
        plan, rng, fate = self.plan, self.rng, self.plan.fate
        dispatched_at = self.t
        for co in plan.co:
            self.do(self.later(10, 240), actions.accept_assignment, actor=self._unit_actor(co), unit=co)
        self.t = dispatched_at
        lead_actor = self._unit_actor(plan.lead)
        self.do(
            self.later(3, 25) if self._quick() else self.later(10, 360),
            actions.accept_assignment,
            actor=lead_actor,
            unit=plan.lead,
        )
        accepted_at = self.t
        reply_at = self._reply_time(accepted_at, due)
        if fate in REPLY_MARGIN:
            # Leave room before the anchor for the steps that this fate still needs.
            reply_at = min(reply_at, self.limit - REPLY_MARGIN[fate])
        if rng.random() < 0.7:
            contact_at = self.later(5, 40) if self._quick() else self.later(20, 1200)
            if contact_at < reply_at:
                self.do(
                    contact_at,
                    actions.record_contact,
                    actor=lead_actor,
                    unit=plan.lead,
                    note=rng.choice(P.CONTACT_NOTES),
                )
        extended = not self._quick() and (rng.random() < 0.06 or (reply_at > due and rng.random() < 0.4))
        if extended:
            ask_at = accepted_at + (due - accepted_at) * rng.uniform(0.4, 0.8)
            self.do(
                ask_at,
                actions.request_extension,
                actor=self._unit_actor(plan.lead),
                unit=plan.lead,
                working_days=rng.choice((3, 5, 5, 7, 10)),
                reason=rng.choice(P.EXTENSION_REASONS),
            )
            approve = rng.random() < 0.85
            self.do(
                self.later(60, 1800),
                actions.decide_extension,
                actor=self.cast[rng.choice(("dispatcher1", "supervisor1"))],
                approve=approve,
                note="同意延期。" if approve else "理由不充分，请按原时限办结。",
            )
            if approve:
                new_due = self._due()
                reply_at = due + (new_due - due) * rng.uniform(0.1, 0.9)
                due = new_due
        if (reply_at > due or rng.random() < 0.08) and due - dt.timedelta(hours=6) > self.t:
            urge_at = (
                due + dt.timedelta(hours=rng.uniform(1, 24))
                if reply_at > due
                else due - dt.timedelta(hours=rng.uniform(2, 20))
            )
            if urge_at < reply_at:
                self.do(
                    urge_at,
                    actions.urge_order,
                    actor=self.cast["supervisor1"],
                    reason=rng.choice(P.URGE_REASONS),
                )
        if fate == "accepted":
            if due < self.limit and rng.random() < 0.6:  # overdue at the anchor: the supervisor urges
                self.do(
                    max(due, self.t) + dt.timedelta(hours=rng.uniform(1, 20)),
                    actions.urge_order,
                    actor=self.cast["supervisor1"],
                    reason=rng.choice(P.URGE_REASONS),
                )
            return
        if fate == "replied":
            reply_at = max(self.limit - dt.timedelta(minutes=rng.uniform(10, 180)), self.t + MIN)
        self._reply(max(reply_at, self.last_merge + dt.timedelta(minutes=30)), queue=fate != "replied")
        if fate == "replied":
            return
        self._callbacks()

    def _reply_time(self, accepted_at: dt.datetime, due: dt.datetime) -> dt.datetime:
        r = self.rng.random()
        frac = (
            self.rng.uniform(0.05, 0.6)
            if r < 0.7
            else (self.rng.uniform(0.6, 0.98) if r < 0.9 else self.rng.uniform(1.02, 1.6))
        )
        return (accepted_at + (due - accepted_at) * frac).replace(microsecond=0)

    def _reply(self, at: dt.datetime, *, co_units: bool = True, queue: bool = True) -> None:
        plan, rng = self.plan, self.rng
        name, top = self.world.categories[plan.leaf]
        for co in plan.co if co_units else []:
            co_at = at - dt.timedelta(hours=rng.uniform(0.5, 20))
            self.do(
                max(co_at, self.t),
                actions.reply_to_order,
                actor=self._unit_actor(co),
                unit=co,
                body=texts.reply_text(
                    rng,
                    leaf=plan.leaf,
                    top=top,
                    leaf_name=name,
                    place=plan.place,
                    request_type=plan.request_type,
                )[1],
                outcome="solved",
            )
        outcome, body = texts.reply_text(
            rng, leaf=plan.leaf, top=top, leaf_name=name, place=plan.place, request_type=plan.request_type
        )
        self.do(
            at,
            actions.reply_to_order,
            actor=self._unit_actor(plan.lead),
            unit=plan.lead,
            body=body,
            outcome=outcome,
            co_unit_summary=rng.choice(P.CO_SUMMARIES) if plan.co else "",
        )
        if queue:
            # The callback queue is a background task; in the past it ran within minutes.
            self.do(self.later(1, 30), actions.open_callback, actor=self.cast.system)

    def _callbacks(self) -> None:
        rng, fate = self.rng, self.plan.fate
        if fate == "callback_due":
            if rng.random() < 0.4:
                self._unreached()
            return
        roll = rng.random()
        if fate == "closed" and roll < 0.06:
            for _ in range(3):  # unreachable after the configured number of tries
                self._unreached()
            return
        if rng.random() < 0.12:
            self._unreached()
        if fate == "reopened" or roll < 0.13:
            self._callback("unsatisfied", solved=False)
            if fate == "reopened":
                return
            self._rework()
        satisfaction, solved = self._happy()
        self._callback(satisfaction, solved=solved)
        if WorkOrder.objects.values_list("state", flat=True).get(number=self.plan.number) == "reopened":
            # Solved but unsatisfied reopens too (issue 4): the unit works on it once more.
            self._rework()
            self._callback("satisfied", solved=True)
        if rng.random() < 0.01:
            self.do(
                self.later(1, 5, unit="days"),
                actions.reopen_order,
                actor=self.cast["supervisor1"],
                reason=rng.choice(P.REOPEN_REASONS),
            )
            self._rework()
            self._callback("satisfied", solved=True)

    def _happy(self) -> tuple[str, bool]:
        r = self.rng.random()
        if r < 0.72:
            return "satisfied", True
        if r < 0.92:
            return "basic", self.rng.random() < 0.8
        return "unsatisfied", True  # solved, though not pleased: closes

    def _unreached(self) -> None:
        self.do(
            self.later(3, 30, unit="hours"),
            actions.record_callback,
            actor=self.cast.callbacker(self.rng),
            reached=False,
            note=self.rng.choice(P.CALLBACK_NOTES["unreached"]),
        )

    def _callback(self, satisfaction: str, *, solved: bool) -> None:
        rng, plan = self.rng, self.plan
        at = self.later(2, 40, unit="hours")
        note = rng.choice(
            P.CALLBACK_NOTES[
                "unsatisfied_solved" if satisfaction == "unsatisfied" and solved else satisfaction
            ]
        )
        partly = satisfaction == "basic" and not solved  # the portal asks yes/no only
        if rng.random() < 0.1 and not plan.callers[0].phone.startswith("010") and not partly:
            # The requester rates it on the portal instead of answering the phone.
            self.do(
                at, _rate, phone=plan.callers[0].phone, solved=solved, satisfaction=satisfaction, comment=note
            )
            return
        self.do(
            at,
            actions.record_callback,
            actor=self.cast.callbacker(rng),
            reached=True,
            contacted=True,
            solved=solved,
            # "basically satisfied, not quite solved" is a partly solved case (回访: 部分解决).
            resolution="partly" if partly else "",
            satisfaction=satisfaction,
            note=note,
            via=rng.choice(("phone",) * 9 + ("sms",)),
        )

    def _rework(self) -> None:
        """重办: the lead unit accepts the reopened order and replies again."""
        plan = self.plan
        actor = self._unit_actor(plan.lead)
        self.do(self.later(20, 600), actions.accept_assignment, actor=actor, unit=plan.lead)
        self._reply(self.later(6, 72, unit="hours"), co_units=False)  # they replied the first time


def _rate(*, number: str, phone: str, solved: bool, satisfaction: str, comment: str) -> WorkOrder:
    return actions.rate_order(
        number=number, phone=phone, solved=solved, satisfaction=satisfaction, comment=comment
    )
