#!/usr/bin/env python3
"""Generates the seed corpus of the GetImages fuzz target (fragment_images_fuzz.cpp) and adds
GetImages' corrupt-video seeds to the MKV ingest parser corpus. Run once; the output is committed.

Seeds are tiny (64x48, 1 s GOP) H.264 and H.265 Matroska files that ffmpeg encodes from a test
pattern, and copies with every video payload replaced by random bytes (block structure intact),
truncated, or with flipped bytes. Deterministic given the same ffmpeg build.

Usage: tests/fuzz/make_images_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib
import random
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import mkv_scan  # noqa: E402

OUT = HERE / "corpus" / "fragment_images"
INGEST_OUT = HERE / "corpus" / "mkv_ingest_parser"


def encode(codec, params):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "v.mkv"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25:duration=2",
                        "-c:v", codec, "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p", *params, "-fflags", "+bitexact",
                        "-flags", "+bitexact", str(path)], check=True)
        return path.read_bytes()


def garbage_payloads(body, seed):
    sc = mkv_scan.scan(body)
    out = bytearray(body)
    rnd = random.Random(seed)
    for frag in sc.fragments:
        for b in frag.blocks:
            _, il = mkv_scan.read_id(body, b.start)
            _, sl = mkv_scan.read_size(body, b.start + il)
            data = b.start + il + sl
            _, tl = mkv_scan.read_size(body, data)
            for i in range(data + tl + 3, b.end):
                out[i] = rnd.getrandbits(8)
    return bytes(out)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    h264 = encode("libx264", ["-x264-params", "scenecut=0:log-level=none"])
    hevc = encode("libx265", ["-x265-params", "scenecut=0:log-level=none"])
    seeds = {"h264": h264, "hevc": hevc, "h264-garbage-payloads": garbage_payloads(h264, 1),
             "hevc-garbage-payloads": garbage_payloads(hevc, 2), "h264-truncated": h264[:len(h264) * 2 // 3]}
    rnd = random.Random(3)
    for n in range(4):
        b = bytearray(h264)
        for _ in range(8):
            b[rnd.randrange(len(b) // 4, len(b))] ^= 1 << rnd.randrange(8)
        seeds[f"h264-flipped-{n}"] = bytes(b)
    for name, data in seeds.items():
        assert len(data) < 64 * 1024, (name, len(data))
        (OUT / name).write_bytes(data)
    (INGEST_OUT / "h264-garbage-payloads").write_bytes(seeds["h264-garbage-payloads"])
    print(f"{len(seeds)} seeds in {OUT}; 1 added to {INGEST_OUT}")


if __name__ == "__main__":
    main()
