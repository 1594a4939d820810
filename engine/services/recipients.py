"""The partnership's named recipients (the Panel, Ofsted, the chairs ...) as administrators keep them: the
key a diagram's notification step names (``to="'panel'"``) and the addresses it stands for. Kept in the
database (engine/services/directories.py, where every step reads them); each change is audited with what
it was before and after, and a test message goes through the outbox like any notification."""

from __future__ import annotations

import ast
import re
import uuid
import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from engine import agencies as directory
from engine import clock, inputs
from engine.bpmn.bpmn_xml import NS, SPIFF_NS
from engine.services import audit, directories, queued_mail
from engine.services.actor import Actor
from engine.services.directories import RECIPIENTS
from engine.services.errors import Forbidden, Invalid, NotFound
from engine.store.models import NamedRecipient, ProcessVersion

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_ADDRESSES = 20
TEST_TEMPLATE = "recipient_test"


def key_problem(key) -> str | None:
    if not isinstance(key, str) or not _KEY.match(key):
        return "lower-case letters, digits and _ (at most 64), starting with a letter"
    return None


def address_problem(address) -> str | None:
    return directory.email_problem(address)


def parse_addresses(text: str | list) -> list[str]:
    """Addresses as typed: one or several, separated by commas, semicolons, spaces or lines; each once."""
    items = text if isinstance(text, list) else re.split(r"[\s,;]+", str(text or ""))
    return list(dict.fromkeys(a.strip() for a in items if a and a.strip()))


def keys_named(bpmn: bytes) -> set[str]:
    """The recipient keys a diagram's notification steps name: the string literals of each ``to``
    parameter that are not e-mail addresses (``'panel'``, ``['ofsted', 'dfe']``); an expression such as
    ``referrer['email']`` names none."""
    try:
        root = ET.fromstring(bpmn)
    except ET.ParseError:
        return set()
    found: set[str] = set()
    for op in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        if op.get("id") != "send_notification":
            continue
        for param in op.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NS):
            if param.get("id") != "to":
                continue
            try:
                tree = ast.parse((param.get("value") or "").strip(), mode="eval")
            except SyntaxError:
                continue
            found.update(k for k in _literals(tree.body) if "@" not in k and _KEY.match(k))
    return found


def _literals(node) -> list[str]:
    """The strings an expression may give as recipients: a literal, the items of a list, either side of
    ``+`` or of ``... if ... else ...``, the items a comprehension draws from; never a function's argument,
    a subscript or a comparison (``field('referrer')``, ``x == 'scr'``)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [s for item in node.elts for s in _literals(item)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literals(node.left) + _literals(node.right)
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    if isinstance(node, ast.ListComp):
        return [s for g in node.generators for s in _literals(g.iter)]
    return []


class Recipients:
    def __init__(self, core):
        self.core = core

    @property
    def _directories(self) -> directories.Directories:
        return directories.of(self.core)

    @staticmethod
    def _admin(actor: Actor) -> None:
        if "admin" not in actor.roles:
            raise Forbidden("only an administrator may see or change the named recipients")

    def named(self) -> dict[str, list[str]]:
        """``{key: [address, ...]}``: what the steps address messages with (the cached copy)."""
        return self._directories.recipients()

    def usage(self, session) -> dict[str, list[str]]:
        """``{key: [process name, ...]}``: which deployed processes' notification steps (their newest
        versions) name each key."""
        newest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        rows = session.execute(
            select(ProcessVersion.name, ProcessVersion.process_id, ProcessVersion.bpmn).join(
                newest,
                (newest.c.process_id == ProcessVersion.process_id)
                & (newest.c.version == ProcessVersion.version),
            )
        ).all()
        used: dict[str, list[str]] = {}
        for name, process_id, bpmn in sorted(rows, key=lambda r: (r.name or r.process_id).casefold()):
            for key in keys_named(bpmn):
                used.setdefault(key, []).append(name or process_id)
        return used

    def list(self, actor: Actor) -> dict:
        """Every named recipient with its addresses, description, who changed it last and which processes
        use it; and ``missing``: the keys a deployed diagram names that have no addresses (a step naming
        one fails until it is added)."""
        self._admin(actor)
        self._directories.follow_files()
        with self.core.db.reading() as session:
            rows = [
                {
                    "key": r.key,
                    "addresses": list(r.addresses or []),
                    "description": r.description or "",
                    "updated_by": r.updated_by,
                    "from_file": r.updated_by == directories.FROM_FILE,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in session.scalars(select(NamedRecipient).order_by(NamedRecipient.key))
            ]
            used = self.usage(session)
        known = {r["key"] for r in rows}
        return {
            "recipients": [{**r, "used_by": used.get(r["key"], [])} for r in rows],
            "missing": [{"key": k, "used_by": v} for k, v in sorted(used.items()) if k not in known],
        }

    def get(self, key: str, actor: Actor) -> dict:
        found = next((r for r in self.list(actor)["recipients"] if r["key"] == key), None)
        if found is None:
            raise NotFound(f"no named recipient '{key}'")
        return found

    @staticmethod
    def _checked(addresses, description) -> tuple[list[str], str | None, list[dict]]:
        problems = []
        wanted = parse_addresses(addresses)
        if not wanted:
            problems.append({"path": "addresses", "message": "Enter at least one e-mail address"})
        elif len(wanted) > MAX_ADDRESSES:
            problems.append(
                {"path": "addresses", "message": f"Enter at most {MAX_ADDRESSES} e-mail addresses"}
            )
        else:
            bad = [a for a in wanted if address_problem(a)]
            if bad:
                problems.append(
                    {
                        "path": "addresses",
                        "message": "Enter e-mail addresses in the correct format, like name@example.org: "
                        + ", ".join(f"‘{a[:80]}’" for a in bad[:5])
                        + " "
                        + ("is" if len(bad) == 1 else "are")
                        + " not",
                    }
                )
        text = (description or "").strip()
        if len(text) > 255:
            problems.append(
                {"path": "description", "message": "The description must be 255 characters or fewer"}
            )
        elif inputs.text_problem(text, single_line=True, max_length=255):
            problems.append(
                {
                    "path": "description",
                    "message": "Enter the description on one line",
                }
            )
        return wanted, text or None, problems

    def add(self, key: str, addresses, description: str | None, actor: Actor) -> dict:
        """A new named recipient. Refused, changing nothing: a key that is not lower-case letters, digits and
        _, a key that exists, an address that is not one."""
        self._admin(actor)
        self._directories.follow_files()
        key = (key or "").strip()
        wanted, text, problems = self._checked(addresses, description)
        if key_problem(key):
            problems.insert(
                0,
                {
                    "path": "key",
                    "message": "Enter a key of lower-case letters, digits and underscores, starting with a "
                    "letter (at most 64 characters)",
                },
            )
        now = clock.now()
        with self.core.db.transaction() as session:
            if not key_problem(key) and session.get(NamedRecipient, key) is not None:
                problems.insert(
                    0, {"path": "key", "message": f"A recipient with the key ‘{key}’ already exists"}
                )
            if problems:
                raise Invalid("the recipient has errors", problems)
            session.add(
                NamedRecipient(
                    key=key, addresses=wanted, description=text, updated_by=actor.username, updated_at=now
                )
            )
            after = {"addresses": wanted, "description": text}
            audit.record(
                session,
                "recipient_added",
                actor.username,
                at=now,
                detail={"key": key, "before": None, "after": after},
            )
            directories.changed(session, RECIPIENTS)
        return {"key": key, **after}

    def change(self, key: str, addresses, description: str | None, actor: Actor) -> dict:
        """New addresses and description for a recipient; audited with both."""
        self._admin(actor)
        self._directories.follow_files()
        wanted, text, problems = self._checked(addresses, description)
        now = clock.now()
        with self.core.db.transaction() as session:
            row = session.get(NamedRecipient, key)
            if row is None:
                raise NotFound(f"no named recipient '{key}'")
            if problems:
                raise Invalid("the recipient has errors", problems)
            before = {"addresses": list(row.addresses or []), "description": row.description}
            after = {"addresses": wanted, "description": text}
            if before == after:
                return {"key": key, **after, "changed": False}
            row.addresses, row.description = wanted, text
            row.updated_by, row.updated_at = actor.username, now
            audit.record(
                session,
                "recipient_changed",
                actor.username,
                at=now,
                detail={"key": key, "before": before, "after": after},
            )
            directories.changed(session, RECIPIENTS)
        return {"key": key, **after, "changed": True}

    def send_test(self, key: str, actor: Actor) -> list[str]:
        """A test message to each address of ``key``, through the outbox like any notification (and
        audited); the addresses it went to."""
        self._admin(actor)
        now = clock.now()
        name = self.core.settings.partnership_name
        with self.core.db.transaction() as session:
            row = session.get(NamedRecipient, key)
            if row is None:
                raise NotFound(f"no named recipient '{key}'")
            addresses = list(row.addresses or [])
            subject = f"Test message from {name}'s case review service"
            body = (
                f"This is a test message sent by {actor.username} from the administration pages of {name}'s "
                f"case review service, to check that notifications addressed to '{key}' arrive.\n\n"
                "It needs no answer and contains no case information.\n"
            )
            batch = uuid.uuid4().hex  # each test is its own message, even within one second
            for number, address in enumerate(addresses):
                queued_mail.queue(
                    session,
                    key=f"recipient-test:{key}:{batch}:{number}",
                    instance_id=None,
                    recipient=address,
                    subject=subject,
                    body=body,
                    template=TEST_TEMPLATE,
                    actor=actor.username,
                    at=now,
                )
            audit.record(
                session,
                "recipient_test_sent",
                actor.username,
                at=now,
                detail={"key": key, "addresses": addresses},
            )
        return addresses
