"""The dashboard (/desk/insight/): volumes, trends, timings, the district map."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from jiesu.desk.views.common import actor_of, staff_required
from jiesu.insight import assets
from jiesu.insight.dashboard import DEFAULT_DAYS, PERIODS, Period, chart_options, dashboard
from jiesu.insight.views.common import insight_page, int_param


def echarts_url() -> str:
    """The local ECharts file, or "" when it is not installed (the page then says so)."""
    return static(assets.STATIC_PATH) if assets.TARGET.exists() else ""


@require_GET
@staff_required("insight")
def dashboard_page(request: HttpRequest) -> HttpResponse:
    days = int_param(request, "days", DEFAULT_DAYS, PERIODS)
    data = dashboard(actor_of(request), Period.last_days(days))
    return insight_page(request, "insight/dashboard.html", {
        "d": data, "days": days, "periods": PERIODS, "charts": chart_options(data), "echarts": echarts_url(),
        "rows": list(zip(data.days, data.per_day, data.moving_average, strict=True)),
    }, tab="dashboard")
