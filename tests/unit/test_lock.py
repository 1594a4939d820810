"""The Python lock files: every dependency pyproject.toml names is pinned to one version, with hashes, in a
version pyproject.toml allows (so `make install` and the image install exactly what was tested); the image's
lock holds the product's dependencies only, never the test tools. `make lock` writes both."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from tests.conftest import ROOT

PINNED = re.compile(
    r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)(?:\s*;[^\\]*)?\s*\\\n((?:\s+--hash=sha256:[0-9a-f]{64}\s*\\?\n?)+)",
    re.MULTILINE,
)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(file: str) -> dict[str, str]:
    text = (ROOT / file).read_text()
    return {_name(m.group(1)): m.group(2) for m in PINNED.finditer(text)}


def _declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(r) for r in names]


def test_each_dependency_is_pinned_with_hashes_to_a_version_pyproject_allows():
    for file, extra in (("requirements.lock", None), ("requirements-test.lock", "test")):
        locked = _locked(file)
        for req in _declared(extra):
            if req.marker is not None and not req.marker.evaluate():
                continue
            assert _name(req.name) in locked, f"{file}: {req.name} is not locked (run `make lock`)"
            assert req.specifier.contains(locked[_name(req.name)], prereleases=True), (
                f"{file}: {req.name}=={locked[_name(req.name)]} is outside {req.specifier} (run `make lock`)"
            )


def test_the_image_lock_holds_no_test_tool():
    runtime = _locked("requirements.lock")
    for req in _declared("test")[len(_declared()) :]:
        assert _name(req.name) not in runtime, req.name
