"""Named recipients come from the directory file of the service running the step (handed to the handler
on its context), read again when that file changes, so a corrected address lets an operator retry."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers import registry
from handlers.registry import HandlerContext

DATA = {"case_reference": "RF-2026-00001", "due": "2027-01-04"}


def _send(to, recipients):
    ctx = HandlerContext(
        instance_id=1,
        business_key="RF-2026-00001",
        task_id="t1",
        element_id="remind",
        data=DATA,
        now=dt.datetime(2026, 12, 21, 9, tzinfo=dt.UTC),
        recipients=recipients,
    )
    result = registry.get("send_notification").call(ctx, {"to": to, "template": "demo_reminder"})
    assert [m.recipient for m in ctx.messages] == result["recipients"]
    return result["recipients"]


def test_names_are_read_from_the_directory_file_on_the_context_not_the_environment(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('[recipients]\npanel = "wrong@example.org"\n')
    monkeypatch.setenv("REVIEWFLOW_RECIPIENTS_FILE", str(elsewhere))
    directory = tmp_path / "recipients.toml"
    directory.write_text('[recipients]\npanel = ["panel@example.org", "chair@example.org"]\n')

    assert _send(["panel", "bu@example.org", "chair@example.org"], directory) == [
        "panel@example.org",
        "chair@example.org",
        "bu@example.org",
    ]


def test_a_corrected_directory_is_read_again(tmp_path):
    directory = tmp_path / "recipients.toml"
    directory.write_text('[recipients]\nbusiness_unit = "bu@example.org"\n')
    with pytest.raises(ValueError, match="'panel' is neither"):
        _send("panel", directory)

    directory.write_text('[recipients]\npanel = "panel@example.org"\n')
    assert _send("panel", directory) == ["panel@example.org"]


def test_without_a_directory_file_only_addresses_are_sent_to(tmp_path):
    missing = tmp_path / "none.toml"
    assert _send("bu@example.org", missing) == ["bu@example.org"]
    with pytest.raises(ValueError, match="'panel' is neither"):
        _send("panel", missing)
