"""Public booking pages, mounted at /services/ (see jiesu/urls.py)."""

from django.urls import path

from jiesu.services import views_public

app_name = "legal"
urlpatterns = [
    path("", views_public.home, name="home"),
    path("book/", views_public.book, name="book"),
    path("booked/", views_public.booked, name="booked"),
    path("manage/", views_public.manage, name="manage"),
    path("booking/", views_public.booking_page, name="booking"),
]
