"""The WAV writer thread (livespec/recorder/writer.py), in process: content, pre-roll, stop,
a stalled writer's silence-filled gaps, write faults, a full disk, the split into numbered
parts, and never overwriting. Subprocess tests (signals, kill -9, the device) are in
test_recorder_cli.py."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
import types
import warnings
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import scipy.io.wavfile
import soundfile as sf

from livespec.audio.dropwatch import Drop
from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.config import AnalysisConfig
from livespec.errors import EXIT_USAGE
from livespec.recorder.parts import RecordingError, default_recording_path, part_path
from livespec.recorder.sidecar import sidecar_path
from livespec.recorder.start import start_recording
from livespec.recorder.writer import Recorder

FS = 48000
F32 = npt.NDArray[np.float32]
LSB = {"PCM_16": 2.0**-15, "PCM_24": 2.0**-23, "PCM_32": 2.0**-31, "FLOAT": 0.0}  # full scale 1


def ramp(start: int, n: int, channels: int = 1) -> F32:
    """Frames ``start .. start+n`` as exact nonzero float32 values (index + 1), one column
    per channel (channel c adds c * 0.5). Only a FLOAT file keeps them exactly."""
    idx = np.arange(start + 1, start + n + 1, dtype=np.float32)
    return np.stack([idx + 0.5 * c for c in range(channels)], axis=1)


def tone(start: int, n: int, freq: float = 997.0, amp: float = 0.5) -> F32:
    i = np.arange(start, start + n, dtype=np.float64)
    return (amp * np.sin(2 * np.pi * np.mod(i * freq / FS, 1.0))).astype(np.float32)[:, None]


def read_all_readers(path: Path, pcm: bool = True) -> npt.NDArray[np.float64]:
    """Read ``path`` with soundfile, scipy and (PCM only) wave; assert they agree."""
    a, rate = sf.read(str(path), dtype="float64", always_2d=True)
    assert rate == FS
    with warnings.catch_warnings():  # scipy does not know the PEAK chunk of float files
        warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
        srate, b = scipy.io.wavfile.read(str(path))
    assert srate == FS
    assert len(b) == len(a) and (b.ndim == 1 or b.shape[1] == a.shape[1])
    if pcm:
        with wave.open(str(path), "rb") as w:
            assert w.getframerate() == FS
            assert w.getnframes() == len(a)
            assert len(w.readframes(w.getnframes())) == len(a) * w.getsampwidth() * a.shape[1]
    return a


def feed(ring: RingBuffer, rec: Recorder, data: F32, block: int = 1000) -> None:
    """Producer and writer on this thread, alternately: lossless."""
    for i in range(0, len(data), block):
        ring.write(data[i : i + block])
        rec.drain()


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_every_subtype_records_the_exact_samples(tmp_path: Path, subtype: str) -> None:
    ring = RingBuffer(FS, 2)
    x = np.concatenate([tone(0, 30000), tone(0, 30000, 440.0, 0.9)], axis=1)
    rec = Recorder(ring, FS, 2, tmp_path / "t.wav", subtype=subtype)
    rec.open()
    feed(ring, rec, x, 777)
    rec.stop()
    assert rec.error is None and rec.frames_written == 30000
    y = read_all_readers(tmp_path / "t.wav", pcm=subtype != "FLOAT")
    assert y.shape == (30000, 2)
    np.testing.assert_allclose(y, x, rtol=0, atol=LSB[subtype] + 1e-9)
    assert sf.info(str(tmp_path / "t.wav")).subtype == subtype


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
def test_the_file_is_readable_from_the_moment_it_exists(tmp_path: Path, subtype: str) -> None:
    """Before the first frame too (libsndfile's first header alone is rejected by wave and
    scipy), and no temporary file is left."""
    rec = Recorder(RingBuffer(FS, 1), FS, 1, tmp_path / "new.wav", subtype=subtype)
    rec.open()
    try:
        assert len(read_all_readers(tmp_path / "new.wav", pcm=subtype != "FLOAT")) == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new.wav", "new.wav.json"]
    finally:
        rec.stop()


def test_writer_thread_writes_everything_up_to_stop(tmp_path: Path) -> None:
    """stop() drains the ring up to its newest frame: nothing the producer wrote is lost."""
    ring = RingBuffer(4 * FS, 1)
    rec = Recorder(ring, FS, 1, tmp_path / "t.wav", subtype="FLOAT", poll_s=0.01)
    rec.start()
    x = ramp(0, 100_003)
    for i in range(0, len(x), 4096):
        ring.write(x[i : i + 4096])  # much faster than real time; the ring holds 4 s
    rec.stop("test")
    assert rec.finished and not rec.running
    y, _ = sf.read(str(tmp_path / "t.wav"), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, x)
    side = json.loads(sidecar_path(tmp_path / "t.wav").read_text())
    assert side["complete"] is True and side["ended_by"] == "test"
    assert side["frames"] == 100_003 and side["gaps"] == 0 and side["lost_frames"] == 0


def test_preroll_starts_in_the_past_and_is_capped_to_the_ring(tmp_path: Path) -> None:
    ring = RingBuffer(3 * FS, 1)
    ring.write(ramp(0, 2 * FS))
    rec = Recorder(ring, FS, 1, tmp_path / "a.wav", subtype="FLOAT", preroll_s=0.5)
    rec.open()
    assert rec.start_index == 2 * FS - FS // 2 and rec.preroll_s == 0.5
    ring.write(ramp(2 * FS, 1000))
    rec.stop()
    y, _ = sf.read(str(tmp_path / "a.wav"), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, ramp(2 * FS - FS // 2, FS // 2 + 1000))

    # Asking for more than the ring holds takes what is there, minus a safety margin.
    ring.write(ramp(2 * FS + 1000, 2 * FS))
    rec = Recorder(ring, FS, 1, tmp_path / "b.wav", subtype="FLOAT", preroll_s=60.0)
    rec.open()
    rec.stop()
    side = json.loads(sidecar_path(tmp_path / "b.wav").read_text())
    assert side["preroll_s"] == 2.5  # ring of 3 s less a 0.5 s margin
    assert side["frames"] == int(2.5 * FS) and side["gaps"] == 0


def test_max_frames_stops_by_itself_after_the_preroll(tmp_path: Path) -> None:
    ring = RingBuffer(2 * FS, 1)
    ring.write(ramp(0, 1000))
    rec = Recorder(
        ring, FS, 1, tmp_path / "d.wav", subtype="FLOAT", preroll_s=0.01, max_frames=5000
    )
    rec.open()
    feed(ring, rec, ramp(1000, 20000))
    assert rec.finished and rec.ended_by == "duration"
    y, _ = sf.read(str(tmp_path / "d.wav"), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y, ramp(1000 - 480, 480 + 5000))


class Stall:
    """A ``before_write`` hook that blocks the writer thread at the ``at``-th write until
    released: an injected slow disk."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, frames: int) -> None:
        self.calls += 1
        if self.calls == self.at:
            self.entered.set()
            assert self.release.wait(30), "the test never released the writer"


def test_stalled_writer_counts_gaps_and_fills_them_with_exact_silence(tmp_path: Path) -> None:
    cap = FS  # 1 s ring
    ring = RingBuffer(cap, 1)
    stall = Stall(at=3)
    rec = Recorder(
        ring, FS, 1, tmp_path / "g.wav", subtype="FLOAT", chunk_frames=4800, before_write=stall
    )
    rec.open()  # the reader starts at frame 0
    x = ramp(0, 10 * FS)
    pos = 0

    def produce(n: int) -> None:
        nonlocal pos
        for i in range(pos, pos + n, 480):
            ring.write(x[i : i + 480])
        pos += n

    produce(FS // 2)
    rec.start()
    assert stall.entered.wait(30)  # the writer is stuck in its 3rd write (frames 9600..14400)
    produce(3 * FS)  # 3.5 s written, the ring keeps 1 s: the writer loses frames
    stall.release.set()
    rec.stop()  # writes what the ring still holds
    assert rec.error is None
    y, _ = sf.read(str(tmp_path / "g.wav"), dtype="float32")
    assert len(y) == pos == rec.frames_written  # the timeline is true: one frame per frame
    silent = y == 0.0
    lost = int(silent.sum())
    np.testing.assert_array_equal(y[~silent], x[:pos, 0][~silent])  # the rest is the audio
    assert rec.gaps == 1 and rec.lost_frames == lost
    # The writer had read 14400 frames; the ring then held only the last second.
    assert lost == 3 * FS + FS // 2 - cap - 14400
    gap_start = int(np.argmax(silent))
    assert gap_start == 14400 and silent[gap_start : gap_start + lost].all()
    side = json.loads(sidecar_path(tmp_path / "g.wav").read_text())
    assert side["gaps"] == 1 and side["lost_frames"] == lost
    assert side["gap_list"] == [{"at_s": 0.3, "at_frame": 14400, "frames": lost}]
    assert f"lost {lost / FS:.3f} s in 1 gap" in rec.status_text()


def test_an_injected_write_fault_stops_with_one_line_and_keeps_the_file(tmp_path: Path) -> None:
    calls = 0

    def fault(frames: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    ring = RingBuffer(FS, 1)
    out = tmp_path / "f.wav"
    rec = Recorder(ring, FS, 1, out, subtype="PCM_16", chunk_frames=1000, before_write=fault)
    rec.open()
    feed(ring, rec, tone(0, 20000))
    assert rec.finished and rec.frames_written == 4000
    assert rec.error == (f"recording to '{out}' stopped after 0.1 s: Input/output error (EIO)")
    assert "\n" not in rec.error and rec.status_text().startswith("REC failed at 0:00:00")
    y = read_all_readers(out)
    np.testing.assert_allclose(y, tone(0, 4000), atol=LSB["PCM_16"])
    side = json.loads(sidecar_path(out).read_text())
    assert side["error"] == rec.error and side["ended_by"] == "error" and side["frames"] == 4000
    rec.stop()  # harmless after a failure


def test_full_disk_stops_the_recording_and_what_was_written_stays_readable(
    tiny_disk: Path,
) -> None:
    out = tiny_disk / "full.wav"
    ring = RingBuffer(FS, 1)
    rec = Recorder(ring, FS, 1, out, subtype="PCM_24", poll_s=0.01)
    rec.start()
    x = tone(0, 20 * FS)  # 2.9 MB of PCM_24: three times the disk
    for i in range(0, len(x), 4800):
        if rec.finished:
            break
        ring.write(x[i : i + 4800])
        while rec.position < ring.written and not rec.finished:
            time.sleep(0.001)  # stay lossless: wait for the writer
    rec.stop()
    assert rec.error is not None
    assert rec.error.startswith(f"recording to '{out}' stopped after ")
    assert rec.error.endswith(": No space left on device (ENOSPC)")
    y = read_all_readers(out)
    assert 0.9 * (1 << 20) / 3 < len(y) <= rec.frames_written
    np.testing.assert_allclose(y, tone(0, len(y)), atol=LSB["PCM_24"])
    side = json.loads(sidecar_path(out).read_text())  # updated in place on the full disk
    assert side["error"] == rec.error and side["complete"] is True


def test_past_the_threshold_the_recording_continues_in_numbered_parts(tmp_path: Path) -> None:
    out = tmp_path / "long.wav"
    ring = RingBuffer(FS, 1)
    rec = Recorder(ring, FS, 1, out, subtype="PCM_16", split_bytes=100_000, poll_s=0.01)
    rec.start()
    x = tone(0, 3 * FS)
    for i in range(0, len(x), 4800):
        ring.write(x[i : i + 4800])
        while rec.position < ring.written:
            time.sleep(0.001)
    rec.stop()
    per_part = (100_000 - 44) // 2
    assert rec.paths == [out, part_path(out, 2), part_path(out, 3)]
    assert [p.name for p in rec.paths] == ["long.wav", "long-002.wav", "long-003.wav"]
    parts = [read_all_readers(p) for p in rec.paths]
    assert [len(p) for p in parts] == [per_part, per_part, 3 * FS - 2 * per_part]
    assert all(p.stat().st_size <= 100_000 for p in rec.paths)
    np.testing.assert_allclose(np.concatenate(parts), tone(0, 3 * FS), atol=LSB["PCM_16"])
    side = json.loads(sidecar_path(out).read_text())
    assert side["parts"] == ["long.wav", "long-002.wav", "long-003.wav"]
    assert side["frames"] == 3 * FS and side["gaps"] == 0


def test_a_gap_across_a_part_boundary_keeps_the_timeline(tmp_path: Path) -> None:
    """Silence for lost frames is split across parts like audio."""
    ring = RingBuffer(10_000, 1)
    rec = Recorder(ring, FS, 1, tmp_path / "x.wav", subtype="FLOAT", split_bytes=80 + 4 * 7000)
    rec.open()
    ring.write(ramp(0, 3000))
    rec.drain()
    ring.write(ramp(3000, 20_000))  # 13000 frames lost
    rec.drain()
    rec.stop()
    y = np.concatenate([sf.read(str(p), dtype="float32")[0] for p in rec.paths])
    assert len(rec.paths) == 4 and len(y) == 23_000
    np.testing.assert_array_equal(y[3000:13000], 0.0)
    np.testing.assert_array_equal(y[13000:], ramp(13000, 10_000)[:, 0])
    assert rec.gaps == 1 and rec.lost_frames == 10_000


def test_nothing_is_overwritten_without_force(tmp_path: Path) -> None:
    ring = RingBuffer(FS, 1)
    out = tmp_path / "keep.wav"
    for existing in (out, sidecar_path(out), part_path(out, 2)):
        existing.write_bytes(b"precious")
        with pytest.raises(RecordingError) as err:
            Recorder(ring, FS, 1, out).open()
        assert err.value.exit_code == EXIT_USAGE
        assert str(err.value) == (
            f"'{existing}' already exists: not overwriting it (use --force to replace it)"
        )
        assert existing.read_bytes() == b"precious"
        assert sorted(p.name for p in tmp_path.iterdir()) == [existing.name]
        existing.unlink()
    out.write_bytes(b"old")
    rec = Recorder(ring, FS, 1, out, force=True)
    rec.open()
    rec.stop()
    assert sf.info(str(out)).frames == 0


def test_a_missing_folder_is_one_line_with_exit_status_2(tmp_path: Path) -> None:
    with pytest.raises(RecordingError) as err:
        Recorder(RingBuffer(FS, 1), FS, 1, tmp_path / "no" / "x.wav").open()
    assert err.value.exit_code == EXIT_USAGE
    assert "folder" in str(err.value) and "does not exist" in str(err.value)


def test_start_recording_names_the_file_and_fills_the_sidecar(tmp_path: Path) -> None:
    """The app's entry point: a default name in the folder, pre-roll, analysis settings."""
    source = SignalSource("tone:1000", FS, 1, realtime=False)
    source.open()
    ring = RingBuffer(5 * FS, 1)
    source.attach(ring)
    for _ in range(100):
        source.pump(1024)
    rec = start_recording(ring, source, folder=tmp_path, preroll_s=1.0, analysis=AnalysisConfig())
    try:
        assert rec.path.parent == tmp_path
        assert rec.path.name.startswith("livespec-") and rec.path.suffix == ".wav"
        assert rec.running and rec.status_text().startswith("REC 0:00:0")
    finally:
        rec.stop()
    side = json.loads(sidecar_path(rec.path).read_text())
    assert side["preroll_s"] == 1.0 and side["frames"] == FS
    assert side["source"] == "test signal 'tone:1000'" and side["device"] is None
    assert side["analysis"]["fft"] == 4096 and side["analysis"]["window"] == "hann"
    assert side["start_utc"].endswith("Z") and side["samplerate"] == FS
    # Two recordings in the same second get different names.
    assert default_recording_path(tmp_path) != rec.path


def test_the_cli_options_match_the_recorder() -> None:
    from livespec.cli import record as record_cmd
    from livespec.recorder import parts as recorder
    from livespec.recorder import writer

    assert tuple(writer.SUBTYPES) == record_cmd.SUBTYPE_CHOICES
    assert record_cmd.DEFAULT_SPLIT_BYTES == recorder.DEFAULT_SPLIT_BYTES
    assert record_cmd.WAV_MAX_BYTES == recorder.WAV_MAX_BYTES


def test_recorder_imports_no_tui() -> None:
    code = (
        "import sys, livespec.recorder.writer, livespec.cli.record\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'sounddevice'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_input_the_sound_system_dropped_becomes_listed_silence(tmp_path: Path) -> None:
    """A loss found by the device source's clock check (here a hand-made Drop) is filled
    with silence of its estimated length where the fresh audio began (``Drop.before``) if
    the writer has not passed it (it holds back while a loss is suspected), else where the
    writer is; both are listed."""
    ring = RingBuffer(10 * FS, 1)
    source = types.SimpleNamespace(drops=[], drop_hold=None)
    before_start = Drop(1.0, FS, 0, FS, 1e9)  # found before the recording: ignored
    source.drops.append(before_start)
    rec = Recorder(ring, FS, 1, tmp_path / "d.wav", subtype="FLOAT", drops=source)
    x = ramp(0, 8 * FS)
    ring.write(x[:FS])
    rec.open()  # the file starts at ring frame FS
    # 1) a loss is suspected: the writer holds back where the fresh audio begins; once
    # the loss is final, its silence goes exactly there (``before``)
    ring.write(x[FS : 3 * FS])
    source.drop_hold = 2 * FS
    assert rec.drain() == FS
    source.drops.append(Drop(0.5, 3 * FS, FS + 100, 2 * FS, 1_700_000_000.0))
    source.drop_hold = None
    assert rec.drain() == FS // 2 + FS
    # 2) the writer is past the loss's position: the silence goes where it is
    source.drops.append(Drop(0.25, 3 * FS, 2 * FS + 7, 2 * FS + 9, 1_700_000_001.5))
    ring.write(x[3 * FS : 4 * FS])
    rec.stop()
    y, _ = sf.read(str(tmp_path / "d.wav"), dtype="float32", always_2d=True)
    half, quarter = FS // 2, FS // 4
    expected = np.concatenate(
        [
            x[FS : 2 * FS],
            np.zeros((half, 1), np.float32),
            x[2 * FS : 3 * FS],
            np.zeros((quarter, 1), np.float32),
            x[3 * FS : 4 * FS],
        ]
    )
    np.testing.assert_array_equal(y, expected)
    side = json.loads(sidecar_path(tmp_path / "d.wav").read_text())
    assert side["gaps"] == 0 and side["lost_frames"] == 0  # the writer lost nothing
    assert side["audio_dropped_s"] == 0.75
    assert side["frames"] == 3 * FS + half + quarter
    assert side["gap_list"] == [
        {
            "at_s": 1.0,
            "at_frame": FS,
            "frames": half,
            "cause": "dropped by the audio system",
            "seconds": 0.5,
            "detected_utc": "2023-11-14T22:13:20.000Z",
            "window_s": [round(100 / FS, 3), 1.0],
        },
        {
            "at_s": 2.5,
            "at_frame": 2 * FS + half,
            "frames": quarter,
            "cause": "dropped by the audio system",
            "seconds": 0.25,
            "detected_utc": "2023-11-14T22:13:21.500Z",
            "window_s": [1.5, 1.5],  # ring frame 2 FS + 7: 1 s into the file + 0.5 s
        },
    ]
    assert "dropped 0.8 s" in rec.status_text()
