"""A detached tmux session running one command, read back with ``capture-pane`` (the
end-to-end tests' terminal). Waits are generous deadlines for a loaded machine."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

DEADLINE_S = 30.0


class Tmux:
    """A detached tmux session running one shell command (its own server socket)."""

    def __init__(self, tmp: Path, name: str) -> None:
        self.socket = str(tmp / f"tmux-{name}")
        self.name = name
        self.exit_file = tmp / f"{name}.exit"

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        return out.stdout

    def start(self, command: str, env: Mapping[str, str], size: tuple[int, int]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        done = f"echo $? > {shlex.quote(str(self.exit_file))}"
        shell = f"unset LINES COLUMNS; {exports} {command}; {done}; sleep 600"
        geometry = ["-x", str(size[0]), "-y", str(size[1]), "-e", "COLORTERM=truecolor"]
        subprocess.run(
            ["tmux", "-S", self.socket, "new-session", "-d", "-s", self.name, *geometry, shell],
            check=True,
            timeout=20,
        )

    def screen(self, escapes: bool = False, joined: bool = False) -> str:
        """The pane's text (``escapes``: with its SGR sequences; ``joined``: lines the
        terminal wrapped joined again, their spaces kept, as ``-J``)."""
        flags = [*(["-e"] if escapes else []), *(["-J"] if joined else [])]
        return self.tmux("capture-pane", "-p", *flags, "-t", self.name)

    def wait_for(self, pattern: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.25)
        raise AssertionError(f"{pattern!r} never appeared; screen:\n{text}")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def wait_exit(self) -> int:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if self.exit_file.exists() and self.exit_file.read_text().strip():
                return int(self.exit_file.read_text().strip())
            time.sleep(0.1)
        raise AssertionError(f"livespec did not exit; screen:\n{self.screen()}")

    def kill(self) -> None:
        self.tmux("kill-server")


def livespec_command(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in [sys.executable, "-m", "livespec", *args])
