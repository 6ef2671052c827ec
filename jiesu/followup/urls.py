"""Desk screens of follow-up, mounted under /desk/ (see jiesu/urls.py)."""

from django.urls import path

from jiesu.followup import views_desk

app_name = "followup"
urlpatterns = [
    path("scorecards/", views_desk.scorecards, name="scorecards"),
    path("scorecards/export.<str:fmt>", views_desk.export, name="export"),
    path("scorecards/report/<str:month>/", views_desk.report, name="report"),
    path("scorecards/report/<str:month>.xlsx", views_desk.report_xlsx, name="report_xlsx"),
    path("supervise/link/<str:number>/", views_desk.send_link, name="send_link"),
]
