"""Child processes that die with their parent, however the parent dies (SIGKILL included).

A process pool's children block on a queue whose write end they hold themselves, so they
never see their parent go: a worker killed by the OOM killer or ``kill -9`` left its spaCy
processes (~180 MB each) and multiprocessing's resource tracker running for good. Two
guards, called in the child: Linux's parent-death signal (immediate), and a watchdog thread
that polls the parent's pid (any POSIX system, and the case the signal cannot cover, see
:func:`die_with_parent`). The resource tracker exits by itself once its last writer (the
parent and these children) is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 1.0


def die_with_parent(parent: int, death_signal: bool = True, poll: float = POLL_SECONDS) -> None:
    """Make this process exit when ``parent`` (its parent's pid) is no longer its parent.

    ``death_signal`` arms ``PR_SET_PDEATHSIG``: the kernel sends it when the *thread* that
    started this process ends, so arm it only when that thread lives as long as the parent.
    """
    if death_signal and sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            death_signal = False  # refused (seccomp): the watchdog still runs
    # The parent may have died before the signal was armed: then nobody would send it.
    if os.getppid() != parent:
        os._exit(1)
    watchdog = threading.Thread(
        target=_watch, args=(parent, poll), name="parent-watchdog", daemon=True
    )
    watchdog.start()


def _watch(parent: int, poll: float) -> None:
    # An orphan is re-parented (to init or a subreaper): its parent pid changes.
    while os.getppid() == parent:
        time.sleep(poll)
    os._exit(1)  # no cleanup to do: the pool's state died with the parent
