"""`jiesu setup`: what `make run` does before serving. Migrate; load the demo city if the
database is empty; print the logins. Safe to run again: it never loads twice."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from jiesu.accounts.models import User
from jiesu.orders.models import WorkOrder


class Command(BaseCommand):
    help = "Migrate, load the demo city into an empty database, print the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="migrate only")

    def handle(self, *args, no_demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if no_demo:
            return
        if not User.objects.exists() and not WorkOrder.objects.exists():
            self.stdout.write("Loading the demo city (Beijing)…")
            call_command("demo", stdout=self.stdout)
        else:
            from jiesu.demo.people import demo_accounts, format_accounts

            self.stdout.write("Demo accounts:")
            self.stdout.write(format_accounts(demo_accounts()))
