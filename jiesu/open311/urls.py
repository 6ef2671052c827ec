from django.urls import re_path

from jiesu.open311 import views

app_name = "open311"
F = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + F, views.discovery, name="discovery"),
    re_path(r"^services" + F, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]{1,64})" + F, views.service_definition, name="service"),
    re_path(r"^requests" + F, views.requests_, name="requests"),
    re_path(r"^requests/(?P<number>[^/]{1,40})" + F, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,40})" + F, views.token, name="token"),
    re_path(r"^servicerequestupdates" + F, views.request_updates, name="updates"),
    # Anything else under /open311/v2/ is a 404 in the spec's error format.
    re_path(r"^(?P<rest>.*)\.(?P<fmt>json)$", views.not_an_endpoint, name="unknown_json"),
    re_path(r"^(?P<rest>.*)$", views.not_an_endpoint, name="unknown"),
]
