"""Which rules a case runs under, settled when it is started directly.

A case does not choose its regime: the national rule set in force on the day the local authority became
aware (``date_aware``) decides it (catalogue, reading notes; 003 §1.4-1.7; each set's ``[in_force]`` days in
``processes/rulesets/``). A partnership that works to its own local procedures chooses their rule sets in
``REVIEWFLOW_LOCAL_RULESETS``: a case whose rules in force are those a chosen set extends runs under it
(Bolton's BOLTON_PRE2015 on the WT2015 path), from the Start page like any other. A manager may run a case
under other rules, a transitional case or a local set
such as BOLTON_PRE2015, and must say why; the choice is audited. A hand-over carries its parent's rules and
never comes through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import func, select

from engine import clock
from engine.rules import RuleSet, regime_of, ruleset_in_force
from engine.services import immutable
from engine.services import workflow as wfsvc
from engine.services.actor import Actor
from engine.services.errors import Forbidden, Invalid
from engine.store.db import database_key
from engine.store.models import RuleSetVersion

REASON_KEY = "regime_reason"  # why a manager runs the case under rules other than those in force
MAX_REASON = 2000


@dataclass(frozen=True)
class Override:
    """A manager's choice of rules other than those in force on ``date_aware``, for the audit log."""

    in_force: str | None
    date_aware: str
    regime: str | None
    ruleset: str | None
    reason: str

    def detail(self) -> dict:
        return {
            "in_force": self.in_force,
            "date_aware": self.date_aware,
            "regime": self.regime,
            "ruleset": self.ruleset,
            "reason": self.reason,
        }


_NEWEST = select(RuleSetVersion.name, func.max(RuleSetVersion.id).label("id")).group_by(RuleSetVersion.name)


def newest(session, revision: int | None = None) -> Mapping[str, int]:
    """The id of the newest deployed version of every rule set, by name. ``revision``: the rule sets'
    revision (``core.RULESETS_REVISION``), when the caller read it already (a start reads it with its process
    version); they are then read once a revision and database."""

    def read() -> Mapping[str, int]:
        return MappingProxyType(dict(session.execute(_NEWEST).all()))

    if revision is None:
        return read()
    return immutable.cached(immutable.Key(("rulesets", database_key(session), revision), read))


def deployed(session, revision: int | None = None) -> dict[str, RuleSet]:
    """The newest deployed version of every rule set, by name (``revision`` as :func:`newest`)."""
    return {name: wfsvc.ruleset_for(session, rid) for name, rid in newest(session, revision).items()}


def _day(value) -> dt.date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def local_choice(
    sets: dict[str, RuleSet], in_force: RuleSet | None, local: Iterable[str], accepts: Iterable[str] = ()
) -> str | None:
    """The partnership's own rule set for a case under ``in_force``: the first set the partnership chose
    (``REVIEWFLOW_LOCAL_RULESETS``) that is deployed and extends it (BOLTON_PRE2015 extends WT2015), among
    those the process runs under (``accepts``; empty: any). None when none applies."""
    allowed = set(accepts)
    for name in local:
        chosen = sets.get(name)
        if (
            in_force is not None
            and chosen is not None
            and chosen.in_force is None
            and chosen.extends == in_force.name
            and (not allowed or name in allowed)
        ):
            return name
    return None


def settle(
    session,
    data: dict,
    actor: Actor,
    today_if_unanchored: bool = False,
    local: Iterable[str] = (),
    accepts: Iterable[str] = (),
    rulesets_revision: int | None = None,
) -> tuple[dict, Override | None]:
    """The start data with ``regime`` set from ``date_aware``, or the manager's override checked; raises
    Invalid (422, naming the field) or Forbidden (403) otherwise. ``today_if_unanchored``: a process with no
    statutory clock to anchor (a review request, 000 §10.1; 003 §5.6) started with neither a date nor rules
    runs under the rules in force on the day it is started, which is when the partnership considers it."""
    reason = data.get(REASON_KEY)
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise Invalid(
            "the reason for other rules must be text",
            [{"path": REASON_KEY, "message": f"text of at most {MAX_REASON} characters"}],
        )
    explicit = data.get("ruleset") or data.get("regime")
    aware = _day(data.get("date_aware"))
    if aware is None:
        if data.get("date_aware") is not None and not explicit:
            raise Invalid(
                "the date the local authority became aware decides the rules",
                [{"path": "date_aware", "message": "must be a date (YYYY-MM-DD)"}],
            )
        if today_if_unanchored and not explicit:
            sets = deployed(session, rulesets_revision)
            today = ruleset_in_force(sets, clock.today())
            if today is not None:
                return _in_force_with_local(data, sets, today, local, accepts), None
        return _with_regime(session, data), None  # no date to judge by: the rules named, as before
    sets = deployed(session, rulesets_revision)
    in_force = ruleset_in_force(sets, aware)
    if not explicit:
        if in_force is None:
            raise Invalid(
                f"no rule set is in force on {aware}",
                [
                    {
                        "path": "date_aware",
                        "message": f"no rule set is in force on {aware}; a manager may "
                        f"name one (regime or ruleset) with {REASON_KEY}",
                    }
                ],
            )
        return _in_force_with_local(data, sets, in_force, local, accepts), None
    if in_force is not None and not data.get("ruleset") and data.get("regime") == in_force.name:
        return data, None  # naming the rules in force is no choice at all
    wanted = data.get("ruleset") or data.get("regime")
    current = in_force.name if in_force else "none"
    if not actor.is_manager:
        raise Forbidden(
            f"a case runs under the rules in force on the day the local authority became aware "
            f"({current} on {aware}); only a manager may choose {wanted}, with a reason"
        )
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid(
            f"say why this case runs under {wanted} rather than {current}",
            [
                {
                    "path": REASON_KEY,
                    "message": f"required: why the case runs under {wanted}, not the "
                    f"rules in force on {aware} ({current})",
                }
            ],
        )
    data = _with_regime(session, data, sets)
    return data, Override(
        in_force.name if in_force else None,
        aware.isoformat(),
        data.get("regime"),
        data.get("ruleset"),
        reason.strip(),
    )


def _in_force_with_local(
    data: dict, sets: dict[str, RuleSet], in_force: RuleSet, local: Iterable[str], accepts: Iterable[str]
) -> dict:
    """The rules in force, run under the partnership's own set where it chose one that extends them: a setting
    of the partnership (004 is Bolton's own framework), not a choice made per case, so it needs no reason."""
    chosen = local_choice(sets, in_force, local, accepts)
    out = {**data, "regime": in_force.name}
    return {**out, "ruleset": chosen} if chosen else out


def _with_regime(session, data: dict, sets: dict[str, RuleSet] | None = None) -> dict:
    """A local set named alone runs on the path of the national regime it extends (BOLTON_PRE2015: WT2015)."""
    if data.get("regime") or not isinstance(data.get("ruleset"), str):
        return data
    regime = regime_of(sets if sets is not None else deployed(session), data["ruleset"])
    return {**data, "regime": regime} if regime else data
