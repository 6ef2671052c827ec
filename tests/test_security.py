"""Nobody let in: password hashing, lockout, CSRF, headers, the CSP, rate limits, deploy check."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from jiesu import settings as jiesu_settings
from jiesu.security.rates import parse_rate

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "jiesu").rglob("templates/**/*.html"))


# ---------------------------------------------------------------- passwords and lockout


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings):
    from jiesu.accounts.models import User

    settings.PASSWORD_HASHERS = jiesu_settings.PASSWORD_HASHERS  # the production list, not the tests' MD5
    user = User.objects.create_user(username="a", password="a long enough password")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a long enough password")


@pytest.mark.django_db
def test_old_hashes_are_upgraded_to_argon2_at_login(settings):
    from jiesu.accounts.models import User

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = User.objects.create_user(username="old", password="an old password")
    assert user.password.startswith("pbkdf2_sha256$")
    settings.PASSWORD_HASHERS = jiesu_settings.PASSWORD_HASHERS
    assert user.check_password("an old password")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(reverse("desk:login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_repeated_failed_logins_lock_the_account_on_that_address(city, settings, client):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _login(client, "dispatcher", "wrong").status_code == 200  # the form again, with its error
    assert _login(client, "dispatcher", "wrong").status_code == 429  # the third failure locks
    locked = _login(client, "dispatcher", "pw-dispatcher")  # even the right password now
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "登录失败次数过多" in body and 'data-reason="locked-out"' in body
    assert "_auth_user_id" not in client.session
    # Another user from the same address, and the same user elsewhere, are not locked.
    assert _login(Client(), "supervisor", "pw-supervisor").status_code == 302
    assert _login(Client(), "dispatcher", "pw-dispatcher", ip="10.0.0.2").status_code == 302


def test_a_successful_login_resets_the_failure_count(city, settings, client):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login(client, "handler", "wrong")
    assert _login(client, "handler", "pw-handler").status_code == 302
    other = Client()
    for _ in range(2):
        _login(other, "handler", "wrong")
    assert _login(other, "handler", "pw-handler").status_code == 302


# ---------------------------------------------------------------- CSRF, cookies, headers


def test_forms_without_the_csrf_token_are_refused(city):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("portal:submit"), {"content": "x"}).status_code == 403
    assert client.post(reverse("desk:login"), {"username": "admin", "password": "pw-admin"}).status_code == 403
    client.force_login(city.users["dispatcher"])
    assert client.post(reverse("desk:action", args=["20260101000001", "note"]), {"text": "x"}).status_code == 403


@pytest.mark.django_db
def test_every_template_form_that_posts_carries_the_csrf_token():
    missing = []
    for path in TEMPLATES:
        text = path.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I) and "csrf_token" not in form \
                    and "_hidden.html" not in form:
                missing.append(path.relative_to(ROOT))
    assert missing == []


def test_templates_have_no_inline_script_or_style_that_the_policy_would_block():
    offenders = []
    for path in TEMPLATES:
        text = path.read_text()
        for m in re.finditer(r"<script\b([^>]*)>", text, re.I):
            if "src=" not in m[1] and "application/json" not in m[1]:
                offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
        if re.search(r"\sstyle\s*=", text, re.I) or re.search(r"<style\b", text, re.I):
            offenders.append(f"{path.relative_to(ROOT)}: inline style")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text, re.I) or "javascript:" in text.lower():
            offenders.append(f"{path.relative_to(ROOT)}: inline event handler")
        if re.search(r"\shx-on[:-]", text, re.I):
            offenders.append(f"{path.relative_to(ROOT)}: hx-on (needs eval)")
    assert offenders == []


def test_htmx_evaluates_no_strings_and_injects_no_styles():
    base = (ROOT / "jiesu/desk/templates/desk/base.html").read_text()
    # Script tags in swapped pages still run (the dashboard's insight.js after hx-boost); the
    # policy allows only this server's files, so an injected inline script would not run.
    assert '"allowEval":false' in base and '"includeIndicatorStyles":false' in base


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/submit/", "/track/", "/desk/login/", "/measures/", "/api/v1/docs"])
def test_pages_carry_a_strict_content_security_policy_and_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp and "http:" not in csp and "https:" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_the_apis_json_carries_the_data_policy(city, client):
    """JSON is data: nothing in it may load, run or be framed, answered or refused."""
    from jiesu.accounts.models import ApiToken

    _token, raw = ApiToken.issue(user=city.users["calltaker"], name="csp")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = json.dumps({"request_type": "complaint", "channel": "hotline", "content": "路灯坏了",
                       "requesters": [{"phone": "13800000001"}]})
    answers = [
        client.post("/api/v1/orders", body, content_type="application/json", **auth),
        client.post("/api/v1/orders", body, content_type="application/json", HTTP_PREFER="respond-async", **auth),
        client.post("/api/v1/orders", "{}", content_type="application/json", **auth),
        client.get("/api/v1/orders"),
        client.get("/api/v1/no-such-thing", **auth),
    ]
    assert [r.status_code for r in answers] == [201, 202, 422, 401, 404]
    for response in answers:
        assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_with_personal_data_are_not_cached(city, client):
    client.force_login(city.users["calltaker"])
    assert client.get(reverse("desk:home")).headers["Cache-Control"] == "private, no-store"
    assert "no-store" not in Client().get("/").headers.get("Cache-Control", "")


def test_session_cookie_is_http_only_and_same_site(city, client):
    response = client.post(reverse("desk:login"), {"username": "calltaker", "password": "pw-calltaker"})
    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""  # ends with the browser
    csrf = response.cookies.get(django_settings.CSRF_COOKIE_NAME)
    assert csrf is None or csrf["samesite"] == "Lax"


def _deploy_check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "JIESU_SECRET_KEY": secrets.token_urlsafe(50), "JIESU_ALLOWED_HOSTS": "hotline.example.cn"}
    env.pop("JIESU_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/conftest.py for Playwright only
    env.update(extra)
    return subprocess.run([sys.executable, "-m", "jiesu", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_deploy_check_is_clean_for_production_settings():
    result = _deploy_check({"JIESU_PRODUCTION": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in (result.stdout + result.stderr)


def test_deploy_check_flags_a_development_configuration():
    result = _deploy_check({"JIESU_PRODUCTION": "", "JIESU_DEBUG": "1"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W018" in output and "security.W004" in output and "security.W012" in output


# ---------------------------------------------------------------- rate limits


@given(st.integers(1, 10_000), st.integers(1, 999), st.sampled_from("smhd"))
def test_rates_parse_and_windows_cover_the_period(limit, count, unit):
    rate = parse_rate(f"{limit}/{count}{unit}")
    assert rate.limit == limit and rate.seconds == count * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    index, left = rate.window(1_700_000_000.5)
    assert 1 <= left <= rate.seconds
    assert rate.window(1_700_000_000.5 + left)[0] == index + 1


@given(st.text(max_size=20))
def test_anything_that_is_not_a_rate_is_refused(text):
    if re.fullmatch(r"\s*[1-9]\d*\s*/\s*(\d*)\s*[smhd]\s*", text, re.ASCII) and not re.search(r"/\s*0+\s*[smhd]", text):
        return
    with pytest.raises(ValueError):
        parse_rate(text)


def _limits(settings, **rates):
    from django.core.cache import caches

    caches["ratelimit"].clear()  # the budget is kept on disk: start each test with a fresh one
    settings.JIESU = {**settings.JIESU, "RATE_LIMITS": {**settings.JIESU["RATE_LIMITS"], **rates}}


def test_portal_submissions_are_rate_limited_per_client_address(city, settings):
    _limits(settings, portal_submit="2/1h")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    data = {"request_type": "complaint", "content": "路灯坏了", "phone": "13812345678"}
    for _ in range(2):
        assert client.post(reverse("portal:submit"), data, REMOTE_ADDR="10.1.1.1").status_code in (302, 422)
    refused = client.post(reverse("portal:submit"), data, REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "请求过于频繁" in refused.content.decode()
    # Reading the form is not limited; another address has its own budget.
    assert client.get(reverse("portal:submit"), REMOTE_ADDR="10.1.1.1").status_code == 200
    assert client.post(reverse("portal:submit"), data, REMOTE_ADDR="10.1.1.2").status_code in (302, 422)


def test_track_and_callback_links_are_rate_limited(city, settings):
    _limits(settings, portal_track="1/1h", callback_link="1/1h")
    client = Client()
    track = {"number": "20260101000001", "phone": "13812345678"}
    assert client.post(reverse("portal:track"), track, REMOTE_ADDR="10.2.2.2").status_code == 422
    assert client.post(reverse("portal:track"), track, REMOTE_ADDR="10.2.2.2").status_code == 429
    link = reverse("callback_link", args=["20260101000001", "x" * 20])
    assert client.get(link, REMOTE_ADDR="10.2.2.2").status_code == 404
    assert client.get(link, REMOTE_ADDR="10.2.2.2").status_code == 429


def test_behind_a_proxy_the_forwarded_address_is_the_client(city, settings, monkeypatch):
    _limits(settings, portal_track="1/1h")
    monkeypatch.setenv("JIESU_PROXY_COUNT", "1")
    client = Client()
    track = {"number": "20260101000001", "phone": "13812345678"}
    proxy = {"REMOTE_ADDR": "192.168.0.1"}
    assert client.post(reverse("portal:track"), track, HTTP_X_FORWARDED_FOR="1.1.1.1", **proxy).status_code == 422
    assert client.post(reverse("portal:track"), track, HTTP_X_FORWARDED_FOR="2.2.2.2", **proxy).status_code == 422
    assert client.post(reverse("portal:track"), track, HTTP_X_FORWARDED_FOR="1.1.1.1", **proxy).status_code == 429


def test_a_json_client_gets_a_json_refusal(city, settings):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from jiesu.security.ratelimit import rate_limit

    _limits(settings)

    @rate_limit("test_scope", rate="1/1h", methods=None)
    def view(request):
        return HttpResponse("ok")

    factory = RequestFactory()
    assert view(factory.get("/open311/v2/requests.json", REMOTE_ADDR="10.3.3.3")).status_code == 200
    refused = view(factory.get("/open311/v2/requests.json", REMOTE_ADDR="10.3.3.3"))
    assert refused.status_code == 429 and json.loads(refused.content)["code"] == "rate_limited"


def test_public_bookings_and_open311_posts_are_rate_limited(city, settings):
    _limits(settings, public_booking="1/1h", open311_post="1/1h", public_api="1/1h")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    manage = {"code": "NOPE", "phone": "13812345678"}
    assert client.post(reverse("legal:manage"), manage, REMOTE_ADDR="10.4.4.4").status_code != 429
    assert client.post(reverse("legal:manage"), manage, REMOTE_ADDR="10.4.4.4").status_code == 429
    assert client.post(reverse("legal:book"), {}, REMOTE_ADDR="10.4.4.5").status_code != 429
    assert client.post(reverse("legal:book"), {}, REMOTE_ADDR="10.4.4.5").status_code == 429
    # Open311: the spec's POST, limited per address before the api_key is even looked at.
    assert client.post("/open311/v2/requests.json", {"service_code": "x"}, REMOTE_ADDR="10.4.4.6").status_code != 429
    refused = client.post("/open311/v2/requests.json", {"service_code": "x"}, REMOTE_ADDR="10.4.4.6")
    assert refused.status_code == 429 and json.loads(refused.content)["code"] == "rate_limited"
    assert client.get("/open311/v2/requests.json", REMOTE_ADDR="10.4.4.6").status_code != 429  # reads are not
    # The API's public booking operations, for a caller without a token.
    body = json.dumps({"phone": "13812345678"})
    first = client.post("/api/v1/bookings/NOPE/cancel", body, content_type="application/json", REMOTE_ADDR="10.4.4.7")
    assert first.status_code != 429
    refused = client.post("/api/v1/bookings/NOPE/cancel", body, content_type="application/json",
                          REMOTE_ADDR="10.4.4.7")
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
