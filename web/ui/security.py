"""Session security for the staff pages: who is signed in, CSRF, role checks, where sign-in may lead, and
a content security policy with a per-request nonce.

The JSON API keeps its bearer tokens (web/api.py); these pages use a signed session cookie that is
HttpOnly, SameSite=Lax and Secure (unless a developer serves plain http on their own machine). The cookie
holds only the token of a session the server keeps (engine/services/sessions.py), so signing out ends it
everywhere; between the password and the code of multi-factor sign-in it holds who is half-way, for ten
minutes.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import abort, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from engine import clock
from engine.services.actor import Actor

csrf = CSRFProtect()


def secret_key(settings) -> str:
    """The configured key, or (outside production) one generated once and kept in the instance folder."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.instance_dir / "secret_key"
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
        WTF_CSRF_TIME_LIMIT=None,  # the session's idle timeout bounds the token's life
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    csrf.init_app(app)


SECOND_STEP_MINUTES = 10  # between a right password and its code


def load_user(service) -> None:
    """Before each page: the signed-in actor, or nobody if the server has no open session for the cookie
    (signed out, disabled, idle, past its lifetime, or never there)."""
    g.actor, g.must_enrol = None, False
    token = session.get("sid")
    if not token:
        if "user" in session:  # a cookie from before sessions were kept on the server
            session.clear()
        return
    resumed = service.sessions.resume(token)
    if resumed.actor is None:
        session.clear()
        g.session_ended = resumed.ended
        return
    g.actor, g.must_enrol = resumed.actor, resumed.must_enrol
    session.permanent = True


def start_session(token: str) -> None:
    """A new sign-in: nothing of the cookie before it is kept."""
    session.clear()
    session["sid"] = token
    session.permanent = True


def end_session(service) -> None:
    service.sessions.end(session.get("sid"), request.remote_addr or "unknown")
    session.clear()


def begin_second_step(username: str, next_url: str) -> None:
    """The password was right; the code is still to come (no session yet)."""
    session.clear()
    session["second_step"] = {"user": username, "at": clock.now().timestamp(), "next": next_url}


def second_step() -> dict | None:
    """Who is between their password and their code, if they got there in the last ten minutes."""
    pending = session.get("second_step")
    if not isinstance(pending, dict):
        return None
    age = clock.now().timestamp() - pending.get("at", 0)
    if not 0 <= age <= SECOND_STEP_MINUTES * 60:
        session.pop("second_step", None)
        return None
    return pending


def safe_next(target: str | None) -> str:
    """Only a relative path of this site may follow sign-in: never a scheme or a host, however disguised
    (control characters and whitespace that browsers drop, backslashes they read as slashes,
    percent-encoding)."""
    home = url_for("tasks.home")
    if not target or len(target) > 2000:
        return home
    path = urlsplit(target).path
    for text in (target, unquote(path)):
        if "\\" in text or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text):
            return home
        if not text.startswith("/") or text.startswith("//"):
            return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target


def _next_here() -> str:
    return request.full_path if request.query_string else request.path


def signed_in_to_enrol(view):
    """The view needs someone signed in, who may not yet have set up the second factor they must have."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("actor") is None:
            return redirect(url_for("auth.sign_in", next=_next_here(), ended=g.get("session_ended")))
        return view(*args, **kwargs)

    return wrapper


def signed_in(view):
    """The view needs someone signed in; a person who must sign in with a second factor and has none set up
    is sent to set it up first, whatever they asked for."""

    @functools.wraps(view)
    @signed_in_to_enrol
    def wrapper(*args, **kwargs):
        if g.get("must_enrol"):
            return redirect(url_for("auth.mfa.set_up", next=_next_here()))
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
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        f"style-src 'self'; style-src-elem 'self';{attrs} img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
