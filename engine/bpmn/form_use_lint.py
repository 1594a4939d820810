"""Every form is used by a step, and every step opens a form that says what the step says.

Two checks of ``reviewflow check`` and of a deployment, for the forms people fill in (issue: forms reused
where their wording misleads, forms nothing uses):

1. **A form no step uses is refused.** A form file is used when a step names it (``formJsonSchemaFilename``,
   ``formUiSchemaFilename``; on a user task or a message event) or a process starts with it
   (``startForm``). A UI file ``NAME.ui.json`` is used with its form ``NAME.json`` (the start page finds
   the start form's UI file by that name).
2. **A step whose form's title differs from the step's name says why.** The page is headed by the step's
   name and shows the form's description beside it; a form titled for another step misleads unless the
   difference is meant (a form shared by several steps, each naming its own occasion). A form without a
   title contradicts nothing and is not held to it. The reason is
   data on the step: the extension property ``formTitleDiffers`` (its value: why), which a modeller keeps
   and a reader of the diagram sees. A reason declared where the titles agree is refused too, so that it
   cannot outlive the difference it explained. Titles are compared ignoring case and spacing.

Only the files being deployed or checked (``new``) are held to this: a process or form already deployed is
not refused because of a later upload that does not touch it. ``new`` = None holds every file to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.bpmn.bpmn_xml import BPMN_NS, properties
from engine.bpmn.problems import Problem

FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
REASON_PROPERTY = "formTitleDiffers"
MAX_REASON = 500


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def used_forms(bpmn_roots: dict) -> set[str]:
    """Every form file a step or a process start names, with the UI file of each."""
    used: set[str] = set()
    for root in bpmn_roots.values():
        for el in root.iter():
            props = properties(el)
            for key in (*FORM_PROPERTIES, "startForm"):
                if props.get(key):
                    used.add(props[key].strip())
    return used | {n[: -len(".json")] + ".ui.json" for n in used if not n.endswith(".ui.json")}


def lint(
    bpmn_roots: dict,
    forms: dict[str, dict],
    problems: list[Problem],
    new: Iterable[str] | None = None,
) -> None:
    checked = None if new is None else set(new)

    def held(name: str) -> bool:
        return checked is None or name in checked

    used = used_forms(bpmn_roots)
    for name in sorted(forms):
        if name not in used and held(name):
            what = "UI file" if name.endswith(".ui.json") else "form"
            problems.append(
                Problem(
                    name,
                    "",
                    f"no step uses this {what}: name it on a step (formJsonSchemaFilename, or startForm on "
                    "a process) or remove the file",
                )
            )

    for file, root in sorted(bpmn_roots.items()):
        for el in root.iter(f"{{{BPMN_NS}}}*"):
            props = properties(el)
            form_name = (props.get("formJsonSchemaFilename") or "").strip()
            reason = props.get(REASON_PROPERTY)
            if not form_name:
                if reason is not None:
                    problems.append(
                        Problem(file, el.get("id") or "", f"{REASON_PROPERTY} is set on a step with no form")
                    )
                continue
            schema = forms.get(form_name)
            if not isinstance(schema, dict) or not (held(file) or held(form_name)):
                continue  # a missing form is reported by the step's own check
            title, step = schema.get("title"), el.get("name")
            if not title and reason is None:
                continue  # an untitled form says nothing the step's name could contradict
            if reason is not None and (not reason.strip() or len(reason) > MAX_REASON):
                problems.append(
                    Problem(
                        file,
                        el.get("id") or "",
                        f"{REASON_PROPERTY} must say, in 1 to {MAX_REASON} characters, why the form's title "
                        "differs from the step's name",
                    )
                )
            elif _same(title, step) and reason is not None:
                problems.append(
                    Problem(
                        file,
                        el.get("id") or "",
                        f"{REASON_PROPERTY} is declared but the form's title is the step's name ('{step}'): "
                        "remove it",
                    )
                )
            elif not _same(title, step) and reason is None:
                problems.append(
                    Problem(
                        file,
                        el.get("id") or "",
                        f"the step '{step or ''}' opens {form_name}, titled '{title or ''}': give the form "
                        f"the step's name, or say why they differ in the step's {REASON_PROPERTY} property",
                    )
                )
