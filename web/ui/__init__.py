"""The staff web app: server-rendered GOV.UK pages over the engine's service layer."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.routing import IntegerConverter

from web.ui import security

# who may record a new serious incident: the referrer, the local authority, the Business Unit


class RecordId(IntegerConverter):
    """A record id in an address: only what the database can hold, so a huge number is a 404."""

    def __init__(self, url_map):
        from web.api import MAX_ID

        super().__init__(url_map, min=1, max=MAX_ID)


def register(app: Flask, service) -> None:
    app.url_map.converters["id"] = RecordId
    security.configure(app, service.settings)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(app.root_path) + "/templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from web.ui import auth, cases, dashboard, feeds, modeller, outside, tasks
    from web.ui.filters import install as install_filters

    install_filters(app)
    from web.ui import admin

    for module in (auth, tasks, cases, outside, dashboard, modeller, feeds, admin):
        app.register_blueprint(module.bp)
    from web.ui import documents

    app.register_blueprint(documents.bp)  # files on cases and their steps
    from web.api import api as api_blueprint

    security.csrf.exempt(api_blueprint)  # the API authenticates each call with a bearer token, no cookie

    @app.before_request
    def who():
        if (
            not request.path.startswith("/api/")
            and not request.path.startswith("/static/")
            and request.blueprint != "health"
        ):  # probes: no sign-in, no database for /healthz
            security.load_user(service)

    @app.context_processor
    def page_globals():
        return {"actor": g.get("actor"), "csp_nonce": security.csp_nonce, "nav": navigation(g.get("actor"))}


def navigation(actor) -> list[dict]:
    """The service navigation: only what this person may use."""
    if actor is None:
        return []
    items = [("tasks.home", "Tasks", True)]
    from web.ui.cases import START_PROCESS

    service = current_app.extensions["reviewflow"]
    items.append(("cases.new", "Start a case", service.instances.may_start(START_PROCESS, actor)))
    items.append(("outside.index", "Answers to record", service.outside.records_any(actor)))
    items.append(("cases.index", "Cases", actor.is_manager))
    items.append(("dashboard.index", "Dashboard", actor.is_manager))
    items.append(("modeller.index", "Modeller", actor.can_deploy))
    items.append(("feeds.calendar", "Calendar", True))
    from web.ui.admin import visible_sections

    items.append(("admin.index", "Administration", bool(visible_sections(actor))))
    from flask import url_for

    return [
        {
            "href": url_for(endpoint),
            "text": text,
            "active": request.endpoint.startswith(endpoint.split(".")[0] + ".")
            if request.endpoint
            else False,
        }
        for endpoint, text, shown in items
        if shown
    ]


def error_page(code: int, title: str, message: str):
    return render_template("error.html", title=title, message=message), code
