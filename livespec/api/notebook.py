"""How a :class:`~livespec.api.result.Spectrogram` shows itself in Jupyter: the HTML player
of ``livespec export -o x.html`` (as a ``<div>`` with ids of its own, no network) when the
result still has its audio (an array or a path), else nothing, so that the notebook falls
back to the PNG figure (``_repr_png_``). Caller's (the notebook kernel's) thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from livespec.api.result import Spectrogram
    from livespec.export.media import AudioRef

MAX_AUDIO_S = 600.0  # longer audio is not put into a notebook (the page says so)


def _audio(s: Spectrogram) -> tuple[AudioRef | None, str]:
    """The result's audio, encoded for the page, or None and a note saying why not."""
    from livespec.export import media

    src = s.source
    fs = s.samplerate
    if src is None or not float(fs).is_integer():
        return None, ""
    try:
        if isinstance(src, (str, Path)):
            import soundfile as sf

            frames = int(sf.info(str(src)).frames)
            if frames / fs > MAX_AUDIO_S:
                return None, f"The audio (over {MAX_AUDIO_S / 60:g} min) is not embedded."
            return media.embed_file(Path(src), 0, frames), ""
        from livespec.api.inputs import _as_samples

        samples = _as_samples(src)
        if samples.shape[0] / fs > MAX_AUDIO_S:
            return None, f"The audio (over {MAX_AUDIO_S / 60:g} min) is not embedded."
        return media.embed_array(samples, int(fs)), ""
    except (RuntimeError, ValueError, OSError) as exc:
        return None, f"The audio could not be embedded: {' '.join(str(exc).split())}"


def player_html(s: Spectrogram, title: str = "") -> str | None:
    """The player for ``s`` as an HTML fragment, or None when ``s`` has no audio."""
    from livespec.dsp.scales import FreqScale
    from livespec.export.columns import freq_scale
    from livespec.export.html import PageSpec, page_config, plot_for, pool_note
    from livespec.export.html import fragment as make_fragment

    audio, note = _audio(s)
    if audio is None and not note:
        return None
    r, fs = s.recipe, s.samplerate
    if r.kind != "linear":  # mel, log or cqt rows, shown as they are (as the export does)
        freq = freq_scale(r, fs)
    else:
        freq = FreqScale("linear", r.bins, 0.0, (r.bins - 1) * fs / r.nfft)
    frames = s.shape[0]
    plot = plot_for(frames, freq, None, None)
    plot.add(np.ascontiguousarray(s.db, dtype=np.float32))
    dt = s.hop / fs
    t_left = float(s.times[0]) - dt / 2
    lo, hi = s.db_range()
    cfg, url = page_config(
        plot, 0.0, None, lo, hi, t_left=t_left, t_right=t_left + frames * dt, frame_dt=dt,
        unit=s.unit, title=title, colormap="viridis", page=PageSpec(),
        audio_offset=audio.offset if audio is not None else 0.0,
    )  # fmt: skip
    return make_fragment(cfg, url, audio, " ".join(filter(None, [note, pool_note(plot)])))
