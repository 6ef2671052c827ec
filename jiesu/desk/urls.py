from django.urls import path

from jiesu.desk.views import dispatch, home, inbox, intake, order, supervise
from jiesu.desk.views.actionkit import order_action

app_name = "desk"
urlpatterns = [
    path("", home.home, name="home"),
    path("login/", home.LoginView.as_view(), name="login"),
    path("logout/", home.LogoutView.as_view(), name="logout"),
    path("intake/", intake.intake, name="intake"),
    path("intake/history/", intake.caller_history, name="caller_history"),
    path("triage/", intake.triage_panel, name="triage_panel"),
    path("dispatch/", dispatch.dispatch_queue, name="dispatch"),
    path("dispatch/<str:number>/duplicates/", dispatch.dispatch_duplicates, name="dispatch_duplicates"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("supervise/", supervise.supervise, name="supervise"),
    path("orders/", order.order_search, name="orders"),
    path("orders/<str:number>/", order.order_page, name="order"),
    path("orders/<str:number>/do/<slug:action>/", order_action, name="action"),
]
