"""Running livespec commands in the test's own process."""

from __future__ import annotations

import json
import subprocess
import sys

from livespec.cli.export import run_export
from livespec.cli.parsers import build_parser
from livespec.config import Config, merge_cli
from livespec.errors import LivespecError


def export(argv: list[str]) -> int:
    """``livespec export ARGV`` in this process (built-in defaults, no config file); a
    user's mistake prints its one line on stderr and returns its exit status."""
    p = build_parser("export")
    try:
        ns = p.parse_args(argv)
        cfg = merge_cli(Config(), vars(ns))
        return run_export(ns, cfg)
    except LivespecError as exc:
        print(f"livespec: {exc}", file=sys.stderr)
        return exc.exit_code


def measure_json(*args: str) -> list[dict[str, object]]:
    """``livespec measure --json ARGS`` in a fresh process: its JSON lines (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "livespec", "measure", "--json", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]
