"""One-time links sent by e-mail (an invitation to join, a password reset): a random token in the link, only
its SHA-256 in the database, the message put in the outbox in the command's transaction.

The outbox must keep a message's body to send it, and the body holds the link; once the link is spent
(used, withdrawn, replaced by a newer one) the body is cut to a note, so nobody reading the outbox
afterwards holds a working link. Until then the outbox pages must not show these messages' bodies
(``SECRET_TEMPLATES``)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.services import queued_mail
from engine.services.users import token_hash
from engine.store.models import OutboxMessage

MAIL = Path(__file__).resolve().parent.parent / "data" / "mail"
SECRET_TEMPLATES = frozenset({"invitation", "password_reset"})
SPENT_NOTE = "(The one-time link that was here has been used, withdrawn or replaced. It no longer works.)"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_env = SandboxedEnvironment(
    loader=FileSystemLoader(str(MAIL)),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)


def new_token() -> tuple[str, str]:
    """A token for a link and the hash to keep."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def hash_of(token: str | None) -> str | None:
    """The hash to look a link's token up by; None for anything that cannot be one of ours."""
    return token_hash(token) if token and _TOKEN.match(token) else None


def in_words(when: dt.datetime) -> str:
    return f"{when:%H:%M} UTC on {when.day} {when:%B %Y}"


def render(template: str, data: dict) -> tuple[str, str]:
    """Subject and body of one of the product's own e-mails (engine/data/mail)."""
    text = _env.get_template(f"{template}.txt").render(**data)
    head, _, body = text.partition("\n\n")
    return head[len("Subject:") :].strip()[:255], body.strip() + "\n"


def send(
    session: Session,
    *,
    key: str,
    template: str,
    recipient: str,
    data: dict,
    actor: str,
    now: dt.datetime,
) -> None:
    subject, body = render(template, data)
    queued_mail.queue(
        session,
        key=key,
        instance_id=None,
        recipient=recipient,
        subject=subject,
        body=body,
        template=template,
        actor=actor,
        at=now,
    )


def spent(session: Session, key: str) -> None:
    """The link of the message ``key`` no longer works: keep no copy of it in the outbox."""
    session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(body=SPENT_NOTE + "\n"))
