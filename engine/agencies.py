"""The partnership's directory of agencies: the only agencies a form may name and a request may go to.

An agency typed as free text became a role nobody held ("Agency: Education") and its request was seen by
no one. The directory (``processes/agencies.toml``, or the file ``REVIEWFLOW_AGENCIES_FILE`` names) lists
each agency once, under a stable key that case data stores::

    [agencies.police]
    name = "Police"
    role = "Agency: Police"                         # optional: "Agency: " + name
    safeguarding_lead = "police-safeguarding@example.org"   # optional

Every problem is reported with the file and line it is on, so ``reviewflow check`` can name it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROLE_PREFIX = "Agency: "  # an agency's role: request-only (engine/services/actor.py), never a case role
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = {"name", "role", "safeguarding_lead"}


class DirectoryError(ValueError):
    """The directory cannot be used: each problem is ``file:line: what is wrong``."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Agency:
    key: str
    name: str
    role: str
    safeguarding_lead: str | None = None
    active: bool = True  # a retired agency is no longer offered, but still names the cases that chose it


@dataclass(frozen=True)
class Directory:
    agencies: tuple[Agency, ...] = ()

    @property
    def offered(self) -> tuple[Agency, ...]:
        """The agencies a form offers and accepts: the active ones."""
        return tuple(a for a in self.agencies if a.active)

    def get(self, key: str) -> Agency | None:
        return next((a for a in self.agencies if a.key == key), None)

    def find(self, value: str) -> Agency | None:
        """The agency a stored value names: its key, or (for cases begun before the directory) its name."""
        return self.get(value) or next(
            (a for a in self.agencies if a.name.casefold() == str(value).strip().casefold()), None
        )

    def name_of(self, value: str) -> str:
        agency = self.find(value)
        return agency.name if agency else str(value)


def titled(schema, known: Directory):
    """A copy of a form whose agency fields (``x-directory``) list the directory's keys with its names as
    option titles (``enum``, ``x-enum-titles``), so an answer reads "Children's social care", not its key."""
    if isinstance(schema, list):
        return [titled(item, known) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: titled(v, known) for k, v in schema.items()}
    if "x-directory" in schema and known.agencies:  # retired ones too: an old answer keeps its name
        choice = {
            "enum": [a.key for a in known.agencies],
            "x-enum-titles": [a.name for a in known.agencies],
        }
        if out.get("type") == "array":
            out["items"] = {**(out.get("items") or {}), **choice}
        else:
            out.update(choice)
    return out


def resolve(source) -> Directory:
    """The directory ``source`` gives: a :class:`Directory`, a function returning one (read from the database
    only when first asked, engine/services/directories.py), or a file (the seed, and tests)."""
    if isinstance(source, Directory):
        return source
    if callable(source):
        return source()
    return load(Path(source))


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be an agency's key, or None."""
    if not isinstance(key, str) or not _KEY.match(key):
        return "lower-case letters, digits and _ (at most 40), starting with a letter"
    return None


def name_problem(name) -> str | None:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100 or "\n" in name:
        return "a name of 1 to 100 characters on one line"
    return None


def role_problem(role) -> str | None:
    if (
        not isinstance(role, str)
        or not role.startswith(ROLE_PREFIX)
        or not role[len(ROLE_PREFIX) :].strip()
        or len(role) > 120
    ):
        return f"a role starting {ROLE_PREFIX!r}, at most 120 characters, so its users see only its requests"
    return None


def email_problem(address) -> str | None:
    if not isinstance(address, str) or len(address) > 320 or not _EMAIL.match(address):
        return "an e-mail address, like name@example.org"
    return None


def load(path: Path) -> Directory:
    """The directory in ``path`` (an empty one when there is no file), read again when the file changes.
    Raises :class:`DirectoryError` naming every problem."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Directory()
    return _read(str(path), stat.st_mtime_ns, stat.st_size)


def problems(path: Path) -> list[str]:
    """Every problem with the directory file, ``[]`` when it can be used; a missing file is one."""
    if not path.is_file():
        return [f"{path}: the directory of agencies is missing: every form that names agencies needs it"]
    try:
        load(path)
    except DirectoryError as exc:
        return exc.problems
    return []


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> Directory:
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise DirectoryError([f"{path}:{line.group(1) if line else 1}: not valid TOML: {exc}"]) from None
    return parse(raw, text, path)


def parse(raw: dict, text: str, path: str) -> Directory:
    found: list[str] = []
    extra = set(raw) - {"agencies"}
    if extra:
        found.append(f"{path}:1: unknown table(s) {', '.join(sorted(extra))}: the file holds [agencies.KEY]")
    table = raw.get("agencies", {})
    if not isinstance(table, dict) or not table:
        found.append(f'{path}:1: no agency is listed: add one as [agencies.police] with name = "Police"')
        raise DirectoryError(found)
    agencies, names, roles = [], {}, {}
    for key, entry in table.items():
        where = f"{path}:{_line_of(text, key)}"
        if not _KEY.match(key):
            found.append(f"{where}: the key {key!r} must be lower-case letters, digits and _ (max 40)")
        if not isinstance(entry, dict):
            found.append(f"{where}: agency {key!r} must be a table with a name")
            continue
        unknown = set(entry) - FIELDS
        if unknown:
            found.append(f"{where}: agency {key!r} has unknown field(s) {', '.join(sorted(unknown))}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100 or "\n" in name:
            found.append(f"{where}: agency {key!r} needs a name of 1 to 100 characters on one line")
            continue
        name = name.strip()
        role = entry.get("role", f"{ROLE_PREFIX}{name}")
        if (
            not isinstance(role, str)
            or not role.startswith(ROLE_PREFIX)
            or not role[len(ROLE_PREFIX) :].strip()
        ):
            found.append(
                f"{where}: agency {key!r} has role {role!r}: an agency's role starts with {ROLE_PREFIX!r}, "
                "so its users see only the requests addressed to it"
            )
            continue
        if len(role) > 120:
            found.append(f"{where}: agency {key!r} has a role longer than 120 characters")
        lead = entry.get("safeguarding_lead")
        if lead is not None and (not isinstance(lead, str) or not _EMAIL.match(lead)):
            found.append(f"{where}: agency {key!r} has safeguarding_lead {lead!r}: an e-mail address")
        for seen, value, what in ((names, name.casefold(), "name"), (roles, role, "role")):
            if value in seen:
                found.append(f"{where}: agency {key!r} has the same {what} as {seen[value]!r}")
            seen[value] = key
        agencies.append(Agency(key, name, role.strip(), lead))
    if found:
        raise DirectoryError(found)
    return Directory(tuple(agencies))


def _line_of(text: str, key: str) -> int:
    """The line an agency's table starts on (1 when it cannot be told)."""
    header = re.compile(rf"^\s*\[\s*agencies\s*\.\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            return number
    return 1
