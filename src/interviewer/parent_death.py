"""Ask the kernel to signal a process when its parent dies: the one thing that still works after SIGKILL.

Linux's PR_SET_PDEATHSIG follows the death of the *thread* that forked the child, so callers arm it only
for children forked from a thread that lives as long as its process (a main thread, the forkserver).
Deliberately tiny (ctypes, os, signal): it is imported into the forkserver before anything else.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1
EXIT_PARENT_ALREADY_GONE = 70


def die_with_parent(expected_parent: int | None = None, signum: int = signal.SIGKILL) -> bool:
    """Have `signum` delivered to this process when its parent dies. True if the kernel accepted it.

    If `expected_parent` is given and the parent is already someone else (it died before we asked), exit
    at once: the signal would never come.
    """
    armed = False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        armed = libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(EXIT_PARENT_ALREADY_GONE)
    return armed
