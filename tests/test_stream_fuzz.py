"""Property-based fuzzing of the stream decoder (livespec.stream.protocol.StreamReader).

Random bytes, truncations of a valid stream, byte mutations (with the checksums left
wrong or recomputed, so that damage reaches the field checks), random JSON values in
every header, STATUS and END field, and random numbers in every FRAME field: the reader
either decodes values inside the documented limits or raises the documented
:class:`StreamError` (a :class:`LivespecError`, one line, status 2); never any other
exception, and never an allocation beyond what the limits allow (measured with
tracemalloc, which sees numpy's buffers too).
"""

from __future__ import annotations

import io
import json
import math
import struct
import tracemalloc
import zlib
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile_streams import (
    end,
    frame,
    good_stream,
    header,
    header_dict,
    raw_frame,
    raw_header,
    status,
)

from livespec.errors import LivespecError, printable
from livespec.stream import limits as L
from livespec.stream.protocol import END, FRAME, STATUS, StreamError, StreamReader, record

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# What decoding may allocate at most: a record (1 MiB) and its copies, a full row of the
# largest header in float32 and its pieces, the header JSON decoded: far below this.
ALLOC_LIMIT = 64 << 20
GOOD = good_stream()


def decode(data: bytes) -> list[object]:
    """Everything a viewer takes from ``data``; raises only StreamError. Checks each
    decoded value against the limits."""
    out: list[object] = []
    reader = StreamReader(io.BytesIO(data), "fuzz")
    h = reader.header
    assert 2 <= h.bins <= L.MAX_BINS and 1 <= h.sent <= min(h.bins, L.MAX_SENT)
    assert h.fft * h.zero_pad <= L.MAX_FFT_LENGTH and 1 <= h.samplerate <= L.MAX_SAMPLERATE
    assert 0 <= h.fmin < h.samplerate / 2 and (h.fmax is None or h.fmax > h.fmin)
    _assert_printable(h.to_json())
    while (rec := reader.next_record()) is not None:
        kind, payload = rec
        if kind == FRAME:
            f = reader.frame(payload)
            assert f.db.shape == (h.bins,) and math.isfinite(f.t) and 0 <= f.t <= L.MAX_SECONDS
            assert math.isfinite(f.rms_dbfs) and math.isfinite(f.peak_dbfs)
            assert len(f.peaks) <= h.peaks
            assert all(math.isfinite(p.freq_hz) and math.isfinite(p.bin) for p in f.peaks)
            out.append(f)
        else:
            d = reader.json_payload(payload)
            _assert_printable(d)
            out.append(d)
            if kind == END:
                return out
    raise reader.missing_end()


def _assert_printable(obj: object) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    assert printable(text) == text, text


def decodes_or_refuses(data: bytes) -> None:
    """The property: decoded within the limits, or one StreamError; bounded memory."""
    tracemalloc.start()
    try:
        decode(data)
    except StreamError as exc:
        assert isinstance(exc, LivespecError) and exc.exit_code == 2
        assert "\n" not in str(exc)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < ALLOC_LIMIT, f"{peak / 2**20:.0f} MB"


@SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    decodes_or_refuses(data)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_good_header(data: bytes) -> None:
    decodes_or_refuses(header() + data)


@SETTINGS
@given(st.integers(0, len(GOOD) - 1))
def test_every_truncation_is_refused(n: int) -> None:
    try:
        decode(GOOD[:n])
    except StreamError as exc:
        assert exc.exit_code == 2
    else:
        raise AssertionError(f"a stream cut at {n} of {len(GOOD)} bytes was accepted")


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=8))
def test_mutated_bytes(changes: list[tuple[int, int]]) -> None:
    b = bytearray(GOOD)
    for i, v in changes:
        b[i] = v
    decodes_or_refuses(bytes(b))


def _fix_checksums(data: bytes) -> bytes:
    """The records of a (mutated) stream with their checksums recomputed, as a malicious
    sender would write them; stops where the framing itself is broken."""
    if len(data) < 12:
        return data
    (n,) = struct.unpack_from("<I", data, 8)
    body = data[12 : 12 + n]
    out = [data[:12], body, struct.pack("<I", zlib.crc32(body))]
    at = 12 + n + 4
    while at + 9 <= len(data):
        kind, size, _ = struct.unpack_from("<BII", data, at)
        payload = data[at + 9 : at + 9 + size]
        out.append(struct.pack("<BII", kind, size, zlib.crc32(payload)) + payload)
        at += 9 + size
    out.append(data[at:])
    return b"".join(out)


@SETTINGS
@given(st.lists(st.tuples(st.integers(12, len(GOOD) - 1), st.integers(0, 255)), max_size=6))
def test_mutated_bytes_with_good_checksums(changes: list[tuple[int, int]]) -> None:
    b = bytearray(GOOD)
    for i, v in changes:
        b[i] = v
    decodes_or_refuses(_fix_checksums(bytes(b)))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
NON_FINITE = st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
HEADER_KEYS = sorted(header_dict())


@SETTINGS
@given(st.dictionaries(st.sampled_from(HEADER_KEYS), JSON, min_size=1, max_size=4))
def test_header_fields_of_any_json_value(changes: dict[str, Any]) -> None:
    decodes_or_refuses(good_stream(header(**changes)))


@SETTINGS
@given(st.sampled_from(HEADER_KEYS), NON_FINITE)
def test_header_fields_that_are_not_finite(key: str, value: bytes) -> None:
    body = json.dumps(header_dict(**{key: 123456789.5})).encode()
    decodes_or_refuses(good_stream(raw_header(body.replace(b"123456789.5", value))))


STATUS_KEYS = ["overflows", "lost_frames", "dropped", "frames", "input_lost", "recording", "x"]


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(STATUS_KEYS), JSON, max_size=4), st.sampled_from([STATUS, END])
)
def test_status_and_end_fields_of_any_json_value(d: dict[str, Any], kind: int) -> None:
    rec = status(**d) if kind == STATUS else end(**d)
    decodes_or_refuses(good_stream(middle=rec))
    decodes_or_refuses(good_stream(tail=rec))


@SETTINGS
@given(st.dictionaries(st.sampled_from(STATUS_KEYS), JSON, max_size=4), NON_FINITE)
def test_status_numbers_that_are_not_finite(d: dict[str, Any], value: bytes) -> None:
    payload = json.dumps({**d, "overflows": 0.5}).encode().replace(b"0.5", value, 1)
    decodes_or_refuses(good_stream(middle=record(STATUS, payload)))


FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


@SETTINGS
@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    FLOATS,
    FLOATS,
    FLOATS,
    st.floats(width=32),
    st.lists(st.tuples(FLOATS, FLOATS, FLOATS), max_size=5),
)
def test_frame_fields_of_any_value(
    index: int,
    start: int,
    t: float,
    rms: float,
    peak: float,
    latency: float,
    peaks: list[tuple[float, float, float]],
) -> None:
    f = frame(index=index, start=start, t=t, rms=rms, peak=peak, latency=latency, peaks=peaks)
    decodes_or_refuses(good_stream(middle=f))


@SETTINGS
@given(st.binary(max_size=600), st.integers(0, 255))
def test_frame_rows_and_peak_counts_of_any_bytes(row: bytes, npeaks: int) -> None:
    fixed = frame()[9 : 9 + 44]
    decodes_or_refuses(good_stream(middle=raw_frame(fixed + bytes([npeaks]) + row)))
    compressed = zlib.compress(row)
    decodes_or_refuses(good_stream(middle=raw_frame(fixed + b"\0" + compressed)))


@SETTINGS
@given(st.integers(2, 4096), st.integers(0, 64))
def test_rows_of_lying_lengths(sent_codes: int, npeaks: int) -> None:
    """A row that inflates to any length (up to a bomb's) is refused unless it is exact."""
    fixed = frame()[9 : 9 + 44]
    row = zlib.compress(np.zeros(sent_codes, dtype=np.uint16).tobytes())
    decodes_or_refuses(good_stream(middle=raw_frame(fixed + bytes([min(npeaks, 3)]) + row)))


def test_the_good_stream_decodes() -> None:
    got = decode(GOOD)
    assert len(got) == 1 + 8 + 1  # STATUS, the frames, END
    assert got[-1] == {"reason": "end of input"}
