from django.urls import path

from jiesu.desk import views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
]
