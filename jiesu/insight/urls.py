from django.urls import path

from jiesu.insight.views import dashboard, hotspots, measures, proactive, topics

app_name = "insight"
urlpatterns = [
    path("", dashboard.dashboard_page, name="dashboard"),
    path("hotspots/", hotspots.hotspot_list, name="hotspots"),
    path("hotspots/<str:key>/", hotspots.hotspot_detail, name="hotspot"),
    path("topics/", topics.topic_list, name="topics"),
    path("topics/new/", topics.topic_edit, name="topic_new"),
    path("topics/<int:topic_id>/", topics.topic_detail, name="topic"),
    path("topics/<int:topic_id>/edit/", topics.topic_edit, name="topic_edit"),
    path("topics/<int:topic_id>/items/", topics.topic_item_add, name="topic_item_add"),
    path("topics/<int:topic_id>/items/<int:item_id>/done/", topics.topic_item_done, name="topic_item_done"),
    path("topics/<int:topic_id>/links/", topics.topic_link, name="topic_link"),
    path("proactive/", proactive.proactive_list, name="proactive"),
    path("proactive/new/", proactive.proactive_new, name="proactive_new"),
    path("measures/", measures.measure_list, name="measures"),
    path("measures/new/", measures.measure_edit, name="measure_new"),
    path("measures/<int:measure_id>/", measures.measure_detail, name="measure"),
    path("measures/<int:measure_id>/edit/", measures.measure_edit, name="measure_edit"),
    path("measures/<int:measure_id>/progress/", measures.measure_update, name="measure_update"),
    path("measures/<int:measure_id>/milestones/", measures.milestone_add, name="milestone_add"),
    path("milestones/<int:milestone_id>/done/", measures.milestone_done, name="milestone_done"),
]
