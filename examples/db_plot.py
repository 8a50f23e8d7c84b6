"""A librosa-style dB plot (magma, ref=max, 80 dB, log Hz) with Pillow. Usage: SRC OUT.png"""

import sys

from PIL import ImageDraw

import livespec

S = livespec.spectrogram(sys.argv[1], like="librosa", db_ref="max", scale="log")
img = S.to_image(size=(800, 300), colormap="magma")  # 0 (top colour) to -80 dB re max
# 12 log bands per octave from 20 Hz: the image spans their outer edges.
lo, hi = S.freqs[0] * 2 ** (-1 / 24), S.freqs[-1] * 2 ** (1 / 24)
for y in range(0, 300, 50):  # label rows with their frequency
    ImageDraw.Draw(img).text((4, y), f"{lo * (hi / lo) ** (1 - (y + 0.5) / 300):.0f} Hz")
img.save(sys.argv[2])
