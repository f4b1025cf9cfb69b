"""What makes a file the same file: its identity (dev, inode) and its fingerprint.

Identity is `(st_dev, st_ino)`; on Windows `os.stat` fills them with the volume serial
number and the file index, which is what the file system itself uses. A file's
fingerprint is its first `FP_BYTES` (1 KiB) — or all of it while it is smaller — kept
as bytes in memory and as a digest with its length in checkpoints. A smaller
fingerprint is compared as a prefix: a file that has grown still matches the
fingerprint taken when it was small.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["FP_BYTES", "digest", "fingerprint_matches", "read_head"]

FP_BYTES = 1024


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def fingerprint_matches(head: bytes, fp_len: int, fp: str) -> bool:
    """Whether a file starting with `head` has the fingerprint (`fp_len` bytes, digest `fp`)."""
    return 0 <= fp_len <= len(head) and digest(head[:fp_len]) == fp


def read_head(fd: int, size: int = FP_BYTES) -> bytes:
    """The first `size` bytes of the open file, without moving its read position."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        chunks = []
        got = 0
        while got < size:
            chunk = pread(fd, size - got, got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    # Windows has no pread: move, read, move back (only the input's own thread uses fd).
    position = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        got = 0
        while got < size:
            chunk = os.read(fd, size - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    finally:
        os.lseek(fd, position, os.SEEK_SET)
