"""Benchmark: the cost of ``import livespec`` against ``import numpy``.

Each import is timed inside a fresh interpreter (``time.perf_counter`` around the import
statement, so the interpreter's own start-up is left out), ``--repeat`` processes each,
interleaved; the median is reported. Also timed: the first use of the API
(``livespec.spectrogram``, which loads numpy, Pillow and the analysis modules) and
``import livespec.cli`` (the command line's entry point). The target (docs/performance.md):
``import livespec`` at most 150 ms more than ``import numpy``.

Usage::

    python benchmarks/bench_import.py [--repeat 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CASES = {
    "import numpy": "import numpy",
    "import livespec": "import livespec",
    "import livespec; livespec.spectrogram (first use)": "import livespec; livespec.spectrogram",
    "import livespec.cli": "import livespec.cli",
}


def timed(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter."""
    code = f"import time; t0 = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t0)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10, help="fresh processes per case (10)")
    p.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = p.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, statement in CASES.items():  # interleaved: load changes hit every case
            times[name].append(timed(statement))
    med = {name: statistics.median(v) * 1000.0 for name, v in times.items()}
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in med.items()}))
        return 0
    for name, ms in med.items():
        print(f"{name:55s} {ms:8.1f} ms (median of {args.repeat})")
    extra = med["import livespec"] - med["import numpy"]
    print(f"import livespec - import numpy: {extra:+.1f} ms (target: at most +150 ms)")
    return 0 if extra <= 150.0 else 1


if __name__ == "__main__":
    sys.exit(main())
