"""The home page (the task list) and each task's form."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.services.errors import Conflict, Forbidden, Invalid, NotFound
from engine.statuses import TaskStatus
from web.ui import check_answers, form_page, once
from web.ui.security import signed_in

bp = Blueprint("tasks", __name__)


def service():
    return current_app.extensions["reviewflow"]


SORTS = {
    "due": lambda t: (t["due_date"] is None, t["due_date"] or "", t["created_at"]),
    "case": lambda t: (t["business_key"] or "", t["due_date"] or "9999"),
    "step": lambda t: (t["name"], t["due_date"] or "9999"),
}


@bp.get("/")
@signed_in
def home():
    actor = g.actor
    process = request.args.get("process", "")
    sort = request.args.get("sort", "due") if request.args.get("sort") in SORTS else "due"
    tasks = service().tasks.for_user(actor)
    if "admin" in actor.roles:  # an administrator sees every open task, not all of them "for my teams"
        tasks = [t for t in tasks if actor.has(t["role"]) and (t["assignee"] in (None, actor.username))]
    processes = sorted({t["process_id"] for t in tasks})
    if process:
        tasks = [t for t in tasks if t["process_id"] == process]
    tasks.sort(key=SORTS[sort])
    mine = [t for t in tasks if t["assignee"] == actor.username]
    teams = [t for t in tasks if t["assignee"] is None]
    others = []
    if actor.is_manager:  # managers also see work claimed by colleagues, to reassign it
        claimed = [t for t in service().tasks.claimed(actor) if t["assignee"] != actor.username]
        others = sorted(claimed, key=SORTS[sort])
    users = [u for u in service().users.list() if u["active"]] if actor.is_manager else []
    return render_template(
        "tasks/list.html",
        title="Your tasks",
        mine=mine,
        teams=teams,
        others=others,
        processes=processes,
        process=process,
        sort=sort,
        users=users,
        due_soon=service().settings.due_soon_working_days,
    )


def _load(task_id: str) -> dict:
    try:
        return service().tasks.get(task_id, g.actor)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@signed_in
def task(task_id):
    task = _load(task_id)
    schema = task["form_schema"] or {"type": "object", "properties": {}}
    ui = task["ui_schema"] or {}
    if task["state"] != TaskStatus.OPEN:
        if request.method == "POST":  # sent again after it was done (a refresh, the back button, two tabs)
            by = f" by {task['completed_by']}" if task.get("completed_by") else ""
            flash(
                f"‘{task['name']}’ was already {task['state']}{by}. Your answers were not sent again.",
                "error",
            )
            return redirect(url_for("tasks.task", task_id=task_id), 303)
        return render_template("tasks/closed.html", title=task["name"], task=task)  # read only
    if request.method == "GET":
        draft = service().tasks.draft(task_id, g.actor)
        return form_page.show(
            "tasks/form.html",
            schema,
            ui,
            draft["data"] if draft else service().tasks.starting_answers(task_id, g.actor),
            title=task["name"],
            task=task,
            draft=draft,
        )

    def save_draft(data):
        service().tasks.save_draft(task_id, data, g.actor)
        flash(f"Your answers to ‘{task['name']}’ are saved. You can come back to finish them.", "success")
        return redirect(url_for("tasks.home"))

    def submit(data):
        return _complete(task, data)

    def to_check(data):  # the answers kept as a draft, then shown to be checked before they are sent
        form_page.check(schema, data)
        service().tasks.save_draft(task_id, data, g.actor)
        return redirect(url_for("tasks.check", task_id=task_id), 303)

    checked = check_answers.wanted(schema)
    try:
        return form_page.post(
            "tasks/form.html",
            schema,
            ui,
            {"submit": to_check if checked else submit, "draft": save_draft},
            sent_again=f"You already sent ‘{task['name']}’. Your answers were not sent again.",
            guard=not checked,  # checking is not sending: the check page carries its own token
            title=task["name"],
            task=task,
        )
    except Forbidden:  # a manager may look at any task but complete only their own roles'
        abort(403)


def _complete(task: dict, data: dict):
    try:
        service().instances.complete_task(task["id"], data, g.actor)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("tasks.home"))
    flash(f"‘{task['name']}’ is done for case {task['business_key']}.", "success")
    return redirect(url_for("tasks.home"))


@bp.route("/tasks/<task_id>/check", methods=["GET", "POST"])
@signed_in
def check(task_id):
    """Check your answers: the answers kept as a draft when the form was sent, each with a Change link back
    to the form, and the one button that sends them."""
    task = _load(task_id)
    schema = task["form_schema"] or {"type": "object", "properties": {}}
    ui = task["ui_schema"] or {}
    form = url_for("tasks.task", task_id=task_id)
    if task["state"] != TaskStatus.OPEN:
        if request.method == "POST":
            flash(f"‘{task['name']}’ was already {task['state']}. Your answers were not sent again.", "error")
        return redirect(form, 303)
    draft = service().tasks.draft(task_id, g.actor)
    if draft is None or not check_answers.wanted(schema):
        return redirect(form, 303)
    if request.method == "GET":
        return render_template(
            "tasks/check.html",
            title=f"Check your answers: {task['name']}",
            task=task,
            sections=check_answers.sections(schema, ui, draft["data"], form),
            form_token=once.new(),
        )
    try:
        return form_page.send_once(
            lambda: _complete(task, draft["data"]),
            f"You already sent ‘{task['name']}’. Your answers were not sent again.",
        )
    except Invalid as exc:  # what only the case can tell (a deadline, another answer): back to the form
        return form_page.invalid(
            "tasks/form.html", schema, ui, draft["data"], exc, title=task["name"], task=task
        )
    except Forbidden:
        abort(403)


def _assign(task_id: str, how: str):
    try:
        if how == "claim":
            service().tasks.claim(task_id, g.actor)
            flash("You have claimed the task. It is now in ‘Assigned to me’.", "success")
        elif how == "unclaim":
            service().tasks.unclaim(task_id, g.actor)
            flash("The task is back with your team.", "success")
        else:
            username = request.form.get("username", "")
            service().tasks.reassign(task_id, g.actor, username)
            flash(f"The task is now assigned to {username}.", "success")
    except (Forbidden, NotFound):
        abort(403)
    except (Conflict, Invalid) as exc:
        flash(str(exc), "error")
    return redirect(url_for("tasks.home"))


@bp.post("/tasks/<task_id>/claim")
@signed_in
def claim(task_id):
    return _assign(task_id, "claim")


@bp.post("/tasks/<task_id>/unclaim")
@signed_in
def unclaim(task_id):
    return _assign(task_id, "unclaim")


@bp.post("/tasks/<task_id>/reassign")
@signed_in
def reassign(task_id):
    if not g.actor.is_manager:
        abort(403)
    return _assign(task_id, "reassign")
