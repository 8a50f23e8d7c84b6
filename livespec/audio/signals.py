"""Built-in test signals: ``tone:FREQ[@DBFS]``, ``chirp``, ``noise``, ``demo``, and sums.

A signal is a pure function of the sample index, generated block by block, so a paced
stream and a fast headless run of the same spec give the same samples.

Grammar (``+`` sums parts)::

    tone:440                  a sine at 440 Hz, -6 dBFS peak
    tone:440,1000@-20         two sines, each -20 dBFS
    tone:1000@-3+noise@-90    a sine plus white noise (-90 dBFS RMS)
    chirp                     log sweep 20 Hz .. 20 kHz (clamped below Nyquist) every 10 s
    chirp:100-5000@-12        log sweep 100 Hz .. 5 kHz at -12 dBFS
    noise / noise:white / noise:pink [@DBFS]    noise, -30 dBFS RMS by default
    demo                      a lively mix for the quick start
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livespec.audio import noise_cache
from livespec.errors import UsageError

DEFAULT_TONE_DBFS = -6.0
DEFAULT_NOISE_DBFS = -30.0
CHIRP_PERIOD_S = 10.0
CHIRP_FADE_S = 0.005  # fade in/out at each restart of the sweep
MAX_LEVEL_DBFS = 20.0  # highest level a part may ask for (float samples up to 10.0)

F64 = npt.NDArray[np.float64]


def _db_to_amp(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def _fade(x: F64, ramp: F64) -> None:
    """``x *= sin(pi/2 * ramp)**2`` in place, computed only where ``ramp`` < 1 (the rest
    is multiplied by exactly 1)."""
    fading = np.flatnonzero(ramp < 1.0)
    if fading.size:
        x[fading] *= np.sin(0.5 * np.pi * ramp[fading]) ** 2


class Part:
    """One additive component; ``render`` returns float64 samples for ``[start, start+n)``."""

    def render(self, start: int, n: int, fs: float) -> F64:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Tone(Part):
    """A sine of ``freq`` Hz and ``dbfs`` peak level (0 dBFS = amplitude 1.0)."""

    freq: float
    dbfs: float = DEFAULT_TONE_DBFS

    def render(self, start: int, n: int, fs: float) -> F64:
        x = np.arange(start, start + n, dtype=np.float64)
        # Reduce the phase modulo one cycle in exact-ish arithmetic to keep precision for
        # large sample indices (hours of signal). In place: one array, not five.
        np.multiply(x, self.freq / fs, out=x)
        np.mod(x, 1.0, out=x)
        np.multiply(x, 2.0 * np.pi, out=x)
        np.sin(x, out=x)
        np.multiply(x, _db_to_amp(self.dbfs), out=x)
        return x


@dataclass
class Chirp(Part):
    """A logarithmic sweep from ``f0`` to ``f1`` Hz, restarting every ``period`` seconds."""

    f0: float = 20.0
    f1: float = 20000.0
    dbfs: float = DEFAULT_TONE_DBFS
    period: float = CHIRP_PERIOD_S

    def render(self, start: int, n: int, fs: float) -> F64:
        f1 = min(self.f1, 0.45 * fs)
        f0 = min(self.f0, f1)
        t = np.mod(np.arange(start, start + n, dtype=np.float64) / fs, self.period)
        k = math.log(f1 / f0) / self.period if f1 > f0 else 0.0
        if k == 0.0:
            phase = 2 * np.pi * f0 * t
        else:  # instantaneous frequency f0*exp(k t)
            phase = 2 * np.pi * f0 * (np.exp(k * t) - 1.0) / k
        # 5 ms fades at each restart, so the jump back to f0 does not click.
        ramp = np.minimum(np.minimum(t, self.period - t) / CHIRP_FADE_S, 1.0)
        out = np.sin(phase)
        out *= _db_to_amp(self.dbfs)
        _fade(out, ramp)
        return out


@dataclass
class Noise(Part):
    """White or pink noise at ``dbfs`` RMS, from a fixed seed (a repeating 2**18 table)."""

    color: str = "white"
    dbfs: float = DEFAULT_NOISE_DBFS
    seed: int = 1234

    def __post_init__(self) -> None:
        self._table: F64 | None = None  # made by the first render (the producer's thread)

    def table(self) -> F64:
        """The repeating noise table (2**18 samples), made on first use: 30 ms that the
        app's start-up need not wait for on its main thread. The shaped noise before its
        level is kept in the user's cache folder, from where it loads in 2 ms
        (:mod:`livespec.audio.noise_cache`)."""
        if self._table is not None:
            return self._table
        size = 1 << 18
        path = noise_cache.table_path(self.color, self.seed, size)
        white = noise_cache.load(path, size)
        if white is None:
            rng = np.random.default_rng(self.seed)
            white = rng.standard_normal(size)
            if self.color == "pink":  # shape the spectrum by 1/sqrt(f) (-3 dB per octave)
                spec = np.fft.rfft(white)
                f = np.arange(spec.size, dtype=np.float64)
                f[0] = 1.0
                spec /= np.sqrt(f)
                spec[0] = 0.0
                white = np.fft.irfft(spec, size)
            white -= white.mean()
            noise_cache.save(path, white)
        white *= _db_to_amp(self.dbfs) / float(np.sqrt(np.mean(white**2)))
        self._table = white
        return white

    def render(self, start: int, n: int, fs: float) -> F64:
        table = self.table()
        idx = np.arange(start, start + n) % table.size
        return table[idx]


class Demo(Part):
    """A lively, deterministic mix: a melody with harmonics, a slow sweep, pink noise."""

    # A pentatonic phrase (Hz); each note lasts 0.4 s.
    MELODY = (440.0, 523.25, 587.33, 659.25, 783.99, 659.25, 587.33, 523.25,
              392.0, 440.0, 659.25, 880.0, 783.99, 587.33, 493.88, 440.0)  # fmt: skip
    NOTE_S = 0.4

    def __init__(self) -> None:
        self._noise = Noise("pink", -62.0)
        self._sweep = Chirp(200.0, 12000.0, -30.0, 8.0)

    def render(self, start: int, n: int, fs: float) -> F64:
        idx = np.arange(start, start + n, dtype=np.float64)
        t = idx / fs
        note = (np.floor(t / self.NOTE_S).astype(np.int64)) % len(self.MELODY)
        f = np.asarray(self.MELODY)[note]
        tn = np.mod(t, self.NOTE_S)  # time within the note
        # A plucked envelope with a 10 ms attack and a 30 ms release, so that notes start and
        # end without a click (each note's phase starts afresh).
        ramp = np.minimum(np.minimum(tn / 0.010, (self.NOTE_S - tn) / 0.030), 1.0)
        env = np.exp(-tn * 5.0) * 0.5
        _fade(env, ramp)
        # The harmonics sin(h x), h = 1..5, by the recurrence sin((h+1)x) = 2 cos(x)
        # sin(hx) - sin((h-1)x): two sines' cost instead of five (the app's demo input).
        x = 2 * np.pi * f * tn
        two_cos = 2.0 * np.cos(x)
        lower, s = np.zeros(n), np.sin(x)
        out = s.copy()
        for g in (0.35, 0.18, 0.08, 0.04):
            lower, s = s, two_cos * s - lower
            out += g * s
        out *= env
        # A pad near 3 kHz whose pitch wobbles by +-1 kHz every 2 s (FM).
        out += 0.02 * np.sin(2 * np.pi * (3000.0 * t - (1000.0 / np.pi) * np.cos(np.pi * t)))
        out += self._sweep.render(start, n, fs)
        out += self._noise.render(start, n, fs)
        return out


def _level(text: str, default: float, spec: str) -> tuple[str, float]:
    if "@" in text:
        body, _, lvl = text.partition("@")
        try:
            level = float(lvl)
        except ValueError:
            raise UsageError(
                f"bad level '{lvl}' in --input {spec!r}: expected dBFS, e.g. @-20"
            ) from None
        if not math.isfinite(level) or level > MAX_LEVEL_DBFS:
            raise UsageError(
                f"level '{lvl}' in --input {spec!r}: must be a number of dBFS up to "
                f"+{MAX_LEVEL_DBFS:g} (0 dBFS is full scale; above it the float samples "
                "exceed 1.0 and clip in any integer format)"
            )
        return body, level
    return text, default


def _freq(text: str, spec: str) -> float:
    t = text.strip().lower()
    mult = 1.0
    if t.endswith("khz"):
        t, mult = t[:-3], 1000.0
    elif t.endswith("hz"):
        t = t[:-2]
    elif t.endswith("k"):
        t, mult = t[:-1], 1000.0
    try:
        f = float(t) * mult
    except ValueError:
        raise UsageError(f"bad frequency '{text}' in --input {spec!r}") from None
    if not f > 0 or not math.isfinite(f):
        raise UsageError(f"frequency must be positive in --input {spec!r}")
    return f


def parse_signal(spec: str) -> list[Part]:
    """Parse a test-signal spec (see module doc) into parts; raise UsageError if malformed."""
    parts: list[Part] = []
    for item in spec.split("+"):
        item = item.strip()
        kind, _, arg = item.partition(":")
        kind = kind.lower()
        if kind == "tone":
            body, db = _level(arg, DEFAULT_TONE_DBFS, spec)
            if not body:
                raise UsageError(f"--input {spec!r}: give a frequency, e.g. tone:1000@-6")
            parts += [Tone(_freq(f, spec), db) for f in body.split(",")]
        elif kind.startswith("chirp"):
            body, db = _level(arg if arg else kind[5:], DEFAULT_TONE_DBFS, spec)
            if body:
                lo, sep, hi = body.partition("-")
                if not sep:
                    raise UsageError(f"--input {spec!r}: a chirp range is F0-F1, e.g. 100-5000")
                parts.append(Chirp(_freq(lo, spec), _freq(hi, spec), db))
            else:
                parts.append(Chirp(dbfs=db))
        elif kind.startswith("noise"):
            body, db = _level(arg if arg else kind[5:], DEFAULT_NOISE_DBFS, spec)
            color = body.lower() or "white"
            if color not in ("white", "pink"):
                raise UsageError(f"--input {spec!r}: noise is white or pink")
            parts.append(Noise(color, db))
        elif kind == "demo" and not arg:
            parts.append(Demo())
        else:
            raise UsageError(
                f"unknown test signal {item!r}: use tone:FREQ[@DBFS], chirp[:F0-F1], "
                "noise[:pink], demo, or a file path"
            )
    return parts


def is_signal_spec(text: str) -> bool:
    """True if ``text`` names a built-in signal rather than a file."""
    head = text.split("+", 1)[0].split(":", 1)[0].split("@", 1)[0].lower()
    return head in ("tone", "chirp", "noise", "demo")


def render(parts: list[Part], start: int, n: int, fs: float, out: npt.NDArray[np.float32]) -> None:
    """Sum all parts for samples ``[start, start+n)`` into ``out[:n]`` (float32)."""
    if len(parts) == 1:  # the sum of one part is that part
        out[:n] = parts[0].render(start, n, fs)
        return
    acc = np.zeros(n)
    for p in parts:
        acc += p.render(start, n, fs)
    out[:n] = acc
