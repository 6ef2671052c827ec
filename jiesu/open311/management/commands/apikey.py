"""``jiesu apikey create NAME [--user USERNAME]``: print a new Open311 API key (shown
once; only its hash is stored). ``--user``: a unit's case system that posts status updates as
that handler. ``jiesu apikey list`` and ``jiesu apikey revoke PREFIX``."""

from django.core.management.base import BaseCommand, CommandError

from jiesu import clock
from jiesu.accounts.policy import Actor
from jiesu.open311.errors import Open311Error
from jiesu.open311.models import ApiKey
from jiesu.open311.services import issue_key


class Command(BaseCommand):
    help = "Open311 API keys: create NAME [--user USERNAME] prints a new key; list; revoke PREFIX."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new key (shown only once)")
        create.add_argument("name")
        create.add_argument("--user", default="", help="a handler's username: the key may post that unit's updates")
        sub.add_parser("list", help="the keys (prefix, name, unit, state)")
        revoke = sub.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action: str, **options):
        if action == "create":
            try:
                _key, raw = issue_key(actor=Actor.system(), name=options["name"], username=options["user"])
            except Open311Error as err:
                raise CommandError("; ".join(err.descriptions)) from None
            self.stdout.write(raw)
        elif action == "list":
            for key in ApiKey.objects.select_related("user").order_by("created_at"):
                state = "revoked" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}\t{key.name}\t{key.user.username if key.user else '-'}\t{state}")
        else:
            count = ApiKey.objects.filter(prefix=options["prefix"], revoked_at__isnull=True).update(
                revoked_at=clock.now())
            if not count:
                raise CommandError(f"no active key with prefix {options['prefix']!r}")
            self.stdout.write(f"revoked {count}")
