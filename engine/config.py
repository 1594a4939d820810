"""Settings, read once from ``REVIEWFLOW_*`` environment variables.

Every setting has a safe default so that a fresh clone runs on SQLite with no
configuration at all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def definitions(name: str) -> Path:
    """``processes`` or ``forms``: the checkout's own folder when running from one, else the copy
    installed with the package (``reviewflow_files``, see pyproject.toml)."""
    here = CHECKOUT / name
    if here.is_dir():
        return here
    import importlib.util

    spec = importlib.util.find_spec(f"reviewflow_files.{name}")
    return (
        Path(next(iter(spec.submodule_search_locations)))
        if spec and spec.submodule_search_locations
        else here
    )


class ConfigError(RuntimeError):
    """A setting is missing or contradicts another; raised at startup, never later."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    env: str = "development"
    fake_now: str | None = None
    demo_password: str | None = None  # the password `reviewflow demo` gives its accounts (None: a random one)
    smtp_url: str | None = None
    mail_from: str = "reviewflow@localhost"
    holiday_region: str = "ENG"
    processes_dir: Path = field(default_factory=lambda: definitions("processes"))
    forms_dir: Path = field(default_factory=lambda: definitions("forms"))
    recipients_file: Path | None = None  # the named recipients; None: recipients.toml in processes_dir
    agencies_file: Path | None = None  # the partnership's agencies; None: agencies.toml in processes_dir
    # this installation's own files (the SQLite database, the generated secret key), never inside the code
    instance_dir: Path = field(default_factory=lambda: Path("var").resolve())
    max_upload_bytes: int = 2 * 1024 * 1024
    max_document_bytes: int = 20 * 1024 * 1024  # the largest document attached to a case or a step
    outbox_max_attempts: int = 8
    smtp_timeout_seconds: float = 30.0  # the longest wait for the relay at each step of an SMTP exchange
    outbox_lease_seconds: float = (
        30.0  # how long a message being sent stays held without its worker renewing it
    )
    secret_key: str | None = None
    session_idle_minutes: int = 30
    session_max_hours: int = 12  # a session ends this long after sign-in, however busy
    mfa_required_for_all: bool = False  # otherwise required of managers, process owners and admins
    secure_cookies: bool = True
    due_soon_working_days: int = 2
    # the name in the header of every page: the partnership's own service, not GOV.UK's
    partnership_name: str = "Safeguarding partnership"
    trusted_proxies: int = 0  # proxies in front whose X-Forwarded-* headers are believed
    script_time_limit_seconds: float = 2.0  # how long one script, condition or decision may run
    script_max_bytes: int = 1024 * 1024  # the largest value diagram code may build
    heartbeat_max_age_seconds: float = 120.0  # a worker that has not beaten for longer is not ready (/readyz)
    log_level: str = "INFO"  # serve and worker log from this level up, on stderr
    log_format: str = "json"  # one JSON object a line; "text" for a person at a terminal
    # the service's address as its users reach it (https://reviews.example.org): links in e-mails; none
    # without it (e-mails are built by the worker, outside any request)
    base_url: str | None = None
    invitation_valid_days: int = 7  # how long the link of an invitation to join works
    password_reset_valid_minutes: int = 60  # how long a 'Forgotten your password?' link works
    # the partnership's own rule sets (BOLTON_PRE2015): a case whose national rules in force are the ones a
    # chosen local set extends runs under that set (REVIEWFLOW_LOCAL_RULESETS, names separated by commas)
    local_rulesets: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def recipients(self) -> Path:
        return self.recipients_file or self.processes_dir / "recipients.toml"

    @property
    def agencies(self) -> Path:
        return self.agencies_file or self.processes_dir / "agencies.toml"


def default_database_url(var: Path | None = None) -> str:
    var = var or Path("var").resolve()
    return f"sqlite:///{var / 'reviewflow.db'}"


def load(environ: dict | None = None) -> Settings:
    """Build settings from the environment; refuse a fixed clock in production."""
    env = os.environ if environ is None else environ
    instance_dir = Path(env.get("REVIEWFLOW_INSTANCE_DIR") or "var").resolve()
    settings = Settings(
        database_url=env.get("REVIEWFLOW_DATABASE_URL") or default_database_url(instance_dir),
        instance_dir=instance_dir,
        env=env.get("REVIEWFLOW_ENV", "development"),
        fake_now=env.get("REVIEWFLOW_FAKE_NOW") or None,
        demo_password=env.get("REVIEWFLOW_DEMO_PASSWORD") or None,
        smtp_url=env.get("REVIEWFLOW_SMTP_URL") or None,
        mail_from=env.get("REVIEWFLOW_MAIL_FROM", "reviewflow@localhost"),
        holiday_region=env.get("REVIEWFLOW_HOLIDAY_REGION", "ENG"),
        processes_dir=Path(env.get("REVIEWFLOW_PROCESSES_DIR") or definitions("processes")),
        forms_dir=Path(env.get("REVIEWFLOW_FORMS_DIR") or definitions("forms")),
        recipients_file=Path(env["REVIEWFLOW_RECIPIENTS_FILE"])
        if env.get("REVIEWFLOW_RECIPIENTS_FILE")
        else None,
        agencies_file=Path(env["REVIEWFLOW_AGENCIES_FILE"]) if env.get("REVIEWFLOW_AGENCIES_FILE") else None,
        max_upload_bytes=int(env.get("REVIEWFLOW_MAX_UPLOAD_BYTES", 2 * 1024 * 1024)),
        max_document_bytes=int(env.get("REVIEWFLOW_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024)),
        outbox_max_attempts=int(env.get("REVIEWFLOW_OUTBOX_MAX_ATTEMPTS", 8)),
        smtp_timeout_seconds=float(env.get("REVIEWFLOW_SMTP_TIMEOUT_SECONDS", 30)),
        outbox_lease_seconds=float(env.get("REVIEWFLOW_OUTBOX_LEASE_SECONDS", 30)),
        secret_key=env.get("REVIEWFLOW_SECRET_KEY") or None,
        session_idle_minutes=int(env.get("REVIEWFLOW_SESSION_IDLE_MINUTES", 30)),
        session_max_hours=int(env.get("REVIEWFLOW_SESSION_MAX_HOURS", 12)),
        mfa_required_for_all=env.get("REVIEWFLOW_MFA_REQUIRED_FOR_ALL", "") in ("1", "true", "yes"),
        secure_cookies=env.get("REVIEWFLOW_INSECURE_COOKIES", "") not in ("1", "true", "yes"),
        due_soon_working_days=int(env.get("REVIEWFLOW_DUE_SOON_WORKING_DAYS", 2)),
        partnership_name=(env.get("REVIEWFLOW_PARTNERSHIP_NAME") or "").strip() or "Safeguarding partnership",
        trusted_proxies=int(env.get("REVIEWFLOW_TRUSTED_PROXIES", 0) or 0),
        script_time_limit_seconds=float(env.get("REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS", 2)),
        script_max_bytes=int(env.get("REVIEWFLOW_SCRIPT_MAX_BYTES", 1024 * 1024)),
        heartbeat_max_age_seconds=float(env.get("REVIEWFLOW_HEARTBEAT_MAX_AGE_SECONDS", 120)),
        log_level=env.get("REVIEWFLOW_LOG_LEVEL", "INFO").upper(),
        log_format=env.get("REVIEWFLOW_LOG_FORMAT", "json").lower(),
        base_url=(env.get("REVIEWFLOW_BASE_URL") or "").strip().rstrip("/") or None,
        local_rulesets=tuple(
            n.strip() for n in (env.get("REVIEWFLOW_LOCAL_RULESETS") or "").split(",") if n.strip()
        ),
        invitation_valid_days=int(env.get("REVIEWFLOW_INVITATION_VALID_DAYS", 7)),
        password_reset_valid_minutes=int(env.get("REVIEWFLOW_PASSWORD_RESET_VALID_MINUTES", 60)),
    )
    if not (1 <= settings.invitation_valid_days <= 90 and 5 <= settings.password_reset_valid_minutes <= 1440):
        raise ConfigError(
            "REVIEWFLOW_INVITATION_VALID_DAYS is 1 to 90, REVIEWFLOW_PASSWORD_RESET_VALID_MINUTES 5 to 1440"
        )
    if settings.base_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", settings.base_url):
        raise ConfigError("REVIEWFLOW_BASE_URL is the service's address, such as https://reviews.example.org")
    if not 0 <= settings.trusted_proxies <= 5:
        raise ConfigError("REVIEWFLOW_TRUSTED_PROXIES is the number of proxies in front of the app, 0 to 5")
    if not (0 < settings.script_time_limit_seconds <= 600 and settings.script_max_bytes >= 1024):
        raise ConfigError(
            "REVIEWFLOW_SCRIPT_TIME_LIMIT_SECONDS must be over 0 and at most 600, "
            "REVIEWFLOW_SCRIPT_MAX_BYTES at least 1024"
        )
    if not (0 < settings.smtp_timeout_seconds <= 3600 and 1 <= settings.outbox_lease_seconds <= 3600):
        raise ConfigError(
            "REVIEWFLOW_SMTP_TIMEOUT_SECONDS must be over 0 and REVIEWFLOW_OUTBOX_LEASE_SECONDS "
            "at least 1, both at most 3600"
        )
    if not 1 <= settings.heartbeat_max_age_seconds <= 86400:
        raise ConfigError("REVIEWFLOW_HEARTBEAT_MAX_AGE_SECONDS must be at least 1 and at most 86400")
    from engine.logs import FORMATS, LEVELS

    if settings.log_level not in LEVELS or settings.log_format not in FORMATS:
        raise ConfigError(
            f"REVIEWFLOW_LOG_LEVEL is one of {', '.join(LEVELS)} and REVIEWFLOW_LOG_FORMAT one of "
            f"{', '.join(FORMATS)}"
        )
    if not 1024 <= settings.max_document_bytes <= 512 * 1024 * 1024:
        raise ConfigError(
            "REVIEWFLOW_MAX_DOCUMENT_BYTES must be at least 1024 and at most 536870912 (512 MB)"
        )
    if settings.is_production and settings.fake_now:
        raise ConfigError("REVIEWFLOW_FAKE_NOW is refused when REVIEWFLOW_ENV=production")
    if settings.is_production and not settings.secure_cookies:
        raise ConfigError("REVIEWFLOW_INSECURE_COOKIES is refused when REVIEWFLOW_ENV=production")
    if settings.is_production and not settings.secret_key:
        raise ConfigError("REVIEWFLOW_SECRET_KEY must be set when REVIEWFLOW_ENV=production")
    return settings
