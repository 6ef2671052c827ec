import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")

# get_wsgi_application sets Django up before the API's handler is built.
pages = get_wsgi_application()

from jiesu.api.handler import route_api_calls  # noqa: E402

# API calls with a token skip the browser-session middleware (jiesu.api.handler).
application = route_api_calls(pages)
