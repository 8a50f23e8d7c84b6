"""The live app's key bindings: one table of keys, actions, footer labels and help texts.

Every binding has an id, so users can remap keys (``make_app(..., keymap=...)``); the help
screen and the command palette list them as currently mapped (:func:`key_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType

from livespec.render.terminal import bound_keys
from livespec.tui.widgets.help import key_label

# (keys, action, footer label or "" when not in the footer, help text, binding id)
_KEY_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("q", "quit", "Quit", "Quit", "quit"),
    ("space", "pause", "Pause", "Pause/resume the view (the audio keeps flowing)", "pause"),
    ("c", "colormap(1)", "Colours", "Next colour map", "colormap"),
    ("C", "colormap(-1)", "", "Previous colour map", "colormap_prev"),
    ("w", "window", "Window", "Next analysis window", "window"),
    ("plus,equals_sign", "fft(1)", "FFT", "FFT size x2", "fft_up"),
    ("minus", "fft(-1)", "", "FFT size /2", "fft_down"),
    ("s", "spectrum", "Spectrum", "Show/hide the spectrum panel", "spectrum"),
    ("o", "orientation", "Orient", "Time scrolls left / time flows down", "orientation"),
    ("l", "scale", "Scale", "Frequency scale: linear, log, mel, cqt", "scale"),
    ("up", "cursor(0,-1)", "", "Cursor up", "cursor_up"),
    ("down", "cursor(0,1)", "", "Cursor down", "cursor_down"),
    ("left", "cursor(-1,0)", "", "Cursor left", "cursor_left"),
    ("right", "cursor(1,0)", "", "Cursor right", "cursor_right"),
    ("shift+up", "cursor(0,-8)", "", "Cursor up x8", "cursor_up_fast"),
    ("shift+down", "cursor(0,8)", "", "Cursor down x8", "cursor_down_fast"),
    ("shift+left", "cursor(-8,0)", "", "Cursor left x8", "cursor_left_fast"),
    ("shift+right", "cursor(8,0)", "", "Cursor right x8", "cursor_right_fast"),
    ("m", "marker", "", "Second marker at the cursor (Δf, ΔdB)", "marker"),
    ("escape", "cursor_off", "", "Hide cursor and marker", "cursor_off"),
    ("t", "top3", "", "Top 3 peaks on/off", "top3"),
    ("h", "hold_reset", "", "Reset peak hold and clip light", "hold_reset"),
    ("z", "zoom(2)", "", "Zoom in (at the cursor)", "zoom_in"),
    ("x", "zoom(0.5)", "", "Zoom out", "zoom_out"),
    ("less_than_sign", "time_zoom(2)", "", "Longer time span (x2 frames per pixel)", "time_out"),
    ("greater_than_sign", "time_zoom(0.5)", "", "Shorter time span", "time_in"),
    ("comma", "pan(-0.25)", "", "Pan down in frequency", "pan_down"),
    ("full_stop", "pan(0.25)", "", "Pan up in frequency", "pan_up"),
    ("0", "zoom_reset", "", "Whole frequency range", "zoom_reset"),
    ("left_square_bracket", "floor(-1)", "", "Floor -5 dB", "floor_down"),
    ("right_square_bracket", "floor(1)", "", "Floor +5 dB", "floor_up"),
    ("left_curly_bracket", "ceiling(-1)", "", "Ceiling -5 dB", "ceiling_down"),
    ("right_curly_bracket", "ceiling(1)", "", "Ceiling +5 dB", "ceiling_up"),
    ("a", "autorange", "", "Auto range: fit floor and ceiling", "autorange"),
    ("pageup", "scroll(1)", "", "Scroll back in history (pauses)", "scroll_back"),
    ("pagedown", "scroll(-1)", "", "Scroll forward in history", "scroll_forward"),
    ("home", "scroll_end(1)", "", "Oldest history (pauses)", "scroll_oldest"),
    ("end", "scroll_end(0)", "", "Back to live (newest)", "scroll_newest"),
    ("r", "record", "Rec", "Start/stop recording to a WAV file (with pre-roll)", "record"),
    ("M", "measure", "", "Measurement view: THD, THD+N, SNR, SINAD of the tone", "measure"),
    ("A", "average", "", "Averaging: none, exponential, linear, peak hold", "average"),
    ("H", "harmonics", "", "Harmonic markers on the spectrum panel", "harmonics"),
    ("p", "overlay('peak')", "", "Peak track on the waterfall on/off", "peak_track"),
    ("e", "overlay('rms')", "", "RMS envelope on the waterfall on/off (colour bar's dB)", "rms"),
    ("v", "overlay('wave')", "", "Waveform strip on the waterfall on/off", "wave"),
    ("L", "save_labels", "", "Save the markers (m) as Audacity labels", "save_labels"),
    ("S", "save_screen", "", "Save the screen as SVG in the recording folder", "save_screen"),
    ("question_mark", "help", "Help", "Help: every key", "help"),
)
KEYS: list[BindingType] = []
KEYS += [
    Binding(k, a, label or text, show=bool(label), id=i, tooltip=text, key_display=k_disp)
    for k, a, label, text, i in _KEY_TABLE
    for k_disp in [{"plus,equals_sign": "+", "minus": "-", "question_mark": "?"}.get(k)]
] + [Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c")]


# The file browser's keys (livespec FILE; docs/app.md).
# (keys, action, footer label or "", help text, binding id)
BROWSER_KEY_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("q", "quit", "Quit", "Quit", "quit"),
    ("space", "play_pause", "Play", "Play / pause", "play"),
    ("left", "step(-0.1)", "", "Seek back a tenth of the screen", "seek_back"),
    ("right", "step(0.1)", "", "Seek forward a tenth of the screen", "seek_forward"),
    ("shift+left", "step(-0.01)", "", "Seek back a hundredth (finer)", "seek_back_fine"),
    ("shift+right", "step(0.01)", "", "Seek forward a hundredth (finer)", "seek_forward_fine"),
    ("home", "seek_to(0)", "", "Go to the start", "seek_start"),
    ("end", "seek_to(1)", "", "Go to the end", "seek_end"),
    ("left_square_bracket", "loop(0)", "", "Loop start at the play position", "loop_start"),
    ("right_square_bracket", "loop(1)", "", "Loop end at the play position", "loop_end"),
    ("backslash", "loop_clear", "", "Clear the loop", "loop_clear"),
    ("plus,equals_sign", "time_zoom(2)", "Zoom", "Zoom in time (at cursor/playhead)", "time_in"),
    ("minus", "time_zoom(0.5)", "", "Zoom out in time", "time_out"),
    ("less_than_sign", "time_pan(-0.5)", "", "Pan back half a screen", "pan_back"),
    ("greater_than_sign", "time_pan(0.5)", "", "Pan forward half a screen", "pan_forward"),
    ("w", "whole", "", "The whole file on screen", "whole"),
    ("z", "zoom(2)", "", "Zoom in frequency (at the cursor)", "zoom_in"),
    ("x", "zoom(0.5)", "", "Zoom out in frequency", "zoom_out"),
    ("comma", "pan(-0.25)", "", "Pan down in frequency", "pan_down"),
    ("full_stop", "pan(0.25)", "", "Pan up in frequency", "pan_up"),
    ("0", "zoom_reset", "", "Whole frequency range", "zoom_reset"),
    ("up", "cursor(0,-1)", "", "Cursor up (a click puts the cursor and seeks)", "cursor_up"),
    ("down", "cursor(0,1)", "", "Cursor down", "cursor_down"),
    ("shift+up", "cursor(0,-8)", "", "Cursor up x8", "cursor_up_fast"),
    ("shift+down", "cursor(0,8)", "", "Cursor down x8", "cursor_down_fast"),
    ("escape", "cursor_off", "", "Hide the cursor", "cursor_off"),
    ("m", "marker", "Mark", "Marker at the cursor (or the play position)", "marker"),
    ("L", "save_labels", "Labels", "Save the markers as Audacity labels", "save_labels"),
    ("p", "overlay('peak')", "", "Peak track on/off", "peak_track"),
    ("e", "overlay('rms')", "", "RMS envelope on/off (dBFS on the colour bar's axis)", "rms"),
    ("v", "overlay('wave')", "", "Waveform strip on/off", "wave"),
    ("c", "colormap(1)", "", "Next colour map", "colormap"),
    ("l", "scale", "", "Frequency scale: linear, log, mel", "scale"),
    ("a", "autorange", "", "Auto range: fit floor and ceiling", "autorange"),
    ("S", "save_screen", "", "Save the screen as SVG in the recording folder", "screenshot"),
    ("question_mark", "help", "Help", "Help: every key", "help"),
)  # fmt: skip
BROWSER_KEYS: list[BindingType] = []
BROWSER_KEYS += [
    Binding(k, a, label or text, show=bool(label), id=i, tooltip=text, key_display=disp)
    for k, a, label, text, i in BROWSER_KEY_TABLE
    for disp in [{"plus,equals_sign": "+", "question_mark": "?", "space": "space"}.get(k)]
] + [Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit_ctrl_c")]


def key_rows(app: App[int]) -> list[tuple[str, str, str]]:
    """(keys, description, action) of every binding of ``app`` in :data:`KEYS`, as
    currently mapped (UI thread)."""
    ours = {b.id: b for b in KEYS if isinstance(b, Binding) and b.id}
    keys: dict[str, list[str]] = {}
    for key, bindings in bound_keys(app).items():
        for b in bindings:
            if b.id in ours and key not in keys.setdefault(b.id, []):
                keys[b.id].append(key)
    return [
        (",".join(keys.get(bid, [])), b.tooltip or b.description, b.action)
        for bid, b in ours.items()
        if bid != "quit_ctrl_c" and keys.get(bid)
    ]


def key_commands(app: App[int]) -> Iterator[SystemCommand]:
    """The command palette's entries for every key action of ``app`` but quitting."""
    for keys, desc, action in key_rows(app):
        if action != "quit":
            yield SystemCommand(desc, f"key: {key_label(keys)}", partial(app.run_action, action))
