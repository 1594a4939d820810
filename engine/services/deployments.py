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
    DecisionVersion,
    Deployment,
    ProcessVersion,
    RuleSetVersion,
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
            return bundles.build(merged, max_bytes=limit)
        except bundles.BundleInvalid as exc:
            raise Invalid(
                f"{len(exc.problems)} problem(s); nothing was deployed", [p.to_dict() for p in exc.problems]
            ) from None

    def deploy(self, files: dict[str, bytes], actor: Actor) -> dict:
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
