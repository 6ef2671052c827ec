"""``jiesu demo [--orders N] [--seed S] [--anchor YYYY-MM-DD]``: load the demo city into an
empty database and print the accounts to log in with."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from jiesu.demo.build import (
    DEFAULT_ORDERS,
    DEFAULT_SEED,
    DemoError,
    demo_accounts,
    format_accounts,
    load_demo,
)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--anchor must be a date like 2026-03-01, not “{text}”.") from None


class Command(BaseCommand):
    help = "Load the demo city (Beijing) with demo accounts and work orders into an empty database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help=f"default {DEFAULT_ORDERS}")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
        parser.add_argument(
            "--anchor",
            type=_day,
            default=None,
            help="orders fill the 60 days before this date's midnight (Asia/Shanghai); "
            "default today. Same seed and anchor, same demo.",
        )

    def handle(self, *args, orders: int, seed: int, anchor: dt.date | None, **options) -> None:
        try:
            summary = load_demo(orders=orders, seed=seed, anchor=anchor)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        states = ", ".join(f"{state} {count}" for state, count in summary.states.items())
        self.stdout.write(
            f"Demo city loaded in {summary.seconds:.1f} s: {summary.areas} areas, {summary.units} units, "
            f"{summary.rules} routing rules, {summary.users} users, {summary.orders} orders "
            f"(up to {summary.anchor:%Y-%m-%d %H:%M} Asia/Shanghai, seed {seed}).\n"
            f"States: {states}\n\nDemo accounts:\n{format_accounts(demo_accounts())}"
        )
