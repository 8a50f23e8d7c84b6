"""The live app's markers as Audacity labels (the ``L`` key, ``--labels-out``).

The live view shows one second marker (``m``, :meth:`WaterfallView.set_marker`); every
marker set during the run is also kept here, as (seconds since the stream's start, Hz):
the frame's centre time the engine gave it (:attr:`livespec.engine.Frame.t`). ``L`` writes
them, in time order, as point labels ``m1 1000.0 Hz`` into a new file. Without a
recording: all of them, in seconds since the stream's start, in the recording folder
(``--record-dir``, else :func:`livespec.config.default_record_dir`) under
``livespec-YYYYmmdd-HHMMSS.labels.txt``. Once the run has a recording (``r``, running or
done): the markers inside the newest one, in seconds since its first frame (so the track
lines up with the WAV in Audacity), beside it as ``TAKE.labels.txt``. ``--labels-out
FILE`` names the file in both cases; an existing file is never replaced (``NAME-1``,
``NAME-2`` ... instead). A notice names the file. UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from livespec.annotate import AnnotationError
from livespec.annotate.labels import Label, write_labels
from livespec.config import default_record_dir
from livespec.errors import counted, printable
from livespec.render.view import WaterfallView
from livespec.tui.controllers.host import Host


def numbered(path: Path, k: int) -> Path:
    """``path`` with ``-k`` before its first suffix: ``a.labels.txt`` -> ``a-1.labels.txt``
    (``k`` = 0: ``path`` itself)."""
    if k == 0:
        return path
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}-{k}{dot}{rest}")


def new_labels_path(folder: Path, given: str | None, clock: float) -> Path:
    """Where ``L`` writes: ``given`` (``--labels-out``) or ``folder`` /
    ``livespec-YYYYmmdd-HHMMSS.labels.txt``; the first of ``NAME``, ``NAME-1`` ... that
    does not exist yet."""
    if given is not None:
        base = Path(given)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock))
        base = folder / f"livespec-{stamp}.labels.txt"
    k = 0
    while numbered(base, k).exists():
        k += 1
    return numbered(base, k)


def live_labels(markers: list[tuple[float, float]]) -> list[Label]:
    """Point labels ``m1 1000.0 Hz`` ... for markers (s since the stream's start, Hz), in
    time order (times at Audacity's six decimals)."""
    ordered = sorted(markers, key=lambda m: m[0])
    return [
        Label(round(t, 6), round(t, 6), f"m{i} {hz:.1f} Hz")
        for i, (t, hz) in enumerate(ordered, start=1)
    ]


class LiveMarkers:
    """Every marker set with ``m`` in this run, and saving them (``L``).

    Args:
        host: the app (notices).
        record_dir: the recording folder (None: the default one).
        labels_out: ``--labels-out`` (None: a new name in the recording folder).
        clock: wall-clock seconds, for the default file name.
        recording: the newest recording's (WAV, start s, end s) in stream seconds, or
            None (:meth:`RecordingController.span`).
    """

    def __init__(
        self,
        host: Host,
        record_dir: str | None,
        labels_out: str | None = None,
        clock: Callable[[], float] = time.time,
        recording: Callable[[], tuple[Path, float, float] | None] = lambda: None,
    ) -> None:
        self.host = host
        self.recording = recording
        self.folder = Path(record_dir) if record_dir else default_record_dir()
        self.labels_out = labels_out
        self.clock = clock
        self.markers: list[tuple[float, float]] = []
        self.saved: list[Path] = []

    def add(self, seconds: float | None, hz: float) -> None:
        """Keep a marker at ``seconds`` since the stream's start (None: no frame there
        yet: nothing is kept) and ``hz``."""
        if seconds is not None:
            self.markers.append((float(seconds), float(hz)))

    def add_from(self, view: WaterfallView) -> None:
        """Keep the view's marker (just set with ``m``) at its frame's time."""
        if view.marker is None:
            return
        index, hz = view.marker
        self.add(view.history.time(index) if view.history.has(index) else None, hz)

    def save(self) -> Path | None:
        """Write the markers as an Audacity label file and say where (a notice); an
        error notice when it cannot be written. Returns the file, or None."""
        if not self.markers:
            self.host.notify("No markers yet: m sets one at the cursor", timeout=3)
            return None
        markers, given, since = self.markers, self.labels_out, "since the start"
        span = self.recording()
        if span is not None:  # relative to the newest recording, beside it
            wav, t0, t1 = span
            markers = [(t - t0, hz) for t, hz in self.markers if t0 <= t <= t1]
            given = given or str(wav.with_suffix(".labels.txt"))
            since = f"from the start of {printable(wav.name)}"
            left = len(self.markers) - len(markers)
            if left:
                since += f"; {left} outside it left out"
            if not markers:
                self.host.notify(f"No markers inside {printable(wav.name)}", timeout=4)
                return None
        path = new_labels_path(self.folder, given, self.clock())
        try:
            if given is None:
                self.folder.mkdir(parents=True, exist_ok=True)
            write_labels(path, live_labels(markers))
        except (OSError, AnnotationError) as exc:
            msg = str(exc) if isinstance(exc, AnnotationError) else (exc.strerror or str(exc))
            self.host.notify(
                f"Cannot save the labels as {printable(str(path))}: {msg}",
                severity="error",
                timeout=6,
                markup=False,
            )
            return None
        self.saved.append(path)
        self.host.notify(
            f"{counted(len(markers), 'marker')} saved as Audacity labels (s {since}): "
            f"{printable(str(path))}",
            title="Labels",
            timeout=6,
            markup=False,
        )
        return path
