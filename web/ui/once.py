"""One submission per form page: each page carries a one-time token in a hidden field, and the first sending
that succeeds with it is remembered (in the person's signed session, and in this process for a double click
whose two requests carry the same cookie). Sending it again (a refresh, the back button, a second click) is
answered with where the first sending led, never by doing it twice.

A post without a token (a script, an old page) is handled as before: the engine still refuses to complete a
task twice; only starting a case has no other guard.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict

from flask import g, session

FIELD = "form_token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_PER_SESSION = 12  # the latest sendings a session remembers (the cookie stays small)
_IN_PROCESS = 5000  # the latest sendings this process remembers
_RUNNING = ""  # where a sending leads while it is still being handled

_lock = threading.Lock()
_sent: OrderedDict[tuple[str, str], str] = OrderedDict()  # (username, token) -> where it led


def new() -> str:
    return secrets.token_urlsafe(18)


def token_of(form) -> str | None:
    token = form.get(FIELD, "")
    return token if _TOKEN.match(token) else None


def _key(token: str) -> tuple[str, str]:
    return (g.actor.username if g.get("actor") else "", token)


def claim(token: str) -> str | None:
    """None: go ahead, this form has not been sent; else where its first sending led ("" while it runs)."""
    before = session.get("sent_forms")
    if isinstance(before, dict) and isinstance(before.get(token), str):
        return before[token]
    with _lock:
        if _key(token) in _sent:
            return _sent[_key(token)]
        _sent[_key(token)] = _RUNNING
        while len(_sent) > _IN_PROCESS:
            _sent.popitem(last=False)
    return None


def release(token: str) -> None:
    """The sending was refused (its answers had errors): the same page may be sent again, corrected."""
    with _lock:
        _sent.pop(_key(token), None)


def sent(token: str, where: str) -> None:
    """The sending succeeded and led to ``where``."""
    with _lock:
        _sent[_key(token)] = where
    before = session.get("sent_forms")
    remembered = dict(before) if isinstance(before, dict) else {}
    remembered.pop(token, None)
    remembered[token] = where
    session["sent_forms"] = dict(list(remembered.items())[-_PER_SESSION:])
