"""A shortened soak (benchmarks/soak.py): 45 s of ``livespec record`` from the virtual
device while busy processes keep every core at 100 %. Every discontinuity in livespec's
file must be the device's own (also in the reference capture) or counted in the sidecar;
none may be silent. About 55 s; the 10-minute soak is ``python benchmarks/soak.py``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from support.continuity import Discontinuity, find_discontinuities
from support.virtual_audio import VirtualAudio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import soak

SECONDS = 45.0


@pytest.mark.slow
@pytest.mark.virtual_audio
def test_under_full_load_no_discontinuity_is_silent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = soak.run(SECONDS, tmp_path, stress=os.cpu_count() or 2)
    with capsys.disabled():
        print(f"\nshortened soak ({SECONDS:g} s, {os.cpu_count()} busy processes):")
        print(result.report())
    assert not result.error
    assert result.livespec is not None and result.sidecar["frames"] == SECONDS * soak.RATE
    assert result.cpu_busy > 0.9  # the load was real
    assert result.silent == 0, result.report()
    assert result.uncounted_gaps == [], result.report()


def test_each_discontinuity_gets_the_right_verdict() -> None:
    """The soak's bookkeeping on made-up findings (no device needed)."""
    underrun = Discontinuity(5000, 240, 0, 777)
    in_ref = Discontinuity(99, 240, 0, 777)  # the same underrun, elsewhere in the reference
    filled = Discontinuity(9000, 960, 960, 4000)
    drop1, drop2 = Discontinuity(20000, 0, 48, 15000), Discontinuity(30000, 0, 12, 25000)
    side = {
        "overflows": 1,
        "gap_list": [
            {"at_s": 0.1875, "at_frame": 9000, "frames": 960},
            {"at_s": 1.0, "at_frame": 48000, "frames": 5},
        ],
    }
    verdicts, unseen = soak.judge([underrun, filled, drop1, drop2], [in_ref], side)
    assert [v.split()[0] for _, v in verdicts] == ["device", "counted", "counted", "silent"]
    assert unseen == [{"at_s": 1.0, "at_frame": 48000, "frames": 5}]


@pytest.mark.virtual_audio
def test_the_counter_device_and_its_reference_capture(tmp_path: Path) -> None:
    """A second private device playing the counter; parec's reference of it is a float WAV
    with the counter unbroken (a few seconds, not slow)."""
    with VirtualAudio(tmp_path / "va", counter=True, feed_latency_ms=300) as va:
        assert va.feeder_priority in ("SCHED_FIFO 10", "nice -10", "normal")
        va.start_reference(tmp_path / "ref.wav")
        time.sleep(1.5)
        ref = va.stop_reference()
    x, fs = sf.read(str(ref), dtype="float32")
    assert fs == soak.RATE and sf.info(str(ref)).subtype == "FLOAT"
    assert len(x) > soak.RATE
    found = find_discontinuities(x)
    assert (found.events, found.lead, found.tail) == ([], 0, 0)
