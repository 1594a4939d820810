"""Keep a workflow's live state to what can still run, however long the case's history.

SpiffWorkflow 3.2 never forgets a task: a loop through a gateway adds each new round beneath the last, so a
case reviewed 200 times carries 200 finished rounds, and loading, saving and every engine step walk them
all. The case's history is already kept as rows (the task list's completed steps with their forms, the
audit log, the deadlines), so finished rounds can leave the state:

* the finished start of the task tree is cut out: the first task that must stay is hung straight under the
  root, and every finished task before it (with the finished branches beside them) is dropped;
* finished called and embedded processes whose calling task has finished are dropped.

Only what is provably inert goes. A cut stops before any task something still running looks back at: an
unfinished task, the workflow's last task, a timer a deadline row still judges (``keep``), a parallel or
inclusive join (those compare themselves with every earlier round), the split a waiting join still needs,
and a called process still running. Branches that ended beside the others (a reminder sent) keep their end
event, because the case data shows what only they recorded (``workflow.current_data``): it moves under the
root, and an older end of the same step goes only when a newer one records every field it did. The diagram's
"steps completed" of what was dropped is kept on the root task (:func:`completed_elements`).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

HISTORY_KEY = "reviewflow_history"
_FINISHED = (TaskState.COMPLETED, TaskState.CANCELLED)


def completed_elements(workflow) -> set[str]:
    """The diagram ids of steps completed in the part of the history that was compacted away."""
    history = workflow.task_tree.internal_data.get(HISTORY_KEY) or {}
    return set(history.get("completed", ()))


def compact(workflow, keep: set[str] | frozenset[str] = frozenset()) -> int:
    """Drop what can no longer run from ``workflow`` (the top workflow); returns how many tasks went.

    ``keep`` names tasks (by id) that must stay whatever their state."""
    removed = _drop_finished_subprocesses(workflow, keep)
    for wf in [workflow, *workflow.subprocesses.values()]:
        if not wf.completed:
            removed += _cut_finished_start(workflow, wf, keep)
    return removed


# --- the finished start of a task tree ------------------------------------------------------------


def _is_finished(task) -> bool:
    return task.state in _FINISHED


def _ended_branches(wf) -> dict:
    """Each task of a branch that ended beside the others -> that branch's end event."""
    out = {}
    for task in wf.tasks.values():
        if isinstance(task.task_spec, EndEvent) and task.state == TaskState.COMPLETED:
            for t in _subtree(task):
                out[t.id] = task
    return out


def _subtree(task):
    stack = [task]
    while stack:
        t = stack.pop()
        yield t
        stack.extend(t.children)


def _path_to_root(task) -> list:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    return path[::-1]


def _common_path(anchors) -> list:
    """The tasks from the root down to the lowest common ancestor of ``anchors``. The first anchor's path is
    walked to the root; every other anchor only up to a task already walked (the tasks still to come hang
    one under another below the ready one), so each task is visited once, not once per anchor below it."""
    path = _path_to_root(anchors[0])
    depth = {id(t): i for i, t in enumerate(path)}  # identity: hashing the tasks' UUIDs costs more
    walked: set[int] = set()
    common = len(path)
    for anchor in anchors[1:]:
        task = anchor
        while task is not None and id(task) not in depth and id(task) not in walked:
            walked.add(id(task))
            task = task.parent
        if task is None:
            return []
        if id(task) in depth:  # met the first path: the common part ends at or above this task
            common = min(common, depth[id(task)] + 1)
        # else it met a task walked from an earlier anchor, whose meeting point is already counted
    return path[:common]


def _looks_back(task) -> bool:
    """A join comparing itself with every task of its step, earlier rounds included (End is handled apart)."""
    return isinstance(task.task_spec, UnstructuredJoin) and not isinstance(task.task_spec, _EndJoin)


def _cut_finished_start(top, wf, keep) -> int:
    root = wf.task_tree
    ended = _ended_branches(wf)
    anchors = [
        t
        for t in wf.tasks.values()
        if t.id not in ended and (not _is_finished(t) or str(t.id) in keep or _looks_back(t))
    ]
    if wf.last_task is not None and wf.last_task.id in wf.tasks:
        anchors.append(wf.last_task)
    anchors += [t for t in wf.tasks.values() if t.id in ended and str(t.id) in keep]
    if not anchors:
        return 0
    trunk = _common_path(anchors)
    needed = _splits_still_needed(wf, ended)
    # the longest run of removable tasks below the root, each with everything beside it
    run: list = []
    for depth in range(1, len(trunk)):
        task = trunk[depth]
        if not _removable(top, task, trunk[depth + 1] if depth + 1 < len(trunk) else None):
            break
        if task.id in needed or any(a is task for a in anchors):
            break
        run.append(task)
    # the task hung under the root must have finished: an unfinished task would take its data from the root
    while run:
        successor = trunk[len(run) + 1] if len(run) + 1 < len(trunk) else None
        if successor is not None and successor.state == TaskState.COMPLETED:
            break
        run.pop()
    if not run:
        return 0
    successor = trunk[len(run) + 1]
    gone, hoisted = [], []
    for task in run:
        for child in task.children:
            if child is successor or child in run:
                continue
            for t in _subtree(child):
                if t.id in ended and ended[t.id] is t:
                    hoisted.append(t)
            gone.extend(t for t in _subtree(child) if t.id not in ended)
        gone.append(task)
    return _apply_cut(top, wf, root, run, successor, gone, hoisted, keep)


def _removable(top, task, next_on_trunk) -> bool:
    """A task on the trunk can go with its side branches when all of them have finished and none is
    something a running task still looks back at."""
    if not _is_finished(task) or _looks_back(task):
        return False
    if task.id in top.subprocesses and not top.subprocesses[task.id].completed:
        return False
    for child in task.children:
        if child is next_on_trunk:
            continue
        for t in _subtree(child):
            if (
                isinstance(t.task_spec, _EndJoin)
                and t.parent is not None
                and isinstance(t.parent.task_spec, EndEvent)
            ):
                continue  # an ended branch's end; it moves with its end event
            if not _is_finished(t) or _looks_back(t):
                return False
            if t.id in top.subprocesses and not top.subprocesses[t.id].completed:
                return False
    return True


def _splits_still_needed(wf, ended) -> set:
    """The splits an unfinished join will look for among its ancestors (a boundary event's split, for
    example), which must therefore stay."""
    needed = set()
    for task in wf.tasks.values():
        split = getattr(task.task_spec, "split_task", None)
        if split and not _is_finished(task) and task.id not in ended:
            ancestor = task.parent  # walked here: the library's own walk recurses once per level
            while ancestor is not None and ancestor.task_spec.name != split:
                ancestor = ancestor.parent
            if ancestor is not None:
                needed.add(ancestor.id)
    return needed


def _apply_cut(top, wf, root, run, successor, gone, hoisted, keep) -> int:
    if any(str(t.id) in keep or t is wf.last_task for t in gone):
        return 0
    history = dict(root.internal_data.get(HISTORY_KEY) or {})
    completed = set(history.get("completed", ()))
    completed.update(
        t.task_spec.bpmn_id
        for t in gone
        if t.state == TaskState.COMPLETED and getattr(t.task_spec, "bpmn_id", None)
    )
    for t in gone:
        if t.id in top.subprocesses:
            top.delete_subprocess(t)
    first = run[0]
    root._children = [c if c != first.id else successor.id for c in root._children]
    successor._parent = root.id
    for end in hoisted:
        end.parent._children.remove(end.id)
        end._parent = root.id
        root._children.append(end.id)
    for t in gone:
        del wf.tasks[t.id]
    _forget_superseded_ends(wf, root, keep)
    history["completed"] = sorted(completed)
    history["tasks"] = history.get("tasks", 0) + len(gone)
    root.internal_data[HISTORY_KEY] = history
    return len(gone)


def _forget_superseded_ends(wf, root, keep) -> None:
    """Of the ended branches kept under the root, an older end of a step goes once a newer end of the same
    step holds every field it held: the case data, which lays newer ends over older ones, is the same."""
    order = {tid: n for n, tid in enumerate(wf.tasks)}
    ends = sorted(
        (
            t
            for t in root.children
            if isinstance(t.task_spec, EndEvent)
            and t.state == TaskState.COMPLETED
            and t is not wf.last_task
            and str(t.id) not in keep
        ),
        key=lambda t: (t.last_state_change, order[t.id]),
    )
    newest: dict[str, object] = {}
    for end in reversed(ends):
        later = newest.get(end.task_spec.name)
        if later is None:
            newest[end.task_spec.name] = end
            continue
        below = [t for t in _subtree(end) if t is not end]
        if set(end.data) <= set(later.data) and all(
            _is_finished(t) and t is not wf.last_task and str(t.id) not in keep for t in below
        ):
            root._children.remove(end.id)
            for t in [end, *below]:
                del wf.tasks[t.id]


# --- finished called and embedded processes ------------------------------------------------------


def _drop_finished_subprocesses(top, keep) -> int:
    removed = 0
    for task_id in list(top.subprocesses):
        sub = top.subprocesses.get(task_id)
        if sub is None:
            continue  # went with its parent process
        caller = top.get_task_from_id(task_id) if _has_task(top, task_id) else None
        if caller is None or not _is_finished(caller) or not sub.completed:
            continue
        nested = [sp for sp in top.subprocesses.values() if _within(sp, sub)]
        tasks = [t for w in [sub, *nested] for t in w.tasks.values()]
        if any(not _is_finished(t) or str(t.id) in keep for t in tasks):
            continue
        top.delete_subprocess(caller)
        removed += len(tasks)
    return removed


def _has_task(top, task_id) -> bool:
    return task_id in top.tasks or any(task_id in sp.tasks for sp in top.subprocesses.values())


def _within(sp, ancestor) -> bool:
    parent = sp.parent_workflow
    while parent is not None and parent is not sp.top_workflow:
        if parent is ancestor:
            return True
        parent = parent.parent_workflow
    return False
