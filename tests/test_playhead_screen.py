"""``livespec play FILE`` in tmux on the virtual audio device: the playhead on the screen is
within 100 ms of the sound.

The browser (``livespec play``, the sound going to the virtual null sink) runs in tmux at
120x40; ``parec`` records the sink's monitor (tests/support/sink_capture.py: the file is a
*scrambled counter*, so every captured sample names the file frame it came from, and
each read is stamped with ``time.monotonic()``). After ``+ +`` (a 5 s window: 105 columns
of 48 ms) and space, the screen is read with ``capture-pane`` every ~0.1 s, stamped with
the same clock around the call. Each screen gives two readings of the play position:

* the playhead: the column of ``│`` in the waterfall, turned into seconds through the
  window the readout shows (``view A–B``, ms) and the waterfall's columns found on the
  screen (after the frequency axis ``┤``, before the colour bar; checked against the
  time axis's ``┴`` ticks); the column covers ``[t, t + 48 ms)``, its centre is compared;
* the readout's position text (``▶ m:ss.sss``).

A screen read just as the window moves on can hold the readout's new window with the old
time axis (Textual writes the two widgets one after the other): such a *torn* screen is
not used, and at most 3 of them are allowed.

Each is compared with the file position heard at that moment: the frame the capture
received at the stamp's time. What this proves: what the terminal shows (the screen
tmux holds, the app's tick at 20/s and Textual's writes included) agrees with the sound
as the sink's monitor delivers it, within 100 ms, at every screen read that the capture
covers. What it does not: the null sink renders up to its block (10-20 ms) before its
own play time, so "heard" is the server's timeline, not a speaker's; and a terminal
emulator's own drawing after tmux is not included.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from support.sink_capture import RATE, Capture, frames_of, scrambled, steps
from support.tmux import DEADLINE_S, Tmux, livespec_command
from support.virtual_audio import VirtualAudio

SECONDS = 20.0
LATENCY = "0.3"  # as tests/test_playback_device.py (margin against a late callback)
ATTEMPTS = 3  # runs, for one whose sound has no gap (an underflow on a loaded machine)
PLAY_S = 9.0  # seconds of playing that are read (the window moves on once, at ~5 s)
READ_EVERY_S = 0.1
LIMIT_S = 0.100

TORN = "torn"
_POS = re.compile(r"[▶⏸] (\d+):(\d\d\.\d{3}) / ")
_VIEW = re.compile(r"view (\d+):(\d\d\.\d{3})–(\d+):(\d\d\.\d{3})")


@pytest.fixture
def silent_sink(virtual_audio: VirtualAudio) -> Iterator[VirtualAudio]:
    """The session's virtual device with its feeder playing silence, restored after."""
    virtual_audio.set_tone(1000.0, 0.0)
    try:
        yield virtual_audio
    finally:
        virtual_audio.set_tone(1000.0, 0.5)


@pytest.fixture
def scrambled_file(tmp_path: Path) -> Path:
    path = tmp_path / "scrambled.wav"
    sf.write(path, scrambled(np.arange(round(SECONDS * RATE), dtype=np.int64)), RATE, "FLOAT")
    return path


def read_screen(lines: list[str]) -> tuple[float, float, float, float, int] | str | None:
    """(readout position s, playhead column's start s, column width s, view start s,
    time-axis ticks checked) of one captured screen; None when the playhead or a text is
    not (fully) on it; :data:`TORN` when the time axis disagrees with the readout's window
    (a screen read between the updates of the two, when the window moves on)."""
    text = "\n".join(lines)
    pos, view = _POS.search(text), _VIEW.search(text)
    if pos is None or view is None:
        return None
    shown = int(pos[1]) * 60 + float(pos[2])
    t0, t1 = int(view[1]) * 60 + float(view[2]), int(view[3]) * 60 + float(view[4])
    plot = [i for i, line in enumerate(lines) if "┤" in line]
    axis = next(i for i, line in enumerate(lines) if "dBFS" in line and "┴" in line)
    left = lines[plot[0]].index("┤") + 1
    right = lines[axis].index(" dBFS")  # the colour bar's first column
    width = right - left
    dt = (t1 - t0) / width
    # the time axis: each tick "┴m:ss" at the column of its time
    ticks = list(re.finditer(r"┴(\d+):(\d\d(?:\.\d+)?)", lines[axis]))
    for m in ticks:
        t = int(m[1]) * 60 + float(m[2])
        # t0 is shown to the ms (±0.5 ms): a tick that close to a column edge may be in either
        if m.start() - left not in {int(np.floor((t - t0 + e) / dt)) for e in (-5e-4, 5e-4)}:
            return TORN  # the readout has the new window, the axis not yet (or the reverse)
    rows = [line[left:right] for line in lines[plot[0] : axis]]
    counts: dict[int, int] = {}
    for row in rows:
        for x, ch in enumerate(row):
            if ch == "│":
                counts[x] = counts.get(x, 0) + 1
    full = [x for x, n in counts.items() if n == len(rows)]
    if len(full) != 1:
        return None  # mid-update (the old and the new column half drawn)
    return shown, t0 + full[0] * dt, dt, t0, len(ticks)


def _one_run(va: VirtualAudio, path: Path, tmp: Path, run: int) -> tuple[dict, str | None]:
    """Play ``path`` in the browser in tmux, read the screen; returns the figures and
    None, or a reason to try again (a gap in the sound)."""
    tmux = Tmux(tmp, f"play{run}")
    cap = Capture(va)
    reads: list[tuple[float, float, list[str]]] = []
    try:
        tmux.start(
            livespec_command("play", str(path), "--output-latency", LATENCY), va.env, (120, 40)
        )
        tmux.wait_for(r"output default")
        deadline = time.monotonic() + DEADLINE_S
        while "overview" in tmux.screen():  # the overview's progress in the readout
            assert time.monotonic() < deadline
            time.sleep(0.2)
        tmux.keys("+", "+")  # 5 s on screen: 48 ms per column
        tmux.wait_for(r"view 0:00\.000–0:05\.000")
        tmux.keys("Space")
        start = time.monotonic()
        while time.monotonic() - start < PLAY_S:
            before = time.monotonic()
            screen = tmux.screen()
            after = time.monotonic()
            reads.append((before, after, screen.splitlines()))
            time.sleep(READ_EVERY_S)
        tmux.keys("q")
        assert tmux.wait_exit() == 0
    finally:
        tmux.kill()
        x, t0 = cap.stop()
    frames = frames_of(x)
    jumps = steps(frames)
    if jumps:
        return {}, f"the sound jumped (underflow?): {jumps[:5]}"
    bar, ro, call = [], [], []
    dts, views = set(), set()
    ticks = torn = 0
    for before, after, lines in reads:
        got = read_screen(lines)
        j = round(((before + after) / 2 - t0) * RATE)
        if got == TORN:
            torn += 1
            continue
        if not isinstance(got, tuple) or not 0 <= j < len(frames) or frames[j] < 0:
            continue
        heard = frames[j] / RATE
        shown, col, dt, view0, n_ticks = got
        bar.append(col + dt / 2 - heard)
        ro.append(shown - heard)
        call.append(after - before)
        dts.add(round(dt, 6))
        views.add(view0)
        ticks += n_ticks
    return {
        "bar": bar,
        "readout": ro,
        "call": call,
        "dt": sorted(dts),
        "views": sorted(views),
        "ticks": ticks,
        "torn": torn,
    }, None


@pytest.mark.virtual_audio
def test_playhead_on_the_screen_is_within_100_ms_of_the_sound(
    silent_sink: VirtualAudio, scrambled_file: Path, tmp_path: Path
) -> None:
    found = []
    for run in range(ATTEMPTS):
        figures, retry = _one_run(silent_sink, scrambled_file, tmp_path, run)
        if retry is None:
            break
        found.append(retry)
    else:
        pytest.fail(f"the sound had a gap in each of {ATTEMPTS} runs: {found}")
    bar, ro = np.array(figures["bar"]), np.array(figures["readout"])
    call = np.array(figures["call"])
    print(
        f"\nplayhead column centre - sound over {len(bar)} screens: median "
        f"{np.median(bar) * 1000:+.1f} ms, 95th percentile |.| "
        f"{np.percentile(np.abs(bar), 95) * 1000:.1f} ms, "
        f"max |.| {np.abs(bar).max() * 1000:.1f} ms "
        f"(column {figures['dt'][0] * 1000:.1f} ms; windows from {figures['views']} s; "
        f"{figures['ticks']} axis ticks agreed, {figures['torn']} screens torn); "
        f"readout - sound: median {np.median(ro) * 1000:+.1f} ms, 95th percentile |.| "
        f"{np.percentile(np.abs(ro), 95) * 1000:.1f} ms, "
        f"over 100 ms {int(np.sum(np.abs(ro) > LIMIT_S))}, max |.| "
        f"{np.abs(ro).max() * 1000:.1f} ms; capture-pane calls median "
        f"{np.median(call) * 1000:.1f} ms, max {call.max() * 1000:.1f} ms; retries {found}"
    )
    assert len(bar) >= PLAY_S / READ_EVERY_S / 3  # most screens were read
    assert len(figures["views"]) >= 2  # the window moved on with the playhead
    assert figures["ticks"] >= 3 * len(bar)  # the time axis agreed on every screen used
    assert figures["torn"] <= 3  # read between two updates: rare (the window moves once)
    # + + : 5 s on 105 columns of 47.6 ms (the window's ends are shown to the ms)
    assert all(d == pytest.approx(5.0 / 105, abs=2e-5) for d in figures["dt"]), figures["dt"]
    assert figures["dt"][0] < LIMIT_S  # a column is finer than the limit
    # the column's centre within 100 ms plus half a column (the column's own resolution)
    assert np.abs(bar).max() <= LIMIT_S + figures["dt"][0] / 2
    assert np.abs(ro).max() <= LIMIT_S
