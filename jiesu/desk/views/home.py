"""Sign-in, sign-out and the home screen: the user's screens with their counts."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from jiesu.desk.selectors import home_counts, screens_for
from jiesu.desk.views.common import actor_of, page, staff_required


class LoginView(auth_views.LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@require_GET
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    screens = screens_for(actor)
    return page(request, "desk/home.html", {
        "screens": screens,
        "counts": home_counts(actor, screens),
        "roles": sorted({g.role for g in actor.grants}),
    }, screen="home")
