"""die_with_parent: a grandchild exits within seconds of its parent's SIGKILL, by each guard.

Real processes, no server: a middle process starts a child that arms the guard, then the
middle process is killed with SIGKILL (it runs no cleanup at all).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.procs import descendants, kill_group, wait_gone

CHILD = (
    "import os, time; from processors.worker.orphans import die_with_parent; "
    "die_with_parent(os.getppid(), {signal}, poll=0.2); print('armed', flush=True); "
    "time.sleep(120)"
)
MIDDLE = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE)
    assert child.stdout.readline() == b"armed\\n"
    print("ready", flush=True)
    time.sleep(120)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("death_signal", [True, False], ids=["pdeathsig", "watchdog"])
def test_child_exits_when_its_parent_is_killed(death_signal: bool) -> None:
    child = CHILD.format(signal=death_signal)
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE, child], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert middle.stdout is not None and middle.stdout.readline() == b"ready\n"
        tree = descendants(middle.pid)
        assert len(tree) == 1, tree
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait(timeout=10)
        assert wait_gone(tree, timeout=5) == [], "the child outlived its parent"
    finally:
        kill_group(middle.pid)  # a failure must not leave the orphans to someone else
        middle.wait(timeout=10)
        if middle.stdout is not None:
            middle.stdout.close()
