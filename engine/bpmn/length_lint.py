"""Every id, name, role and form a process stores fits the column it is stored in, so a case never fails on
a too-long name when it reaches that step."""

from __future__ import annotations

from lxml import etree

from engine.bpmn.problems import Problem, owner_id

# the columns these land in (engine/store/models.py)
MAX_ID = 120  # process, element and decision ids
MAX_NAME = 255  # process, step and message names, form file names
MAX_ROLE = 120  # lane names are roles
NAMED_STEPS = ("userTask", "manualTask")


def cut(text: str) -> str:
    """A too-long id as it is reported: its first 40 characters."""
    return text if len(text) <= 40 else text[:40] + "…"


def lint(name, root, problems: list[Problem]) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        element_id = el.get("id") or ""
        if len(element_id) > MAX_ID:
            problems.append(
                Problem(
                    name, cut(element_id), f"the id is {len(element_id)} characters; the limit is {MAX_ID}"
                )
            )
        local = etree.QName(el).localname
        label = el.get("name") or ""
        if local in ("process", "message", *NAMED_STEPS) and len(label) > MAX_NAME:
            problems.append(
                Problem(
                    name,
                    cut(element_id),
                    f"the {local} name is {len(label)} characters; the limit is {MAX_NAME}",
                )
            )
        if local == "lane" and len(label) > MAX_ROLE:
            problems.append(
                Problem(
                    name,
                    cut(element_id),
                    f"the lane (role) name is {len(label)} characters; the limit is {MAX_ROLE}",
                )
            )
        if (
            local == "property"
            and el.get("name") in ("formJsonSchemaFilename", "formUiSchemaFilename")
            and len(el.get("value") or "") > MAX_NAME
        ):
            problems.append(
                Problem(name, owner_id(el), f"the form file name is longer than {MAX_NAME} characters")
            )


def lint_rulesets(rulesets: dict, problems: list[Problem]) -> None:
    """A deadline's name and source fit their columns too."""
    for rs in rulesets.values():
        for key, rule in rs.rules.items():
            for what in ("name", "source"):
                if len(getattr(rule, what)) > MAX_NAME:
                    problems.append(
                        Problem(
                            rs.source_file, key, f"the deadline's {what} is longer than {MAX_NAME} characters"
                        )
                    )
