"""The livespec stream format: analysed frames as a compact, versioned binary stream.

``livespec stream`` writes it, ``livespec view`` reads it (docs/ssh.md has the full
specification). Layout, all integers little-endian::

    header   b"LSPC"  u16 version  u16 flags(0)  u32 n  n bytes of UTF-8 JSON  u32 crc32(JSON)
    record   u8 type  u32 n  u32 crc32(payload)  n bytes of payload      (repeated)

Record types: ``FRAME`` (one analysed frame: times, levels, exact peaks, the quantised dB
row), ``STATUS`` (JSON: counters, input and recording state; sent on change and once a
second as a heartbeat) and ``END`` (JSON: why the stream ended; always the last record).
Unknown record types with a good checksum are skipped, so later versions can add records
without breaking older readers.

The dB row is sent for ``len(groups)`` bins: group ``i`` is the maximum of the FFT bins
``groups[i] .. groups[i+1]-1`` (the last one up to ``stop``), so peaks survive the
reduction. On the default log grid the low bins are sent one by one and the high ones
grouped. Values are coded as ``round((dB - DB_OFFSET) / DB_STEP)`` in 0..``DB_MAX_CODE``,
differenced along frequency, zig-zag mapped, split into a low-byte and a high-byte plane
and compressed with zlib.

Pure code: no Textual. Encoders run on the writer's threads, decoders on the reader's.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from livespec.dsp.peaks import Peak, note_name
from livespec.engine import Frame
from livespec.errors import LivespecError
from livespec.stream import limits as L
from livespec.stream.limits import MAX_HEADER, MAX_RECORD

MAGIC = b"LSPC"
VERSION = 1
MAX_VERSION = 255  # a higher version field: not a livespec stream
FRAME, STATUS, END = 1, 2, 3
DB_STEP = 0.5  # dB per code
DB_OFFSET = -160.0  # dBFS of code 0; lower values are sent as this
DB_MAX_CODE = 360  # code of +20 dBFS; higher values are sent as this
NO_DATA_DB = -400.0  # FFT bins outside the streamed range (matches render.view)
GRIDS = ("log", "linear")

_HEAD = struct.Struct("<4sHHI")
_REC = struct.Struct("<BII")
_FRAME = struct.Struct("<QQdddfB")  # index, start, t, rms_dbfs, peak_dbfs, latency, peaks
_PEAK = struct.Struct("<ddd")  # freq_hz, level_dbfs, bin
U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


class Readable(Protocol):
    """What the reader needs: ``read(n)`` returns n bytes, or fewer only at EOF."""

    def read(self, n: int, /) -> bytes: ...


class StreamError(LivespecError):
    """A stream that is not livespec's, is newer, or is damaged (one line, status 2)."""


# -- the header -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamHeader:
    """What a reader needs to rebuild the analysis settings and the frames.

    Attributes:
        samplerate: Hz.  fft, zero_pad, window, beta, hop: the remote analysis (samples).
        frame_hop: samples between streamed frames (>= hop when frames are combined).
        bins: FFT bins of a full row (fft * zero_pad // 2 + 1).
        groups: first FFT bin of each sent bin; stop: the bin after the last group.
        peaks: peaks per frame; a4: Hz, for note names; fmin, fmax: shown range, Hz.
        info: free-form description (source, host, livespec version, start time).
    """

    samplerate: int
    fft: int
    zero_pad: int
    window: str
    beta: float
    hop: int
    frame_hop: int
    bins: int
    groups: tuple[int, ...]
    stop: int
    peaks: int
    a4: float
    fmin: float
    fmax: float | None
    grid: str = "log"
    info: dict[str, object] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        """dB values per streamed row."""
        return len(self.groups)

    def to_json(self) -> dict[str, object]:
        """The header's JSON object (keys as in docs/ssh.md)."""
        return {
            "format": "livespec-stream",
            "samplerate": self.samplerate,
            "fft": self.fft,
            "zero_pad": self.zero_pad,
            "window": self.window,
            "beta": self.beta,
            "hop": self.hop,
            "frame_hop": self.frame_hop,
            "bins": self.bins,
            "grid": self.grid,
            "groups": list(self.groups),
            "stop": self.stop,
            "peaks": self.peaks,
            "a4": self.a4,
            "fmin": self.fmin,
            "fmax": self.fmax,
            "db_step": DB_STEP,
            "db_offset": DB_OFFSET,
            "db_max_code": DB_MAX_CODE,
            "row_coding": "zlib(planes(zigzag(diff(code))))",
            "info": self.info,
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> StreamHeader:
        """Validate a decoded header object (:func:`limits.loads`: texts escaped) against
        the limits in :mod:`livespec.stream.limits`; raises ValueError naming the field."""
        if d.get("format") != "livespec-stream":
            raise ValueError("header: not a livespec-stream header")
        if (d.get("db_step"), d.get("db_offset"), d.get("db_max_code")) != (
            DB_STEP,
            DB_OFFSET,
            DB_MAX_CODE,
        ):
            raise ValueError("header: unknown dB quantisation")
        fs = L.integer(d, "samplerate", 1, L.MAX_SAMPLERATE)
        bins = L.integer(d, "bins", 2, L.MAX_BINS)
        fft = L.integer(d, "fft", *L.FFT_RANGE)
        zero_pad = L.integer(d, "zero_pad", 1, L.MAX_ZERO_PAD)
        if fft * zero_pad > L.MAX_FFT_LENGTH:
            raise ValueError(f"fft {fft} x zero_pad {zero_pad} above {L.MAX_FFT_LENGTH}")
        if bins != fft * zero_pad // 2 + 1:
            raise ValueError(
                f"bins = {bins}, but fft {fft} x zero_pad {zero_pad} gives "
                f"{fft * zero_pad // 2 + 1}"
            )
        stop = L.integer(d, "stop", 1, bins)
        groups = d.get("groups")
        if not isinstance(groups, list) or not 1 <= len(groups) <= L.MAX_SENT:
            raise ValueError(f"groups: a list of 1 to {L.MAX_SENT} bins")
        if not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x < stop for x in groups
        ):
            raise ValueError(f"groups: not all bins from 0 to stop {stop}")
        if np.any(np.diff(np.asarray(groups, dtype=np.int64)) <= 0):
            raise ValueError("groups: not increasing")
        hop = L.integer(d, "hop", 1, L.MAX_HOP)
        fmin = L.number(d, "fmin", 0.0, fs / 2.0)
        fmax = None if d.get("fmax") is None else L.number(d, "fmax", 0.0, L.MAX_HZ)
        if fmin >= fs / 2.0 or (fmax is not None and fmax <= fmin):
            raise ValueError(f"fmin = {fmin:g} Hz, fmax = {fmax} Hz: an empty band at {fs} Hz")
        info = d.get("info", {})
        if not isinstance(info, dict):
            raise ValueError("info: not a JSON object")
        return cls(
            samplerate=fs,
            fft=fft,
            zero_pad=zero_pad,
            window=L.text(d, "window", ""),
            beta=L.number(d, "beta", -L.MAX_DB, L.MAX_DB),
            hop=hop,
            frame_hop=L.integer(d, "frame_hop", hop, L.MAX_FRAME_HOP),
            bins=bins,
            groups=tuple(int(x) for x in groups),
            stop=stop,
            peaks=L.integer(d, "peaks", 0, L.MAX_PEAKS),
            a4=L.number(d, "a4", 1.0, L.MAX_HZ),
            fmin=fmin,
            fmax=fmax,
            grid=L.text(d, "grid", "log"),
            info=info,
        )


def encode_header(h: StreamHeader) -> bytes:
    """The stream's first bytes (magic, version, JSON header, checksum)."""
    body = json.dumps(h.to_json(), separators=(",", ":")).encode()
    return _HEAD.pack(MAGIC, VERSION, 0, len(body)) + body + struct.pack("<I", zlib.crc32(body))


# -- records --------------------------------------------------------------------------------


def record(kind: int, payload: bytes) -> bytes:
    """One framed record."""
    return _REC.pack(kind, len(payload), zlib.crc32(payload)) + payload


def encode_json_record(kind: int, obj: Mapping[str, object]) -> bytes:
    """A STATUS or END record."""
    return record(kind, json.dumps(obj, separators=(",", ":")).encode())


def quantise(db: npt.NDArray[np.floating]) -> npt.NDArray[np.int16]:
    """dBFS values -> codes 0..DB_MAX_CODE (error at most DB_STEP / 2 within range)."""
    q: F32 = np.subtract(db, np.float32(DB_OFFSET), dtype=np.float32)
    q *= np.float32(1.0 / DB_STEP)
    np.clip(q, 0.0, float(DB_MAX_CODE), out=q)
    np.rint(q, out=q)
    return q.astype(np.int16)


def encode_row(db: npt.NDArray[np.floating]) -> bytes:
    """Quantise, difference, zig-zag, split into byte planes and compress one row."""
    q = quantise(db)
    d = np.empty_like(q)
    d[0] = q[0]
    np.subtract(q[1:], q[:-1], out=d[1:])
    z = ((d << 1) ^ (d >> 15)).astype("<u2", copy=False)
    planes = z.view(np.uint8).reshape(-1, 2).T  # low bytes, then high bytes
    return zlib.compress(planes.tobytes(), 6)


def decode_row(data: bytes, n: int) -> F32:
    """The inverse of :func:`encode_row`: ``n`` dBFS values (float32); ValueError if bad."""
    raw = zlib.decompressobj().decompress(data, 2 * n + 1)
    if len(raw) != 2 * n:
        raise ValueError(f"row has {len(raw)} bytes, expected {2 * n}")
    b = np.frombuffer(raw, dtype=np.uint8).reshape(2, n).astype(np.int32)
    z = b[0] | (b[1] << 8)
    q = np.cumsum((z >> 1) ^ -(z & 1))
    if q.min() < 0 or q.max() > DB_MAX_CODE:
        raise ValueError("row codes out of range")
    return (q * np.float32(DB_STEP) + np.float32(DB_OFFSET)).astype(np.float32)


def encode_frame(
    index: int,
    start: int,
    t: float,
    rms_dbfs: float,
    peak_dbfs: float,
    latency: float,
    peaks: tuple[Peak, ...],
    row: npt.NDArray[np.floating],
) -> bytes:
    """A FRAME record: the row of sent bins (dBFS) and the engine's exact peaks."""
    parts = [_FRAME.pack(index, start, t, rms_dbfs, peak_dbfs, latency, len(peaks))]
    parts += [_PEAK.pack(p.freq_hz, p.level_dbfs, p.bin) for p in peaks]
    parts.append(encode_row(row))
    return record(FRAME, b"".join(parts))


# -- the reader side ------------------------------------------------------------------------


class StreamReader:
    """Reads and validates a stream from a binary file object (the reader's thread).

    Args:
        f: readable binary file (a pipe or a file); ``read(n)`` blocks until n bytes or EOF.
        name: how messages name it (``stdin`` or the file's path).

    Every problem raises :class:`StreamError` with one line naming ``name``.
    """

    def __init__(self, f: Readable, name: str) -> None:
        self.f, self.name = f, name
        self.offset = 0
        self.header = self._read_header()
        h = self.header
        self._counts = np.diff(np.append(np.asarray(h.groups, dtype=np.int64), h.stop))
        self.overflows = self.lost_frames = 0
        self.t = 0.0
        self.at = self.offset  # where the newest record starts
        self.kind = 0  # and its type

    def _read(self, n: int, what: str) -> bytes:
        data = self.f.read(n) if n else b""
        self.offset += len(data)
        if len(data) < n:
            if what == "record" and not data:
                return b""
            raise StreamError(
                f"{self.name}: truncated at byte {self.offset} (inside the {what}): the "
                "stream broke off; was the sender or the link stopped?"
            )
        return data

    def damaged(self, at: int, what: object) -> StreamError:
        """The error for a value that breaks the format or its limits at byte ``at``."""
        return StreamError(f"{self.name}: damaged stream at byte {at}: {what}")

    def _read_header(self) -> StreamHeader:
        head = self.f.read(_HEAD.size)
        self.offset += len(head)
        if not head:
            raise StreamError(
                f"{self.name}: empty: no livespec stream arrived "
                "(did 'livespec stream' fail on the other side?)"
            )
        if not MAGIC.startswith(head[:4]):
            raise StreamError(
                f"{self.name}: not a livespec stream (it does not start with LSPC); "
                "make one with 'livespec stream'"
            )
        if len(head) < _HEAD.size:
            raise StreamError(f"{self.name}: truncated in the header ({len(head)} bytes)")
        _, version, _flags, n = _HEAD.unpack(head)
        if not 1 <= version <= MAX_VERSION:
            raise StreamError(
                f"{self.name}: not a livespec stream (it starts with LSPC, but version "
                f"{version} is none livespec writes)"
            )
        if version != VERSION:
            raise StreamError(
                f"{self.name}: stream version {version}, but this livespec reads version "
                f"{VERSION}; use the same livespec version on both sides"
            )
        if n > MAX_HEADER:
            raise self.damaged(8, f"a header of {n} bytes (at most {MAX_HEADER})")
        body = self._read(n, "header")
        (crc,) = struct.unpack("<I", self._read(4, "header"))
        if zlib.crc32(body) != crc:
            raise StreamError(f"{self.name}: corrupt header (checksum mismatch)")
        try:
            return StreamHeader.from_json(L.loads(body, "header"))
        except ValueError as exc:
            raise self.damaged(_HEAD.size, exc) from None

    def next_record(self) -> tuple[int, bytes] | None:
        """The next (type, payload) with a good checksum; None at a clean EOF."""
        while True:
            at = self.at = self.offset
            head = self._read(_REC.size, "record")
            if not head:
                return None
            kind, n, crc = _REC.unpack(head)
            if n > MAX_RECORD:
                raise StreamError(
                    f"{self.name}: garbage at byte {at} (a record of {n} bytes, "
                    f"at most {MAX_RECORD})"
                )
            payload = self._read(n, "record")
            if len(payload) < n:
                raise StreamError(f"{self.name}: truncated at byte {self.offset} (inside a record)")
            if zlib.crc32(payload) != crc:
                raise StreamError(f"{self.name}: garbage at byte {at} (checksum mismatch)")
            if kind in (FRAME, STATUS, END):
                self.kind = kind
                return kind, payload
            # a record type from a later version: skip it

    def frame(self, payload: bytes) -> Frame:
        """Decode and check a FRAME payload into an engine-shaped :class:`Frame` (full FFT
        row)."""
        h = self.header
        if len(payload) < _FRAME.size:
            raise self.damaged(self.at, f"frame: too short ({len(payload)} bytes)")
        try:
            index, start, t, rms, peak, latency, npk = _FRAME.unpack_from(payload)
            L.check_frame(index, start, t, (rms, peak, latency), npk, h.peaks)
            at = _FRAME.size
            peaks = []
            for _ in range(npk):
                f, lv, b = _PEAK.unpack_from(payload, at)
                L.check_peak(f, lv, b, h.bins)
                at += _PEAK.size
                note, cents = note_name(f, h.a4)
                peaks.append(Peak(freq_hz=f, level_dbfs=lv, bin=b, note=note, cents=cents))
            sent = decode_row(payload[at:], h.sent)
        except (struct.error, ValueError, zlib.error) as exc:
            raise self.damaged(self.at, f"frame: {exc}") from None
        db = np.full(h.bins, NO_DATA_DB, dtype=np.float32)
        db[h.groups[0] : h.stop] = np.repeat(sent, self._counts)
        self.t = t
        return Frame(
            index=index,
            start=start,
            t=t,
            db=db,
            peaks=tuple(peaks),
            rms_dbfs=rms,
            peak_dbfs=peak,
            overflows=self.overflows,
            lost_frames=self.lost_frames,
            latency=latency,
        )

    def json_payload(self, payload: bytes) -> dict[str, object]:
        """Decode and check a STATUS or END payload (texts escaped)."""
        try:
            what = "END record" if self.kind == END else "STATUS record"
            d = L.check_end(L.check_status(L.loads(payload, what)))
        except ValueError as exc:
            raise self.damaged(self.at, exc) from None
        overflows = d.get("overflows")
        if isinstance(overflows, int):
            self.overflows = overflows
        if "lost_frames" in d or "dropped" in d:
            # The sender's engine counts analysis frames it skipped (``hop`` samples
            # apart), its writer the streamed frames it dropped (``frame_hop`` apart); the
            # viewer counts in streamed frames, so the first are converted.
            h = self.header
            lost = d.get("lost_frames", 0)
            dropped = d.get("dropped", 0)
            assert isinstance(lost, int) and isinstance(dropped, int)
            self.lost_frames = round(lost * h.hop / h.frame_hop) + dropped
        return d

    def missing_end(self) -> StreamError:
        """The error for an EOF without an END record."""
        return StreamError(
            f"{self.name}: the stream broke off after {self.t:.1f} s without its END "
            "record (the sender or the link died)"
        )
