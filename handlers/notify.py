"""Notification handlers: render a message template and queue it for the outbox.

Templates are text files in ``handlers/templates/``: a ``Subject:`` line, a blank
line, then the body. They are rendered in Jinja's sandbox with the case data, so a
template can only read values, never call into the server. Recipients are e-mail
addresses or names from the partnership's named recipients, which the engine hands to the step (kept in
the database and edited by administrators, engine/services/recipients.py; ``processes/recipients.toml``
seeds them).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from handlers.registry import HandlerContext, handler

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = SandboxedEnvironment(
    loader=FileSystemLoader(str(TEMPLATES)),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)


class TemplateError(ValueError):
    """A message template is missing, malformed or needs data the case lacks."""


def directory(path: Path) -> dict[str, list[str]]:
    """Named recipients (``panel``, ``ofsted`` ...) mapped to e-mail addresses, from the directory file
    the settings name (``REVIEWFLOW_RECIPIENTS_FILE``, default ``recipients.toml`` beside the processes).

    Read again when the file changes, so a corrected address lets an operator retry a step.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _read_directory(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_directory(path: str, mtime_ns: int, size: int) -> dict[str, list[str]]:
    """One version of a directory file, cached by its path, modification time and size."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh).get("recipients", {})
    return {k: ([v] if isinstance(v, str) else list(v)) for k, v in raw.items()}


Named = Mapping[str, list[str]]


def _named(source: Path | Named | Callable[[], Named]) -> Named:
    """The named recipients ``source`` gives: the engine's copy (or a function reading it when first
    asked), or a file."""
    if isinstance(source, Mapping):
        return source
    if callable(source):
        return source()
    return directory(Path(source))


def resolve(recipients: str | list, directory_file: Path | Named | Callable[[], Named]) -> list[str]:
    """E-mail addresses for addresses and names from the named recipients, each once, in order (they are
    read only when a name needs them)."""
    names = [recipients] if isinstance(recipients, str) else list(recipients)
    named: dict[str, list[str]] | None = None
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"recipient {name!r} is not an address or a directory name")
        name = name.strip()
        if "@" in name:
            out.append(name)
            continue
        if named is None:
            named = _named(directory_file)
        if name in named:
            out.extend(named[name])
        else:
            raise ValueError(f"recipient '{name}' is neither an e-mail address nor in the directory")
    return list(dict.fromkeys(out))


#: templates the product itself sends (engine/services/task_mail.py), with values no diagram supplies
PRODUCT_TEMPLATES = frozenset({"new_task"})


def template_names() -> list[str]:
    """The templates a diagram's notification step may name (the modeller lists them; deploy checks them)."""
    return sorted(p.stem for p in TEMPLATES.glob("*.txt") if p.stem not in PRODUCT_TEMPLATES)


def render(template: str, data: dict) -> tuple[str, str]:
    """Subject and body of a template rendered with ``data``."""
    try:
        text = _env.get_template(f"{template}.txt").render(**data)
    except TemplateNotFound:
        raise TemplateError(f"no message template '{template}' in handlers/templates") from None
    except Exception as exc:  # undefined values, sandbox refusals
        raise TemplateError(f"template '{template}': {exc}") from None
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject:"):
        raise TemplateError(f"template '{template}' must start with a 'Subject:' line")
    return head[len("Subject:") :].strip(), body.strip() + "\n"


def _directory_path(ctx: HandlerContext):
    """The named recipients of the service running the step; the file the settings from the environment
    name when the step runs without one."""
    if ctx.recipients is not None:
        return ctx.recipients
    from engine import config

    return config.load().recipients


@handler("send_notification")
def send_notification(
    ctx: HandlerContext, *, to: str | list, template: str, extra: dict | None = None
) -> dict:
    """Queue one e-mail per recipient, rendered from a template with the case data (and ``extra`` values)."""
    recipients = resolve(to, _directory_path(ctx))
    subject, body = render(template, {**ctx.data, **(extra or {}), "business_key": ctx.business_key})
    for address in recipients:
        ctx.send(address, subject, body, template)
    return {"template": template, "recipients": recipients, "queued_at": ctx.now.isoformat()}
