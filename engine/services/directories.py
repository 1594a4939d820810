"""The partnership's named recipients and directory of agencies as every command reads them: kept in the
database (tables ``named_recipient`` and ``directory_agency``, edited by administrators in the browser),
each cached per process until its revision counter (table ``revision``, rows ``recipients`` and
``agencies``) moves, so no command reads a table more than once per change.

The files (``processes/recipients.toml``, ``processes/agencies.toml`` or the files the settings name) are
the seed. Whenever a process starts, and whenever a command finds a file changed since this process last
looked, the file is brought in:

- a key the database lacks is added (a new installation gets the whole file);
- a key whose row still holds what the file gave it (``updated_by`` is :data:`FROM_FILE`: nobody has
  edited it in the browser) takes the file's new values;
- a key edited in the browser keeps the browser's values: the database wins, and ``reviewflow deploy``
  says so for each such key whose file entry differs;
- a key the file no longer lists stays as it is (an agency is retired in the browser, never deleted).

Bringing a file in is idempotent (several processes may do it at once: the second finds nothing to do) and
audited like any other change.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import agencies as directory
from engine import clock
from engine.services import audit
from engine.store.models import DirectoryAgency, NamedRecipient, Revision

RECIPIENTS, AGENCIES = "recipients", "agencies"
#: ``updated_by`` of a row the seed file wrote and nobody has edited since
FROM_FILE = "(file)"


def revision_of(kind: str):
    return select(Revision.value).where(Revision.name == kind)


def changed(session: Session, kind: str) -> None:
    """Record, in the transaction that changes ``kind``, that every process must read it again."""
    session.execute(update(Revision).where(Revision.name == kind).values(value=Revision.value + 1))


def recipients_of(rows) -> dict[str, list[str]]:
    return {r.key: list(r.addresses or []) for r in sorted(rows, key=lambda r: r.key)}


def directory_of(rows) -> directory.Directory:
    """The directory, in the order of its names (retired agencies included: they still name old cases)."""
    return directory.Directory(
        tuple(
            directory.Agency(r.key, r.name, r.role, r.safeguarding_lead, bool(r.active))
            for r in sorted(rows, key=lambda r: (r.name.casefold(), r.key))
        )
    )


def of(core) -> Directories:
    """The one :class:`Directories` of a service (kept on its ``Core``, so each process has one cache)."""
    found = core.__dict__.get("_directories")
    if found is None:
        found = core.__dict__.setdefault("_directories", Directories(core))
    return found


def _stamp(path: Path | str):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class Directories:
    def __init__(self, core):
        self.core = core
        self._cache: dict[str, tuple[int, object]] = {}
        self._stamps: dict[str, object] = {}  # each file's (mtime, size) when this process last brought it in
        # (kind, path) of each seed file, made once: every command asks (settings do not change)
        self._followed = tuple((kind, os.fspath(self.path(kind))) for kind in (RECIPIENTS, AGENCIES))
        self._lock = threading.Lock()
        self.reported: list[str] = []  # what bringing the files in did and kept, since this process started

    # --- readers ---------------------------------------------------------------------------------
    def recipients(self, session: Session | None = None) -> dict[str, list[str]]:
        """``{key: [address, ...]}`` of every named recipient."""
        return self._cached(RECIPIENTS, session)

    def agencies(self, session: Session | None = None) -> directory.Directory:
        """Every agency, retired ones too (``Directory.offered`` are the active ones)."""
        return self._cached(AGENCIES, session)

    def lazy(self, kind: str, session: Session) -> Callable[[], object]:
        """A function reading ``kind`` in ``session`` when first called, and giving the same copy after:
        a command hands it to the steps it runs, most of which never ask."""
        seen: list = []

        def read():
            if not seen:
                seen.append(self._cached(kind, session))
            return seen[0]

        return read

    def _cached(self, kind: str, session: Session | None):
        if session is None:
            with self.core.db.reading() as own:
                return self._cached(kind, own)
        revision = session.scalar(revision_of(kind))
        hit = self._cache.get(kind)
        if revision is not None and hit is not None and hit[0] == revision:
            return hit[1]
        model = NamedRecipient if kind == RECIPIENTS else DirectoryAgency
        rows = session.scalars(select(model)).all()
        value = recipients_of(rows) if kind == RECIPIENTS else directory_of(rows)
        if revision is not None:
            self._cache[kind] = (revision, value)
        return value

    # --- the seed files --------------------------------------------------------------------------
    def path(self, kind: str) -> Path:
        return self.core.settings.recipients if kind == RECIPIENTS else self.core.settings.agencies

    def follow_files(self) -> list[str]:
        """Bring in each seed file that changed since this process last did (a stat of each file when
        nothing changed); what was done and kept, one line each."""
        out: list[str] = []
        for kind, path in self._followed:
            if self._stamps.get(kind, False) != _stamp(path):
                out += self.bring_in(kind)
        self.reported += out
        return out

    def bring_in(self, kind: str) -> list[str]:
        """Bring the seed file of ``kind`` into the database (see the module's docstring)."""
        path = self.path(kind)
        with self._lock:
            stamp = _stamp(path)
            entries, report = self._file_entries(kind, path)
            try:
                report += self._apply(kind, path, entries)
            except IntegrityError:  # another process brought the same file in at the same moment
                report = []
            self._stamps[kind] = stamp
            return report

    def _file_entries(self, kind: str, path: Path) -> tuple[dict[str, dict], list[str]]:
        if not path.is_file():
            return {}, []
        if kind == AGENCIES:
            try:
                known = directory.load(path)
            except directory.DirectoryError as exc:
                return {}, [f"{p} (the directory of agencies was not brought in)" for p in exc.problems]
            return {
                a.key: {"name": a.name, "role": a.role, "safeguarding_lead": a.safeguarding_lead}
                for a in known.agencies
            }, []
        from engine.services.recipients import address_problem, key_problem
        from handlers import notify

        try:
            named = notify.directory(path)
        except Exception as exc:  # not valid TOML
            return {}, [f"{path}: not brought in: {exc}"]
        out, report = {}, []
        for key, addresses in named.items():
            problem = key_problem(key) or next(filter(None, (address_problem(a) for a in addresses)), None)
            if problem or not addresses:
                report.append(f"{path}: recipient {key!r} not brought in: {problem or 'no address'}")
                continue
            out[key] = {"addresses": list(addresses)}
        return out, report

    def _apply(self, kind: str, path: Path, entries: dict[str, dict]) -> list[str]:
        model = NamedRecipient if kind == RECIPIENTS else DirectoryAgency
        what = "recipient" if kind == RECIPIENTS else "agency"
        report: list[str] = []
        now = clock.now()
        with self.core.db.transaction() as session:
            rows = {r.key: r for r in session.scalars(select(model))}
            moved = False
            for key, values in entries.items():
                row = rows.get(key)
                if row is None:
                    extra = {"active": True} if kind == AGENCIES else {}
                    session.add(model(key=key, **values, **extra, updated_by=FROM_FILE, updated_at=now))
                    before = None
                    report.append(f"{kind}: added {key!r} from {path}")
                else:
                    before = {k: getattr(row, k) for k in values}
                    if before == values:
                        continue
                    if row.updated_by != FROM_FILE:
                        report.append(
                            f"{kind}: kept {key!r} as changed in the browser by {row.updated_by}; "
                            f"{path} says otherwise"
                        )
                        continue
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.updated_at = now
                    report.append(f"{kind}: updated {key!r} from {path}")
                moved = True
                audit.record(
                    session,
                    f"{what}_added" if before is None else f"{what}_changed",
                    "system",
                    at=now,
                    detail={"key": key, "before": before, "after": values, "source": str(path)},
                )
            if session.get(Revision, kind) is None:
                session.add(Revision(name=kind, value=1))
            elif moved:
                changed(session, kind)
        return report
