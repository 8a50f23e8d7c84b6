"""The loudest peak of the sound card, live, twice a second. Usage: [--input SRC] [--duration S]"""

import argparse
import os
import sys

import livespec

ap = argparse.ArgumentParser()
ap.add_argument("--input", help="a test signal or file instead of the sound card")
ap.add_argument("--duration", type=float, help="stop after S seconds (default: Ctrl-C)")
args = ap.parse_args()
try:
    with livespec.listen(source=args.input, duration=args.duration) as stream:
        for frame in stream:
            if frame.index % 24 == 0 and frame.peaks:
                print(
                    f"{frame.t:6.2f} s {frame.peaks[0].freq_hz:9.2f} Hz {frame.rms_dbfs:6.1f} dBFS",
                    flush=True,  # each line as it comes, also into a pipe
                )
except KeyboardInterrupt:  # Ctrl-C: the stream is closed; end quietly
    pass
except BrokenPipeError:  # the reader went away (`| head`): the stream is closed; end quietly
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
