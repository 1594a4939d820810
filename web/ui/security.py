"""Session security for the staff pages: who is signed in, idle timeout, CSRF, role checks, a
content security policy with a per-request nonce, and a sign-in rate limit.

The JSON API keeps its bearer tokens (web/api.py); these pages use a signed session cookie that is
HttpOnly, SameSite=Lax and Secure (unless a developer serves plain http on their own machine).
"""
from __future__ import annotations

import functools
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from engine import clock
from engine.services.actor import Actor

csrf = CSRFProtect()


def secret_key(settings) -> str:
    """The configured key, or (outside production) one generated once and kept under var/."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(__file__).resolve().parents[2] / "var" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def configure(app, settings) -> None:
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="reviewflow_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=settings.session_idle_minutes * 60,
        WTF_CSRF_TIME_LIMIT=None,              # the session's idle timeout bounds the token's life
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    csrf.init_app(app)
    app.extensions["sign_in_limiter"] = SignInLimiter()


def load_user(service) -> None:
    """Before each page: the signed-in actor, or nobody if the session is missing, expired or revoked."""
    g.actor = None
    username = session.get("user")
    if not username:
        return
    idle_limit = current_app.config["PERMANENT_SESSION_LIFETIME"]
    last_seen = session.get("seen", 0)
    now = clock.now().timestamp()
    if now - last_seen > idle_limit:
        session.clear()
        g.signed_out_idle = True
        return
    try:
        g.actor = service.users.actor(username)
    except Exception:                          # disabled or deleted since sign-in
        session.clear()
        return
    session["seen"] = now
    session.permanent = True


def sign_in(actor: Actor) -> None:
    session.clear()                            # a new session id for a new sign-in
    session["user"] = actor.username
    session["seen"] = clock.now().timestamp()
    session.permanent = True


def signed_in(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("actor") is None:
            return redirect(url_for("auth.sign_in", next=request.full_path if request.query_string else request.path,
                                    idle=1 if g.get("signed_out_idle") else None))
        return view(*args, **kwargs)
    return wrapper


def needs(*roles: str):
    """The view needs any one of ``roles`` (admin always passes)."""
    def decorate(view):
        @functools.wraps(view)
        @signed_in
        def wrapper(*args, **kwargs):
            actor: Actor = g.actor
            if not any(actor.has(r) for r in roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def draws_diagrams() -> None:
    """This page draws a diagram: bpmn-js and dmn-js position their shapes with style attributes, so
    the page allows inline style *attributes* (never style elements, never inline script)."""
    g.csp_diagram = True


def content_security_policy() -> str:
    attrs = " style-src-attr 'unsafe-inline';" if g.get("csp_diagram") else ""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'; "
            f"style-src 'self'; style-src-elem 'self';{attrs} img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class SignInLimiter:
    """At most ``per_user`` failed sign-ins per user name, and ``per_address`` per address (an office
    shares one), in ``window`` seconds."""

    def __init__(self, per_user: int = 5, per_address: int = 30, window: int = 15 * 60):
        self.limits = {"u": per_user, "a": per_address}
        self.window = window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._failures[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, username: str, address: str) -> bool:
        now = clock.now().timestamp()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limits[k[0]] for k in (f"u:{username}", f"a:{address}"))

    def failed(self, username: str, address: str) -> None:
        now = clock.now().timestamp()
        with self._lock:
            for key in (f"u:{username}", f"a:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"u:{username}", None)
