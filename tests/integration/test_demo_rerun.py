"""Running `reviewflow demo` (what `make run` does) a second time keeps what people made in between: a
version a process owner deployed from the modeller stays the latest, and no demo case is made twice."""

from __future__ import annotations

import pytest

from engine.services import Reviewflow
from tests.conftest import MANAGER, PROCESS_OWNER, ROOT, make_settings
from web import cli


@pytest.fixture
def demo_database(monkeypatch, sqlite_url):
    monkeypatch.setenv("REVIEWFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("REVIEWFLOW_DEMO_PASSWORD", "demo password 1")
    monkeypatch.delenv("REVIEWFLOW_ENV", raising=False)
    service = Reviewflow(make_settings(sqlite_url))
    yield service
    service.db.dispose()


def latest(service, process_id: str) -> dict:
    return next(p for p in service.queries.processes() if p["process_id"] == process_id)


def test_running_the_demo_again_keeps_the_process_owners_modeller_version(demo_database, capsys):
    service = demo_database
    assert cli.main(["demo"]) == 0
    first = capsys.readouterr().out
    assert "deployed rapid_review version 1" in first
    cases = service.queries.list_instances(MANAGER, limit=500)
    assert len(cases) >= 4

    on_disk = (ROOT / "processes" / "rapid_review.bpmn").read_bytes()
    changed = on_disk.replace(
        b'<bpmn:process id="rapid_review" name="Rapid review"',
        b'<bpmn:process id="rapid_review" name="Rapid review (local practice)"',
    )
    assert changed != on_disk
    made = service.deployments.deploy({"rapid_review.bpmn": changed}, PROCESS_OWNER)  # as the modeller does
    assert [p["process_id"] for p in made["processes"]] == ["rapid_review"]
    owners = latest(service, "rapid_review")
    assert owners["version"] == 2 and owners["name"] == "Rapid review (local practice)"

    assert cli.main(["demo"]) == 0
    second = capsys.readouterr().out
    assert "processes already deployed; not redeploying over versions made in the modeller" in second
    assert "reviewflow deploy" in second and "deployed rapid_review" not in second
    assert latest(service, "rapid_review") == owners  # still the process owner's version
    assert service.deployments.history(PROCESS_OWNER)[0]["deployed_by"] == PROCESS_OWNER.username
    assert [c["id"] for c in service.queries.list_instances(MANAGER, limit=500)] == [c["id"] for c in cases]
    assert service.users.authenticate("police", "demo password 1") is not None


def test_deploy_still_deploys_the_files_when_asked(demo_database, capsys):
    """`reviewflow deploy` keeps its meaning: the files on disk become the latest versions."""
    service = demo_database
    assert cli.main(["demo"]) == 0
    on_disk = (ROOT / "processes" / "rapid_review.bpmn").read_bytes()
    changed = on_disk.replace(
        b'<bpmn:process id="rapid_review" name="Rapid review"',
        b'<bpmn:process id="rapid_review" name="Rapid review (local practice)"',
    )
    service.deployments.deploy({"rapid_review.bpmn": changed}, PROCESS_OWNER)
    capsys.readouterr()
    assert cli.main(["deploy"]) == 0
    assert "deployed rapid_review version 3" in capsys.readouterr().out
    assert latest(service, "rapid_review")["name"] == "Rapid review"
