"""The peer for bench.intake_http: django-helpdesk, installed from PyPI into its own virtualenv
under bench/.peer/ (gitignored; made on first use, never vendored), with a minimal Django
project that mounts helpdesk and its DRF API the way helpdesk's install docs say.

Ticket creation is ``POST /api/tickets/`` with ``Authorization: Token <key>`` (DRF token auth:
HTTP Basic would spend ~0.4 s of PBKDF2 per request and measure the password hasher).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE / ".peer"
VENV = ROOT / "venv"
PROJ = ROOT / "proj"
PYTHON = VENV / "bin" / "python"
# The versions the reference figures were taken with.
PINS = os.environ.get(
    "BENCH_PEER_PINS",
    "django-helpdesk==2.6.1 Django==5.2.19 djangorestframework==3.18.3 gunicorn==27.0.1 psycopg2-binary==2.9.13",
).split()

SETTINGS = '''"""django-helpdesk mounted for a benchmark. PEER_DB: a SQLite file path or postgres://..."""
import os
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peerdesk.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "peerdesk.wsgi.application"
_db = os.environ["PEER_DB"]
if _db.startswith("postgres"):
    _u = urlparse(_db)
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": _u.path.lstrip("/"),
        "USER": _u.username or "postgres", "PASSWORD": _u.password or "",
        "HOST": _u.hostname or "127.0.0.1", "PORT": str(_u.port or 5432), "CONN_MAX_AGE": 60,
    }}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _db, "CONN_MAX_AGE": 60}}
SITE_ID = 1
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
MEDIA_ROOT = BASE_DIR / "media"
LOGIN_URL = "helpdesk:login"
# helpdesk renders the "new ticket" e-mail on every creation; the dummy backend sends nothing.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    "rest_framework.authentication.TokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
'''

URLS = '''from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("", include("helpdesk.urls", namespace="helpdesk"))]
'''

WSGI = '''import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerdesk.settings")
application = get_wsgi_application()
'''

TOOL = '''"""setup | count | verify IDFILE BEFORE | versions: prints JSON."""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerdesk.settings")
import django
django.setup()
from django.db import connection


def setup():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from helpdesk.models import Queue
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    user.is_staff = user.is_superuser = True  # TicketViewSet wants IsAdminUser
    user.set_unusable_password()
    user.save()
    token, _ = Token.objects.get_or_create(user=user)
    queue, _ = Queue.objects.get_or_create(slug="citizen", defaults={"title": "Citizen requests",
                                                                      "allow_public_submission": True})
    print(json.dumps({"token": token.key, "queue": queue.id}))


def count():
    from helpdesk.models import Ticket
    print(json.dumps({"stored": Ticket.objects.count()}))


def verify(path, before):
    from helpdesk.models import Ticket
    ids = [int(x) for x in open(path).read().split()]
    found = sum(Ticket.objects.filter(id__in=ids[i:i + 900]).count() for i in range(0, len(ids), 900))
    stored = Ticket.objects.count() - before
    print(json.dumps({"acknowledged": len(ids), "acknowledged_stored": found, "lost": len(ids) - found,
                      "stored": stored, "stored_not_acknowledged": stored - found}))


def versions():
    import importlib.metadata as md
    out = {p: md.version(p) for p in ("django-helpdesk", "Django", "djangorestframework", "gunicorn")}
    out["database"] = connection.vendor
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "verify":
        verify(sys.argv[2], int(sys.argv[3]))
    else:
        {"setup": setup, "count": count, "versions": versions}[cmd]()
'''


def install() -> None:
    """Make the virtualenv (once) and write the project (every time: it is ours, and small)."""
    if not PYTHON.exists():
        print(f"installing the peer into {VENV}: {' '.join(PINS)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        command = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS]
        subprocess.run(command, check=True)  # noqa: S603
    (PROJ / "peerdesk").mkdir(parents=True, exist_ok=True)
    (PROJ / "peerdesk" / "__init__.py").write_text("")
    (PROJ / "peerdesk" / "settings.py").write_text(SETTINGS)
    (PROJ / "peerdesk" / "urls.py").write_text(URLS)
    (PROJ / "peerdesk" / "wsgi.py").write_text(WSGI)
    (PROJ / "benchtool.py").write_text(TOOL)


def env(database: str) -> dict[str, str]:
    return {**os.environ, "PEER_DB": database, "DJANGO_SETTINGS_MODULE": "peerdesk.settings",
            "PYTHONPATH": str(PROJ)}


def tool(database: str, *args: str) -> dict:
    command = [str(PYTHON), str(PROJ / "benchtool.py"), *args]
    out = subprocess.run(command, env=env(database), cwd=PROJ, check=True, capture_output=True, text=True)  # noqa: S603
    return json.loads(out.stdout.strip().splitlines()[-1])


def migrate(database: str) -> None:
    command = [str(PYTHON), "-m", "django", "migrate", "-v0"]
    subprocess.run(command, env=env(database), cwd=PROJ, check=True)  # noqa: S603


def server_command(port: int) -> list[str]:
    """2 sync gunicorn workers: the issue's reference set-up for the peer, and its better one.
    Jiesu's ``jiesu serve`` runs threaded workers since session 8; the peer measured with the
    same 4 threads made 26–32 tickets/s on SQLite against 48 with sync workers (its SQLite
    writers wait on each other), and about the same on PostgreSQL (46.5 sync, 51–69 threaded;
    docs/benchmarks.md, session 8). So the peer keeps its sync workers."""
    return [str(PYTHON), "-m", "gunicorn", "peerdesk.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--timeout", "120"]


def body(queue: int) -> str:
    return json.dumps({"queue": queue, "title": "Pothole report %N",
                       "description": "Large pothole outside number 12, dangerous for cyclists. Ref %N",
                       "submitter_email": "citizen%N@example.com", "priority": 3})


if __name__ == "__main__":
    install()
    sys.exit(0)
