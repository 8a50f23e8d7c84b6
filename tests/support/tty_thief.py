"""Run a command while reading this process's stdin (the terminal) to nowhere, as ``ssh``
does without ``-n``: in ``ssh HOST livespec stream | livespec view -`` ssh forwards what it
reads from the terminal, so the viewer and ssh share the user's keys and the terminal's
replies. Stdlib only::

    python tty_thief.py livespec stream ... | livespec view -
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading


def _read_forever() -> None:
    while os.read(0, 100):
        pass


if __name__ == "__main__":
    threading.Thread(target=_read_forever, daemon=True).start()
    sys.exit(subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode)
