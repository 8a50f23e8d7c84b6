"""``livespec view``: the live app, fed by a stream instead of a local engine.

Every display feature works on the streamed rows (colour maps, cursor, marker, pause and
history, scale, zoom within the streamed range, floor/ceiling): the rows arrive as full
FFT rows (each sent bin repeated over the FFT bins it covers), so the app's waterfall
model is unchanged. Keys that change the analysis (``w``, ``+``, ``-``) or record (``r``)
cannot reach the sender; they show a notice. The status line says ``END OF STREAM`` when
the sender ended the stream; a damaged stream or a dropped link closes the app with one
line and status 2. UI thread unless noted.
"""

from __future__ import annotations

import dataclasses
import os
import sys

from livespec.config import AnalysisConfig, Config
from livespec.errors import EXIT_USAGE
from livespec.stream.protocol import StreamReader
from livespec.stream.source import FdReader, StreamSource
from livespec.tui.app import LivespecApp
from livespec.tui.feed import AppFeed
from livespec.tui.process import exit_on_stop_signals, keys_from_tty
from livespec.tui.widgets.status import StatusInfo

REMOTE_ANALYSIS = "The analysis runs at the sender: restart {how}."
REMOTE_RECORD = "Record at the sender, from the same capture: {how}"


class StreamViewApp(LivespecApp):
    """The app on a :class:`StreamSource`; built by :func:`run_viewer`."""

    source: StreamSource

    def __init__(
        self,
        cfg: Config,
        source: StreamSource,
        analysis_hop: int,
        *,
        live: bool = True,
        remote: str | None = None,
    ) -> None:
        super().__init__(cfg, AppFeed(source), live=live)
        self.analysis_hop = analysis_hop
        self.remote = remote  # the host of 'view --remote HOST', which started the sender
        self._end_shown = False
        self._after_shown = False

    def _restart(self, opt: str) -> str:
        """How to restart the sender with ``opt``."""
        if self.remote is None:
            return f"'livespec stream' with {opt}"
        return f"with 'livespec view --remote {self.remote} -- {opt} ...'"

    def action_window(self) -> None:
        """The window is the sender's: say so."""
        msg = REMOTE_ANALYSIS.format(how=self._restart("--window"))
        self.notify(msg, severity="warning", timeout=4)

    def action_fft(self, step: int) -> None:
        """The FFT size is the sender's: say so."""
        msg = REMOTE_ANALYSIS.format(how=self._restart("--fft"))
        self.notify(msg, severity="warning", timeout=4)

    def action_top3(self) -> None:
        """Top 3 peaks, if the sender sends 3 (it sends at least 3 by default)."""
        if self.viewing.analysis.peaks < 3:
            msg = REMOTE_ANALYSIS.format(how=self._restart("--peaks 3"))
            self.notify(msg, severity="warning", timeout=4)
            return
        self.viewing.top3 = not self.viewing.top3
        self.update_texts()

    def action_record(self) -> None:
        """Recording happens where the audio is."""
        how = "livespec stream --record OUT.wav"
        if self.remote is not None:
            how = f"livespec view --remote {self.remote} -- --record OUT.wav"
        self.notify(REMOTE_RECORD.format(how=how), severity="warning", timeout=5)

    def recording_text(self) -> str:
        """The sender's recording state."""
        rec = self.source.remote.get("recording")
        return str(rec) if rec else "rec off (sender)"

    def status_info(self) -> StatusInfo:
        """The app's status, with the analysis hop, the sender's recording state and
        ``END OF STREAM``."""
        return dataclasses.replace(
            super().status_info(),
            hop=self.analysis_hop,
            recording=self.recording_text(),
            end_text="END OF STREAM",
        )

    def tick(self) -> None:
        """Draw, then react to the stream's end or failure."""
        super().tick()
        src = self.source
        if src.error is not None and self.return_code is None:
            self.exit(return_code=EXIT_USAGE)
        elif src.end_reason is not None and not self._end_shown and not self.inbox:
            self._end_shown = True
            self.notify(f"END OF STREAM: {src.end_reason}. q quits.", timeout=30)
        if src.after_end is not None and not self._after_shown and self._end_shown:
            self._after_shown = True
            self.notify(src.after_end, severity="warning", timeout=30)


def stream_config(cfg: Config, reader: StreamReader) -> Config:
    """The local display settings with the sender's analysis (frames every frame_hop)."""
    h = reader.header
    analysis = AnalysisConfig(
        fft=h.fft,
        window=h.window,
        beta=h.beta,
        hop=h.frame_hop,  # the view advances one row per streamed frame
        zero_pad=h.zero_pad,
        peaks=h.peaks,
        a4=h.a4,
        fmin=h.fmin,
        fmax=h.fmax,
    )
    return dataclasses.replace(cfg, analysis=analysis)


def run_viewer(
    cfg: Config,
    reader: StreamReader,
    fd_reader: FdReader,
    *,
    stdin: bool,
    pace: bool,
    live: bool | None = None,
    remote: str | None = None,
) -> int:
    """Run the app on the stream until ``q`` (main thread). Returns the exit status;
    raises the stream's :class:`~livespec.stream.protocol.StreamError` if it broke.
    ``live``: a running sender (default: the stream is on stdin); ``remote``: the host of
    ``view --remote HOST``, which started the sender."""
    try:
        if stdin:
            keys_from_tty("livespec view -", "use 'livespec view --dump -' without a terminal")
            sys.stdin = sys.__stdin__
        elif not os.isatty(0):
            keys_from_tty("livespec view", "use 'livespec view --dump FILE'")
    except BaseException:
        fd_reader.close()
        raise
    live = stdin if live is None else live
    source = StreamSource(reader, fd_reader, live=live, pace=pace and not live)
    app = StreamViewApp(stream_config(cfg, reader), source, reader.header.hop, remote=remote)
    source.start(app.push_frame, lambda: len(app.inbox))
    try:
        with exit_on_stop_signals(app):
            status = app.run()
    finally:
        source.stop()
    if source.error is not None:
        raise source.error
    if source.after_end is not None:  # the first stream was whole: the status stays
        sys.stderr.write(f"livespec: {source.after_end}\n")
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(status or 0)


__all__ = ["StreamViewApp", "run_viewer", "stream_config"]
