"""What every state change shares: the lock, the guards and the after-commit hook."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Action, Actor, can
from jiesu.orders import concurrency
from jiesu.orders.errors import IllegalTransition, InvalidInput, NotAllowed, NotFound
from jiesu.orders.models import Assignment, OrderState, WorkOrder
from jiesu.orders.states import State, can_move

MAX_TEXT = 5000
MAX_REASON = 2000


def lock_order(number_or_id: str | int) -> WorkOrder:
    """Fetch the order with a row lock (``SELECT … FOR UPDATE``; on SQLite the transaction's
    ``BEGIN IMMEDIATE`` already serialises writers). Must run inside ``transaction.atomic``."""
    qs = WorkOrder.objects.select_for_update(of=("self",))
    key = {"pk": number_or_id} if isinstance(number_or_id, int) else {"number": number_or_id}
    try:
        order = qs.select_related("area", "category").get(**key)
    except WorkOrder.DoesNotExist:
        raise NotFound(_("No order %(number)s."), number=number_or_id) from None
    concurrency.check(order)  # under the lock: a stale form is refused, not applied
    return order


def state_label(state: str) -> str:
    return str(OrderState(state).label)


def guard_move(order: WorkOrder, target: State, action_label, *, sources: frozenset[State] | None = None) -> None:
    """Refuse unless the table allows state → target (and, where two actions reach the same
    target, unless the order is in one of this action's own source states)."""
    if not can_move(order.state, target) or (sources is not None and order.state not in sources):
        raise IllegalTransition(
            _("Order %(number)s is “%(state)s”; it cannot be %(action)s."),
            number=order.number,
            state=state_label(order.state),
            action=action_label,
        )


def require(actor: Actor, action: Action, order: WorkOrder | None = None, assignment: Assignment | None = None) -> None:
    if not can(actor, action, order, assignment):
        raise NotAllowed(_("You are not allowed to do this."))


def clean_text(
    value: str | None, *, field: str, label, required: bool = True, max_length: int = MAX_TEXT
) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(_("Please fill in %(label)s."), field=field, label=label)
    if len(text) > max_length:
        raise InvalidInput(
            _("%(label)s is too long: at most %(max)s characters."), field=field, label=label, max=max_length
        )
    if "\x00" in text:
        raise InvalidInput(_("%(label)s contains invalid characters."), field=field, label=label)
    return text


def after_commit(fn: Callable[[], object]) -> None:
    transaction.on_commit(fn, robust=True)
