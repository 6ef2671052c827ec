"""Desk screens of the legal services, mounted at /desk/services/ (see jiesu/urls.py)."""

from django.urls import path

from jiesu.services import views_desk, views_field

app_name = "services"
urlpatterns = [
    path("", views_desk.home, name="home"),
    path("today/", views_desk.today, name="today"),
    path("bookings/<str:code>/", views_desk.act, name="act"),
    path("book/", views_desk.book, name="book"),
    path("stats/", views_desk.stats_page, name="stats"),
    path("stats.xlsx", views_desk.stats_xlsx, name="stats_xlsx"),
    path("outreach/", views_field.outreach, name="outreach"),
    path("outreach/sw.js", views_field.outreach_worker, name="outreach_worker"),
    path("outreach/<int:event_id>/", views_field.outreach_event, name="outreach_event"),
    path("filing/", views_field.filing, name="filing"),
    path("filing/<int:batch_id>/", views_field.batch_page, name="batch"),
    path("filing/<int:batch_id>/receipts/", views_field.receipts, name="receipts"),
    path("filings/<int:filing_id>/", views_field.filing_act, name="filing_act"),
    path("hotline/<str:code>/", views_field.hotline, name="hotline"),
    path("hotline/<str:code>/slip/<str:number>/", views_field.slip, name="slip"),
]
