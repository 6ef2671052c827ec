"""Django settings. Everything a deployment changes comes from the environment:

- ``JIESU_DATA_DIR``: where the embedded SQLite database and the secret key live (default ``./var``).
- ``JIESU_DATABASE_URL``: ``postgres://…`` switches to PostgreSQL (production, CI).
- ``JIESU_REPLICA_URL``: ``postgres://…`` of a streaming replica of that database; the insight
  and scorecard reads go there (``jiesu.ops.replica``, docs/scaling.md), the primary while it
  does not answer or lags (``JIESU_REPLICA_BACKOFF``, ``JIESU_REPLICA_MAX_LAG``,
  ``JIESU_REPLICA_LAG_CHECK``, ``JIESU_REPLICA_CONNECT_TIMEOUT``), or holds a query longer than
  ``JIESU_REPLICA_STATEMENT_TIMEOUT``.
- ``JIESU_PG_SERVER_BINDING``: ``0`` turns off PostgreSQL's server-side binding and prepared
  statements (needed behind a transaction-mode connection pooler).
- ``JIESU_DEBUG``: ``1`` for development.
- ``JIESU_SECRET_KEY``: otherwise a key is generated once into the data directory.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
# JIESU_PRODUCTION=1: served over HTTPS (directly or behind a TLS proxy); secure cookies, HSTS,
# the HTTPS redirect, never DEBUG. ``jiesu check --deploy`` is clean for it (docs/reliability.md).
PRODUCTION = os.environ.get("JIESU_PRODUCTION", "") == "1"
DEBUG = os.environ.get("JIESU_DEBUG", "") == "1" and not PRODUCTION
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
    "jiesu.search",
    "jiesu.dispatch",
    "jiesu.learning",
    "jiesu.desk",
    "jiesu.portal",
    "jiesu.demo",
    "jiesu.insight",
    "jiesu.api",
    "jiesu.ops",
    "jiesu.followup",
    "jiesu.security",
    "axes",  # login throttling and lockout; after the apps whose login views it watches
    "jiesu.integrations",
    "jiesu.open311",
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
    "jiesu.security.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, see there
    "jiesu.security.middleware.SecurityHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jiesu.desk.middleware.FailedFormKeepsTheAddressMiddleware",
    "jiesu.orders.concurrency.ExpectationMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# A call to the API that brings its own credentials (an ``Authorization`` header: the bearer
# token decides who calls, never a session cookie; jiesu.api.auth) runs through MIDDLEWARE less
# what serves only a browser's session (jiesu.wsgi; issue 8: about a tenth of an acknowledged
# order's CPU in the web worker). Security, language, the common checks and every response
# header are the same as for any request.
API_CALL_SKIPS_MIDDLEWARE = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "static files are never under /api/",
    "django.contrib.sessions.middleware.SessionMiddleware": "the token says who calls, not a session",
    "django.middleware.csrf.CsrfViewMiddleware": "a browser never adds the Authorization header by itself, "
                                                 "so a forged cross-site request cannot carry it",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "request.user is the session's user; "
                                                               "the API reads request.auth",
    "django.contrib.messages.middleware.MessageMiddleware": "no page shows the messages",
    "django_htmx.middleware.HtmxMiddleware": "htmx calls come from desk pages, with their session",
    "jiesu.desk.middleware.FailedFormKeepsTheAddressMiddleware": "the same: it answers htmx's forms",
    "axes.middleware.AxesMiddleware": "it answers a locked-out password sign-in; a token signs nobody in",
}
API_CALL_MIDDLEWARE = [m for m in MIDDLEWARE if m not in API_CALL_SKIPS_MIDDLEWARE]

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
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        if db["ENGINE"] == "django.db.backends.postgresql":
            options: dict[str, Any] = db.setdefault("OPTIONS", {})
            # The desks run short lookups by index. A parallel plan costs ~20 ms to start its
            # workers, and the planner picks one when it overestimates a join into partitioned
            # orders (it cannot cost run-time pruning): the unit inbox took 27 ms instead of 2
            # at 1M partitioned orders (docs/benchmarks.md). The scorecards' recounts, which do
            # gain from parallel workers, ask for them per transaction (jiesu.followup.daily).
            # JIT compiling likewise: PostgreSQL compiles a plan whose estimated cost passes
            # jit_above_cost (100,000), which the partitioned orders' estimates do at a few
            # million rows, and it takes 5 ms and more on every call, longer than the short
            # plan runs (the dispatcher's queue query 30 → 21 ms p50 at 2M orders without it).
            # Defaults first: the URL's own options (``?options=-c%20jit%3Don``) come after and win.
            options["options"] = f"-c max_parallel_workers_per_gather=0 -c jit=off {options.get('options', '')}".strip()
            if os.environ.get("JIESU_PG_SERVER_BINDING", "1") not in ("0", "false", "no", "off", ""):
                # psycopg 3 binds the parameters on the server (not quoted into the SQL text), so
                # a query's text is the same on every call and psycopg prepares it on the
                # connection from its 5th execution: PostgreSQL then skips parsing and planning.
                # Django turns psycopg's preparing off unless OPTIONS names a prepare_threshold.
                # Pays off because the connection persists (CONN_MAX_AGE); behind a pooler in
                # transaction mode, set JIESU_PG_SERVER_BINDING=0 (prepared statements are per
                # server connection). Intake: PostgreSQL's CPU per order −32 % (docs/benchmarks.md).
                # plan_cache_mode stays PostgreSQL's own (auto): after five calls a statement may
                # keep a generic plan. A query whose plan depends on its values carries them as
                # constants instead (the unit inbox, jiesu.orders.selectors). Forcing a new plan
                # for every call (force_custom_plan, sessions 6-8) also re-planned every
                # foreign-key check and the API token's join: PostgreSQL's CPU per acknowledged
                # request 1.1 -> 0.48 ms without it (docs/benchmarks.md, session 9).
                options.update({"server_side_binding": True, "prepare_threshold": 5})
        return db
    # SQLite: WAL journal, BEGIN IMMEDIATE and a busy timeout, so that concurrent writers
    # wait for each other instead of failing with "database is locked" (DESIGN §9).
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "jiesu.sqlite3",
        "CONN_MAX_AGE": 60,  # a worker keeps its connection (and its PRAGMAs) between requests
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        "TEST": {"NAME": DATA_DIR / "test.sqlite3"},
    }


def replica_database(url: str, primary: dict, connect_timeout: int = 2, statement_timeout: float = 10) -> dict:
    """The ``replica`` alias of ``JIESU_REPLICA_URL``: a PostgreSQL streaming replica of the
    primary, kept connected like it. Its tests run on the primary's test database (MIRROR).
    What the URL sets itself wins over the bounds below, which keep a replica that fails from
    holding a page (``jiesu.ops.replica`` then reads the primary):

    - ``connect_timeout`` (libpq's least is 2 s): a replica that is down costs a request that
      long, not the operating system's minutes for an unanswered connect.
    - ``statement_timeout`` (``JIESU_REPLICA_STATEMENT_TIMEOUT``, 10 s; 0: none), on the server:
      a standby that accepts the query and then holds it (replay holding a lock the query waits
      for, an overloaded or stuck server) cancels it, SQLSTATE 57014, and the call reruns on the
      primary. 10 s: the heaviest insight statement measured, a month's ranking recounted from
      the orders at 10M, took 1.3 s alone and up to ~4 s with the machine loaded
      (docs/benchmarks.md); 10 s plus the primary's rerun stays under gunicorn's 30 s worker
      timeout. It does not reach the primary's connections.
    - TCP keepalives (probe after 5 s of silence, every 2 s, gone after 3 unanswered) and
      ``tcp_user_timeout`` (10 s for sent data never acknowledged): a host that vanished (frozen,
      network dropping packets) cannot cancel anything itself, and the system's defaults would
      wait two hours (keepalive) or ~15 minutes (retransmissions) for it. Unlike a client-side
      timer they never cut a long query of a replica that is alive: its kernel still answers.
    """
    replica: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=primary.get("CONN_MAX_AGE", 0)))
    if "postgresql" not in str(replica["ENGINE"]) or "postgresql" not in str(primary["ENGINE"]):
        raise ImproperlyConfigured("JIESU_REPLICA_URL is a PostgreSQL replica of a PostgreSQL JIESU_DATABASE_URL")
    options: dict[str, Any] = replica.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", connect_timeout)
    for name, value in {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
                        "tcp_user_timeout": 10_000}.items():
        options.setdefault(name, value)
    if statement_timeout and "statement_timeout" not in str(options.get("options", "")):
        options["options"] = f"-c statement_timeout={round(statement_timeout * 1000)} {options.get('options', '')}".strip()
    replica["TEST"] = {"MIRROR": "default"}
    return replica


DATABASES = {"default": _database()}
DATABASE_ROUTERS: list[str] = []  # without a replica Django routes nothing, as before
if os.environ.get("JIESU_REPLICA_URL"):
    DATABASES["replica"] = replica_database(os.environ["JIESU_REPLICA_URL"], DATABASES["default"],
                                            int(os.environ.get("JIESU_REPLICA_CONNECT_TIMEOUT", "2")),
                                            float(os.environ.get("JIESU_REPLICA_STATEMENT_TIMEOUT", "10")))
    DATABASE_ROUTERS = ["jiesu.ops.replica.Router"]
# Per process (the hotspot clusters, keyed by a fingerprint of their orders, so always exact).
# "ratelimit" is shared by every server process (gunicorn workers), so that a client's budget on
# the public endpoints is one budget, not one per worker (jiesu.security.ratelimit).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jiesu",
                      "OPTIONS": {"MAX_ENTRIES": 500}},
          "ratelimit": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                        "LOCATION": str(DATA_DIR / "ratelimit"), "OPTIONS": {"MAX_ENTRIES": 20_000}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("JIESU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Argon2id first (OWASP's choice); the others only verify old hashes and upgrade them at login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # django-axes refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lockout (django-axes, stored in the database so that every worker sees it): 5 failed logins for
# one username from one address lock that pair for 15 minutes; an administrator can lift it
# early in the admin ("Access attempts"), or with ``jiesu axes_reset``.
AXES_FAILURE_LIMIT = int(os.environ.get("JIESU_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("JIESU_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "jiesu.security.views.locked_out"
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("JIESU_PROXY_COUNT", "0")) or None
AXES_VERBOSE = False

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
# A staff session lasts a working day and ends with the browser; SameSite keeps other sites'
# pages from riding on it.
SESSION_COOKIE_AGE = 10 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Uploads: requests bigger than this are refused before they are read (jiesu.security.uploads
# checks each file's size and type).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("JIESU_SSL_REDIRECT", "1") == "1"
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if os.environ.get("JIESU_BEHIND_PROXY", "") == "1":  # a TLS-terminating proxy that sets the header
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz is probed over plain HTTP from inside the host.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# A strict Content-Security-Policy (django-csp): scripts, styles, fonts and images from this
# server only; no inline script, no inline style attribute, no eval, no framing, forms post home.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],  # the outreach page's offline service worker
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Jiesu's own knobs.
JIESU = {
    # 回访: how many unanswered callback attempts close an order as "requester unreachable".
    "CALLBACK_MAX_ATTEMPTS": int(os.environ.get("JIESU_CALLBACK_MAX_ATTEMPTS", "3")),
    # Seconds a process keeps the user and grants of an API token it accepted, instead of
    # reading them for every call (0: read every time). A revocation saved elsewhere reaches
    # this process within them (jiesu.accounts.token_memory).
    "TOKEN_CACHE_SECONDS": float(os.environ.get("JIESU_TOKEN_CACHE_SECONDS", "5")),
    # Smart dispatch: seconds between a process's checks for a changed catalogue or model.
    "TRIAGE_REFRESH_SECONDS": float(os.environ.get("JIESU_TRIAGE_REFRESH_SECONDS", "5")),
    # Triage (and auto-dispatch) a new order inside intake's transaction, from the order in
    # memory; off ("0"): a background task does it after commit, as it does whenever inline
    # triage fails (jiesu.dispatch.services.triage_new_order).
    "INLINE_TRIAGE": os.environ.get("JIESU_INLINE_TRIAGE", "1") not in ("0", "false", "no", "off", ""),
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
    # The read replica (JIESU_REPLICA_URL; jiesu.ops.replica): seconds one that did not answer is
    # left alone (its reads go to the primary); the lag beyond which they go to the primary too
    # (0: no limit); seconds between a process's looks at that lag.
    "REPLICA_BACKOFF_SECONDS": float(os.environ.get("JIESU_REPLICA_BACKOFF", "30")),
    "REPLICA_MAX_LAG_SECONDS": float(os.environ.get("JIESU_REPLICA_MAX_LAG", "300")),
    "REPLICA_LAG_CHECK_SECONDS": float(os.environ.get("JIESU_REPLICA_LAG_CHECK", "10")),
    # The periodic sweep (overdue orders, lost callback tasks): seconds between runs in
    # ``jiesu serve`` (0: off; run ``jiesu sweep`` from cron instead).
    "SWEEP_SECONDS": int(os.environ.get("JIESU_SWEEP_SECONDS", "300")),
    # A task RUNNING this long under a worker on another host is taken as orphaned and requeued
    # (on the worker's own host a dead process is seen at once; jiesu.ops.tasks_recovery).
    "TASK_STALE_SECONDS": int(os.environ.get("JIESU_TASK_STALE_SECONDS", "3600")),
    # Notifications — every message Jiesu sends, the callback link and the booking SMS included —
    # and webhooks (jiesu.integrations; docs/integrations.md). Transports per channel:
    # jiesu.integrations.transports.ConsoleTransport (default), EmailTransport, HttpSmsTransport.
    "NOTIFY_TRANSPORTS": {
        "sms": os.environ.get("JIESU_SMS_TRANSPORT", "jiesu.integrations.transports.ConsoleTransport"),
        "email": os.environ.get("JIESU_EMAIL_TRANSPORT", "jiesu.integrations.transports.ConsoleTransport"),
    },
    # HttpSmsTransport: {"url", "format": "json"|"form", "headers": {...}, "fields": {"to", "text"}, "extra"}.
    "SMS_GATEWAY": {"url": os.environ.get("JIESU_SMS_GATEWAY_URL", ""), "format": "json"},
    "NOTIFY_RETRY": {"base_seconds": 60, "max_attempts": 6},
    "WEBHOOK_RETRY": {"base_seconds": 30, "cap_seconds": 6 * 3600, "max_attempts": 10},
    # Seconds a process trusts "no webhook subscription is active" (or "some is"): a subscription
    # made in another process serves the events committed from at most this long after it.
    "WEBHOOK_SUBSCRIPTION_TTL": 1.0,
    "DEADLINE_SOON_HOURS": int(os.environ.get("JIESU_DEADLINE_SOON_HOURS", "24")),
    # Import uploads larger than this are refused before they are read.
    "IMPORT_MAX_BYTES": int(os.environ.get("JIESU_IMPORT_MAX_BYTES", str(10 * 1024 * 1024))),
    # Open311 GeoReport v2 at /open311/v2/ (jiesu.open311): the one jurisdiction this server
    # answers for (clients may omit jurisdiction_id), and what discovery tells clients.
    "OPEN311": {
        "JURISDICTION_ID": os.environ.get("JIESU_OPEN311_JURISDICTION", ""),
        "CONTACT": os.environ.get("JIESU_OPEN311_CONTACT", "12345"),
        "KEY_SERVICE": os.environ.get("JIESU_OPEN311_KEY_SERVICE", "jiesu apikey create NAME"),
        # Sending assignments to units' own systems: attempts before giving up, first back-off
        # (doubling), and seconds between polls of their systems in ``jiesu serve`` (0: off).
        "SEND_ATTEMPTS": 6,
        "RETRY_SECONDS": 60,
        "POLL_SECONDS": int(os.environ.get("JIESU_OPEN311_POLL_SECONDS", "300")),
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
        "pg_parallel_workers": 2,  # PostgreSQL workers per recount (connections start with none)
    },
    # Public endpoints: requests per client address and window (jiesu.security.ratelimit;
    # "N/Ts", "N/Tm" or "N/Th"). Staff desks and the API with a token are not limited here.
    "RATE_LIMITS": {
        "portal_submit": os.environ.get("JIESU_RATE_PORTAL_SUBMIT", "10/10m"),
        "portal_track": os.environ.get("JIESU_RATE_PORTAL_TRACK", "30/10m"),
        "callback_link": os.environ.get("JIESU_RATE_CALLBACK_LINK", "20/10m"),
        "public_api": os.environ.get("JIESU_RATE_PUBLIC_API", "60/1m"),
        "public_booking": os.environ.get("JIESU_RATE_PUBLIC_BOOKING", "20/10m"),
        # Open311 clients are city apps behind one address each, so the limit is generous.
        "open311_post": os.environ.get("JIESU_RATE_OPEN311_POST", "300/1m"),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIESU_LOG_LEVEL", "WARNING")},
}
