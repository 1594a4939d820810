"""The service layer: every use case as one method, one transaction. The web app,
the command line and the tests all drive the engine through :class:`Reviewflow`.
"""

from __future__ import annotations

from engine import clock, config
from engine.bpmn import budget
from engine.services import directories
from engine.services.actor import SYSTEM, Actor  # noqa: F401
from engine.services.agencies import Agencies
from engine.services.calendar import Calendar
from engine.services.catalog import Catalog
from engine.services.core import Core
from engine.services.decisions import Decisions
from engine.services.deployments import Deployments
from engine.services.documents import Documents
from engine.services.errors import ServiceError  # noqa: F401
from engine.services.feeds import Feeds
from engine.services.health import Health
from engine.services.instances import Instances
from engine.services.invitations import Invitations
from engine.services.mfa import Mfa
from engine.services.outbox import Outbox
from engine.services.outside import OutsideAnswers
from engine.services.password_resets import PasswordResets
from engine.services.people import People
from engine.services.queries import Queries
from engine.services.recipients import Recipients
from engine.services.reports import Reports
from engine.services.sessions import Sessions
from engine.services.sign_in import SignIn
from engine.services.tasks import Tasks
from engine.services.users import Users
from engine.store.db import Database


class Reviewflow:
    def __init__(self, settings: config.Settings | None = None, upgrade: bool = True):
        self.settings = settings or config.load()
        if self.settings.fake_now:  # a demo on a day of its choosing (refused in production by the settings)
            clock.set_now(self.settings.fake_now)
        budget.configure(self.settings.script_time_limit_seconds, self.settings.script_max_bytes)
        self.db = Database(self.settings.database_url)
        if upgrade:
            self.db.upgrade()
        self.core = Core(self.settings, self.db)
        self.deployments = Deployments(self.core)
        self.instances = Instances(self.core)
        self.tasks = Tasks(self.core)
        self.queries = Queries(self.core)
        self.outside = OutsideAnswers(self.core)
        self.reports = Reports(self.core)
        self.outbox = Outbox(self.core)
        self.users = Users(self.core)
        self.agencies = Agencies(self.core)
        self.recipients = Recipients(self.core)
        if upgrade:  # the seed files of the named recipients and the agencies, brought into the database
            directories.of(self.core).follow_files()
        self.sessions = Sessions(self.core)
        self.mfa = Mfa(self.core)
        self.sign_in = SignIn(self.core, self.users)
        self.people = People(self.core, self.agencies)
        self.invitations = Invitations(self.core, self.people)
        self.password_resets = PasswordResets(self.core)
        self.feeds = Feeds(self.core, self.users)
        self.calendar = Calendar(self.core, self.instances)
        self.decisions = Decisions(self.core)
        self.catalog = Catalog(self.core)
        self.health = Health(self.core)
        self.documents = Documents(self.core)

    def fire_timers_once(self) -> dict:
        """One pass of the timer sweep (the worker runs it in its own loop)."""
        return {"timers_fired": len(self.instances.fire_due_timers())}

    def deliver_once(self) -> dict:
        """One pass of outbox delivery (the worker runs it in its own loop)."""
        return self.outbox.deliver_due()

    def work_once(self) -> dict:
        """Both passes, one after the other (tests, benchmarks and scenarios; the worker runs them apart)."""
        return {**self.fire_timers_once(), **self.deliver_once()}
