"""What a process version depends on (the processes it calls, their forms, decisions and deadline keys) and
the hash of it all: same content, same version."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from engine.bpmn.awaited import catching
from engine.bpmn.bpmn_xml import BPMN_NS, NS, deadline_keys_in, decisions_used, properties

if TYPE_CHECKING:
    from engine.bpmn.bundle import Bundle, ProcessBuild


def attach(build_: ProcessBuild, bundle: Bundle, bpmn_roots, process_files) -> None:
    """Fill in ``build_``'s forms, decisions, deadline keys and content hash."""
    seen: set[str] = set()
    order = [build_.process_id]
    while order:
        pid = order.pop()
        if pid in seen:
            continue
        seen.add(pid)
        proc = bpmn_roots[process_files[pid]].find(f"bpmn:process[@id='{pid}']", NS)
        for call in proc.iter(f"{{{BPMN_NS}}}callActivity"):
            order.append(call.get("calledElement"))
        if pid == build_.process_id and build_.start_form:
            build_.forms[build_.start_form] = bundle.forms[build_.start_form]
        for task in proc.iter(f"{{{BPMN_NS}}}userTask"):
            props = properties(task)
            for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
                if props.get(key):
                    build_.forms[props[key]] = bundle.forms[props[key]]
        for awaited in catching(proc):  # the forms of the answers it waits for from outside
            for form in (awaited.form, awaited.ui_form):
                if form:
                    build_.forms[form] = bundle.forms[form]
        for name in bundle.case_file_forms.get(pid, ()):  # the forms that label what its steps show
            build_.forms[name] = bundle.forms[name]
        for d in decisions_used(proc):
            if d not in build_.decisions:
                build_.decisions.append(d)
        for k in deadline_keys_in(proc):
            if k not in build_.deadline_keys:
                build_.deadline_keys.append(k)
    digest = hashlib.sha256()
    for pid in sorted(seen):
        digest.update(b"bpmn:" + pid.encode() + b"\0" + bundle.files[process_files[pid]])
    for form in sorted(build_.forms):
        digest.update(
            b"form:" + form.encode() + b"\0" + json.dumps(build_.forms[form], sort_keys=True).encode()
        )
    for d in sorted(build_.decisions):
        digest.update(b"dmn:" + d.encode() + b"\0" + bundle.decisions[d][1])
    build_.content_hash = digest.hexdigest()
