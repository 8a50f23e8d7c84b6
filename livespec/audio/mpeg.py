"""MP3 (and other MPEG audio) files, and DWVW-coded AIFF, read without libsndfile's seek.

libsndfile 1.2's MPEG seek is not sample-exact: after ``sf_seek`` the decoder returns
another part of the file, or silence. ``soundfile.SoundFile.read`` seeks after every read
(back to the position the read reached), so an MP3 read in blocks of 1024 frames came back
as silence after its fifth block, and in blocks of 65536 with a wrong stretch after each
(measured with soundfile 0.14 and libsndfile 1.2.2; a whole-file ``soundfile.read`` is
right). In a DWVW-coded AIFF, libsndfile cannot seek at all ("Internal psf_fseek()
failed"): soundfile's first read failed. :func:`open_mpeg` returns a ``SoundFile`` that
reads forward without that seek and seeks by decoding: forward from where it is, or from
the start (libsndfile's seek to 0 is exact) for a position behind it. Caller's thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import soundfile

MPEG_FORMATS = frozenset({"MP3", "MPEG"})  # soundfile's format names for MPEG audio


def needs_forward_reads(f: soundfile.SoundFile) -> bool:
    """Is ``f`` a file that must be read with :func:`open_mpeg`?"""
    return f.format in MPEG_FORMATS or str(f.subtype).startswith("DWVW")


_SKIP_FRAMES = 65536  # frames decoded and dropped per read while seeking


def open_mpeg(path: Path | IO[bytes]) -> soundfile.SoundFile:
    """``path`` (an MPEG audio file, or DWVW; a path or a binary file object at its start)
    as a ``SoundFile`` whose reads and seeks are exact."""
    import soundfile as sf

    class MpegFile(sf.SoundFile):  # type: ignore[misc]  # soundfile is untyped
        def seekable(self) -> bool:
            """False: soundfile then reads without seeking (``_check_frames`` and
            ``_cdata_io``); the read advances libsndfile's own position."""
            return False

        def seek(self, frames: int, whence: int = sf.SEEK_SET) -> int:
            here = int(super().seek(0, sf.SEEK_CUR))  # exact: no seek is made
            if whence == sf.SEEK_CUR:
                target = here + frames
            elif whence == sf.SEEK_END:
                target = int(self.frames) + frames
            else:
                target = frames
            if target == here:
                return here
            if target < 0:
                raise ValueError(f"seek to frame {target}")
            if target < here:
                here = int(super().seek(0, sf.SEEK_SET))
            scratch: Any = np.empty((min(_SKIP_FRAMES, target - here), self.channels), "f4")
            while here < target:
                got = int(self.read(min(len(scratch), target - here), out=scratch).shape[0])
                if got == 0:
                    break
                here += got
            return here

    return MpegFile(str(path) if isinstance(path, Path) else path)
