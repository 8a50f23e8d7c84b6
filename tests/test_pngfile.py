"""The streaming PNG encoder: Pillow's decoder reads back the pixels it was given."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from livespec.export import pngfile
from livespec.export.image import colour_table


def decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize("level", [0, 1, 9])
@pytest.mark.parametrize("block", [1, 37, 1 << 20])  # one row per block, a few, all at once
def test_pixels_round_trip(monkeypatch, level, block):
    monkeypatch.setattr(pngfile, "BLOCK_BYTES", block)
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


def test_one_pixel_and_one_row():
    for shape in ((1, 1), (1, 300), (300, 1)):
        px = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
        buf = io.BytesIO()
        pngfile.write_png(buf, px)
        assert np.array_equal(np.asarray(decode(buf.getvalue())), px)
