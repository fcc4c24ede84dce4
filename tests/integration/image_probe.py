"""Helpers for the GetImages tests: the format and size of a JPEG/PNG held in memory (parsed here,
independent of kvsd and FFmpeg), and the PSNR of two images as ffmpeg's psnr filter measures it."""

import re
import struct
import subprocess


def image_info(data):
    """("PNG" | "JPEG", width, height); raises AssertionError when data is neither."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        if data[12:16] != b"IHDR":
            raise AssertionError("PNG without IHDR")
        w, h = struct.unpack(">II", data[16:24])
        return "PNG", w, h
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data):
            if data[pos] != 0xFF:
                raise AssertionError(f"JPEG marker expected at {pos}")
            marker = data[pos + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3):
                h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
                return "JPEG", w, h
            pos += 2 + length
        raise AssertionError("JPEG without SOF")
    raise AssertionError(f"neither PNG nor JPEG: {data[:8].hex()}")


def psnr(path_a, path_b):
    """Average PSNR (dB) of two same-size images over all planes (ffmpeg psnr filter, in RGB);
    inf for identical images."""
    p = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", path_a, "-i", path_b, "-lavfi",
                        "[0:v]format=rgb24[a];[1:v]format=rgb24[b];[a][b]psnr", "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"ffmpeg psnr failed: {p.stderr[-2000:]}")
    m = re.search(r"average:(\S+)", p.stderr)
    if not m:
        raise AssertionError(f"no PSNR in ffmpeg output: {p.stderr[-2000:]}")
    return float("inf") if m.group(1) == "inf" else float(m.group(1))
