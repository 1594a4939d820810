"""Who is asking: a user name and the roles they hold (lanes plus system roles)."""
from __future__ import annotations

from dataclasses import dataclass, field

ADMIN = "admin"
MANAGER = "manager"
PROCESS_OWNER = "process_owner"
SYSTEM_ROLES = (ADMIN, MANAGER, PROCESS_OWNER)


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
    def can_deploy(self) -> bool:
        return PROCESS_OWNER in self.roles or ADMIN in self.roles


SYSTEM = Actor("system", frozenset({ADMIN}))
