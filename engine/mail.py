"""Sending one e-mail over SMTP, as ``REVIEWFLOW_SMTP_URL`` says.

``smtp://host:port`` (plain, for a local relay), ``smtp+starttls://user:pass@host:port``
(upgrade to TLS, then log in) and ``smtps://user:pass@host:port`` (TLS from the start).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls", "smtps"):
        raise SmtpUrlError(f"REVIEWFLOW_SMTP_URL must start smtp://, smtp+starttls:// or smtps://, not {parts.scheme!r}")
    if not parts.hostname:
        raise SmtpUrlError("REVIEWFLOW_SMTP_URL has no host")
    default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
    return SmtpTarget(parts.scheme, parts.hostname, parts.port or default_port,
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def build_message(sender: str, recipient: str, subject: str, body: str, message_id: str, date) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Message-ID"] = message_id   # stable across retries: a receiver can drop a duplicate
    msg["Date"] = format_datetime(date)
    msg.set_content(body)
    return msg


def send(url: str, message: EmailMessage, timeout: float = 10.0) -> None:
    """Deliver one message or raise (``OSError``/``smtplib.SMTPException``)."""
    target = parse_url(url)
    context = ssl.create_default_context()
    if target.scheme == "smtps":
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        client.ehlo()
        if target.scheme == "smtp+starttls":
            client.starttls(context=context)
            client.ehlo()
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)
