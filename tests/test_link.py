"""Bandwidth-aware defaults: what the app draws locally and over SSH."""

from __future__ import annotations

import pytest

from livespec.config import DisplayConfig
from livespec.render.link import Link, choose_link, over_ssh
from livespec.tui.widgets.status import StatusInfo, status_text

SSH = {"SSH_CONNECTION": "192.0.2.1 50022 192.0.2.2 22", "COLORTERM": "truecolor"}
LOCAL = {"COLORTERM": "truecolor", "TERM": "xterm-256color"}


def _link(env: dict[str, str], **kw: object) -> Link:
    d = DisplayConfig(**kw)  # type: ignore[arg-type]
    return choose_link(ssh=d.ssh, fps=d.fps, colors=d.colors, orientation=d.orientation, env=env)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"SSH_TTY": "/dev/pts/3"}, True),
        ({"SSH_CONNECTION": "a 1 b 22"}, True),
        ({"SSH_CLIENT": "a 1 22"}, True),
        ({"SSH_TTY": ""}, False),
    ],
)
def test_ssh_is_detected_from_the_environment(env: dict[str, str], expected: bool) -> None:
    assert over_ssh(env) is expected


def test_local_defaults() -> None:
    link = _link(LOCAL)
    assert (link.ssh, link.fps, link.depth, link.orientation) == (
        False,
        30.0,
        "truecolor",
        "horizontal",
    )


def test_ssh_defaults_save_bandwidth() -> None:
    link = _link(SSH)
    assert (link.ssh, link.fps, link.depth, link.orientation) == (
        True,
        20.0,
        "256",
        "horizontal",
    )
    assert link.panel_fps == 10.0
    assert _link(LOCAL).panel_fps is None


def test_ssh_keeps_fewer_colours_and_explicit_choices() -> None:
    assert _link({**SSH, "COLORTERM": "", "TERM": "linux"}).depth == "16"
    assert _link({**SSH, "NO_COLOR": "1"}).depth == "none"
    link = _link(SSH, colors="truecolor", fps=30.0, orientation="horizontal")
    assert (link.fps, link.depth, link.orientation) == (30.0, "truecolor", "horizontal")
    assert not _link(SSH, ssh="off").ssh
    assert _link(LOCAL, ssh="on").ssh


def test_status_line_shows_the_link_and_its_output_rate() -> None:
    info = StatusInfo(
        source="demo",
        samplerate=48000,
        fft=4096,
        window="hann",
        hop=1024,
        fps=15.0,
        overflows=0,
        lost_frames=0,
        input_lost=False,
        finished=False,
        paused=False,
        seconds_back=0.0,
        output_rate=140.0 * 1024,
        ssh=True,
    )
    assert "ssh 140 KB/s" in status_text(info).plain
    local = StatusInfo(**{**info.__dict__, "ssh": False})
    assert "ssh" not in status_text(local).plain


def test_the_help_says_what_auto_chooses() -> None:
    """``livespec --help`` states the rate and the orientation ``choose_link`` picks (it
    said 15 updates per second and vertical over SSH, while the app chose 20 and
    horizontal)."""
    from livespec.cli.parsers import build_parser
    from livespec.render.link import LOCAL_FPS, SSH_FPS

    text = " ".join(build_parser("").format_help().split())
    assert f"screen updates per second at most ({LOCAL_FPS:g}; {SSH_FPS:g} over SSH)" in text
    for ssh in ("off", "on"):
        link = choose_link(ssh=ssh, fps=None, colors="auto", orientation="auto", env={})
        assert link.orientation == "horizontal"
    assert "or auto (horizontal, over SSH too:" in text and "vertical over SSH" not in text
    assert "'livespec FILE' browses a recording (livespec play FILE)" in text
