"""The hardened XML parser and the script sandbox on their own."""

from __future__ import annotations

import pytest

from engine import xmlsafe
from engine.bpmn import sandbox


def test_plain_xml_parses():
    assert xmlsafe.parse(b"<a><b/></a>").tag == "a"


@pytest.mark.parametrize(
    "data",
    [
        b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.org/a.dtd"><a/>',
        b'<?xml version="1.0"?>\n<!doctype a><a/>',
    ],
)
def test_doctype_and_entities_are_refused(data):
    with pytest.raises(xmlsafe.XmlError, match="DOCTYPE"):
        xmlsafe.parse(data, "x.bpmn")


def test_size_limit_and_malformed_and_empty():
    with pytest.raises(xmlsafe.XmlError, match="limit"):
        xmlsafe.parse(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    with pytest.raises(xmlsafe.XmlError, match="malformed XML") as exc:
        xmlsafe.parse(b"<a>\n<b></a>", "f.bpmn")
    assert exc.value.line == 2
    with pytest.raises(xmlsafe.XmlError, match="empty"):
        xmlsafe.parse(b"   ")


@pytest.mark.parametrize(
    "code,mode",
    [
        ("import os", "exec"),
        ("from os import path", "exec"),
        ("__import__('os')", "eval"),
        ("().__class__.__base__.__subclasses__()", "eval"),
        ("x.__dict__", "eval"),
        ("a +", "eval"),
    ],
)
def test_sandbox_refuses(code, mode):
    assert sandbox.check(code, mode)


def test_sandbox_runs_ordinary_code_and_has_no_open_or_eval():
    env = sandbox.RestrictedEnvironment({"double": lambda x: x * 2})
    data = {"rows": [3, 1, 2]}
    env.execute(
        "total = sum(rows)\nordered = sorted(rows)\nbig = [r for r in rows if r > 1]\ntotal += double(1)",
        data,
    )
    assert (data["total"], data["ordered"], data["big"]) == (8, [1, 2, 3], [3, 2])
    for name in ("open", "eval", "exec", "compile", "globals", "getattr", "vars", "type"):
        with pytest.raises(NameError):
            env.evaluate(f"{name}", {})
