"""What a process owner's modeller offers to choose from: handlers, forms, deadline keys,
and the deployed diagrams with their version history."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.services.actor import Actor
from engine.services.core import Core
from engine.services.errors import Forbidden, NotFound
from engine.store.models import Artifact, ProcessVersion, RuleSetVersion
from handlers import registry


def _owner(actor: Actor) -> None:
    if not (actor.can_deploy or actor.is_manager):
        raise Forbidden("only process owners and managers see the process catalogue")


class Catalog:
    def __init__(self, core: Core):
        self.core = core

    def handlers(self, actor: Actor) -> list[dict]:
        _owner(actor)
        return [
            {
                "name": h.name,
                "description": h.doc.splitlines()[0] if h.doc else "",
                "parameters": [
                    {"name": p.name, "required": p.required, "types": [t.__name__ for t in p.types]}
                    for p in h.params.values()
                ],
            }
            for h in sorted(registry.all_handlers().values(), key=lambda h: h.name)
        ]

    def forms(self, actor: Actor) -> list[dict]:
        _owner(actor)
        with self.core.db.reading() as session:
            latest = (
                select(Artifact.name, func.max(Artifact.id).label("id"))
                .where(Artifact.kind == "form")
                .group_by(Artifact.name)
                .subquery()
            )
            names = session.scalars(
                select(Artifact.name).join(latest, Artifact.id == latest.c.id).order_by(Artifact.name)
            )
            return [{"name": n, "ui_schema": n.endswith(".ui.json")} for n in names]

    def decisions(self, actor: Actor) -> list[dict]:
        _owner(actor)
        from engine.store.models import DecisionVersion

        with self.core.db.reading() as session:
            latest = (
                select(DecisionVersion.decision_id, func.max(DecisionVersion.version).label("v"))
                .group_by(DecisionVersion.decision_id)
                .subquery()
            )
            rows = session.execute(
                select(DecisionVersion.decision_id, DecisionVersion.version, DecisionVersion.file)
                .join(
                    latest,
                    (latest.c.decision_id == DecisionVersion.decision_id)
                    & (latest.c.v == DecisionVersion.version),
                )
                .order_by(DecisionVersion.decision_id)
            ).all()
            return [{"decision_id": r.decision_id, "version": r.version, "file": r.file} for r in rows]

    def dmn(self, decision_id: str, actor: Actor) -> tuple[str, bytes]:
        """The newest decision table file: (file name, XML)."""
        _owner(actor)
        from engine.store.models import DecisionVersion

        with self.core.db.reading() as session:
            row = session.execute(
                select(DecisionVersion.file, DecisionVersion.dmn)
                .where(DecisionVersion.decision_id == decision_id)
                .order_by(DecisionVersion.version.desc())
                .limit(1)
            ).first()
            if row is None:
                raise NotFound(f"no decision '{decision_id}'")
            return row.file, row.dmn

    def form(self, name: str) -> dict | None:
        """The newest deployed version of a form, for a page that shows it (any signed-in person)."""
        import json

        with self.core.db.reading() as session:
            content = session.scalars(
                select(Artifact.content)
                .where(Artifact.kind == "form", Artifact.name == name)
                .order_by(Artifact.id.desc())
                .limit(1)
            ).first()
            return json.loads(content) if content is not None else None

    def deadlines(self, actor: Actor) -> list[dict]:
        """Every deadline key of the newest version of each rule set, with its figure and source."""
        _owner(actor)
        with self.core.db.reading() as session:
            latest = (
                select(RuleSetVersion.name, func.max(RuleSetVersion.id).label("id"))
                .group_by(RuleSetVersion.name)
                .subquery()
            )
            out = []
            for rs in session.scalars(
                select(RuleSetVersion)
                .join(latest, RuleSetVersion.id == latest.c.id)
                .order_by(RuleSetVersion.name)
            ):
                for key, rule in sorted(rs.content["rules"].items()):
                    out.append(
                        {
                            "ruleset": rs.name,
                            "key": key,
                            "name": rule["name"],
                            "count": rule["count"],
                            "unit": rule["unit"],
                            "direction": rule["direction"],
                            "anchor": rule["anchor"],
                            "source": rule["source"],
                        }
                    )
            return out

    def versions(self, process_id: str, actor: Actor) -> list[dict]:
        _owner(actor)
        from engine.store.models import Deployment

        with self.core.db.reading() as session:
            rows = session.execute(
                select(
                    ProcessVersion.version,
                    ProcessVersion.content_hash,
                    ProcessVersion.created_at,
                    Deployment.deployed_by,
                )
                .join(Deployment, Deployment.id == ProcessVersion.deployment_id)
                .where(ProcessVersion.process_id == process_id)
                .order_by(ProcessVersion.version.desc())
            ).all()
            if not rows:
                raise NotFound(f"no process '{process_id}' is deployed")
            return [
                {
                    "version": r.version,
                    "content_hash": r.content_hash,
                    "deployed_at": r.created_at.isoformat(),
                    "deployed_by": r.deployed_by,
                }
                for r in rows
            ]

    def bpmn(self, process_id: str, actor: Actor, version: int | None = None) -> tuple[str, bytes]:
        """The diagram file of a process version (the newest by default): (file name, XML)."""
        _owner(actor)
        with self.core.db.reading() as session:
            stmt = select(ProcessVersion.file, ProcessVersion.bpmn).where(
                ProcessVersion.process_id == process_id
            )
            stmt = (
                stmt.where(ProcessVersion.version == version)
                if version
                else stmt.order_by(ProcessVersion.version.desc())
            )
            row = session.execute(stmt.limit(1)).first()
            if row is None:
                raise NotFound(f"no process '{process_id}'" + (f" version {version}" if version else ""))
            return row.file, row.bpmn
