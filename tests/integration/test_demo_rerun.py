"""Running `reviewflow demo` (what `make run` does) a second time keeps what people made in between: a
version a process owner deployed from the modeller stays the latest (the demo names it as skipped), and no
demo case is made twice."""

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
    assert "skipped rapid_review version 2: rapid_review.bpmn was deployed by olivia" in second
    assert "--force replaces it" in second and "deployed rapid_review" not in second
    assert latest(service, "rapid_review") == owners  # still the process owner's version
    assert service.deployments.history(PROCESS_OWNER)[0]["deployed_by"] == PROCESS_OWNER.username
    assert [c["id"] for c in service.queries.list_instances(MANAGER, limit=500)] == [c["id"] for c in cases]
    assert service.users.authenticate("police", "demo password 1") is not None


def owners_rapid_review(service) -> bytes:
    """Deploy a changed rapid review as the modeller does (a person, not the files on disk)."""
    on_disk = (ROOT / "processes" / "rapid_review.bpmn").read_bytes()
    changed = on_disk.replace(
        b'<bpmn:process id="rapid_review" name="Rapid review"',
        b'<bpmn:process id="rapid_review" name="Rapid review (local practice)"',
    )
    assert changed != on_disk
    service.deployments.deploy({"rapid_review.bpmn": changed}, PROCESS_OWNER)
    return changed


def test_deploy_skips_the_process_owners_modeller_version_and_says_so(demo_database, capsys):
    """`reviewflow deploy` deploys what changed on disk, but not over a version made in the modeller: it
    names the process it skipped and how to replace it."""
    service = demo_database
    assert cli.main(["demo"]) == 0
    owners_rapid_review(service)
    owners = latest(service, "rapid_review")
    capsys.readouterr()
    assert cli.main(["deploy"]) == 0
    out = capsys.readouterr().out
    assert "skipped rapid_review version 2: rapid_review.bpmn was deployed by olivia" in out
    assert "--force" in out and "deployed rapid_review" not in out
    assert latest(service, "rapid_review") == owners
    assert cli.main(["deploy"]) == 0  # still skipped the next time, and nothing else changed
    again = capsys.readouterr().out
    assert "skipped rapid_review version 2" in again and "nothing changed" in again


def test_deploy_force_replaces_the_modeller_version_with_the_files(demo_database, capsys):
    """`reviewflow deploy --force` keeps the old meaning: the files on disk become the latest versions,
    and a later deploy has nothing to skip."""
    service = demo_database
    assert cli.main(["demo"]) == 0
    owners_rapid_review(service)
    capsys.readouterr()
    assert cli.main(["deploy", "--force"]) == 0
    out = capsys.readouterr().out
    assert "deployed rapid_review version 3" in out and "skipped" not in out
    assert latest(service, "rapid_review")["name"] == "Rapid review"
    assert cli.main(["deploy"]) == 0
    assert capsys.readouterr().out.strip() == "nothing changed"
