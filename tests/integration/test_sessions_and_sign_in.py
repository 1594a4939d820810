"""Sessions and sign-in over HTTP: sign-out and disabling end a session on the server, sessions have an
absolute lifetime besides the idle timeout, only this site's paths follow sign-in, the sign-in limit is
shared by every web process, and multi-factor sign-in (TOTP codes, recovery codes, reset by an admin)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys

import pyotp
import pytest
from sqlalchemy import select

from engine import clock
from engine.services import Reviewflow
from engine.services.actor import Actor
from engine.services.errors import Conflict, Forbidden, Invalid
from engine.store.models import AuditEvent, MfaRecoveryCode, User, WebSession
from tests.conftest import ROOT, make_settings
from web.app import create_app

PASSWORD = "a long enough passphrase"
COOKIE = "reviewflow_session"
WEB = {"REVIEWFLOW_INSECURE_COOKIES": "1", "REVIEWFLOW_SECRET_KEY": "test-only-secret-key-for-sign-in-tests"}
ENROLLED_AT = "2026-12-21T08:00:00+00:00"  # an hour before the tests' clock: its code step is long used


@pytest.fixture
def web(database_url):
    """The app over its own service; more apps on the same database with ``web.another()``."""
    made = []

    def build(**settings):
        service = Reviewflow(make_settings(database_url, **WEB, **settings))
        made.append(service)
        return create_app(service)

    app = build()
    service = app.extensions["reviewflow"]
    for name, roles in (
        ("bu", ["Business Unit"]),
        ("mo", ["manager"]),
        ("ada", ["admin"]),
        ("pat", ["process_owner"]),
    ):
        service.users.add(name, roles, password=PASSWORD)
    app.another = build
    app.service = service
    yield app
    for s in made:
        s.db.dispose()


def enrol(service, username: str) -> tuple[str, list[str]]:
    """Set up multi-factor sign-in for a person (as they would on the page); their secret and recovery
    codes."""
    now = clock.now()
    clock.set_now(ENROLLED_AT)
    secret = service.mfa.begin_enrolment(username)["secret"]
    codes = service.mfa.confirm_enrolment(username, pyotp.TOTP(secret).at(clock.now()))
    clock.set_now(now)
    return secret, codes


def code_at(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now().timestamp() + 30 * steps)


def csrf(client, path: str = "/sign-in") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def password_step(client, username: str, password: str = PASSWORD, **extra):
    return client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": csrf(client), **extra}
    )


def code_step(client, code: str):
    return client.post("/sign-in/code", data={"code": code, "csrf_token": csrf(client)})


def sign_in(client, username: str, secret: str | None = None, **extra):
    response = password_step(client, username, **extra)
    if secret is not None:
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in/code")
        response = code_step(client, code_at(secret))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def audit(service, kind: str) -> list[AuditEvent]:
    with service.db.reading() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))
        )
        session.expunge_all()
        return events


# --- sessions
# ------------------------------------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_no_longer_works(web):
    client = web.test_client()
    sign_in(client, "bu")
    assert client.get("/").status_code == 200
    copied = client.get_cookie(COOKIE).value
    client.post("/sign-out", data={"csrf_token": csrf(client, "/")})
    thief = web.test_client()
    thief.set_cookie(COOKIE, copied)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert [e.actor for e in audit(web.service, "signed_out")] == ["bu"]


def test_disabling_an_account_ends_its_sessions_for_good(web):
    client = web.test_client()
    sign_in(client, "bu")
    copied = client.get_cookie(COOKIE).value
    web.service.users.set_active("bu", False)
    web.service.users.set_active("bu", True)  # enabled again: the old session stays ended
    thief = web.test_client()
    thief.set_cookie(COOKIE, copied)
    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 302
    with web.service.db.reading() as session:
        assert [s.ended_reason for s in session.scalars(select(WebSession))] == ["disabled"]


def test_a_session_ends_after_its_absolute_lifetime_however_busy(web):
    client = web.test_client()
    sign_in(client, "bu")
    for _ in range(35):  # a page every 20 minutes: never idle, 11 h 40 min
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=20)  # 12 hours after signing in
    response = client.get("/")
    assert response.status_code == 302
    assert "signed in for 12 hours" in client.get(response.headers["Location"]).get_data(as_text=True)
    [expired] = audit(web.service, "session_expired")
    assert expired.actor == "bu" and expired.detail["reason"] == "lifetime"


def test_the_absolute_lifetime_is_a_setting(web):
    app = web.another(REVIEWFLOW_SESSION_MAX_HOURS="1")
    assert app.extensions["reviewflow"].settings.session_max_hours == 1
    client = app.test_client()
    sign_in(client, "bu")
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=3)
    assert client.get("/").status_code == 302


def test_an_idle_session_still_ends_and_says_why(web):
    client = web.test_client()
    sign_in(client, "bu")
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/")
    assert response.status_code == 302
    assert "inactive for 30 minutes" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [e.detail["reason"] for e in audit(web.service, "session_expired")] == ["idle"]


def test_only_the_server_decides_who_is_signed_in(web):
    """A cookie that names a user but holds no session the server knows is nobody (the old cookies did)."""
    client = web.test_client()
    with client.session_transaction() as session:
        session["user"] = "ada"
        session["seen"] = clock.now().timestamp()
        session["sid"] = "made-up"
    assert client.get("/").status_code == 302


# --- where sign-in leads
# -------------------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "/\t/evil.example",
    "/\\evil.example",
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http:evil.example",
    "/%09/evil.example",
    "/%5C/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/\x00/evil.example",
    "javascript:alert(1)",
    "/\u3000/evil.example",
    "evil.example",
    "/\\/evil.example",
    "//evil.example/%2F..",
    "/ /evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_leads_off_this_site(web, target):
    from web.ui.security import safe_next

    response = password_step(web.test_client(), "bu", next=target)
    assert response.status_code in (302, 400, 422) and response.headers.get("Location", "/") == "/", target
    with web.test_request_context("/sign-in"):
        assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/dashboard", "/cases?status=running&overdue=yes", "/tasks/abc-123"])
def test_sign_in_returns_to_the_page_asked_for(web, target):
    assert sign_in(web.test_client(), "bu", next=target).headers["Location"] == target


def test_the_page_asked_for_survives_the_code_step(web):
    secret, _ = enrol(web.service, "mo")
    response = sign_in(web.test_client(), "mo", secret, next="/dashboard")
    assert response.headers["Location"] == "/dashboard"


# --- the sign-in limit
# -----------------------------------------------------------------------------------------------


def test_the_sign_in_limit_is_shared_by_every_web_process(web):
    first, second = web.test_client(), web.another().test_client()
    for client in (first, second, first, second, first):
        assert password_step(client, "bu", "not the password").status_code == 401
    for client in (first, second):
        refused = password_step(client, "bu")
        assert refused.status_code == 401 and "Too many attempts" in refused.get_data(as_text=True)
    clock.advance(minutes=16)
    assert password_step(second, "bu").status_code == 302


def test_the_limit_per_address_counts_every_name(web):
    client = web.test_client()
    for i in range(30):
        password_step(client, f"nobody{i}", "not the password")
    assert "Too many attempts" in password_step(client, "bu").get_data(as_text=True)


# --- multi-factor sign-in
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["mo", "ada", "pat"])
def test_managers_owners_and_admins_set_up_mfa_before_reaching_any_page(web, username):
    client = web.test_client()
    response = password_step(client, username, next="/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/account/multi-factor/set-up"
    )
    for path in ("/", "/dashboard", "/calendar", "/modeller", "/cases"):
        refused = client.get(path)
        assert refused.status_code == 302 and refused.headers["Location"].startswith(
            "/account/multi-factor/set-up"
        ), path
    page = client.get("/account/multi-factor/set-up").get_data(as_text=True)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    assert 'src="data:image/svg+xml' in page
    assert code_and_confirm(client, "000000").status_code == 422
    confirmed = code_and_confirm(client, code_at(secret))
    body = confirmed.get_data(as_text=True)
    codes = re.findall(r'<li class="rf-recovery-code">([a-z0-9-]+)</li>', body)
    assert confirmed.status_code == 200 and len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/").status_code == 200
    assert [e.actor for e in audit(web.service, "mfa_enrolled")] == [username]
    with web.service.db.reading() as session:
        stored = set(session.scalars(select(MfaRecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}


def code_and_confirm(client, code: str):
    token = csrf(client)  # (opening the set-up page again would make a new secret)
    return client.post("/account/multi-factor/set-up", data={"code": code, "csrf_token": token})


def test_a_wrong_code_does_not_complete_set_up(web):
    client = web.test_client()
    password_step(client, "mo")
    page = client.get("/account/multi-factor/set-up").get_data(as_text=True)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    refused = code_and_confirm(client, code_at(secret, steps=5))
    assert refused.status_code == 422 and f'data-secret="{secret}"' in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert web.service.mfa.status("mo")["enrolled"] is False


def test_anyone_may_set_up_mfa_and_is_then_asked_for_a_code(web):
    client = web.test_client()
    sign_in(client, "bu")
    assert client.get("/").status_code == 200  # not required of a Business Unit officer
    assert "Set up multi-factor sign-in" in client.get("/account/multi-factor").get_data(as_text=True)
    secret = re.search(
        r'data-secret="([A-Z2-7]+)"', client.get("/account/multi-factor/set-up").get_data(as_text=True)
    ).group(1)
    assert code_and_confirm(client, code_at(secret)).status_code == 200
    clock.advance(seconds=30)
    other = web.test_client()
    response = password_step(other, "bu")
    assert response.headers["Location"].startswith("/sign-in/code")
    assert other.get("/").status_code == 302  # the password alone opens nothing
    assert code_step(other, code_at(secret)).status_code == 302
    assert other.get("/").status_code == 200


def test_a_code_is_accepted_once_within_one_step_either_side(web):
    secret, _ = enrol(web.service, "mo")
    sign_in(web.test_client(), "mo", secret)
    again = web.test_client()
    password_step(again, "mo")
    replayed = code_step(again, code_at(secret))
    assert replayed.status_code == 401 and "not right" in replayed.get_data(as_text=True)
    assert code_step(again, code_at(secret, steps=1)).status_code == 302  # the next step: a clock 30 s behind
    late = web.test_client()
    clock.advance(minutes=5)
    password_step(late, "mo")
    assert code_step(late, code_at(secret, steps=-2)).status_code == 401  # a minute old: refused
    assert code_step(late, code_at(secret, steps=-1)).status_code == 302  # 30 s old: a slow typist


def test_failed_codes_count_in_the_sign_in_limit(web):
    secret, _ = enrol(web.service, "mo")
    client = web.test_client()
    password_step(client, "mo")
    for _ in range(5):
        assert code_step(client, "000000").status_code == 401
    blocked = code_step(client, code_at(secret))
    assert blocked.status_code == 401 and "Too many attempts" in blocked.get_data(as_text=True)
    assert "Too many attempts" in password_step(web.test_client(), "mo").get_data(as_text=True)
    assert len(audit(web.service, "sign_in_refused")) == 5


def test_the_code_step_lasts_ten_minutes(web):
    secret, _ = enrol(web.service, "mo")
    client = web.test_client()
    password_step(client, "mo")
    clock.advance(minutes=11)
    response = code_step(client, code_at(secret))
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert client.get("/").status_code == 302


def test_a_recovery_code_signs_in_once(web):
    _, codes = enrol(web.service, "mo")
    client = web.test_client()
    password_step(client, "mo")
    assert code_step(client, codes[3].upper().replace("-", " ")).status_code == 302  # typed loosely
    assert client.get("/").status_code == 200
    again = web.test_client()
    password_step(again, "mo")
    assert code_step(again, codes[3]).status_code == 401
    assert web.service.mfa.status("mo")["recovery_codes_left"] == 9
    [used] = audit(web.service, "mfa_recovery_code_used")
    assert used.actor == "mo" and used.detail["left"] == 9


def test_new_recovery_codes_replace_the_old_ones(web):
    secret, old = enrol(web.service, "bu")
    with pytest.raises(Invalid):
        web.service.mfa.renew_recovery_codes("bu", "000000")
    new = web.service.mfa.renew_recovery_codes("bu", code_at(secret))
    assert len(new) == 10 and not set(new) & set(old)
    client = web.test_client()
    password_step(client, "bu")
    assert code_step(client, old[0]).status_code == 401
    assert code_step(client, new[0]).status_code == 302


def test_an_admin_resets_mfa_through_the_api_and_that_ends_the_persons_sessions(web):
    secret, _ = enrol(web.service, "mo")
    browser = web.test_client()
    sign_in(browser, "mo", secret)
    api = web.test_client()
    admin_token, manager_token = web.service.users.create_token("ada"), web.service.users.create_token("mo")
    refused = api.post("/api/v1/users/mo/mfa/reset", headers={"Authorization": f"Bearer {manager_token}"})
    assert refused.status_code == 403 and browser.get("/").status_code == 200
    assert (
        api.post(
            "/api/v1/users/nobody/mfa/reset", headers={"Authorization": f"Bearer {admin_token}"}
        ).status_code
        == 404
    )
    done = api.post("/api/v1/users/mo/mfa/reset", headers={"Authorization": f"Bearer {admin_token}"})
    assert done.status_code == 200 and done.get_json() == {
        "username": "mo",
        "mfa_enrolled": False,
        "sessions_ended": 1,
    }
    assert browser.get("/").status_code == 302
    assert web.service.mfa.status("mo") == {
        "enrolled": False,
        "enrolled_at": None,
        "recovery_codes_left": 0,
        "required": True,
    }
    [reset] = audit(web.service, "mfa_reset")
    assert reset.actor == "ada" and reset.detail == {"username": "mo", "sessions_ended": 1}
    response = password_step(web.test_client(), "mo")  # enrols again at the next sign-in
    assert response.headers["Location"].startswith("/account/multi-factor/set-up")


def test_only_an_admin_may_reset_mfa(web):
    enrol(web.service, "bu")
    for who in (Actor("mo", frozenset({"manager"})), Actor("pat", frozenset({"process_owner"}))):
        with pytest.raises(Forbidden):
            web.service.mfa.reset("bu", who)
    assert web.service.mfa.status("bu")["enrolled"] is True


def test_a_setting_makes_mfa_required_of_everyone(web):
    app = web.another(REVIEWFLOW_MFA_REQUIRED_FOR_ALL="1")
    response = password_step(app.test_client(), "bu")
    assert response.headers["Location"].startswith("/account/multi-factor/set-up")
    assert password_step(web.test_client(), "bu").headers["Location"] == "/"


def test_the_set_up_secret_is_new_each_time_until_confirmed(web):
    """A secret shown to someone else (who had the password) is never the one a person confirms later."""
    first = web.service.mfa.begin_enrolment("bu")["secret"]
    second = web.service.mfa.begin_enrolment("bu")
    assert second["secret"] != first and second["uri"].startswith("otpauth://totp/")
    assert "issuer=reviewflow" in second["uri"]
    with pytest.raises(Invalid):
        web.service.mfa.confirm_enrolment("bu", pyotp.TOTP(first).at(clock.now()))
    web.service.mfa.confirm_enrolment("bu", pyotp.TOTP(second["secret"]).at(clock.now()))
    with pytest.raises(Conflict):
        web.service.mfa.begin_enrolment("bu")  # set up already: an admin resets it first


def test_every_session_event_is_audited(web):
    secret, codes = enrol(web.service, "mo")
    client = web.test_client()
    sign_in(client, "mo", secret)
    client.post("/sign-out", data={"csrf_token": csrf(client, "/")})
    password_step(client, "mo")
    code_step(client, codes[0])
    clock.advance(minutes=31)
    client.get("/")
    web.service.mfa.reset("mo", Actor("ada", frozenset({"admin"})))
    kinds = [
        e.kind
        for e in audit(web.service, "signed_in")
        + audit(web.service, "signed_out")
        + audit(web.service, "session_expired")
        + audit(web.service, "mfa_enrolled")
        + audit(web.service, "mfa_recovery_code_used")
        + audit(web.service, "mfa_reset")
    ]
    assert sorted(kinds) == sorted(
        [
            "signed_in",
            "signed_in",
            "signed_out",
            "session_expired",
            "mfa_enrolled",
            "mfa_recovery_code_used",
            "mfa_reset",
        ]
    )
    methods = [e.detail["method"] for e in audit(web.service, "signed_in")]
    assert methods == ["code", "recovery_code"]
    with web.service.db.reading() as session:
        user = session.scalars(select(User).where(User.username == "mo")).one()
        assert user.totp_secret is None and user.mfa_enrolled_at is None


def test_a_demo_on_a_fixed_clock_still_takes_the_code_a_phone_shows(web):
    """A phone knows only the real time: with REVIEWFLOW_FAKE_NOW (never in production) codes are read at
    it."""
    app = web.another(REVIEWFLOW_FAKE_NOW="2026-12-21T09:00:00Z")
    service = app.extensions["reviewflow"]
    secret = service.mfa.begin_enrolment("mo")["secret"]
    service.mfa.confirm_enrolment("mo", pyotp.TOTP(secret).now())
    client = app.test_client()
    password_step(client, "mo")
    assert code_step(client, pyotp.TOTP(secret).at(clock.now().timestamp() + 3600)).status_code == 401
    next_on_the_phone = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert code_step(client, next_on_the_phone).status_code == 302


def test_reviewflow_user_reset_mfa(sqlite_url):
    service = Reviewflow(make_settings(sqlite_url))
    service.users.add("mo", ["manager"], password=PASSWORD)
    enrol(service, "mo")
    env = {**os.environ, "REVIEWFLOW_DATABASE_URL": sqlite_url}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "web.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = run("user", "reset-mfa", "mo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "reset multi-factor sign-in of mo (0 session(s) ended)"
    assert service.mfa.status("mo")["enrolled"] is False
    assert audit(service, "mfa_reset")[0].actor == "cli"
    missing = run("user", "reset-mfa", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stderr
    service.db.dispose()
