from django.urls import path

from jiesu.integrations import views

app_name = "integrations"
urlpatterns = [
    path("export/<slug:name>.<slug:fmt>", views.export_list, name="export"),
    path("import/", views.import_page, name="import"),
    path("import/template/<slug:kind>.<slug:fmt>", views.import_template, name="import_template"),
    path("webhooks/", views.webhooks_page, name="webhooks"),
    path("webhooks/<str:delivery_id>/replay/", views.replay_delivery, name="webhook_replay"),
]
