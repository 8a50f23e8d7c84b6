"""The stream format (livespec.stream.protocol), its reader thread and the stream/view commands.

Round trip on real engine frames (peaks exact, dB within half a quantisation step, peaks
of the grouped bins kept), frame-rate reduction, bandwidth of the demo signal, damaged
streams (one line, exit status 2), a reader that goes away, ``--record`` from the same
capture, and the viewer app fed by a stream.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from support.app import sync

from livespec.audio.ringbuffer import RingBuffer
from livespec.audio.sources import SignalSource
from livespec.config import AnalysisConfig, Config
from livespec.engine import Engine, Frame
from livespec.stream.protocol import (
    DB_MAX_CODE,
    DB_OFFSET,
    DB_STEP,
    END,
    FRAME,
    NO_DATA_DB,
    STATUS,
    StreamError,
    StreamHeader,
    StreamReader,
    decode_row,
    encode_header,
    encode_json_record,
    encode_row,
    quantise,
)
from livespec.stream.reducer import Reducer, bin_groups, make_header
from livespec.stream.source import FdReader, StreamSource

FS = 48000
TONE = "tone:1000@-6+tone:3000.5@-30+noise@-70"


def engine_frames(spec: str, seconds: float, analysis: AnalysisConfig) -> list[Frame]:
    """Every frame of ``seconds`` of a test signal, analysed synchronously."""
    frames: list[Frame] = []
    src = SignalSource(spec, FS, 1, 1024, realtime=False, max_seconds=seconds)
    src.open()
    ring = RingBuffer(FS * 20, 1)
    engine = Engine(src, ring, analysis, frames.append, None, first_frame_start=0)
    src.attach(ring)
    while src.pump(1024):
        engine.process_available()
    engine.process_available()
    return frames


def make_stream(
    frames: list[Frame],
    analysis: AnalysisConfig,
    fps: float = 0,
    sent: int = 1024,
    grid: str = "log",
    end: bool = True,
) -> tuple[bytes, StreamHeader]:
    h = make_header(analysis, FS, fps, sent, grid, {"host": "lab", "source": "test"})
    red = Reducer(h)
    parts = [encode_header(h), encode_json_record(STATUS, {"overflows": 2, "lost_frames": 1})]
    for f in frames:
        parts += red.add(f)
    if end:
        parts.append(encode_json_record(END, {"reason": "end of input"}))
    return b"".join(parts), h


def read_all(data: bytes) -> tuple[StreamReader, list[Frame], dict[str, object] | None]:
    reader = StreamReader(io.BytesIO(data), "test")
    frames, end = [], None
    while (rec := reader.next_record()) is not None:
        kind, payload = rec
        if kind == FRAME:
            frames.append(reader.frame(payload))
        elif kind == STATUS:
            reader.json_payload(payload)
        else:
            end = reader.json_payload(payload)
    return reader, frames, end


def grouped(db: np.ndarray, h: StreamHeader) -> np.ndarray:
    """What the stream should carry for ``db``: each FFT bin shows its group's maximum,
    limited to the quantiser's range (an independent, plain-numpy reference)."""
    starts = np.asarray(h.groups)
    counts = np.diff(np.append(starts, h.stop))
    top = DB_OFFSET + DB_MAX_CODE * DB_STEP
    out = np.full(db.shape, NO_DATA_DB, dtype=np.float64)
    out[starts[0] : h.stop] = np.repeat(
        [db[a : a + c].max() for a, c in zip(starts, counts, strict=True)], counts
    )
    out[starts[0] : h.stop] = out[starts[0] : h.stop].clip(DB_OFFSET, top)
    return out


@pytest.fixture(scope="module")
def tone_frames() -> list[Frame]:
    return engine_frames(TONE, 1.0, AnalysisConfig(peaks=3))


# -- format ----------------------------------------------------------------------------------


def test_round_trip_keeps_peaks_exact_and_rows_within_half_a_step(tone_frames) -> None:
    a = AnalysisConfig(peaks=3)
    data, h = make_stream(tone_frames, a)
    reader, got, end = read_all(data)
    assert end == {"reason": "end of input"}
    assert reader.header == h and h.sent == 1024 and h.bins == 2049 and h.stop == 2049
    assert len(got) == len(tone_frames)
    for src, dst in zip(tone_frames, got, strict=True):
        assert (dst.index, dst.start, dst.t) == (src.index, src.start, src.t)
        assert dst.peaks == src.peaks  # bit-exact floats, notes and cents
        assert dst.rms_dbfs == src.rms_dbfs and dst.peak_dbfs == src.peak_dbfs
        assert (dst.overflows, dst.lost_frames) == (2, 1)
        assert dst.db.dtype == np.float32 and dst.db.shape == src.db.shape
        assert np.abs(dst.db - grouped(src.db, h)).max() <= DB_STEP / 2 + 1e-4
    assert got[-1].peaks[0].freq_hz == pytest.approx(1000.0, abs=1e-3)
    # the 3000.5 Hz tone's bin survives the grouping at full level
    k = round(3000.5 / (FS / 4096))
    assert got[-1].db[k - 3 : k + 4].max() == pytest.approx(tone_frames[-1].db.max() - 24, abs=1)


def test_frames_are_max_combined_to_the_streamed_rate(tone_frames) -> None:
    a = AnalysisConfig(peaks=3)
    data, h = make_stream(tone_frames, a, fps=FS / 2048)  # two analysis frames each
    assert h.frame_hop == 2048 and h.hop == 1024
    _, got, _ = read_all(data)
    assert len(got) == len(tone_frames) // 2
    for j, f in enumerate(got):
        pair = tone_frames[2 * j : 2 * j + 2]
        assert f.index == j and f.t == pair[1].t and f.peaks == pair[1].peaks
        assert f.peak_dbfs == max(p.peak_dbfs for p in pair)
        want = grouped(np.maximum(pair[0].db, pair[1].db), h)
        assert np.abs(f.db - want).max() <= DB_STEP / 2 + 1e-4


def test_quantisation_error_is_at_most_half_a_step() -> None:
    rng = np.random.default_rng(1)
    db = rng.uniform(-200.0, 40.0, 5000).astype(np.float32)
    back = decode_row(encode_row(db), db.size)
    inside = (db >= DB_OFFSET) & (db <= DB_OFFSET + DB_MAX_CODE * DB_STEP)
    assert np.abs(back[inside] - db[inside]).max() <= DB_STEP / 2 + 1e-5
    assert np.all(back[db < DB_OFFSET] == DB_OFFSET)
    assert np.all(back[db > 20.0] == 20.0)
    assert quantise(np.array([-160.0, -159.74, 20.0])).tolist() == [0, 1, DB_MAX_CODE]


def test_bin_groups_log_sends_low_bins_alone_and_covers_the_range() -> None:
    starts, stop = bin_groups(2049, FS / 4096, 1024, "log", 0.0, None)
    widths = np.diff(np.append(starts, stop))
    assert len(starts) == 1024 and stop == 2049 and starts[0] == 0
    assert np.all(widths >= 1) and np.all(np.diff(widths) >= -1)  # wider towards the top
    assert np.all(widths[:400] == 1)
    lin, stop = bin_groups(2049, FS / 4096, 512, "linear", 0.0, None)
    assert len(lin) == 512 and set(np.diff(np.append(lin, stop))) <= {4, 5}
    few, stop = bin_groups(513, FS / 1024, 1024, "log", 1000.0, 2000.0)
    assert few[0] == 21 and stop == 44 and np.all(np.diff(few) == 1)  # fewer bins: all sent


def test_a_band_leaves_the_rest_of_the_row_without_data() -> None:
    a = AnalysisConfig(peaks=1, fmin=500.0, fmax=2000.0)
    frames = engine_frames("tone:1000", 0.3, a)
    data, h = make_stream(frames, a, sent=64)
    _, got, _ = read_all(data)
    lo, hi = h.groups[0], h.stop
    assert lo == 42 and hi == 172 and h.sent == 64
    assert np.all(got[0].db[:lo] == NO_DATA_DB) and np.all(got[0].db[hi:] == NO_DATA_DB)
    assert np.all(got[0].db[lo:hi] > NO_DATA_DB)


def test_bandwidth_of_demo_at_30_fps_and_1024_bins_is_under_50_kb_per_s() -> None:
    a = AnalysisConfig(peaks=3)
    frames = engine_frames("demo", 10.0, a)
    data, h = make_stream(frames, a, fps=30.0)
    assert h.frame_hop == 1600
    assert len(data) / 10.0 <= 50_000, f"{len(data) / 10.0:.0f} bytes/s"


# -- damaged streams ---------------------------------------------------------------------------


def test_reader_errors_are_one_line(tone_frames) -> None:
    data, _ = make_stream(tone_frames[:5], AnalysisConfig(peaks=3))

    def error(blob: bytes) -> str:
        with pytest.raises(StreamError) as exc:
            read_all(blob)
        assert "\n" not in str(exc.value) and exc.value.exit_code == 2
        return str(exc.value)

    assert "empty" in error(b"")
    assert "not a livespec stream" in error(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    assert "truncated" in error(data[:7])
    assert "version 9" in error(data[:4] + b"\x09\x00" + data[6:])
    assert "corrupt header" in error(data[:20] + b"X" + data[21:])
    assert "truncated" in error(data[:-20])
    assert "garbage" in error(data[:-20] + bytes(20 * [0x5A]))
    reader = StreamReader(io.BytesIO(data[: data.rindex(b'{"reason"') - 9]), "x")
    while reader.next_record() is not None:
        pass
    assert "without its END record" in str(reader.missing_end())


def _view_dump(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "livespec", "view", "--dump", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_view_dump_of_good_truncated_and_garbage_streams(tmp_path: Path, tone_frames) -> None:
    data, _ = make_stream(tone_frames[:10], AnalysisConfig(peaks=3))
    good = tmp_path / "good.lspc"
    good.write_bytes(data)
    done = _view_dump(good)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert [x["type"] for x in lines][:3] == ["header", "status", "frame"]
    assert lines[-1] == {"type": "end", "reason": "end of input"}
    assert lines[2]["peaks"][0][0] == tone_frames[0].peaks[0].freq_hz

    cut = tmp_path / "cut.lspc"
    cut.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.lspc"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    for path, words in ((cut, "truncated"), (garbage, "not a livespec stream")):
        done = _view_dump(path)
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("livespec: ")
        assert words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    # the screen viewer rejects a bad stream before it takes the terminal
    done = subprocess.run(
        [sys.executable, "-m", "livespec", "view", str(garbage)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not a livespec stream" in done.stderr


def test_view_of_a_folder_or_a_missing_file_is_one_line_and_status_2(tmp_path: Path) -> None:
    for path, words in ((tmp_path, "is a folder"), (tmp_path / "none.lspc", "no such file")):
        for args in (["--dump", str(path)], [str(path)]):
            done = subprocess.run(
                [sys.executable, "-m", "livespec", "view", *args],
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
            assert done.returncode == 2, (args, done.stderr)
            assert done.stderr.count("\n") == 1 and done.stderr.startswith("livespec: ")
            assert f"cannot open '{path}': {words}" in done.stderr, done.stderr


# -- the writer command ----------------------------------------------------------------------


def _stream(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "livespec", "stream", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_stream_stops_with_one_line_when_the_reader_goes_away() -> None:
    proc = _stream("--input", "tone:1000@-6")
    assert proc.stdout is not None and proc.stderr is not None
    reader = StreamReader(proc.stdout, "pipe")
    kinds = [reader.next_record() for _ in range(5)]
    assert reader.header.info["source"] == "test signal 'tone:1000@-6'"
    assert {k[0] for k in kinds if k} <= {FRAME, STATUS}
    proc.stdout.close()
    assert proc.wait(timeout=30) == 0
    err = proc.stderr.read().decode()
    assert err.count("\n") == 1 and "the reader went away" in err, err


def test_stream_record_force_with_no_frame_puts_the_old_take_back(tmp_path: Path) -> None:
    """As ``livespec record --force``: an input that ends before its first frame leaves the
    earlier take where it was, byte for byte (it stayed hidden as ``.keep.wav.replaced``
    beside a 44-byte empty ``keep.wav``)."""
    out = tmp_path / "keep.wav"
    livespec = [sys.executable, "-m", "livespec"]
    made = subprocess.run(
        [*livespec, "record", str(out), "--input", "tone:440", "--duration", "0.2"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    done = subprocess.run(
        [*livespec, "stream", "--record", str(out), "--force", "--input", "-"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    err = done.stderr.decode()
    assert err == f"livespec: nothing was recorded ('{out}' left as it was)\n", err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_stream_record_uses_the_same_capture_and_ends_with_end(tmp_path: Path) -> None:
    import soundfile as sf

    out = tmp_path / "remote.wav"
    proc = _stream("--input", "tone:440@-12", "--record", str(out), "--fps", "10")
    assert proc.stdout is not None and proc.stderr is not None
    reader = StreamReader(proc.stdout, "pipe")
    assert reader.header.frame_hop == 4800
    recording: list[str] = []
    frames = 0
    while frames < 15:  # 1.5 s of streamed frames
        rec = reader.next_record()
        assert rec is not None
        if rec[0] == FRAME:
            frames += 1
        elif rec[0] == STATUS:
            recording.append(str(reader.json_payload(rec[1])["recording"]))
    proc.send_signal(signal.SIGTERM)
    tail = []
    while (rec := reader.next_record()) is not None:
        tail.append(rec)
    assert tail[-1][0] == END
    assert json.loads(tail[-1][1])["reason"] == "the sender was stopped (SIGTERM)"
    assert proc.wait(timeout=30) == 143
    assert any(r.startswith("REC") for r in recording), recording
    audio, fs = sf.read(out)
    assert fs == FS and len(audio) >= FS  # at least a second, from the same ring
    spectrum = np.abs(np.fft.rfft(audio[:FS]))
    assert np.argmax(spectrum) == 440


# -- the reader thread and the viewer -------------------------------------------------------


def test_stream_source_delivers_frames_then_the_end(tone_frames) -> None:
    data, _ = make_stream(tone_frames, AnalysisConfig(peaks=3))
    r, w = os.pipe()

    def write() -> None:
        os.write(w, data)
        os.close(w)

    writer = threading.Thread(target=write)
    writer.start()
    fdr = FdReader(r)
    src = StreamSource(StreamReader(fdr, "pipe"), fdr, live=True, pace=False)
    got: list[Frame] = []
    src.start(got.append)
    writer.join()
    src._finished.wait(30)
    src.stop()
    assert src.error is None and src.end_reason == "end of input"
    assert len(got) == len(tone_frames) and got[-1].peaks == tone_frames[-1].peaks
    assert src.description == "lab: test" and src.samplerate == FS and not src.input_lost()


def test_stream_source_reports_a_stream_that_breaks_off(tone_frames) -> None:
    data, _ = make_stream(tone_frames[:5], AnalysisConfig(peaks=3), end=False)
    fdr = FdReader(os.open(os.devnull, os.O_RDONLY))
    fdr._buf += data
    src = StreamSource(StreamReader(fdr, "stdin"), fdr, live=True, pace=False)
    src.start(lambda f: None)
    src._finished.wait(30)
    src.stop()
    assert src.error is not None and "without its END record" in str(src.error)


@sync
async def test_viewer_app_shows_the_streamed_analysis(tone_frames: list[Frame]) -> None:
    from livespec.tui.viewer import StreamViewApp, stream_config

    a = AnalysisConfig(peaks=3)
    data, _ = make_stream(tone_frames, a, fps=FS / 2048)
    fdr = FdReader(os.open(os.devnull, os.O_RDONLY))
    fdr._buf += data
    reader = StreamReader(fdr, "file")
    src = StreamSource(reader, fdr, live=False, pace=False)
    cfg = stream_config(Config(), reader)
    app = StreamViewApp(cfg, src, reader.header.hop, live=False)
    async with app.run_test(size=(100, 30)) as pilot:
        src.start(app.push_frame)
        src._finished.wait(30)
        app.tick()
        app.update_texts()
        await pilot.pause()
        assert app.view.frame_seconds == 2048 / FS  # one row per streamed frame
        assert "1000.0 Hz" in str(app.widgets.readout.render_line(0).text)
        info = app.status_info()
        assert (info.hop, info.fft, info.window, info.finished) == (1024, 4096, "hann", True)
        assert info.end_text == "END OF STREAM" and info.overflows == 2
        await pilot.press("w", "plus", "t")
        assert (
            app.viewing.analysis.window == "hann"
            and app.viewing.analysis.fft == 4096
            and app.viewing.top3
        )
        await pilot.press("z", "space", "c")  # display keys work on the streamed rows
        assert app.view.paused and app.viewing.colormap == "magma"
    src.stop()


def test_skipped_frames_are_counted_in_streamed_frames() -> None:
    """At 30 streamed frames/s (1600 samples apart at 48 kHz) the sender's engine skipped
    5 analysis frames (1024 samples apart: 3.2 streamed frames) and its writer dropped 2
    streamed frames: the viewer shows 5, not 7 of mixed units."""
    h = make_header(AnalysisConfig(), FS, 30.0, 1024, "log", {"host": "lab", "source": "t"})
    assert (h.hop, h.frame_hop) == (1024, 1600)
    data = encode_header(h) + encode_json_record(STATUS, {"lost_frames": 5, "dropped": 2})
    reader, _, _ = read_all(data)
    assert reader.lost_frames == 5


def test_stream_refuses_what_a_viewer_would_refuse() -> None:
    """The sender keeps to the stream's limits (docs/ssh.md#limits): an analysis wider than
    65536 points and a frame rate whose frames would be too far apart are refused."""
    for args, words in (
        (["--fft", "65536", "--zero-pad", "2"], "at most 65536 points"),
        (["--fps", "0.0001"], "--fps 0.0001"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "livespec", "stream", "--input", "tone:1000", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert words in done.stderr and done.stdout == ""


def test_the_largest_stream_the_sender_makes_is_read() -> None:
    """fft 65536 (32769 bins, every bin sent): at the limits, accepted."""
    a = AnalysisConfig(fft=65536, peaks=3)
    h = make_header(a, FS, 0, 65536, "log", {"host": "lab", "source": "t"})
    assert (h.bins, h.sent) == (32769, 32769)
    reader, _, _ = read_all(encode_header(h))
    assert reader.header == h


def test_a_paced_replay_does_not_stall_on_a_jump_in_time(tone_frames: list[Frame]) -> None:
    """Frame times that jump by 1000 s (a stream restarted, or a hostile one) hold a paced
    replay up for at most MAX_PACE_WAIT_S per jump, not for the jump."""
    import dataclasses

    from livespec.stream.source import MAX_PACE_WAIT_S

    frames = tone_frames[:4]
    jumped = [*frames[:2], *(dataclasses.replace(f, t=f.t + 1000.0) for f in frames[2:])]
    data, _ = make_stream(jumped, AnalysisConfig(peaks=3))
    fdr = FdReader(os.open(os.devnull, os.O_RDONLY))
    fdr._buf += data
    src = StreamSource(StreamReader(fdr, "file"), fdr, live=False, pace=True)
    got: list[Frame] = []
    t0 = time.monotonic()
    src.start(got.append)
    assert src._finished.wait(10)
    src.stop()
    assert len(got) == 4
    assert time.monotonic() - t0 < MAX_PACE_WAIT_S + 1.0


def test_stream_record_holds_every_sample_the_pipe_delivered(tmp_path: Path) -> None:
    """``cat 3s.raw | livespec stream --input - --record x.wav``: the WAV is the input,
    sample for sample, as ``livespec record`` makes it (it started at the ring's position
    when the recorder opened, after what was already in the pipe: 2.66 of 3.0 s)."""
    import soundfile as sf

    x = (0.3 * np.random.default_rng(7).standard_normal(3 * FS)).astype("<f4")
    out = tmp_path / "x.wav"
    args = ["--input", "-", "--format", "f32le", "--samplerate", str(FS), "--channels", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "livespec", "stream", *args, "--record", str(out),
         "--subtype", "FLOAT"],
        input=x.tobytes(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    y, fs = sf.read(out, dtype="float32")
    assert fs == FS
    np.testing.assert_array_equal(y, x)  # no sample missing, none added
    side = json.loads(Path(f"{out}.json").read_text())
    assert side["frames"] == len(x) and side["preroll_s"] == 0.0


def test_fd_reader_closes_its_descriptor_once() -> None:
    # view --remote closes the reader when the stream breaks and again on the way out:
    # the second close must not close whatever reused the descriptor's number meanwhile
    r, w = os.pipe()
    os.close(w)
    fdr = FdReader(r)
    fdr.close()
    reused = os.open(os.devnull, os.O_RDONLY)
    try:
        assert reused == r  # the lowest free number: the one just closed
        fdr.close()
        os.fstat(reused)  # still open
    finally:
        os.close(reused)


@sync
async def test_viewer_of_a_remote_stream_says_how_to_restart_it(
    tone_frames: list[Frame], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 'view --remote lab' started the sender itself: the way to change its analysis or
    # record is an option after '--', not a 'livespec stream' the user never typed
    from livespec.tui.viewer import StreamViewApp, stream_config

    data, _ = make_stream(tone_frames[:4], AnalysisConfig(peaks=3), fps=FS / 2048)
    said: dict[str | None, list[str]] = {}
    for remote in (None, "lab"):
        fdr = FdReader(os.open(os.devnull, os.O_RDONLY))
        fdr._buf += data
        reader = StreamReader(fdr, "file")
        src = StreamSource(reader, fdr, live=True, pace=False)
        app = StreamViewApp(stream_config(Config(), reader), src, reader.header.hop, remote=remote)
        notes: list[str] = []
        monkeypatch.setattr(app, "notify", lambda msg, notes=notes, **kw: notes.append(str(msg)))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("w", "plus", "r")
        said[remote] = notes
        fdr.close()
    assert said[None] == [
        "The analysis runs at the sender: restart 'livespec stream' with --window.",
        "The analysis runs at the sender: restart 'livespec stream' with --fft.",
        "Record at the sender, from the same capture: livespec stream --record OUT.wav",
    ]
    restart = "The analysis runs at the sender: restart with 'livespec view --remote lab -- "
    assert said["lab"] == [
        restart + "--window ...'.",
        restart + "--fft ...'.",
        "Record at the sender, from the same capture: "
        "livespec view --remote lab -- --record OUT.wav",
    ]


def test_stream_record_on_a_full_disk_ends_with_status_1(tiny_disk: Path) -> None:
    """``stream --record`` whose recording stopped on a full disk: the stream goes on to
    the end of its input, then says so in one line and exits 1 (as ``livespec record``
    does; docs/cli.md: a full disk is status 1). It exited 0. What was written is kept,
    its header right for its data."""
    import soundfile as sf

    src = tiny_disk.parent / "in.wav"
    x = (0.3 * np.random.default_rng(5).standard_normal(8 * FS)).astype(np.float32)  # 1.5 MB
    sf.write(src, x, FS, subtype="FLOAT")
    out = tiny_disk / "s.wav"
    done = subprocess.run(
        [sys.executable, "-m", "livespec", "stream", "--input", str(src), "--record", str(out),
         "--subtype", "FLOAT"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"livespec: recording failed: recording to '{out}' stopped after ")
    assert line.endswith(": No space left on device (ENOSPC)")
    y, fs = sf.read(out, dtype="float32")
    assert fs == FS and 0 < len(y) < len(x)
    assert out.stat().st_size >= 44 + 4 * len(y)
    np.testing.assert_array_equal(y, x[: len(y)])
