"""What a lint finding is, and the two ways every linter here makes one: so that each check names the file,
the element and what is wrong in the same words."""

from __future__ import annotations

from dataclasses import dataclass

from engine.bpmn import sandbox


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.element_id or '-'}: {self.message}"

    def to_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "message": self.message}


def owner_id(node) -> str:
    """The id of the nearest element that has one: a script or an expression is reported by its step."""
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return ""


def check_code(name, element_id, text, mode, what, problems) -> None:
    """Code the sandbox would refuse at run time is refused at deployment instead."""
    reason = sandbox.check(text, mode)
    if reason:
        problems.append(Problem(name, element_id, f"{what} does not compile: {reason}"))
