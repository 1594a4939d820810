"""Workflows kept open between commands, so that the next command on a case need not rebuild its workflow
from the saved state (rebuilding is most of what a step costs the engine).

A command that saved a case puts its workflow here once its transaction has committed; the next command on
that case takes it back only if the case's saved state is still, byte for byte, the state that workflow was
saved as. Anything that changed the case in between (another process, a migration, a hand-made repair)
changed its state, so the workflow is rebuilt from what is stored: the stored state always wins. A workflow
is taken out while a command holds it and comes back only after a commit, so two commands never share one
and a command that fails leaves nothing behind. Per process, the least recently used dropped beyond
:data:`KEPT`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

KEPT = 64  # cases: a busy partnership's working set; a small case's workflow is tens of kilobytes

_kept: OrderedDict[tuple, tuple[bytes, object]] = OrderedDict()
_lock = threading.Lock()


def take(key: tuple, state: bytes | None):
    """The workflow saved as ``state`` under ``key`` (database, case, process version), or None."""
    with _lock:
        entry = _kept.pop(key, None)
    if entry is None or state is None or entry[0] != state:
        return None
    return entry[1]


def keep(key: tuple, state: bytes, workflow) -> None:
    """Keep ``workflow``, just saved as ``state`` and committed, for the next command on its case."""
    with _lock:
        _kept[key] = (state, workflow)
        _kept.move_to_end(key)
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
