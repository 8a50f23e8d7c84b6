"""SilentPlayback: the browser's clock without a sound card (a fake clock drives it)."""

from __future__ import annotations

import pytest

from livespec.audio.playback import Playback, SilentPlayback


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_play_pause_seek_and_end() -> None:
    clock = FakeClock()
    p: Playback = SilentPlayback(10.0, clock)
    assert p.position() == 0.0 and not p.playing()
    p.play()
    clock.t += 2.5
    assert p.position() == pytest.approx(2.5)
    p.pause()
    clock.t += 5
    assert p.position() == pytest.approx(2.5) and not p.playing()
    p.seek(9.0)
    p.play()
    clock.t += 3
    assert p.position() == 10.0 and not p.playing()  # stopped at the end
    p.play()  # from the start again
    clock.t += 1
    assert p.position() == pytest.approx(1.0)
    p.seek(-4)
    assert p.position() == 0.0


def test_loop_region_repeats() -> None:
    clock = FakeClock()
    p = SilentPlayback(10.0, clock)
    p.set_loop(2.0, 4.0)
    assert p.position() == 2.0  # moved into the loop
    p.play()
    clock.t += 5.0  # 2 + 5 = 7 -> 2 + (5 % 2) = 3
    assert p.position() == pytest.approx(3.0)
    p.seek(8.0)  # clamped to the loop
    assert p.position() == pytest.approx(2.0)  # the loop's end wraps to its start
    p.set_loop(None, None)
    with pytest.raises(ValueError):
        p.set_loop(5.0, 5.0)
