#!/usr/bin/env python3
"""Generates the seed corpus of the MKV ingest parser fuzz target (run once; the output is committed).

Inputs are truncated or mutated prefixes of the stock SDK PutMedia captures in
tests/data/sdk-captures, each under 64 KB. Deterministic: same captures, same corpus.

Usage: tests/fuzz/make_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib
import random

HERE = pathlib.Path(__file__).resolve().parent
CAPTURES = HERE.parent / "data" / "sdk-captures"
OUT = HERE / "corpus" / "mkv_ingest_parser"
LIMIT = 64 * 1024


def capture(name):
    return (CAPTURES / name / "04-putMedia-full.mkv").read_bytes()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    seeds = {}
    audio = capture("audio-only-relative")
    video = capture("realtime-h264")
    av = capture("audio-video-relative")
    hevc = capture("offline-h265")

    # Plain prefixes: header only, mid-header, mid-block, across a Cluster boundary.
    seeds["audio-prefix-40"] = audio[:40]
    seeds["audio-prefix-232"] = audio[:232]
    seeds["audio-prefix-4k"] = audio[:4096]
    seeds["audio-prefix-60k"] = audio[:60000]
    seeds["video-prefix-2k"] = video[:2048]
    seeds["av-prefix-20k"] = av[:20000]
    seeds["hevc-prefix-3k"] = hevc[:3000]

    # Realtime H.264 without its big blocks: header, Cluster Timecode and Position, the nine
    # metadata Tags and the END_OF_FRAGMENT Tags, then the next Cluster start (offsets from the
    # mkvinfo dump next to the capture).
    header = video[:0x118]
    cluster1 = video[0x118:0x12A]
    tags = video[0xDFFAA:0xE0298]
    cluster2 = video[0xE0298:0xE02AA]
    seeds["video-tags-eof"] = header + cluster1 + tags + cluster2
    seeds["video-tags-eof-small-block"] = header + cluster1 + audio[0xE8 + 18:0xE8 + 18 + 300] + tags

    # Byte mutations of a small multi-element prefix.
    rng = random.Random(20261125)
    base = audio[:8192]
    for i in range(8):
        data = bytearray(base)
        for _ in range(1 + i):
            data[rng.randrange(len(data))] = rng.randrange(256)
        seeds[f"audio-mutated-{i}"] = bytes(data)

    # Structural mutations: second EBML header, Cluster Timecode going back, a stray element.
    seeds["audio-two-documents"] = audio[:0x91C8] + audio[:4096]
    seeds["audio-timecode-back"] = audio[:0x91C8] + audio[0xE8:0xE8 + 2048]
    seeds["audio-stray-element"] = audio[:0x200] + bytes([0x42, 0x86, 0x81, 0x01]) + audio[0x200:0x800]

    for name, data in seeds.items():
        assert len(data) < LIMIT, name
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} inputs to {OUT}")


if __name__ == "__main__":
    main()
