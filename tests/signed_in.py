"""A manager signed in to the web app through its own sign-in pages (password, then the code their
authenticator shows), for tests and benchmarks that read the managers' pages over HTTP."""

from __future__ import annotations

import datetime as dt
import re

import pyotp

from engine import clock

PASSWORD = "a long enough passphrase for a manager"


def _csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def manager_client(app, username: str = "pages-manager"):
    """A test client of ``app`` signed in as a new manager (with multi-factor sign-in set up, where the app
    has it)."""
    service = app.extensions["reviewflow"]
    service.users.add(username, ["manager"], password=PASSWORD)
    secret = None
    if hasattr(service, "mfa"):
        now = clock.now()
        clock.set_now(now - dt.timedelta(hours=1))  # set up an hour ago: that code is long used
        secret = service.mfa.begin_enrolment(username)["secret"]
        service.mfa.confirm_enrolment(username, pyotp.TOTP(secret).at(clock.now().timestamp()))
        clock.set_now(now)
    client = app.test_client()
    response = client.post(
        "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(client, "/sign-in")}
    )
    if secret is not None and "/sign-in/code" in response.headers.get("Location", ""):
        response = client.post(
            "/sign-in/code",
            data={
                "code": pyotp.TOTP(secret).at(clock.now().timestamp()),
                "csrf_token": _csrf(client, "/sign-in/code"),
            },
        )
    assert response.status_code == 302 and "/sign-in" not in response.headers["Location"], (
        response.status_code
    )
    return client
