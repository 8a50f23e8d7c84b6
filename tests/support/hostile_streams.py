"""Hostile livespec streams for tests/hostile/test_hostile_streams.py and the fuzzer.

Every case starts from a good stream (:func:`good_stream`: header, STATUS, frames, END,
built with the real encoders, no engine) and damages it the way a broken link, a
corrupted file or a malicious sender would: truncation at each field, lying sizes, huge
declared dimensions, wrong JSON types, non-finite numbers, control characters in every
text field, bad checksums, unknown record types, garbage and a zlib bomb in a FRAME.
Checksums are recomputed unless the case is about them, so each damage reaches the check
it is aimed at.
"""

from __future__ import annotations

import functools
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from livespec.dsp.peaks import Peak
from livespec.stream.protocol import (
    END,
    FRAME,
    STATUS,
    encode_frame,
    encode_json_record,
    record,
)

FS = 48000
PWNED = "\x1b]2;PWNED\x07"  # sets the terminal title
HOSTILE_TEXT = PWNED + "\x9b2J\x7f\r\n"  # OSC, C1 CSI (clear screen), DEL, CR, LF
FRAMES = 8


def header_dict(**changes: object) -> dict[str, Any]:
    """A good header object (fft 1024, 64 sent bins), with ``changes`` applied."""
    groups = list(range(0, 64))
    d: dict[str, Any] = {
        "format": "livespec-stream",
        "samplerate": FS,
        "fft": 1024,
        "zero_pad": 1,
        "window": "hann",
        "beta": 8.6,
        "hop": 256,
        "frame_hop": 1600,
        "bins": 513,
        "grid": "log",
        "groups": groups,
        "stop": 64,
        "peaks": 3,
        "a4": 440.0,
        "fmin": 0.0,
        "fmax": None,
        "db_step": 0.5,
        "db_offset": -160.0,
        "db_max_code": 360,
        "row_coding": "zlib(planes(zigzag(diff(code))))",
        "info": {"host": "lab", "source": "test", "livespec": "1.0"},
    }
    d.update(changes)
    return d


def raw_header(
    body: bytes, version: int = 1, n: int | None = None, crc: int | None = None
) -> bytes:
    """A header around ``body`` (the JSON); ``n`` and ``crc`` may lie."""
    size = len(body) if n is None else n
    check = zlib.crc32(body) if crc is None else crc
    return struct.pack("<4sHHI", b"LSPC", version, 0, size) + body + struct.pack("<I", check)


def header(**changes: object) -> bytes:
    return raw_header(json.dumps(header_dict(**changes)).encode())


def frame_fields(j: int = 0, sent: int = 64) -> dict[str, Any]:
    """The values of a good FRAME (all changeable by a case)."""
    return {
        "index": j,
        "start": j * 1600,
        "t": j * 1600 / FS + 0.0107,
        "rms": -20.0,
        "peak": -6.0,
        "latency": 0.001,
        "peaks": [(1000.0, -6.0, 21.33), (3000.0, -30.0, 64.0)],
        "row": np.linspace(-120.0, -6.0, sent),
    }


def frame(**changes: Any) -> bytes:
    f = {**frame_fields(), **changes}
    peaks = tuple(
        Peak(freq_hz=a, level_dbfs=b, bin=c, note="", cents=0.0) for a, b, c in f["peaks"]
    )
    return encode_frame(
        f["index"], f["start"], f["t"], f["rms"], f["peak"], f["latency"], peaks, f["row"]
    )


def raw_frame(payload: bytes) -> bytes:
    return record(FRAME, payload)


def frame_payload(**changes: Any) -> bytes:
    return frame(**changes)[9:]


def status(**d: object) -> bytes:
    return encode_json_record(STATUS, {"overflows": 0, "lost_frames": 0, "input_lost": False, **d})


def end(**d: object) -> bytes:
    return encode_json_record(END, {"reason": "end of input", **d})


def good_stream(
    head: bytes | None = None, middle: bytes = b"", tail: bytes | None = None, sent: int = 64
) -> bytes:
    """Header, STATUS, frames (rows of ``sent`` bins), ``middle``, more frames, END (or
    ``tail``)."""
    frames = [frame(**frame_fields(j, sent)) for j in range(FRAMES)]
    return b"".join(
        [
            header() if head is None else head,
            status(recording=None),
            *frames[:4],
            middle,
            *frames[4:],
            end() if tail is None else tail,
        ]
    )


@functools.cache
def zlib_bomb() -> bytes:
    """About 900 KB of zlib that inflates to 900 MB (a FRAME row must be 128 bytes)."""
    z = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    return b"".join(z.compress(zeros) for _ in range(900)) + z.flush()


# The offsets of each field in the first FRAME record of good_stream() (from its start).
FRAME_FIELDS = {
    "type": 0,
    "length": 1,
    "crc": 5,
    "index": 9,
    "start": 17,
    "t": 25,
    "rms": 33,
    "peak": 41,
    "latency": 49,
    "npeaks": 53,
    "peak-freq": 54,
    "peak-level": 62,
    "row": 54 + 2 * 24,
}


def _cut_in_frame(field: str) -> bytes:
    s = good_stream()
    first = len(header()) + len(status(recording=None))
    return s[: first + FRAME_FIELDS[field] + 1]


# Documented exit statuses (docs/ssh.md): 0 a good stream (also one with unknown records
# or texts that needed escaping), 2 anything not livespec's, newer, damaged or cut.
OK, BAD = 0, 2


@dataclass(frozen=True)
class StreamCase:
    """A hostile stream: ``data()`` its bytes, ``status`` the documented exit status,
    ``words`` in the one stderr line, ``header`` True if the header is already refused
    (so the screen viewer refuses it before it needs a terminal)."""

    name: str
    data: Callable[[], bytes]
    status: int
    words: str = ""
    header: bool = False

    def make(self, d: Path) -> Path:
        p = d / f"{self.name}.lspc"
        p.write_bytes(self.data())
        return p


def _h(name: str, status: int, words: str, **changes: object) -> StreamCase:
    return StreamCase(name, lambda: good_stream(header(**changes)), status, words, True)


def _mid(name: str, status: int, words: str, middle: Callable[[], bytes]) -> StreamCase:
    return StreamCase(name, lambda: good_stream(middle=middle()), status, words)


_DAMAGED = "damaged stream at byte"
_BIG = 2**20 + 1


STREAM_CASES: list[StreamCase] = [
    # -- not a stream at all ----------------------------------------------------------------
    StreamCase("empty", lambda: b"", BAD, "empty", True),
    StreamCase(
        "garbage",
        lambda: np.random.default_rng(0).bytes(5000),
        BAD,
        "not a livespec stream (it does not start with LSPC)",
        True,
    ),
    StreamCase(
        "lspc-then-garbage",
        lambda: b"LSPC" + bytes.fromhex("bd1c") + np.random.default_rng(1).bytes(500),
        BAD,
        "not a livespec stream",
        True,
    ),
    StreamCase("text", lambda: b"hello world\n" * 50, BAD, "not a livespec stream", True),
    StreamCase(
        "newer-version",
        lambda: good_stream(raw_header(b"{}", version=2)),
        BAD,
        "stream version 2",
        True,
    ),
    # -- the header -------------------------------------------------------------------------
    StreamCase("cut-in-magic", lambda: b"LSP", BAD, "truncated", True),
    StreamCase("cut-in-header-size", lambda: header()[:9], BAD, "truncated", True),
    StreamCase("cut-in-header-json", lambda: header()[:100], BAD, "truncated", True),
    StreamCase("cut-in-header-crc", lambda: header()[:-2], BAD, "truncated", True),
    StreamCase(
        "header-size-4gb",
        lambda: raw_header(json.dumps(header_dict()).encode(), n=0xFFFFFFFF),
        BAD,
        _DAMAGED,
        True,
    ),
    StreamCase(
        "header-bad-crc",
        lambda: good_stream(raw_header(json.dumps(header_dict()).encode(), crc=1)),
        BAD,
        "checksum",
        True,
    ),
    StreamCase(
        "header-not-json", lambda: good_stream(raw_header(b"{not json")), BAD, _DAMAGED, True
    ),
    StreamCase("header-json-list", lambda: good_stream(raw_header(b"[1,2]")), BAD, _DAMAGED, True),
    StreamCase(
        "header-deep-nesting",
        lambda: good_stream(raw_header(b"[" * 100_000 + b"]" * 100_000)),
        BAD,
        _DAMAGED,
        True,
    ),
    StreamCase(
        "header-bad-utf8",
        lambda: good_stream(raw_header(b'{"a":"\xff\xfe"}')),
        BAD,
        _DAMAGED,
        True,
    ),
    _h("bins-2^20+1", BAD, "bins", bins=_BIG, fft=2**20),
    _h("bins-lie", BAD, "bins = 2049, but fft 1024", bins=2049),
    _h("fft-huge", BAD, "fft", fft=2**30),
    _h("zero-pad-huge", BAD, "zero_pad", zero_pad=4096),
    _h("groups-70000", BAD, "groups", groups=list(range(70000)), stop=513),
    _h("groups-not-increasing", BAD, "groups", groups=[0, 5, 3]),
    _h("groups-past-stop", BAD, "groups", groups=[0, 1, 600], stop=513),
    _h("groups-strings", BAD, "groups", groups=["0", "1"]),
    _h("samplerate-0", BAD, "samplerate", samplerate=0),
    _h("samplerate-1e12", BAD, "samplerate", samplerate=10**12),
    _h("samplerate-text", BAD, "samplerate", samplerate="48000"),
    _h("samplerate-float", BAD, "samplerate", samplerate=48000.5),
    _h("hop-0", BAD, "hop", hop=0),
    _h("frame-hop-below-hop", BAD, "frame_hop", frame_hop=10),
    _h("peaks-1000", BAD, "peaks", peaks=1000),
    _h("fmin-above-fmax", BAD, "fmin", fmin=48000.0, fmax=0.0),
    _h("fmin-nyquist", BAD, "fmin", fmin=24000.0),
    _h("a4-negative", BAD, "a4", a4=-440.0),
    _h("info-not-object", BAD, "info", info=["lab"]),
    _h("format-wrong", BAD, "header", format="wav"),
    StreamCase(
        "header-nan",
        lambda: good_stream(
            raw_header(json.dumps(header_dict()).replace('"beta": 8.6', '"beta": NaN').encode())
        ),
        BAD,
        "NaN",
        True,
    ),
    StreamCase(
        "header-1e400",
        lambda: good_stream(
            raw_header(json.dumps(header_dict()).replace('"a4": 440.0', '"a4": 1e400').encode())
        ),
        BAD,
        "out of range",
        True,
    ),
    _h("text-too-long", BAD, "characters", window="x" * 5000),
    # texts from the sender are escaped, not refused
    _h("host-escape", OK, "", info={"host": PWNED, "source": HOSTILE_TEXT}),
    _h("source-escape", OK, "", info={"host": "lab", "source": PWNED, "input": HOSTILE_TEXT}),
    _h("window-escape", OK, "", window=PWNED),
    _h("grid-and-keys-escape", OK, "", grid=HOSTILE_TEXT, info={PWNED: [PWNED, {"x": PWNED}]}),
    _h("fft-x-zero-pad-too-big", BAD, "above 65536", fft=8192, zero_pad=16),
    StreamCase(
        "max-legal-dimensions",
        lambda: good_stream(
            header(fft=65536, bins=32769, groups=list(range(32768)), stop=32769), sent=32768
        ),
        OK,
    ),
    # -- records: cut at each field of a FRAME ----------------------------------------------
    *(
        StreamCase(f"cut-in-frame-{f}", functools.partial(_cut_in_frame, f), BAD, "truncated")
        for f in FRAME_FIELDS
    ),
    StreamCase("no-end-record", lambda: good_stream(tail=b""), BAD, "without its END record"),
    # -- records: lying sizes, checksums, types ---------------------------------------------
    _mid("record-size-4gb", BAD, "garbage", lambda: struct.pack("<BII", FRAME, 0xFFFFFFFF, 0)),
    _mid("record-size-1mib+1", BAD, "garbage", lambda: struct.pack("<BII", FRAME, 2**20 + 1, 0)),
    _mid("record-bad-crc", BAD, "checksum", lambda: frame()[:5] + b"\0\0\0\0" + frame()[9:]),
    _mid("unknown-record-type", OK, "", lambda: record(77, b"from a later version")),
    _mid("unknown-empty-record", OK, "", lambda: record(200, b"")),
    _mid("empty-frame", BAD, _DAMAGED, lambda: record(FRAME, b"")),
    _mid("empty-status", BAD, _DAMAGED, lambda: record(STATUS, b"")),
    # -- FRAME values -------------------------------------------------------------------------
    _mid(
        "frame-values-at-the-limits",
        OK,
        "",
        lambda: frame(index=2**53, start=2**53, t=1e9, rms=-1000.0, peak=1000.0, latency=1e9),
    ),
    _mid("frame-t-1e300", BAD, "frame: time", lambda: frame(t=1e300)),
    _mid("frame-t-nan", BAD, "frame: time", lambda: frame(t=float("nan"))),
    _mid("frame-t-negative", BAD, "frame: time", lambda: frame(t=-5.0)),
    _mid("frame-index-2^64-1", BAD, "frame: index", lambda: frame(index=2**64 - 1)),
    _mid("frame-rms-inf", BAD, "rms", lambda: frame(rms=float("inf"))),
    _mid("frame-latency-inf", BAD, "latency", lambda: frame(latency=float("inf"))),
    _mid("frame-peak-nan", BAD, "peak frequency", lambda: frame(peaks=[(float("nan"), 0, 1)])),
    _mid("frame-peak-bin-huge", BAD, "peak bin", lambda: frame(peaks=[(1000.0, -6, 1e18)])),
    _mid(
        "frame-npeaks-255",
        BAD,
        "frame: 255 peaks",
        lambda: raw_frame(frame_payload()[:44] + b"\xff" + frame_payload()[45:]),
    ),
    _mid("frame-row-short", BAD, "row", lambda: frame(row=np.zeros(10))),
    _mid("frame-row-not-zlib", BAD, _DAMAGED, lambda: raw_frame(frame_payload()[:93] + b"xx")),
    _mid(
        "frame-row-codes-out-of-range",
        BAD,
        "row codes",
        lambda: raw_frame(
            frame_payload()[:93] + zlib.compress(np.full(128, 0xFF, dtype=np.uint8).tobytes())
        ),
    ),
    _mid("frame-zlib-bomb", BAD, "row", lambda: raw_frame(frame_payload()[:93] + zlib_bomb())),
    # -- STATUS and END values ----------------------------------------------------------------
    _mid("status-overflows-text", BAD, "overflows", lambda: status(overflows="abc")),
    _mid("status-overflows-null", BAD, "overflows", lambda: status(overflows=None)),
    _mid(
        "status-overflows-1e400",
        BAD,
        "out of range",
        lambda: record(STATUS, b'{"overflows": 1e400}'),
    ),
    _mid("status-overflows-negative", BAD, "overflows", lambda: status(overflows=-1)),
    _mid("status-lost-2^64", BAD, "lost_frames", lambda: status(lost_frames=2**64)),
    _mid("status-input-lost-text", BAD, "input_lost", lambda: status(input_lost="yes")),
    _mid("status-infinity", BAD, "Infinity", lambda: record(STATUS, b'{"dropped": Infinity}')),
    _mid(
        "status-list", BAD, "STATUS record: not a JSON object", lambda: record(STATUS, b"[1, 2, 3]")
    ),
    _mid("status-bad-utf8", BAD, _DAMAGED, lambda: record(STATUS, b'{"recording": "\xc3"}')),
    _mid("status-recording-escape", OK, "", lambda: status(recording=HOSTILE_TEXT)),
    StreamCase("end-reason-escape", lambda: good_stream(tail=end(reason=PWNED)), OK),
    StreamCase("end-reason-number", lambda: good_stream(tail=end(reason=12)), BAD, "reason"),
    StreamCase(
        "end-reason-huge-int",
        lambda: good_stream(tail=record(END, b'{"reason": "x", "frames": ' + b"9" * 5000 + b"}")),
        BAD,
        _DAMAGED,
    ),
]

_names = [c.name for c in STREAM_CASES]
assert len(_names) == len(set(_names)), "case names must be unique"


__all__ = ["HOSTILE_TEXT", "PWNED", "STREAM_CASES", "StreamCase", "good_stream"]
