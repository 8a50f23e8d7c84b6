"""BirdCLEF-style: each 5 s clip as a 512x512 grey PNG, as torchaudio. Usage: SRC OUT_DIR"""

import sys
from pathlib import Path

import soundfile as sf

import livespec

src, out = Path(sys.argv[1]), Path(sys.argv[2])
y, sr = sf.read(src, dtype="float32")
for end in range(5 * sr, len(y) + 1, 5 * sr):
    S = livespec.spectrogram(y[end - 5 * sr : end], sr, like="torchaudio", scale="mel", top_db=80)
    S.save(out / f"{src.stem}_{end // sr}.png", size=(512, 512), gray=True)
