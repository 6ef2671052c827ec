from django.core.management.base import BaseCommand, CommandError

from jiesu.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Issue an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)
        parser.add_argument("--name", default="cli")

    def handle(self, *args, user: str, name: str, **options):
        account = User.objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"no active user {user!r}")
        _token, raw = ApiToken.issue(user=account, name=name)
        self.stdout.write(raw)
