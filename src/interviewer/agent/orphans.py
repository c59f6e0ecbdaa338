"""No orphaned job processes, whatever kills the worker (SIGKILL and OOM included).

The process tree is: worker parent → forkserver → one job process per interview (same process group).
Python's forkserver leaves when it reads EOF on its parent pipe, and livekit's job processes leave when their
IPC socket closes, but both only notice from a loop that is running: a forkserver busy importing or a job
whose event loop is stuck in native code would outlive a SIGKILLed parent. The kernel closes that gap:

- this module is in the forkserver's preload list (see `worker.build_server`), so importing it there sets
  PR_SET_PDEATHSIG on the forkserver itself: it gets SIGKILL the moment the worker parent dies;
- it also registers an at-fork hook in the forkserver, so every job process forked from it sets its own
  PR_SET_PDEATHSIG as its very first act after fork, before any import or model load. PDEATHSIG follows the
  death of the *thread that forked* the process: the forkserver's single thread, so the chain holds.

A parent that died between fork and prctl is caught by comparing `getppid()` with the expected parent.
Importing this module anywhere else (the worker parent, tests) does nothing.
"""

from __future__ import annotations

import os

from interviewer.parent_death import die_with_parent


def _in_forkserver() -> bool:
    """The forkserver runs `python -c "from multiprocessing.forkserver import main; ..."`."""
    try:
        with open("/proc/self/cmdline", "rb") as cmdline:
            return b"multiprocessing.forkserver" in cmdline.read()
    except OSError:
        return False


def install_in_forkserver() -> None:
    """Tie the forkserver to the worker parent, and each job process to the forkserver."""
    die_with_parent(os.getppid())
    forkserver = os.getpid()
    os.register_at_fork(after_in_child=lambda: die_with_parent(forkserver))


if _in_forkserver():
    install_in_forkserver()
