"""Files for the intake tests: synthetic cards, crafted bombs and broken files (all made in memory)."""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DecodedStreamObject, NameObject


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels (10 G by default) in a few hundred bytes."""
    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pdf_bytes(pages: int = 1, *, javascript: bool = False, attachment: bool = False,
              stream_bytes: int = 0) -> bytes:
    """A small PDF; optionally with document JavaScript, an embedded file, or a large zero stream."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_open_action(JavaScript("app.alert('hi');"))
    if attachment:
        writer.add_attachment("payload.exe", b"MZ" + b"\0" * 64)
    if stream_bytes:
        stream = DecodedStreamObject()
        stream.set_data(b"\0" * stream_bytes)
        compressed = stream.flate_encode()
        writer.pages[0][NameObject("/PieceInfo")] = writer._add_object(compressed)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
