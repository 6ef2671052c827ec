from typing import Any

from django.apps import AppConfig
from django.db import transaction


def forget_tokens(**_kwargs: Any) -> None:
    """A change to who a token's caller is or what they may do: this process forgets the
    tokens it accepted, now and again after the commit (a request between the two could read
    the rows as they were before it)."""
    from jiesu.accounts.token_memory import TOKENS

    TOKENS.forget_all()
    transaction.on_commit(TOKENS.forget_all)


class AccountsConfig(AppConfig):
    name = "jiesu.accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from jiesu.accounts.models import ApiToken, Membership
        from jiesu.org.models import Area, Unit

        # Whatever decides who a token's caller is and what they may do: the token, its user,
        # their memberships, the units and areas those grant (jiesu.accounts.token_memory).
        for model in (ApiToken, get_user_model(), Membership, Unit, Area):
            label = model._meta.label
            post_save.connect(forget_tokens, sender=model, dispatch_uid=f"forget_tokens_save_{label}")
            post_delete.connect(forget_tokens, sender=model, dispatch_uid=f"forget_tokens_delete_{label}")
