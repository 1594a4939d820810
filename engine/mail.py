"""Building and sending one e-mail over SMTP, as ``REVIEWFLOW_SMTP_URL`` says.

``smtp://host:port`` (plain, for a local relay), ``smtp+starttls://user:pass@host:port``
(upgrade to TLS, then log in) and ``smtps://user:pass@host:port`` (TLS from the start).

Headers are built only from checked values: an address must be a plain ``local@domain``
with nothing else in it (no line break can smuggle in another header or recipient), and the
subject is one line. What cannot be built raises :class:`UnbuildableMessage` with the reason.
"""

from __future__ import annotations

import functools
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit


class SmtpUrlError(ValueError):
    pass


class UnbuildableMessage(ValueError):
    """This message can never be sent as it stands (retrying will not help)."""


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_address(text: str) -> str:
    """``text`` if it is one plain e-mail address (``local@domain``, ASCII, no spaces or control
    characters, within RFC 5321's lengths); otherwise :class:`UnbuildableMessage` saying why."""
    shown = repr(text)[:120]
    if not isinstance(text, str) or not text.isascii() or len(text) > 254:
        raise UnbuildableMessage(f"{shown} is not a valid e-mail address (one plain ASCII address expected)")
    local, at, domain = text.rpartition("@")
    if not (at and len(local) <= 64 and _LOCAL_PART.fullmatch(local) and _DOMAIN.fullmatch(domain)):
        raise UnbuildableMessage(f"{shown} is not a valid e-mail address")
    try:  # the standard library's own parser must read it back as exactly this address
        parsed = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        raise UnbuildableMessage(f"{shown} is not a valid e-mail address") from None
    if parsed.addr_spec != text:
        raise UnbuildableMessage(f"{shown} is not a valid e-mail address")
    return text


def check_sender(text: str) -> str:
    """The From header for ``REVIEWFLOW_MAIL_FROM``: a plain address, or ``Name <address>``."""
    named = re.fullmatch(r"([^<>]*)<([^<>]*)>", text.strip()) if isinstance(text, str) else None
    if named is None:
        return check_address(text)
    name = one_line(named.group(1)).strip('" ')
    return str(Address(display_name=name, addr_spec=check_address(named.group(2))))


def one_line(text: str, limit: int = 255) -> str:
    """Header text on one line: control characters and line breaks become spaces, runs of space one."""
    text = _SURROGATE.sub("\ufffd", str(text))
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


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
        raise SmtpUrlError(
            f"REVIEWFLOW_SMTP_URL must start smtp://, smtp+starttls:// or smtps://, not {parts.scheme!r}"
        )
    if not parts.hostname:
        raise SmtpUrlError("REVIEWFLOW_SMTP_URL has no host")
    default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
    return SmtpTarget(
        parts.scheme,
        parts.hostname,
        parts.port or default_port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def build_message(
    sender: str, recipient: str, subject: str, body: str, message_id: str, date
) -> EmailMessage:
    """The e-mail, every header from a checked value; :class:`UnbuildableMessage` if it cannot be."""
    if not re.fullmatch(r"<[A-Za-z0-9.@_-]{3,250}>", message_id or ""):
        raise UnbuildableMessage(f"message id {repr(message_id)[:80]} is not a plain <id@domain>")
    msg = EmailMessage()
    msg["From"] = check_sender(sender)
    msg["To"] = check_address(recipient)
    msg["Subject"] = one_line(subject)
    msg["Message-ID"] = message_id  # stable across retries: a receiver can drop a duplicate
    msg["Date"] = format_datetime(date)
    msg.set_content(_SURROGATE.sub("\ufffd", body))
    try:
        msg.as_bytes()  # everything it holds can be written out
    except (ValueError, LookupError, TypeError) as exc:
        raise UnbuildableMessage(f"cannot be written out: {type(exc).__name__}") from None
    return msg


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every connection (loading the trusted certificates takes ~0.1 s)."""
    return ssl.create_default_context()


def send(url: str, message: EmailMessage, timeout: float = 30.0, on_accepted=None) -> None:
    """Deliver one message or raise (``OSError``/``smtplib.SMTPException``); ``timeout`` bounds each
    wait for the relay (``REVIEWFLOW_SMTP_TIMEOUT_SECONDS``). ``on_accepted`` runs as soon as the relay
    has accepted the message, before the polite goodbye (QUIT), so that the sender records it at once."""
    target = parse_url(url)
    if target.scheme == "smtps":
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=_tls())
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        client.ehlo()
        if target.scheme == "smtp+starttls":
            client.starttls(context=_tls())
            client.ehlo()
        if target.username:
            client.login(target.username, target.password or "")
        client.send_message(message)
        if on_accepted is not None:
            on_accepted()
