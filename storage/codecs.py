"""Compression of the raw bytes stored in ``pages.raw`` (column ``pages.codec`` names the codec).

``zlib`` (default, level 6), ``zstd`` (``compression.zstd`` on Python 3.14, else the ``backports.zstd``
package) and ``none``. Pure functions, no database access.
"""
from __future__ import annotations

import zlib
from types import ModuleType

__all__ = ["CODECS", "compress", "decompress"]

CODECS = ("zlib", "zstd", "none")


def _zstd() -> ModuleType:
    try:
        from compression import zstd  # Python 3.14
    except ImportError:  # pragma: no cover - depends on the interpreter
        from backports import zstd
    return zstd


def compress(data: bytes, codec: str = "zlib") -> bytes:
    """``data`` compressed with ``codec``; ``ValueError`` for an unknown codec."""
    if codec == "zlib":
        return zlib.compress(data, 6)
    if codec == "zstd":
        return _zstd().compress(data)
    if codec == "none":
        return data
    raise ValueError(f"unknown codec {codec!r}")


def decompress(data: bytes | None, codec: str) -> bytes | None:
    """The original bytes (``None`` stays ``None``); ``ValueError`` for an unknown codec."""
    if data is None:
        return None
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == "zstd":
        return _zstd().decompress(data)
    if codec == "none":
        return bytes(data)
    raise ValueError(f"unknown codec {codec!r}")
