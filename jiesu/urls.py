from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from jiesu.api.routes import api


def healthz(request: HttpRequest) -> JsonResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("desk/", include("jiesu.desk.urls")),
    path("", include("jiesu.portal.urls")),
]
