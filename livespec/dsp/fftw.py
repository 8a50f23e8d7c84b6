"""Planned real FFTs: pyFFTW when importable, numpy.fft otherwise; FFTW wisdom on disk.

pyFFTW is loaded lazily, inside functions, so importing this module costs nothing. Only its
compiled core is loaded (about 5 ms, :func:`pyfftw_module`): ``import pyfftw`` would also
import ``pyfftw.interfaces`` and through it scipy and dask when they are installed
(0.2-0.8 s; livespec never imports scipy itself, it is a test-only dependency).

Wisdom file format (``fftw-wisdom.bin``): the magic line ``b"livespec-fftw-wisdom 1\\n"``,
then FFTW's three wisdom strings (double, single, long double precision), each preceded by
its length as 8 little-endian bytes. A file that does not parse, or that FFTW rejects, is
ignored. Writes are atomic (temporary file + ``os.replace``).

Threads: planning and wisdom import/export run on the thread that builds a
:class:`~livespec.dsp.stft.Spectrum` (the engine's worker thread). FFTW's planner and wisdom
are global to the process; pyFFTW serialises planning with its own lock, but not wisdom
import/export, so every livespec call into FFTW's planner or wisdom holds :data:`PLANNING`
(two threads planning and reading wisdom at once corrupted the heap: ``malloc(): invalid
size``, an abort, in about one run in eight of 8 threads x 10 spectrograms).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

_MAGIC = b"livespec-fftw-wisdom 1\n"
_MAX_WISDOM_BYTES = 16 * 1024 * 1024


def pyfftw_module() -> ModuleType | None:
    """pyFFTW's core (``FFTW``, ``empty_aligned``, wisdom functions), loaded now if it
    was not yet, or None if it cannot be loaded. Any thread; the first call costs the load.

    ``import pyfftw`` runs the package's ``__init__``, which imports ``pyfftw.interfaces``
    and with it scipy and dask when they are installed (0.2-0.4 s). livespec needs only
    the compiled core, ``pyfftw.pyfftw``, so that extension is loaded on its own (5 ms) and
    registered under its usual name: a later ``import pyfftw`` by anyone reuses it (one
    FFTW class, one wisdom). If that fails, the package is imported as usual.
    """
    global _CORE
    if _CORE is not None:
        return _CORE
    with _LOAD_LOCK:  # one thread loads; the others wait for the finished module
        done = _loaded()  # loaded by another thread meanwhile?
        if done is not None:
            return done
        core = sys.modules.get("pyfftw.pyfftw")
        if core is None:
            core = _load_core()
        if core is None:
            try:
                import pyfftw
            except (ImportError, OSError):
                return None
            core = pyfftw
        _CORE = core
        return core


_CORE: ModuleType | None = None
_LOAD_LOCK = threading.Lock()


def _loaded() -> ModuleType | None:
    return _CORE


PLANNING = threading.RLock()  # held around every FFTW plan and wisdom import/export


def _load_core() -> ModuleType | None:
    """The compiled ``pyfftw.pyfftw`` extension, without running ``pyfftw/__init__.py``;
    None if pyFFTW is not installed or the extension cannot be loaded that way."""
    try:
        spec = importlib.util.find_spec("pyfftw")
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, "pyfftw" + suffix)
                if not os.path.isfile(path):
                    continue
                loader = importlib.machinery.ExtensionFileLoader("pyfftw.pyfftw", path)
                core_spec = importlib.util.spec_from_file_location(
                    "pyfftw.pyfftw", path, loader=loader
                )
                if core_spec is None:
                    continue
                module = importlib.util.module_from_spec(core_spec)
                loader.exec_module(module)
                sys.modules["pyfftw.pyfftw"] = module
                return module
    except (ImportError, OSError, ValueError):
        return None
    return None


_pyfftw = pyfftw_module  # the name livespec.export.dsp uses


def fftw_available() -> bool:
    """True if pyFFTW (and the FFTW library under it) can be imported. Any thread."""
    return pyfftw_module() is not None


def default_wisdom_path() -> Path:
    """``<user cache dir>/fftw-wisdom.bin``; honours ``XDG_CACHE_HOME`` (via platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("livespec")) / "fftw-wisdom.bin"


def _encode(wisdom: tuple[bytes, ...]) -> bytes:
    parts = [_MAGIC]
    for w in wisdom:
        parts.append(struct.pack("<Q", len(w)))
        parts.append(w)
    return b"".join(parts)


def _decode(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    if not data.startswith(_MAGIC):
        return None
    pos = len(_MAGIC)
    out: list[bytes] = []
    for _ in range(3):
        if pos + 8 > len(data):
            return None
        (size,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        if size > len(data) - pos:
            return None
        out.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        return None
    return out[0], out[1], out[2]


_LOADED: set[Path] = set()  # wisdom files imported into this process


def load_wisdom(path: Path | None = None) -> bool:
    """Import FFTW wisdom from ``path`` (default :func:`default_wisdom_path`).

    Returns True if the file was read and FFTW accepted all of it; False (quietly) if pyFFTW
    is missing, the file is absent, unreadable or corrupt. Never raises for those.
    """
    pyfftw = pyfftw_module()
    if pyfftw is None:
        return False
    path = default_wisdom_path() if path is None else path
    if path in _LOADED:  # FFTW keeps imported wisdom for the whole process
        return True
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_WISDOM_BYTES + 1)
    except OSError:
        return False
    if len(data) > _MAX_WISDOM_BYTES:
        return False
    wisdom = _decode(data)
    if wisdom is None or any(b"\0" in w for w in wisdom):
        return False
    try:
        with PLANNING:
            ok = pyfftw.import_wisdom(wisdom)
    except (TypeError, ValueError):
        return False
    if all(ok):
        _LOADED.add(path)
        return True
    return False


def export_wisdom() -> tuple[bytes, ...] | None:
    """FFTW's current (process-wide) wisdom, or None without pyFFTW."""
    pyfftw = pyfftw_module()
    if pyfftw is None:
        return None
    with PLANNING:
        return tuple(bytes(w) for w in pyfftw.export_wisdom())


def save_wisdom(path: Path | None = None) -> None:
    """Write the process's FFTW wisdom to ``path`` (default :func:`default_wisdom_path`).

    Creates the directory if needed and replaces the file atomically. Does nothing without
    pyFFTW; an unwritable location is ignored quietly (the cache is an optimisation).
    """
    wisdom = export_wisdom()
    if wisdom is None:
        return
    path = default_wisdom_path() if path is None else path
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".fftw-wisdom-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(_encode(wisdom))
        os.replace(tmp, path)
        tmp = None
        _LOADED.add(path)  # the file now holds nothing this process lacks
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class RealFFT:
    """One planned real-to-complex FFT of ``nfft`` points on preallocated aligned buffers.

    Fill :attr:`input` (float64, ``nfft``), call :attr:`execute`, read :attr:`output`
    (complex128, ``nfft // 2 + 1``). Double precision: FFTW's single-precision plans differ
    in accuracy from plan to plan (up to 0.25 dB at -120 dBFS was seen), and the double
    transform costs only a few microseconds more per frame. With the "fftw" backend
    :attr:`execute` is the FFTW object's own ``execute`` (no argument checks, no copies);
    with "numpy" it is
    ``numpy.fft.rfft`` writing into :attr:`output`. Used from one thread at a time.

    Attributes:
        nfft: transform length in samples.
        backend: "fftw" or "numpy".
        plan_seconds: wall time spent planning (0.0 for numpy).
        input: float64 input buffer (length nfft).
        output: complex128 output buffer (length nfft // 2 + 1).
        execute: runs the transform, input -> output.

    ``planner`` is FFTW's planning effort: "FFTW_MEASURE" (the default: best plans, up to
    seconds for long transforms without wisdom) or "FFTW_ESTIMATE" (instant).
    """

    def __init__(self, nfft: int, backend: str = "auto", planner: str = "FFTW_MEASURE") -> None:
        if backend not in ("auto", "fftw", "numpy"):
            raise ValueError(f"unknown FFT backend {backend!r}; valid: auto, fftw, numpy")
        self.nfft = int(nfft)
        bins = self.nfft // 2 + 1
        pyfftw = None if backend == "numpy" else pyfftw_module()
        if backend == "fftw" and pyfftw is None:
            raise ValueError("FFT backend 'fftw' requested but pyFFTW cannot be imported")
        self.plan_seconds = 0.0
        self.execute: Callable[[], object]
        if pyfftw is not None:
            self.backend = "fftw"
            self.input: NDArray[np.float64] = pyfftw.empty_aligned(self.nfft, dtype="float64")
            self.output: NDArray[np.complex128] = pyfftw.empty_aligned(bins, dtype="complex128")
            with PLANNING:
                t0 = time.perf_counter()
                plan = pyfftw.FFTW(
                    self.input,
                    self.output,
                    direction="FFTW_FORWARD",
                    flags=(planner,),
                    threads=1,
                )
                self.plan_seconds = time.perf_counter() - t0
            self._plan = plan
            self.execute = plan.execute
        else:
            self.backend = "numpy"
            self.input = np.zeros(self.nfft, dtype=np.float64)
            self.output = np.zeros(bins, dtype=np.complex128)
            self.execute = self._numpy_execute
        # FFTW_MEASURE scribbles on the buffers while planning.
        self.input.fill(0.0)
        self.output.fill(0.0)

    def _numpy_execute(self) -> object:
        out: object = np.fft.rfft(self.input, out=self.output)
        return out
