"""A served database with the demo process started through the API and waiting at its first task: what
the tests that attack the API from outside (hostile input, connections lost under a request) start from."""

from __future__ import annotations

from sqlalchemy import select

from engine.services import Reviewflow
from engine.store.models import HumanTask
from tests.conftest import PROCESS_OWNER, ROOT, make_settings
from web.app import create_app


def deployed_service(url: str, secret_key: str) -> Reviewflow:
    """The service on ``url`` with the processes and forms deployed, its cookies allowed over plain HTTP."""
    service = Reviewflow(
        make_settings(url, REVIEWFLOW_INSECURE_COOKIES="1", REVIEWFLOW_SECRET_KEY=secret_key)
    )
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    return service


def open_demo_case(service, token: str) -> dict:
    """The web app, and the demo case started with ``token`` under WT2018: its id and its one open task."""
    app = create_app(service)
    started = app.test_client().post(
        "/api/v1/processes/engine_demo/instances",
        json={"data": {"regime": "WT2018"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert started.status_code == 201, started.get_json()
    with service.db.reading() as session:
        task = session.scalars(select(HumanTask.id).where(HumanTask.state == "open")).one()
    return {"app": app, "case": started.get_json()["id"], "task": task}


def bench_case_service(postgres_url: str):
    """A service on PostgreSQL with the benchmark's reference process deployed and one case of it started
    (``service.case``); dispose of it when done."""
    from tests.bench.common import OWNER, STAFF, bench_files

    service = Reviewflow(make_settings(postgres_url))
    service.deployments.deploy(bench_files(), OWNER)
    service.case = service.instances.start("bench_reference", {"steps_done": 0}, STAFF)
    return service
