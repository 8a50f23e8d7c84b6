"""The streaming PNG encoder: Pillow's decoder reads back the pixels it was given."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from livespec.export import pngfile
from livespec.export.image import colour_table


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def idat(data: bytes) -> bytes:
    """The concatenated IDAT payload of a PNG, each chunk's CRC checked."""
    at, out = 8, b""
    while at < len(data):
        (n,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + n]
        assert struct.unpack(">I", data[at + 8 + n : at + 12 + n])[0] == zlib.crc32(kind + body)
        if kind == b"IDAT":
            out += body
        at += 12 + n
    return out


@pytest.mark.parametrize("level", [0, 1, 9])
@pytest.mark.parametrize("block", [1, 37, 1 << 20])  # one row per block, a few, all at once
@pytest.mark.parametrize("parallel", [False, True])  # one deflate stream, or two joined
def test_pixels_round_trip(monkeypatch, level, block, parallel):
    monkeypatch.setattr(pngfile, "BLOCK_BYTES", block)
    monkeypatch.setattr(pngfile, "PARALLEL_BYTES", 1 if parallel else 1 << 30)
    rng = np.random.default_rng(level + block)
    idx = rng.integers(0, 256, size=(23, 41), dtype=np.uint8)
    idx[5:9] = idx[4]  # repeated rows: the Up filter's zeros
    table = colour_table("magma")
    for pixels, tab, mode, want in (
        (idx, None, "L", idx),  # grey
        (idx, table, "RGB", table[idx]),  # indices into a colour table
        (table[idx], None, "RGB", table[idx]),  # RGB as it is
    ):
        buf = io.BytesIO()
        pngfile.write_png(buf, pixels, tab, level)
        img = decode(buf.getvalue())
        assert img.mode == mode and img.size == (41, 23)
        assert np.array_equal(np.asarray(img), want)
        # zlib checks the stream's Adler-32 (combined from the halves when parallel)
        raw = np.frombuffer(zlib.decompress(idat(buf.getvalue())), dtype=np.uint8)
        assert raw.size == 23 * (1 + want[0].size) and np.all(raw[:: 1 + want[0].size] == 2)


def test_adler32_combine_equals_zlib():
    rng = np.random.default_rng(0)
    for n1, n2 in ((0, 5), (5, 0), (1, 1), (70000, 123457)):
        a = rng.integers(0, 256, n1, dtype=np.uint8).tobytes()
        b = rng.integers(0, 256, n2, dtype=np.uint8).tobytes()
        got = pngfile.adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b))
        assert got == zlib.adler32(a + b)


def test_one_pixel_and_one_row(monkeypatch):
    monkeypatch.setattr(pngfile, "PARALLEL_BYTES", 1)
    for shape in ((1, 1), (1, 300), (300, 1), (2, 3)):
        px = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
        buf = io.BytesIO()
        pngfile.write_png(buf, px)
        assert np.array_equal(np.asarray(decode(buf.getvalue())), px)
