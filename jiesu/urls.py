from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from jiesu.api.routes import api
from jiesu.followup import views_public as followup_public
from jiesu.insight.views import measures as insight_measures


def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API's docs).
    path("favicon.ico", RedirectView.as_view(url=static("jiesu/favicon.svg"), permanent=True), name="favicon"),
    path("api/v1/", api.urls),
    path("open311/v2/", include("jiesu.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("desk/insight/", include("jiesu.insight.urls")),
    path("desk/services/", include("jiesu.services.urls_desk")),
    path("desk/", include("jiesu.followup.urls")),
    path("desk/", include("jiesu.integrations.urls")),
    path("desk/", include("jiesu.desk.urls")),
    path("callback/<str:number>/<str:token>/", followup_public.answer, name="callback_link"),
    path("measures/", insight_measures.public_measures, name="measures_public"),
    path("services/", include("jiesu.services.urls_public")),
    path("", include("jiesu.portal.urls")),
]
