"""How a bench process stops: every signal that asks it to unwinds like Ctrl-C, so every `finally` (the
namespaces and links of netimpair, the stack's processes) runs."""

from __future__ import annotations

import signal


def interrupt_on_sigterm() -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, and Ctrl-C itself always does."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    # A process started in the background by a non-interactive shell inherits SIGINT ignored, and Python
    # then installs no Ctrl-C handler at all: such a run could not be interrupted, nor clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
