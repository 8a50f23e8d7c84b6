"""The core stays headless: importing it loads no Textual, Rich widgets or PortAudio."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "livespec",
    "livespec.api",
    "livespec.cli",
    "livespec.config",
    "livespec.engine",
    "livespec.pipeline",
    "livespec.audio.framer",
    "livespec.cli.peaks",
    "livespec.cli.view",
    "livespec.audio.ringbuffer",
    "livespec.audio.sources",
    "livespec.audio.signals",
    "livespec.audio.device",
    "livespec.audio.devices",
    "livespec.dsp.windows",
    "livespec.dsp.stft",
    "livespec.dsp.peaks",
    "livespec.recorder.writer",
    "livespec.cli.record",
    "livespec.cli.export",
    "livespec.dsp.measure",
    "livespec.dsp.averaging",
    "livespec.dsp.weighting",
    "livespec.cli.measure",
    "livespec.meter.live",
    "livespec.config_edit",
    "livespec.export.run",
    "livespec.stream.protocol",
    "livespec.stream.source",
    "livespec.cli.stream",
]


def test_core_imports_no_tui_and_no_portaudio():
    code = (
        "import sys\n"
        f"for m in {CORE!r}:\n"
        "    __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'sounddevice', 'scipy', 'dask', 'distributed'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_export_without_scheduler_never_imports_dask(tmp_path):
    """Dask is for ``--scheduler`` only: a default export (in this process and with the
    process pool) loads neither dask nor distributed."""
    import numpy as np
    import soundfile as sf

    for i in range(3):
        sf.write(tmp_path / f"in{i}.wav", np.zeros(8000, np.float32), 8000)
    for jobs in ("1", "2"):
        code = (
            "import sys\n"
            "from livespec.cli import main\n"
            f"rc = main(['export', {str(tmp_path)!r}, '-o', {str(tmp_path / ('o' + jobs))!r}, "
            f"'--npy', '--jobs', {jobs!r}])\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
            "print(rc, ','.join(bad))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "0", out.stdout + out.stderr


def test_headless_peaks_runs_without_portaudio():
    """A file/test-signal run must not need PortAudio: block sounddevice and run peaks."""
    code = (
        "import sys\n"
        "sys.modules['sounddevice'] = None  # any import of it now fails\n"
        "from livespec.cli import main\n"
        "sys.exit(main(['peaks', '--input', 'tone:1000', '--duration', '0.5', '--json']))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") >= 10


def test_fftw_analysis_loads_pyfftw_core_without_scipy_or_dask():
    """Planning an FFTW analysis loads only pyFFTW's compiled core: ``import pyfftw`` would
    pull in scipy and dask through ``pyfftw.interfaces`` (0.2-0.8 s of start-up). A later
    ``import pyfftw`` by a user shares that core (one FFTW class, one wisdom)."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from livespec.dsp.stft import Spectrum\n"
        "s = Spectrum(256, 'hann', wisdom=False)\n"
        "x = np.sin(np.arange(256.0) * 0.3).astype(np.float32)\n"
        "X = s.compute(x).copy()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'dask'))\n"
        "import pyfftw\n"
        "same = pyfftw.FFTW is sys.modules['pyfftw.pyfftw'].FFTW\n"
        "ref = np.fft.rfft(x * s.window.astype(np.float64))\n"
        "print(s.backend_name, ','.join(bad) or '-', same, float(abs(X - ref).max()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    backend, bad, same, err = out.stdout.split()
    assert backend == "fftw"
    assert bad == "-", f"planning imported: {bad}"
    assert same == "True"
    assert float(err) < 1e-5  # the float32 window of the reference, against float64


# What start-up must not load: Textual and the other screens' libraries for ``peaks``; for
# the app, the libraries and modules of the other screens and commands (file browser,
# export, API, recorder, stream) until a key asks for them.
HEAVY = ("textual", "rich", "scipy", "PIL", "soundfile", "sounddevice", "dask", "numba")
NOT_AT_APP_START = (
    "scipy",
    "PIL",
    "soundfile",
    "sounddevice",
    "dask",
    "numba",
    "pyfftw.interfaces",
    "pyfftw.builders",
    "livespec.export",
    "livespec.api",
    "livespec.recorder",
    "livespec.stream",
    "livespec.tui.browser",
    "livespec.tui.viewer",
    "livespec.tui.controllers.browse",
)


def _loaded(code: str) -> list[str]:
    """The modules a snippet left in sys.modules (it prints their names last, one line)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1].split(",")


def test_peaks_of_a_test_signal_loads_no_ui_and_no_heavy_library():
    """``livespec peaks --input tone:1000 --duration 0.1`` (start-up budget 200 ms): numpy
    and pyFFTW's core only."""
    code = (
        "import sys\n"
        "from livespec.cli import main\n"
        "rc = main(['peaks', '--input', 'tone:1000', '--duration', '0.1'])\n"
        f"print(rc, *sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}), sep=',')\n"
    )
    loaded = _loaded(code)
    assert loaded[0] == "0"
    assert loaded[1:] == [], f"peaks loaded {loaded[1:]}"


def test_the_app_start_up_loads_only_what_the_first_frame_needs():
    """Everything ``livespec --input tone:1000`` imports before its first frame (the CLI,
    the pipeline with a test signal, the app) leaves the other screens' code unloaded."""
    code = (
        "import sys\n"
        "from livespec.cli import build_parser, resolve_config\n"
        "from livespec.pipeline import Pipeline\n"
        "from livespec.tui.run import preload_app\n"
        "preload_app().join()\n"
        "cfg = resolve_config(build_parser().parse_args(['--input', 'tone:1000']))\n"
        "with Pipeline(cfg, realtime=True) as pipe:\n"
        "    pipe.make_ring(frame=65536)\n"
        "    pipe.make_engine(lambda f: None)\n"
        "    pipe.start()\n"
        "bad = sorted(m for m in sys.modules if m.startswith("
        f"{NOT_AT_APP_START!r}))\n"
        "print('textual.app' in sys.modules, *bad, sep=',')\n"
    )
    loaded = _loaded(code)
    assert loaded[0] == "True"  # the preload did import the app
    assert loaded[1:] == [], f"the app's start-up loaded {loaded[1:]}"
