"""Image conventions of ``livespec export``: which row holds 0 Hz, how an image is resized
and how levels become 8-bit values, and what each ``--like`` preset sets them to.

The presets reproduce the images of the notebooks people come from (docs/export.md,
"Reproducing a notebook"): ``--like torchaudio`` is the BirdCLEF pipeline
``Image.fromarray(uint8(minmax(AmplitudeToDB()(Spectrogram()(clip))))).resize((512, 512))``;
``--like librosa`` and ``--like scipy`` are matplotlib's ``specshow``/``imshow(origin='lower')``
colour lookup. Pure data (no numpy, no Pillow): the command-line parser imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

ORIGINS = ("lower", "upper")
RESIZE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
RESIZE_ON = ("db", "image")
QUANTIZE = ("round", "floor", "bins")


@dataclass(frozen=True)
class ImageConvention:
    """How levels become pixels.

    Attributes:
        origin: "lower" (0 Hz in the bottom row) or "upper" (0 Hz in row 0, the top, as
            ``Image.fromarray`` of a (bins, frames) array gives).
        resize_filter: Pillow's filter for ``--size`` (its name in lower case).
        resize_on: "db" (resize the float levels, then quantize) or "image" (quantize,
            then resize the 8-bit image, as notebooks do with ``Image.resize``).
        quantize: "round" (nearest of 256 levels, ``round(255 * x)``), "floor"
            (``(255 * x).astype(np.uint8)``, as notebooks save images) or "bins" (256
            equal bins, ``min(floor(256 * x), 255)``: matplotlib's colour lookup), with ``x``
            the level scaled to 0..1.
    """

    origin: str = "lower"
    resize_filter: str = "bilinear"
    resize_on: str = "db"
    quantize: str = "round"


# livespec's own images; then each preset's usual notebook.
DEFAULT_CONVENTION = ImageConvention()
LIKE_CONVENTIONS: dict[str, ImageConvention] = {
    # imshow(log_specgram(...).T, origin='lower'): colour index min(floor(256 x), 255).
    "scipy": ImageConvention("lower", "bilinear", "db", "bins"),
    # librosa.display.specshow: 0 Hz at the bottom, matplotlib's colour lookup.
    "librosa": ImageConvention("lower", "bilinear", "db", "bins"),
    # Image.fromarray(uint8 of minmax(dB)) -> row 0 is 0 Hz; .resize((512, 512)) uses
    # Pillow's default filter for mode L (BICUBIC since Pillow 7) on the 8-bit image;
    # astype(np.uint8) truncates.
    "torchaudio": ImageConvention("upper", "bicubic", "image", "floor"),
}


def convention_for(
    like: str | None,
    *,
    origin: str | None = None,
    resize_filter: str | None = None,
    resize_on: str | None = None,
    quantize: str | None = None,
) -> ImageConvention:
    """The preset's convention (livespec's own for ``like=None``) with the options given
    explicitly replacing its values."""
    base = DEFAULT_CONVENTION if like is None else LIKE_CONVENTIONS[like]
    return ImageConvention(
        origin=origin or base.origin,
        resize_filter=resize_filter or base.resize_filter,
        resize_on=resize_on or base.resize_on,
        quantize=quantize or base.quantize,
    )
