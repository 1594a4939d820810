"""Who is asking: a user name and the roles they hold (lanes plus system roles)."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
MANAGER = "manager"
PROCESS_OWNER = "process_owner"
SYSTEM_ROLES = (ADMIN, MANAGER, PROCESS_OWNER)
# Roles that act on one request and never see the rest of a case: an agency answers the request
# addressed to it; a referrer hands the incident over (least privilege: 001 §2, 000 Appendix 2).
REQUEST_ONLY_ROLES = ("Contributing agency", "Referring agency")
REQUEST_ONLY_PREFIX = "Agency: "


@dataclass(frozen=True)
class Actor:
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles or ADMIN in self.roles

    @property
    def is_manager(self) -> bool:
        return MANAGER in self.roles or ADMIN in self.roles

    @property
    def case_roles(self) -> frozenset[str]:
        """The roles that open a whole case (its data, history and deadlines) to this person."""
        return frozenset(
            r for r in self.roles if r not in REQUEST_ONLY_ROLES and not r.startswith(REQUEST_ONLY_PREFIX)
        )

    @property
    def can_deploy(self) -> bool:
        return PROCESS_OWNER in self.roles or ADMIN in self.roles


SYSTEM = Actor("system", frozenset({ADMIN}))
