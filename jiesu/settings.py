"""Django settings. Everything a deployment changes comes from the environment:

- ``JIESU_DATA_DIR``: where the embedded SQLite database and the secret key live (default ``./var``).
- ``JIESU_DATABASE_URL``: ``postgres://…`` switches to PostgreSQL (production, CI).
- ``JIESU_DEBUG``: ``1`` for development.
- ``JIESU_SECRET_KEY``: otherwise a key is generated once into the data directory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("JIESU_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := os.environ.get("JIESU_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("JIESU_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("JIESU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("JIESU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its Swagger UI template and assets, served locally (no CDN) at /api/v1/docs
    "django_tasks",
    "django_tasks_db",
    "jiesu.accounts",
    "jiesu.org",
    "jiesu.catalogue",
    "jiesu.deadlines",
    "jiesu.orders",
    "jiesu.dispatch",
    "jiesu.learning",
    "jiesu.desk",
    "jiesu.portal",
    "jiesu.demo",
    "jiesu.insight",
    "jiesu.api",
    "jiesu.ops",
    "jiesu.followup",
    "jiesu.services",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "jiesu.urls"
WSGI_APPLICATION = "jiesu.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "desk:login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "desk:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]


def _database() -> dict:
    url = os.environ.get("JIESU_DATABASE_URL", "")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60))
    # SQLite: WAL journal, BEGIN IMMEDIATE and a busy timeout, so that concurrent writers
    # wait for each other instead of failing with "database is locked" (DESIGN §9).
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "jiesu.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        "TEST": {"NAME": DATA_DIR / "test.sqlite3"},
    }


DATABASES = {"default": _database()}
# Per process (the hotspot clusters, keyed by a fingerprint of their orders, so always exact).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jiesu",
                      "OPTIONS": {"MAX_ENTRIES": 500}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("JIESU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders; it only wants the folder
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Jiesu's own knobs.
JIESU = {
    # 回访: how many unanswered callback attempts close an order as "requester unreachable".
    "CALLBACK_MAX_ATTEMPTS": int(os.environ.get("JIESU_CALLBACK_MAX_ATTEMPTS", "3")),
    # Smart dispatch: seconds between a process's checks for a changed catalogue or model.
    "TRIAGE_REFRESH_SECONDS": float(os.environ.get("JIESU_TRIAGE_REFRESH_SECONDS", "5")),
    # A reached callback reopens the order (重办) when it is not solved "either" or the requester
    # is unsatisfied (default, issue 4), or only when it is "neither" solved nor satisfied
    # (jiesu.orders.actions.followup.reopens).
    "CALLBACK_REOPEN_RULE": os.environ.get("JIESU_CALLBACK_REOPEN_RULE", "either"),
    # The requester's signed callback link (回访链接): days it stays valid; the public address
    # that links start with (else the address of the request that sends them).
    "CALLBACK_LINK_DAYS": int(os.environ.get("JIESU_CALLBACK_LINK_DAYS", "7")),
    "PUBLIC_BASE_URL": os.environ.get("JIESU_PUBLIC_BASE_URL", ""),
    # Send that link by SMS to the primary requester by itself when an order is queued for its
    # callback (once per round; never for proactive items; needs PUBLIC_BASE_URL).
    "CALLBACK_LINK_AUTO": os.environ.get("JIESU_CALLBACK_LINK_AUTO", "1") not in ("0", "false", "no", "off", ""),
    # The periodic sweep (overdue orders, lost callback tasks): seconds between runs in
    # ``jiesu serve`` (0: off; run ``jiesu sweep`` from cron instead).
    "SWEEP_SECONDS": int(os.environ.get("JIESU_SWEEP_SECONDS", "300")),
    # Where notifications go, per channel (jiesu.followup.notify). An SMS gateway is a backend
    # of its own; the outbox keeps every message for admins to read.
    "NOTIFY_BACKENDS": {
        "sms": "jiesu.followup.notify.OutboxBackend",
        "email": "jiesu.followup.notify.EmailBackend",
    },
    # 三率 scorecards (jiesu.followup.rates; defaults and their reasons in docs/scorecards.md).
    "SCORECARD": {
        "weights": {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35},
        "partly_weight": 0.5,
        "basic_weight": 1.0,
        "flag": {"bottom_n": 10, "min_orders": 5, "below": {}},
        # Big periods: SQLite counts them in time slices at once; PostgreSQL's sort/hash memory.
        "parallel_min_orders": 100_000,
        "pg_work_mem": "64MB",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIESU_LOG_LEVEL", "WARNING")},
}
