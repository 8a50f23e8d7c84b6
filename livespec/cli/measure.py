"""``livespec measure``: level, THD, THD+N, SNR, SINAD and noise of the dominant tone.

Headless. Frames of ``--fft`` samples (default: bins of at most 1.5 Hz, 32768 at 48 kHz),
75 % overlap, the 7-term Blackman-Harris window; power spectra averaged per ``--average``;
one result per ``--interval`` (docs/measure.md). Files, stdin and test signals with a
duration are read as fast as they come, synchronously on the main thread, and nothing is
skipped; a device (or an endless test signal) runs in real time: its producer fills the
ring and the main thread analyses what has arrived every few milliseconds.

Built by :mod:`livespec.cli`: ``add_measure_arguments`` adds the measure-only options to a
parser that already has the common and source options; ``run_measure`` runs it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from livespec.cli.checks import check_duration
from livespec.config import WEIGHTING_CHOICES, Config
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    LivespecError,
    UsageError,
    printable,
    write_out,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from livespec.audio.base import Source
    from livespec.audio.framer import Framer
    from livespec.dsp.averaging import AverageSpec
    from livespec.dsp.measure import Measurement, Measurer
    from livespec.pipeline import Pipeline

HARMONICS_MIN, HARMONICS_MAX = 2, 100  # THD counts harmonics 2..N, N in this range


def add_measure_arguments(p: argparse.ArgumentParser) -> None:
    """Add the measure-only options to ``p`` (source options come from cli)."""
    g = p.add_argument_group("measurement (see docs/measure.md)")
    g.add_argument("--json", action="store_true", help="one JSON object per interval")
    g.add_argument(
        "--duration", metavar="S", type=float, help="stop after S seconds (a file ends by itself)"
    )
    g.add_argument(
        "--interval",
        metavar="S",
        type=float,
        default=1.0,
        help="one result per S seconds of audio (1); 0 = one result at the end",
    )
    g.add_argument(
        "--harmonics", metavar="N", type=int, default=10, help="THD counts harmonics 2..N (10)"
    )
    g.add_argument(
        "--band", metavar="LO-HI", help="band in Hz the figures cover (20-20000, or to Nyquist)"
    )
    g.add_argument(
        "--average",
        metavar="A",
        default="block",
        help="power averaging: block (all frames of the interval), exp:TAU (seconds), "
        "lin:N (last N frames), peak (peak hold since the last result), none (the last "
        "frame) (block)",
    )
    g.add_argument(
        "--weighting",
        metavar="W",
        type=str.upper,
        choices=WEIGHTING_CHOICES,
        default="Z",
        help="weighting of harmonics and noise: A, C (IEC 61672) or Z (none) (Z)",
    )
    g.add_argument(
        "--calibrate",
        nargs=2,
        metavar=("DB", "UNIT"),
        help="also show levels in UNIT = dBFS + DB, e.g. --calibrate 114 'dB SPL'",
    )
    g.add_argument(
        "--fft",
        dest="measure_fft",
        metavar="N",
        type=int,
        help="samples per measurement frame, even, 1024..1048576 (bins <= 1.5 Hz: 32768 at 48 kHz)",
    )
    g.add_argument(
        "--realtime", action="store_true", help="pace files and test signals at their sample rate"
    )


@dataclass(frozen=True)
class MeasureOptions:
    """The validated measure-only options."""

    json: bool
    duration: float | None
    interval: float
    harmonics: int
    band: tuple[float, float] | None
    average: AverageSpec
    weighting: str
    calibration_db: float | None
    calibration_unit: str
    fft: int | None
    realtime: bool


def parse_band(text: str) -> tuple[float, float]:
    """``"LO-HI"`` in Hz -> (lo, hi); raises UsageError."""
    lo_s, sep, hi_s = text.partition("-")
    try:
        if not sep:
            raise ValueError
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise UsageError(f"--band {text}: must be LO-HI in Hz, e.g. 20-20000") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi):
        raise UsageError(f"--band {text}: need 0 <= LO < HI (Hz)")
    return lo, hi


def options_from(ns: argparse.Namespace, cfg: Config) -> MeasureOptions:
    """Validate the measure options; the calibration comes from ``--calibrate`` or else
    the config's ``[measure]`` table, if the config has one (read defensively)."""
    from livespec.dsp.averaging import parse_average

    check_duration(ns.duration)
    if not (ns.interval >= 0 and math.isfinite(ns.interval)):
        raise UsageError(f"--interval {ns.interval:g}: must be 0 or positive")
    if not HARMONICS_MIN <= ns.harmonics <= HARMONICS_MAX:
        raise UsageError(
            f"--harmonics {ns.harmonics}: must be an integer from {HARMONICS_MIN} to "
            f"{HARMONICS_MAX}"
        )
    try:
        average = parse_average(ns.average)
    except ValueError as exc:
        raise UsageError(f"--average {exc}") from None
    fft = ns.measure_fft
    if fft is not None and not (1024 <= fft <= 1 << 20 and fft % 2 == 0):
        raise UsageError(f"--fft {fft}: must be an even integer from 1024 to 1048576")
    section = getattr(cfg, "measure", None)
    cal_db = getattr(section, "calibration_db", None)
    cal_unit = str(getattr(section, "calibration_unit", "") or "")
    if ns.calibrate is not None:
        db_text, unit = ns.calibrate
        try:
            cal_db = float(db_text)
        except ValueError:
            cal_db = math.nan
        if not math.isfinite(cal_db) or abs(cal_db) > 1000:
            raise UsageError(f"--calibrate {db_text}: DB must be a number from -1000 to 1000")
        cal_unit = unit.strip()
        if not cal_unit:
            raise UsageError("--calibrate: UNIT must not be empty")
    if cal_db is not None and not cal_unit:
        cal_unit = "dB"
    return MeasureOptions(
        json=bool(ns.json),
        duration=ns.duration,
        interval=float(ns.interval),
        harmonics=int(ns.harmonics),
        band=None if ns.band is None else parse_band(ns.band),
        average=average,
        weighting=ns.weighting,
        calibration_db=None if cal_db is None else float(cal_db),
        calibration_unit=cal_unit,
        fft=fft,
        realtime=bool(ns.realtime),
    )


NO_TONE_NULLS = (  # Measurement.as_dict()'s figures, in its order
    "freq_hz", "level_dbfs", "total_dbfs", "thd_db", "thd_percent", "thdn_db", "thdn_percent",
    "snr_db", "sinad_db", "noise_dbfs", "noise_density_dbfs_hz",
)  # fmt: skip


def record(
    m: Measurement | None,
    t: float,
    frames: int,
    opts: MeasureOptions,
    measurer: Measurer,
    overflows: int,
) -> dict[str, Any]:
    """One JSON object: the measurement ``m`` (a Measurement or None) at ``t`` seconds."""
    rec: dict[str, Any] = {"t": round(t, 6)}
    if m is None:  # no tone: the same keys, the figures null
        lo, hi = measurer.band_hz
        rec.update(dict.fromkeys(NO_TONE_NULLS))
        rec.update(
            band_hz=[lo, hi],
            harmonics_used=0,
            harmonics_requested=opts.harmonics,
            harmonics=[],
            weighting=opts.weighting,
        )
    else:
        rec.update(m.as_dict())
    if opts.calibration_db is not None:
        cal = opts.calibration_db
        rec["unit"] = opts.calibration_unit
        for key in ("level", "noise"):
            v = rec.get(f"{key}_dbfs")
            rec[key] = None if v is None else round(v + cal, 4)
    rec.update(
        {
            "frames": frames,
            "average": opts.average.describe(),
            "fft": measurer.n,
            "window": measurer.window_name,
            "samplerate": measurer.samplerate,
            "overflows": overflows,
        }
    )
    return rec


def text_line(rec: dict[str, Any]) -> str:
    """One human-readable line for a record from :func:`record`."""

    def f(key: str, fmt: str, unit: str = "") -> str:
        v = rec.get(key)
        return "  --  " + unit if v is None else format(v, fmt) + unit

    if rec.get("freq_hz") is None:
        return f"{rec['t']:9.3f} s  (no tone)"
    parts = [
        f"{rec['t']:9.3f} s",
        f"{rec['freq_hz']:10.3f} Hz",
        f("level_dbfs", "7.2f", " dBFS"),
    ]
    if "unit" in rec:
        parts.append(f("level", "7.2f", f" {printable(rec['unit'])}"))
    parts += [
        "THD " + f("thd_db", "7.2f", " dB") + " (" + f("thd_percent", ".4f", " %") + ")",
        "THD+N " + f("thdn_db", "7.2f", " dB"),
        "SNR " + f("snr_db", "6.2f", " dB"),
        "SINAD " + f("sinad_db", "6.2f", " dB"),
        "noise " + f("noise_dbfs", "7.2f", " dBFS"),
    ]
    if "unit" in rec:
        parts.append(f("noise", "7.2f", f" {printable(rec['unit'])}"))
    if rec.get("overflows"):
        parts.append(f"overflows {rec['overflows']}")
    return "  ".join(parts)


def header_line(opts: MeasureOptions, measurer: Measurer) -> str:
    """The settings, as a comment line before the text output."""
    lo, hi = measurer.band_hz
    used = "Z (none)" if opts.weighting == "Z" else opts.weighting
    return (
        f"# band {lo:g}-{hi:g} Hz, harmonics 2-{opts.harmonics}, weighting {used}, "
        f"{measurer.window_name} window, FFT {measurer.n} ({measurer.bin_hz:.3f} Hz bins), "
        f"hop {measurer.hop}, average {opts.average.describe()}, interval "
        + (f"{opts.interval:g} s" if opts.interval else "whole input")
    )


class _Reporter:
    """Feeds frames to the averager and writes one result per interval (main thread)."""

    def __init__(
        self, opts: MeasureOptions, measurer: Measurer, source: Source, out: TextIO
    ) -> None:
        from livespec.dsp.averaging import make_averager

        self.opts, self.measurer, self.source, self.out = opts, measurer, source, out
        period = measurer.hop / measurer.samplerate
        self.averager = make_averager(opts.average, measurer.bins, period)
        self.reset_each = opts.average.kind in ("block", "peak")
        self.next_t = opts.interval if opts.interval else math.inf
        self.since_report = 0
        self.results = 0
        self.last_t = 0.0
        self.avg: npt.NDArray[np.float64] | None = None

    def frame(self, power: npt.NDArray[np.float64], t_end: float) -> None:
        """Add one frame's power row; its last sample is at ``t_end`` seconds."""
        self.avg = self.averager.update(power)
        self.since_report += 1
        self.last_t = t_end
        if t_end >= self.next_t:
            self.report()
            iv = self.opts.interval
            self.next_t = (math.floor(t_end / iv + 1e-9) + 1) * iv

    def report(self) -> None:
        """Measure the current average (after at least one frame) and write it."""
        assert self.avg is not None
        m = self.measurer.measure(self.avg, self.measurer.equivalent_frames(self.averager))
        rec = record(
            m,
            self.last_t,
            self.averager.count,
            self.opts,
            self.measurer,
            int(self.source.overflows),
        )
        line = json.dumps(rec) if self.opts.json else text_line(rec)
        write_out(self.out, line + "\n", bool(self.opts.interval) or self.out.isatty())
        self.results += 1
        self.since_report = 0
        if self.reset_each:
            self.averager.reset()

    def finish(self) -> None:
        """Report the frames since the last result, if any."""
        if self.since_report:
            self.report()


def run_measure(ns: argparse.Namespace, cfg: Config) -> int:
    """``livespec measure``: one line per interval on stdout; returns the exit status."""
    from livespec.audio.framer import Framer
    from livespec.dsp.measure import Measurer
    from livespec.pipeline import Pipeline, runs_in_realtime

    opts = options_from(ns, cfg)
    realtime = runs_in_realtime(cfg, opts.duration, forced=opts.realtime)
    with Pipeline(cfg, realtime=realtime, max_seconds=opts.duration) as pipe:
        fs = pipe.source.samplerate
        try:
            measurer = Measurer(
                fs,
                opts.fft,
                harmonics=opts.harmonics,
                band=opts.band,
                weighting=opts.weighting,
                backend=cfg.analysis.backend,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        n = measurer.n
        framer = Framer(pipe.make_ring(frame=n), n, measurer.hop, origin=0)
        reporter = _Reporter(opts, measurer, pipe.source, sys.stdout)
        if not opts.json:
            write_out(sys.stdout, header_line(opts, measurer) + "\n", False)
        channel = pipe.channel

        def process() -> int:
            return framer.process(
                lambda view: measurer.power(view, channel),
                lambda index, start, power: reporter.frame(power, (start + n) / fs),
            )

        if pipe.synchronous:
            # Keep the ring from wrapping past the next frame: pump at most what fits.
            pipe.pump(process, framer.room)
        else:
            try:
                _run_live(pipe, framer, process, opts.duration)
            except KeyboardInterrupt:  # Ctrl-C ends a live measurement: report it, then 130
                reporter.finish()
                sys.stdout.flush()
                raise
        if framer.delivered == 0:
            raise UsageError(
                f"the input is shorter than one measurement frame ({n} samples, "
                f"{n / fs:.3g} s); give a smaller --fft"
            )
        reporter.finish()
    write_out(sys.stdout, "", True)
    pipe.say_notes()
    if framer.lost:
        print(
            f"livespec: {framer.lost} measurement frame(s) skipped (the analysis fell behind)",
            file=sys.stderr,
        )
    return EXIT_OK


def _run_live(
    pipe: Pipeline, framer: Framer, process: Callable[[], int], duration: float | None
) -> None:
    """Real-time path: the source's producer writes the ring; this (main) thread analyses
    what has arrived, until the duration, the end of the source or Ctrl-C."""
    from livespec.pipeline import analysis_errors

    source = pipe.source
    if duration is not None:
        framer.limit = round(duration * source.samplerate)
    pipe.start()
    while True:
        with analysis_errors():
            process()
        for event in pipe.poll():
            if event.kind == "source failed" and event.error is not None:
                raise event.error
            if event.fatal:
                raise LivespecError(event.message, EXIT_FAILURE)
            print(f"livespec: {printable(event.message)}", file=sys.stderr)
        if framer.limit is not None and framer.next_end > framer.limit:
            return
        if source.finished:
            with analysis_errors():
                process()
            return
        time.sleep(0.01)
