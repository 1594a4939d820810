"""The modeller's upload form takes a file by its own name only: a name with a path (``../evil.bpmn``) or
control characters is refused, named back to the process owner, and deploys nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from engine.store.models import Deployment
from tests.conftest import ROOT
from tests.web.conftest import csrf_of, sign_in_client

DEMO = (
    (ROOT / "processes" / "demo" / "engine_demo.bpmn")
    .read_bytes()
    .replace(b'name="Done"', b'name="Finished"')
)


@pytest.mark.parametrize(
    "name", ["../engine_demo.bpmn", "..\\engine_demo.bpmn", "/tmp/engine_demo.bpmn", "engine\x1bdemo.bpmn"]
)
def test_an_upload_named_with_a_path_is_refused_and_deploys_nothing(service, client, name):
    sign_in_client(client, "owner")
    token = csrf_of(client.get("/modeller").get_data(as_text=True))
    with service.db.reading() as session:
        before = session.scalar(select(func.count()).select_from(Deployment))
    response = client.post(
        "/modeller/upload",
        data={"csrf_token": token, "files": (io.BytesIO(DEMO), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Nothing was deployed" in response.get_data(as_text=True)
    with service.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == before


def test_an_upload_by_its_own_name_deploys(service, client):
    sign_in_client(client, "owner")
    token = csrf_of(client.get("/modeller").get_data(as_text=True))
    response = client.post(
        "/modeller/upload",
        data={"csrf_token": token, "files": (io.BytesIO(DEMO), "engine_demo.bpmn")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Deployed: engine_demo version 2" in response.get_data(as_text=True)
