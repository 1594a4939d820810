"""Deploy: validate a set of files together with what is already deployed, then version what changed.

All-or-nothing: if any file has a problem, nothing is written and every problem
is reported. A process gets a new version only when its content hash (its BPMN,
the processes it calls, its forms and decisions) differs from its latest
version; running instances keep the version they started on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select

from engine import clock
from engine.bpmn import bundle as bundles
from engine.bpmn import serializer
from engine.services import audit
from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, Invalid, TooLarge
from engine.store.models import (
    Artifact,
    AuditEvent,
    DecisionVersion,
    Deployment,
    ProcessVersion,
    RuleSetVersion,
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: how a deployment of the files on disk (``reviewflow deploy``, ``reviewflow demo``) is marked in its audit
#: row; a deployment without it was a person's (the modeller, the API)
FROM_FILES = "files"
#: the command line's own name, for deployments recorded before the mark existed
_COMMAND_LINE = frozenset({"cli"})


class Deployments:
    def __init__(self, core: Core):
        self.core = core

    def current_files(self, session) -> dict[str, bytes]:
        latest = (
            select(Artifact.kind, Artifact.name, func.max(Artifact.id).label("id"))
            .group_by(Artifact.kind, Artifact.name)
            .subquery()
        )
        rows = session.execute(select(Artifact).join(latest, Artifact.id == latest.c.id)).scalars()
        return {a.name: a.content for a in rows}

    def check(self, files: dict[str, bytes]) -> bundles.Bundle:
        """Validate files against what is deployed (for ``reviewflow check`` and the modeller)."""
        with self.core.db.reading() as session:
            merged = {**self.current_files(session), **files}
        return self._build(merged, files)

    def _build(self, merged: dict[str, bytes], uploaded: dict[str, bytes]) -> bundles.Bundle:
        bad_names = [
            {"file": bundles.shown_name(name), "element_id": "", "message": reason}
            for name in sorted(uploaded)
            if (reason := bundles.file_name_problem(name))
        ]
        if bad_names:
            raise Invalid(
                f"{bad_names[0]['file']}: {bad_names[0]['message']}; nothing was deployed", bad_names
            )
        limit = self.core.settings.max_upload_bytes
        for name, data in uploaded.items():
            if len(data) > limit:
                raise TooLarge(
                    f"{name} is {len(data):,} bytes; the limit is {limit:,} bytes",
                    [{"file": name, "element_id": "", "message": "file too large"}],
                )
        try:
            return bundles.build(merged, max_bytes=limit, new=set(uploaded), form_use=True)
        except bundles.BundleInvalid as exc:
            raise Invalid(
                f"{len(exc.problems)} problem(s); nothing was deployed", [p.to_dict() for p in exc.problems]
            ) from None

    def deploy(self, files: dict[str, bytes], actor: Actor, source: str | None = None) -> dict:
        """Version what changed in ``files``; ``source`` says where they came from (``FROM_FILES``: the
        files on disk), kept in the audit row."""
        if not actor.can_deploy:
            raise Forbidden("only a process owner may deploy")
        if not files:
            raise Invalid("no files were given", [{"file": "", "element_id": "", "message": "no files"}])
        now = clock.now()
        with self.core.db.transaction() as session:
            merged = {**self.current_files(session), **files}
            built = self._build(merged, files)
            deployment = Deployment(created_at=now, deployed_by=actor.username, files=[])
            session.add(deployment)
            session.flush()
            current = self.current_files(session)
            changed_files = []
            for name, data in sorted(files.items()):
                if current.get(name) == data:
                    continue
                session.add(
                    Artifact(
                        deployment_id=deployment.id,
                        kind=bundles.kind_of(name) or "other",
                        name=name,
                        content=data,
                        content_hash=_sha(data),
                    )
                )
                changed_files.append({"name": name, "kind": bundles.kind_of(name), "hash": _sha(data)})
            deployment.files = changed_files

            created = []
            for pid, pb in sorted(built.processes.items()):
                latest = session.scalars(
                    select(ProcessVersion)
                    .where(ProcessVersion.process_id == pid)
                    .order_by(ProcessVersion.version.desc())
                    .limit(1)
                ).first()
                if latest is not None and latest.content_hash == pb.content_hash:
                    continue
                version = ProcessVersion(
                    process_id=pid,
                    version=(latest.version + 1) if latest else 1,
                    name=pb.name,
                    content_hash=pb.content_hash,
                    deployment_id=deployment.id,
                    file=pb.file,
                    bpmn=pb.bpmn,
                    spec_json=serializer.spec_to_json(pb.spec, pb.subprocess_specs),
                    forms=pb.forms,
                    lanes=pb.lanes,
                    decisions=pb.decisions,
                    deadline_keys=pb.deadline_keys,
                    created_at=now,
                )
                session.add(version)
                created.append(
                    {"process_id": pid, "version": version.version, "content_hash": pb.content_hash}
                )
            decisions = []
            for did, (file, xml) in sorted(built.decisions.items()):
                latest = session.scalars(
                    select(DecisionVersion)
                    .where(DecisionVersion.decision_id == did)
                    .order_by(DecisionVersion.version.desc())
                    .limit(1)
                ).first()
                if latest is not None and latest.content_hash == _sha(xml):
                    continue
                session.add(
                    DecisionVersion(
                        decision_id=did,
                        version=(latest.version + 1) if latest else 1,
                        file=file,
                        content_hash=_sha(xml),
                        dmn=xml,
                        deployment_id=deployment.id,
                        created_at=now,
                    )
                )
                decisions.append({"decision_id": did, "version": (latest.version + 1) if latest else 1})
            rulesets = []
            for name, rs in sorted(built.rulesets.items()):
                exists = session.scalars(
                    select(RuleSetVersion.id).where(
                        RuleSetVersion.name == name, RuleSetVersion.content_hash == rs.content_hash
                    )
                ).first()
                if exists:
                    continue
                session.add(
                    RuleSetVersion(
                        name=name,
                        content_hash=rs.content_hash,
                        content=rs.to_dict(),
                        deployment_id=deployment.id,
                        created_at=now,
                    )
                )
                rulesets.append({"name": name, "content_hash": rs.content_hash})
            audit.record(
                session,
                "deployed",
                actor.username,
                at=now,
                detail={
                    "deployment": deployment.id,
                    **({"source": source} if source else {}),
                    "files": [f["name"] for f in changed_files],
                    "processes": created,
                    "decisions": decisions,
                    "rulesets": rulesets,
                },
            )
            return {
                "deployment_id": deployment.id,
                "processes": created,
                "decisions": decisions,
                "rulesets": rulesets,
                "files": [f["name"] for f in changed_files],
            }

    def deploy_paths(self, paths: list[Path], actor: Actor) -> dict:
        return self.deploy(bundles.collect_files(paths), actor)

    def deploy_files(self, files: dict[str, bytes], actor: Actor, force: bool = False) -> dict:
        """Deploy the files on disk, but never over a person's version: a file whose deployed copy differs
        and came from the modeller (or the API) is left out, unless ``force``. The answer is
        :meth:`deploy`'s plus ``skipped``: what was left out and why."""
        skipped = [] if force else self.persons_versions(files)
        left_out = {s["file"] for s in skipped}
        kept = {name: data for name, data in files.items() if name not in left_out}
        with self.core.db.reading() as session:
            current = self.current_files(session)
        if all(current.get(name) == data for name, data in kept.items()):  # nothing to record
            kept = {}
        if not kept:
            return {
                "deployment_id": None,
                "processes": [],
                "decisions": [],
                "rulesets": [],
                "files": [],
                "skipped": skipped,
            }
        return {**self.deploy(kept, actor, source=FROM_FILES), "skipped": skipped}

    def persons_versions(self, files: dict[str, bytes]) -> list[dict]:
        """The files in ``files`` whose deployed copy differs and was deployed by a person rather than
        from the files on disk: ``[{file, deployed_by, deployed_at, processes: [{process_id, version}],
        decisions: [...]}]``."""
        with self.core.db.reading() as session:
            latest = (
                select(Artifact.name, func.max(Artifact.id).label("id"))
                .where(Artifact.name.in_(list(files)))
                .group_by(Artifact.name)
                .subquery()
            )
            rows = session.execute(
                select(Artifact.name, Artifact.content_hash, Deployment)
                .join(latest, Artifact.id == latest.c.id)
                .join(Deployment, Deployment.id == Artifact.deployment_id)
            ).all()
            changed = [(name, d) for name, digest, d in rows if digest != _sha(files[name])]
            if not changed:
                return []
            from_files = self._from_files(session, {d.id for _, d in changed})
            out = []
            for name, d in sorted(changed, key=lambda row: row[0]):
                if d.id in from_files:
                    continue
                processes = session.execute(
                    select(ProcessVersion.process_id, func.max(ProcessVersion.version))
                    .where(ProcessVersion.file == name)
                    .group_by(ProcessVersion.process_id)
                    .order_by(ProcessVersion.process_id)
                ).all()
                decisions = session.execute(
                    select(DecisionVersion.decision_id, func.max(DecisionVersion.version))
                    .where(DecisionVersion.file == name)
                    .group_by(DecisionVersion.decision_id)
                    .order_by(DecisionVersion.decision_id)
                ).all()
                out.append(
                    {
                        "file": name,
                        "deployed_by": d.deployed_by,
                        "deployed_at": d.created_at.isoformat(),
                        "processes": [{"process_id": p, "version": v} for p, v in processes],
                        "decisions": [{"decision_id": k, "version": v} for k, v in decisions],
                    }
                )
            return out

    @staticmethod
    def _from_files(session, deployment_ids: set[int]) -> set[int]:
        """Which of these deployments were of the files on disk (their audit row says so; before the mark
        was kept, the command line's own actor made them)."""
        marked = set()
        for (detail,) in session.execute(
            select(AuditEvent.detail).where(AuditEvent.kind == "deployed", AuditEvent.instance_id.is_(None))
        ):
            if (
                isinstance(detail, dict)
                and detail.get("deployment") in deployment_ids
                and detail.get("source") == FROM_FILES
            ):
                marked.add(detail["deployment"])
        unmarked = session.scalars(
            select(Deployment.id).where(
                Deployment.id.in_(deployment_ids), Deployment.deployed_by.in_(_COMMAND_LINE)
            )
        )
        return marked | set(unmarked)

    def history(self, actor: Actor) -> list[dict]:
        if not (actor.can_deploy or actor.is_manager):
            raise Forbidden("only process owners and managers see the deployment history")
        with self.core.db.reading() as session:
            rows = session.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(200))
            return [
                {
                    "id": d.id,
                    "created_at": d.created_at.isoformat(),
                    "deployed_by": d.deployed_by,
                    "files": d.files,
                }
                for d in rows
            ]
