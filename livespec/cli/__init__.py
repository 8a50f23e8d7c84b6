"""Command line: ``livespec [options]`` (the app) and the subcommands.

Subcommands: one module each (``peaks``, ``record``, ``export``, ``measure``, ``stream``,
``view``, ``play``; ``devices`` and ``config`` are here), listed in :data:`COMMANDS`;
``livespec FILE`` is ``livespec play FILE`` (:func:`_is_file_argument`). Every option
is validated by :mod:`livespec.config`; a user's mistake ends in one line on stderr and
exit status 2.
Exit statuses are listed in docs/cli.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from livespec.cli.parsers import (  # noqa: F401  (re-exported: tests build parsers from cli)
    _add_analysis_options,
    _add_common,
    _add_source_options,
    build_parser,
    build_parsers,
)
from livespec.cli.usage import SUBCOMMANDS, _Parser  # noqa: F401  (re-exported)
from livespec.config import Config, default_config_path, load_file, merge_cli
from livespec.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LivespecError,
    OutputError,
    UsageError,
    printable,
)

Handler = Callable[[argparse.Namespace], int]

# -- configuration ------------------------------------------------------------------------


def resolve_config(ns: argparse.Namespace) -> Config:
    """Defaults < config file < flags, validated."""
    explicit = getattr(ns, "config", None)
    path = explicit if explicit is not None else default_config_path()
    base = load_file(path, explicit=explicit is not None)
    return merge_cli(base, vars(ns))


# -- subcommands -------------------------------------------------------------------------


def cmd_devices(ns: argparse.Namespace) -> int:
    """``livespec devices``: the input (``--output``: output) devices, default marked."""
    from livespec.audio.device import devices_command

    print(
        devices_command(
            as_json=bool(getattr(ns, "json", False)), output=bool(getattr(ns, "output", False))
        )
    )
    return EXIT_OK


def cmd_config(ns: argparse.Namespace) -> int:
    """``livespec config``: the file's path and the effective values; with
    ``--calibrate DB UNIT`` or ``--no-calibration``, first save that in the file."""
    from livespec.config import as_toml

    path = ns.config if ns.config is not None else default_config_path()
    if getattr(ns, "calibration_db", None) is not None or getattr(ns, "no_calibration", False):
        from livespec.config_edit import save_calibration

        if ns.no_calibration and getattr(ns, "calibration_db", None) is not None:
            raise UsageError("give either --calibrate or --no-calibration, not both")
        load_file(path)  # a broken config is reported, not edited
        save_calibration(
            path,
            ns.calibration_db if not ns.no_calibration else None,
            getattr(ns, "calibration_unit", ""),
        )
        what = (
            "removed the calibration"
            if ns.no_calibration
            else f"saved calibration {ns.calibration_db:g} {printable(ns.calibration_unit)}"
        )
        print(f"# {what} in {printable(str(path))}")
    cfg = resolve_config(ns)
    state = "exists" if cfg.path is not None else "does not exist; built-in defaults are used"
    print(f"# config file: {printable(str(path))} ({state})")
    print(as_toml(cfg), end="")
    return EXIT_OK


def _command(module: str, name: str) -> Handler:
    """The handler of a subcommand that lives in ``module``: imported when it runs, then
    ``name(ns, config)`` is called with the resolved configuration."""

    def handler(ns: argparse.Namespace) -> int:
        run = getattr(importlib.import_module(module), name)
        return int(run(ns, resolve_config(ns)))

    return handler


# -- entry point ---------------------------------------------------------------------------


NO_TERMINAL = "no terminal; use 'livespec peaks' or 'livespec record' for headless work"


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream is not None and stream.isatty())  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return False


def cmd_app(ns: argparse.Namespace) -> int:
    """``livespec``: the live Textual app (not headless). Without a terminal on stdout and
    stderr (cron, CI, a redirect) it would draw into a file forever: one line, exit 2,
    after the options, the config file and ``--input`` are checked (a bad one is said
    first)."""
    if ns.list_devices:
        return cmd_devices(argparse.Namespace(json=False))
    cfg = resolve_config(ns)
    if not (_is_terminal(sys.stdout) and _is_terminal(sys.stderr)):
        from livespec.audio.sources import check_input

        s = cfg.source  # a bad --input too is said first (the sound card is not probed)
        check_input(s.input, device=s.device, samplerate=s.samplerate)
        raise UsageError(NO_TERMINAL)
    # Start-up makes some 300,000 objects (numpy, Textual) that all live on: the cyclic
    # GC would walk them a dozen times before the first frame is on the screen (40 ms).
    # It is off until the app's first 1.5 s are over (``freeze_gc``) or the app ends.
    gc.disable()
    try:
        try:
            from livespec.tui.run import run_app
        except ImportError as exc:  # a broken install (Textual or Rich missing)
            raise LivespecError(
                f"cannot start the live app ({exc}); headless commands such as "
                "'livespec peaks' still work",
                EXIT_FAILURE,
            ) from None
        return int(run_app(cfg, ns))
    finally:
        gc.enable()


# The one registry of subcommands: name ("" = the app) -> handler(namespace) -> exit status.
COMMANDS: dict[str, Handler] = {
    "": cmd_app,
    "devices": cmd_devices,
    "config": cmd_config,
    "peaks": _command("livespec.cli.peaks", "run_peaks"),
    "record": _command("livespec.cli.record", "run_record"),
    "export": _command("livespec.cli.export", "run_export"),
    "measure": _command("livespec.cli.measure", "run_measure"),
    "stream": _command("livespec.cli.stream", "run_stream"),
    "view": _command("livespec.cli.view", "run_view"),
    "play": _command("livespec.cli.play", "run_play"),
}


def _is_file_argument(arg: str) -> bool:
    """``livespec FILE``: a first argument that is no option and no subcommand but names
    an existing path (or looks like a file name) opens the file browser."""
    if not arg or arg.startswith("-") or arg in COMMANDS:
        return False
    return os.path.exists(arg) or "." in arg or os.sep in arg


def one_blas_thread() -> None:
    """Ask numpy's OpenBLAS for one thread, unless the user chose (before numpy loads).

    OpenBLAS starts a thread per core when numpy is imported, and they spin for some 50 ms
    of CPU on the other core just when start-up needs it (the engine's and the import's
    threads, the terminal). The live paths do vector products. The export's matrix
    products (the mel filter bank, log bands) lose by BLAS's threads too: it analyses on
    two threads or processes of its own, and a 10-minute mel PNG took 1.4-8 s with them
    against 0.9 s without (docs/performance.md).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    """Run livespec; returns the exit status (see docs/cli.md).

    An export run as the process's own command line (``argv`` None) ends with
    ``gc.freeze()``: the interpreter's last collection then walks none of the imports'
    objects, and the process exits about 20 ms sooner (30 ms after the work, 11 with it;
    docs/performance.md), and may fork itself to analyse a long input's second half
    (:data:`livespec.export.segment.SPLIT_BY_FORK`). A caller that passes ``argv`` keeps
    its collector as it was and is never forked.
    """
    if argv is None:
        _open_closed_std_fds()
    args = list(sys.argv[1:] if argv is None else argv)
    sub = args[0] if args and args[0] and args[0] in COMMANDS else ""
    if sub:
        args = args[1:]
    elif args and _is_file_argument(args[0]):
        sub = "play"  # livespec FILE [options]
    remote_options: list[str] = []
    if sub == "view" and "--" in args:  # livespec view --remote HOST -- STREAM OPTIONS
        cut = args.index("--")
        args, remote_options = args[:cut], args[cut + 1 :]
    one_blas_thread()
    try:
        parser = build_parser(sub)
        ns = parser.parse_args(args)
        if sub == "view":
            ns.remote_options = remote_options
        if argv is None and sub == "export":
            from livespec.export import segment

            segment.SPLIT_BY_FORK = True  # this process is ours to fork (segment.py)
        code = COMMANDS[sub](ns)
        if argv is None and sub == "export":
            gc.freeze()  # nothing left for the last collection (docstring)
        return code
    except LivespecError as exc:
        if isinstance(exc, OutputError):
            _stdout_to_devnull()  # (the interpreter's last flush would fail again)
        _die(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. '| head'): stop quietly, as other tools do.
        _stdout_to_devnull()
        return EXIT_OK
    except OSError as exc:  # not a command's own: e.g. stdout on a full disk (> /dev/full)
        _stdout_to_devnull()  # (the interpreter's last flush would fail again)
        where = f" ({exc.filename})" if exc.filename else ""
        _die(f"I/O error: {exc.strerror or exc}{where}")
        return EXIT_FAILURE
    except MemoryError:
        _die("out of memory (try a smaller --fft or --ring-seconds)")
        return EXIT_FAILURE


def _open_closed_std_fds() -> None:
    """Open /dev/null on fd 0, 1 or 2 if it was closed (``2>&-``, a bare daemon): Python
    then has no ``sys.stderr`` (livespec failed a good file on it), and the next file
    opened, an output, would take the fd and receive what C libraries print there."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free fd: this one
        except OSError:
            continue
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115


def _stdout_to_devnull() -> None:
    """Point fd 1 at /dev/null: nothing more can be written, and nothing more fails."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _die(message: str) -> None:
    try:
        sys.stderr.write(f"livespec: {printable(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
