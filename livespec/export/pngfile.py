"""A streaming PNG encoder for export images (8-bit grey or RGB, no interlace).

Rows are coloured (a table lookup on 8-bit levels), filtered ("Up": each byte minus the
one above it, which suits a spectrogram's slowly changing rows) and deflated a block of
rows at a time, so an image is never held in memory as RGB: a 28125x1025 colour image
needs its 29 MB of levels, not 86 MB of pixels plus Pillow's copy. The file is a plain PNG
that any decoder reads back to the same pixels as Pillow's own encoder would.

Pure code (numpy and zlib); caller's thread.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

U8 = NDArray[np.uint8]
BLOCK_BYTES = 1 << 20  # pixel bytes filtered and deflated per step
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(f: BinaryIO, kind: bytes, data: bytes) -> None:
    f.write(struct.pack(">I", len(data)))
    f.write(kind)
    f.write(data)
    f.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF))


def write_png(f: BinaryIO, pixels: U8, table: U8 | None = None, level: int = 1) -> None:
    """Write ``pixels`` as a PNG to the binary file ``f``.

    Args:
        pixels: (height, width) uint8 grey levels or colour indices, or (height, width, 3)
            RGB, row 0 at the top.
        table: a (256, 3) uint8 colour table: ``pixels`` are indices into it (an RGB PNG);
            None writes ``pixels`` as they are (grey for 2-D).
        level: zlib level, 0 (stored) to 9.
    """
    h, w = pixels.shape[:2]
    rgb = table is not None or pixels.ndim == 3
    ch = 3 if rgb else 1
    f.write(SIGNATURE)
    _chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0))
    z = zlib.compressobj(level)
    line = w * ch
    step = max(1, BLOCK_BYTES // max(1, line))
    buf = np.empty((min(step, h), line + 1), dtype=np.uint8)
    buf[:, 0] = 2  # filter type Up
    prev = np.zeros(line, dtype=np.uint8)  # the row above the first is zero
    for r0 in range(0, h, step):
        block = pixels[r0 : r0 + step]
        n = block.shape[0]
        px = (table[block] if table is not None else block).reshape(n, line)
        out = buf[:n, 1:]
        np.subtract(px[0], prev, out=out[0])
        np.subtract(px[1:], px[:-1], out=out[1:])
        prev = px[-1].copy()
        data = z.compress(buf[:n].data)
        if data:
            _chunk(f, b"IDAT", data)
    _chunk(f, b"IDAT", z.flush())
    _chunk(f, b"IEND", b"")
