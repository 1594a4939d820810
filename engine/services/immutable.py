"""One cache for what never changes once written (a process version, its plan, a rule set version): read
once per process and database, the least recently used dropped beyond 1,024 entries."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(unsafe_hash=True)
class Key:
    """Equal and hashed by ``key`` alone (include the database: ids repeat across databases); ``read``
    (not compared) reads the value on a miss and is let go after, so the key the cache keeps holds no
    session."""

    key: tuple
    read: Callable[[], object] | None = field(compare=False)


@functools.lru_cache(maxsize=1024)
def cached(entry: Key):
    read, entry.read = entry.read, None
    return read()
