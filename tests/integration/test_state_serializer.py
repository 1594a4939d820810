"""A case's stored state is SpiffWorkflow's own dictionary of the workflow without its specs (the process
version keeps those): written without turning the specs into a dictionary first, and still exactly what
SpiffWorkflow's serializer writes, less the specs."""

from __future__ import annotations

import json
import zlib

from sqlalchemy import select

from engine.bpmn import serializer
from engine.services import Reviewflow, workflow
from engine.store.models import Instance
from tests.awaiting_panel import waiting_for_the_panel
from tests.casework import make_cases
from tests.conftest import PROCESS_OWNER, ROOT, make_settings


def test_a_stored_state_is_spiffworkflows_dictionary_without_the_specs(sqlite_url):
    service = Reviewflow(make_settings(sqlite_url))
    service.deployments.deploy_paths([ROOT / "processes", ROOT / "forms"], PROCESS_OWNER)
    make_cases(service, 4)  # each of the demo's cases, some waiting on timers
    waiting_for_the_panel(service)  # a rapid review inside its subprocess awaiting the Panel's answer
    ser, _ = serializer._serializer()
    with service.db.reading() as session:
        cases = session.scalars(select(Instance)).all()
        assert len(cases) >= 4
        with_subprocesses = 0
        for case in cases:
            info = workflow.version_info(session, case.process_version_id)
            wf = serializer.load_state(case.state, info.spec, info.subprocess_specs)
            with_subprocesses += bool(wf.subprocesses)
            ser.registry._encoder_mode = True
            try:
                expected = ser.to_dict(wf)
            finally:
                ser.registry._encoder_mode = False
            del expected["spec"], expected["subprocess_specs"]
            expected[ser.VERSION_KEY] = ser.VERSION
            written = json.loads(zlib.decompress(serializer.dump_state(wf)))
            assert written == json.loads(serializer._dumps(expected))
            assert list(written) == list(expected)
    assert with_subprocesses, "no case was in a subprocess: the test would not see one written"
    service.db.dispose()
