"""A plain numpy script doing what ``livespec peaks --input tone:1000 --realtime`` does.

The reference of benchmarks/bench_peers.py: a 1 kHz tone at -6 dBFS rendered in blocks of
1024 samples at 48 kHz, paced at the sample rate with sleep(); every hop (1024) a frame of
4096 samples is windowed (hann), transformed (numpy.fft.rfft) and turned into dB; the
strongest bin, refined by a parabola, is printed with the frame's time. Runs until killed.
"""

import sys
import time

import numpy as np

fs, n, hop, block = 48000, 4096, 1024, 1024
window = np.hanning(n + 1)[:-1]
scale = 2.0 / window.sum()
buf = np.zeros(n)
phase = 0
t0 = time.monotonic()
written = 0
while True:
    k = np.arange(phase, phase + block)
    x = 0.5 * np.sin(2 * np.pi * 1000.0 * k / fs)
    phase += block
    buf = np.concatenate((buf[block:], x))
    written += block
    if written >= n:
        db = 20 * np.log10(np.abs(np.fft.rfft(buf * window)) * scale + 1e-12)
        i = int(np.argmax(db[1:-1])) + 1
        a, b, c = db[i - 1], db[i], db[i + 1]
        p = 0.5 * (a - c) / (a - 2 * b + c)
        t = (written - n / 2) / fs
        level = b - 0.25 * (a - c) * p
        sys.stdout.write(f"{t:9.3f} s {(i + p) * fs / n:10.2f} Hz {level:7.2f} dBFS\n")
    delay = t0 + written / fs - time.monotonic()
    if delay > 0:
        time.sleep(delay)
