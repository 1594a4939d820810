"""Browser tests: the web app served on loopback from a fresh copy of a deployed database, driven by
Playwright in Debian's Chromium. The clock is fixed (Monday 21 December 2026, 09:00 UTC); nothing sleeps
except while the browser waits for the page.

Managers, process owners and admins must sign in with a second factor: the template database has them
set up with an authenticator (secrets in ``MFA_SECRETS``, recovery codes in ``MFA_RECOVERY_CODES``), and
the sign-in helpers type a code computed at the fixed clock, as a person reads it from their phone."""

from __future__ import annotations

import re
import shutil
import socket
import threading
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from engine import clock
from engine.services import Reviewflow, demo
from engine.store.models import User
from tests.conftest import PROCESS_OWNER, ROOT, make_settings

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ASSETS = ROOT / "web" / "static" / "build" / "js" / "app.js"
PASSWORD = "demo password 1"
ROLES = {
    "referrer": "Referring agency",
    "la": "Local authority",
    "bu": "Business Unit",
    "prg": "Practice Review Group",
    "subgroup": "SCR sub group",
    "exec": "Executive Group",
    "board": "Board",
    "chair": "Independent Chair",
    "peer": "Peer chair",
    "reviewer": "Lead reviewer",
    "police": "Agency: Police",
    "health": "Agency: Health",
    "manager": "manager",
    "owner": "process_owner",
    "admin": "admin",
}
MFA_ACCOUNTS = ("manager", "owner", "admin")  # the roles that must sign in with a code
MFA_SET_UP_AT = "2026-12-21T08:00:00+00:00"  # an hour before the tests' clock: its code is used
MFA_SECRETS: dict[str, str] = {}
MFA_RECOVERY_CODES: dict[str, list[str]] = {}
LIVE_APPS: dict[str, object] = {}  # server address -> app, for the sign-in helper


def set_up_authenticators(service) -> None:
    """Managers, owners and admins set up their authenticator an hour before the tests' clock."""
    now = clock.now()
    clock.set_now(MFA_SET_UP_AT)
    for username in MFA_ACCOUNTS:
        secret = service.mfa.begin_enrolment(username)["secret"]
        code = pyotp.TOTP(secret).at(clock.now())
        MFA_RECOVERY_CODES[username] = service.mfa.confirm_enrolment(username, code)
        MFA_SECRETS[username] = secret
    clock.set_now(now)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Processes and forms deployed, demo accounts and cases made, managers, owners and admins set up with an
    authenticator: once, then copied for each test."""
    clock.set_now("2026-12-21T09:00:00+00:00")
    path = tmp_path_factory.mktemp("template") / "reviewflow.db"
    service = Reviewflow(make_settings(f"sqlite:///{path}"))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    demo.seed(service, password=PASSWORD)
    set_up_authenticators(service)
    service.db.dispose()
    clock.set_now(None)
    return path


@pytest.fixture
def service(template_db, tmp_path):
    path = tmp_path / "reviewflow.db"
    shutil.copy(template_db, path)
    svc = Reviewflow(
        make_settings(
            f"sqlite:///{path}",
            REVIEWFLOW_INSECURE_COOKIES="1",
            REVIEWFLOW_SECRET_KEY="test-only-secret-key-for-the-browser-tests",
        )
    )
    yield svc
    svc.db.dispose()


@pytest.fixture
def app(service):
    from web.app import create_app

    app = create_app(service)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def next_code(service, username: str) -> str:
    """The code a person's authenticator shows now; if they used this one already, the next (the clock
    moves on 30 seconds, as the person waits for it: a code is accepted once)."""
    with service.db.reading() as session:
        used = session.scalar(select(User.totp_last_step).where(User.username == username))
    step = int(clock.now().timestamp()) // 30
    if used is not None and used >= step:
        clock.advance(seconds=30 * (used - step + 1))
    return pyotp.TOTP(MFA_SECRETS[username]).at(clock.now())


def sign_in_client(client, username: str, password: str = PASSWORD, **extra):
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token, **extra}
    )
    if username in MFA_SECRETS and response.headers.get("Location", "").startswith("/sign-in/code"):
        code = next_code(client.application.extensions["reviewflow"], username)
        token = csrf_of(client.get("/sign-in/code").get_data(as_text=True))
        response = client.post("/sign-in/code", data={"code": code, "csrf_token": token})
    return response


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def live_server(app):
    from waitress.server import create_server

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{port}"
    LIVE_APPS[address] = app
    yield address
    LIVE_APPS.pop(address, None)
    server.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    if not ASSETS.exists():
        pytest.skip("the front-end assets are not built (make test builds them)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def sign_in(page, username: str, password: str = PASSWORD, service=None) -> None:
    """Sign in through the pages, with a code from the authenticator where ``username`` has one; its
    secret is read from ``service``, by default the live server's the page is on."""
    page.goto("/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")
    if username in MFA_SECRETS:
        page.wait_for_url("**/sign-in/code")
        if service is None:
            service = LIVE_APPS[page.url.split("/sign-in", 1)[0]].extensions["reviewflow"]
        page.fill("#code", next_code(service, username))
        page.click("button:has-text('Continue')")
    page.wait_for_url("**/")


def axe_violations(page) -> list[dict]:
    """Serious and critical accessibility violations on the current page (axe-core, WCAG 2.x A/AA)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
        'wcag21aa', 'wcag22aa']}}); return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]
