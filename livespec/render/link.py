"""Where the screen goes: a local terminal or one at the end of an SSH link.

A full truecolor redraw of a 120x40 waterfall is about 3 MB/s at 30 updates per second;
many SSH links carry far less, and a terminal that cannot keep up lags further and further
behind the sound. Over SSH (``SSH_CONNECTION``, ``SSH_TTY`` or ``SSH_CLIENT`` set, or
``--ssh on``) the settings the user left on ``auto`` are chosen for bandwidth:

* the **horizontal** waterfall, as locally: the terminal shifts its rows itself (ICH/DCH,
  see :mod:`livespec.render.patch`), so an update sends the new column and the pieces that
  changed, not every cell (about 70 KB/s at 120x40; the vertical one, whose scroll also
  moves the time labels and colour bar, about 100 KB/s);
* **256 colours** at most (half the bytes of a truecolor cell, and neighbouring levels of
  one colour merge into runs);
* **20 updates per second** for the waterfall, **10** for the spectrum panel (whose short
  coloured runs are most of the bytes).

Anything given explicitly (``--orientation``, ``--colors``, ``--fps``, or the config file)
wins. Pure code, no Textual; called once on the UI thread at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livespec.render.colormaps import resolve_depth

SSH_ENV = ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT")
LOCAL_FPS = 30.0
SSH_FPS = 20.0
SSH_PANEL_FPS = 10.0  # the spectrum panel's redraws for new frames, over SSH
SSH_MAX_DEPTH = "256"


def over_ssh(env: Mapping[str, str]) -> bool:
    """True when the environment says this process runs in an SSH session."""
    return any(env.get(k) for k in SSH_ENV)


@dataclass(frozen=True)
class Link:
    """What the app draws, after ``auto`` settings are resolved."""

    ssh: bool  # bandwidth-saving defaults in effect
    fps: float  # screen updates per second at most
    depth: str  # truecolor, 256, 16 or none
    orientation: str  # horizontal or vertical
    panel_fps: float | None = None  # spectrum panel redraws per second at most (None: every update)


def choose_link(
    *,
    ssh: str,
    fps: float | None,
    colors: str,
    orientation: str,
    env: Mapping[str, str],
) -> Link:
    """Resolve the display settings: ``ssh`` is ``auto``, ``on`` or ``off``; ``fps`` None,
    ``colors`` ``auto`` and ``orientation`` ``auto`` are chosen for the link."""
    remote = ssh == "on" or (ssh == "auto" and over_ssh(env))
    depth = resolve_depth(colors, env)
    if remote and colors == "auto" and depth == "truecolor":
        depth = SSH_MAX_DEPTH
    if orientation == "auto":
        orientation = "horizontal"
    if fps is None:
        fps = SSH_FPS if remote else LOCAL_FPS
    panel = SSH_PANEL_FPS if remote and fps > SSH_PANEL_FPS else None
    return Link(ssh=remote, fps=float(fps), depth=depth, orientation=orientation, panel_fps=panel)
