from django.urls import path

from jiesu.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submitted/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("track/<str:number>/", views.track_detail, name="track_detail"),
    path("track/<str:number>/rate/", views.rate, name="rate"),
    path("large-text/", views.large_text, name="large_text"),
]
