"""Which files make a bundle and what they are called: reading them from disk, the kind of each file, the
names an upload may use, and the files a bundle refuses before reading them (unknown kind, too large)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from engine import inputs


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".bpmn", ".bpmn20.xml")):
        return "bpmn"
    if lower.endswith(".dmn"):
        return "dmn"
    if lower.endswith(".json"):
        return "form"
    if lower.endswith(".toml") and "/rulesets/" in "/" + lower.replace("\\", "/"):
        return "ruleset"
    if lower.endswith(".toml") and Path(lower).parent.name == "rulesets":
        return "ruleset"
    return None


MAX_FILE_NAME = 120
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()+-]*$")


def file_name_problem(name: str) -> str | None:
    """Why an uploaded file's name cannot be deployed, or None: a bare name (rule sets as
    ``rulesets/NAME.toml``), never a path, of ordinary characters and a sensible length."""
    bare = name[len("rulesets/") :] if name.startswith("rulesets/") else name
    reason = inputs.text_problem(bare, single_line=True)
    if reason:
        return f"the file name {reason}"
    if "/" in bare or "\\" in bare:
        return "a file name cannot contain a path ('/' or '\\'): send the file by its own name"
    if ".." in bare:
        return "a file name cannot contain '..'"
    if not bare or len(bare) > MAX_FILE_NAME:
        return f"a file name is 1 to {MAX_FILE_NAME} characters long"
    if not _FILE_NAME.match(bare):
        return (
            "a file name starts with a letter or digit and has only letters, digits, spaces and _ . ( ) + -"
        )
    return None  # its extension is checked with its content (build)


def shown_name(name: str) -> str:
    """A file name as it may be printed back: control characters and separators visible, not acted on."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name)[:200]


def refusal(name: str, data: bytes, max_bytes: int) -> str | None:
    """Why a file is not read at all, or None: a kind no bundle holds, or more bytes than the limit."""
    if kind_of(name) is None:
        return "not a BPMN, DMN, form (.json) or rule-set (rulesets/*.toml) file"
    if len(data) > max_bytes:
        return f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes"
    return None


def collect_files(paths: Iterable[Path], root: Path | None = None) -> dict[str, bytes]:
    """Read every deployable file under ``paths``; keys are names relative to the directory given."""
    out: dict[str, bytes] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file():
                    name = file.relative_to(path).as_posix()
                    if file.suffix == ".toml" and file.parent.name == "rulesets":
                        name = "rulesets/" + file.name
                    if kind_of(name) or kind_of(file.name):
                        out[_display_name(file, name)] = file.read_bytes()
        elif path.is_file():
            name = path.name if path.parent.name != "rulesets" else "rulesets/" + path.name
            out[_display_name(path, name)] = path.read_bytes()
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return out


def _display_name(file: Path, name: str) -> str:
    """Files are known by their bare name (rule sets as ``rulesets/NAME``), wherever they sit on disk,
    so that a file uploaded through the API replaces the one deployed from the command line."""
    if kind_of(name) == "ruleset":
        return "rulesets/" + file.name
    return file.name
