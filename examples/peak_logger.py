"""The loudest peak of a recording once per second, as CSV. Usage: SRC"""

import os
import sys

import livespec

try:
    print("time_s,freq_hz,level_dbfs,note,cents")
    next_t = 0.0
    for frame in livespec.peaks(sys.argv[1], fft=8192):
        if frame.t >= next_t and frame.peaks:
            p = frame.peaks[0]
            print(f"{frame.t:.3f},{p.freq_hz:.2f},{p.level_dbfs:.2f},{p.note},{p.cents:+.1f}")
            next_t += 1.0
    sys.stdout.flush()
except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as livespec does
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
