#!/usr/bin/env python3
"""Generates the seed corpus of the segment writers fuzz target (segment_writers_fuzz.cpp). Run
once; the output is committed.

Seeds: the named seeds of the GetImages target (tiny ffmpeg-made H.264/H.265 Matroska files and
their corrupted copies, tests/fuzz/corpus/fragment_images), and the stock SDK captures
(tests/data/sdk-captures) cut after their first complete fragment, so the seeds carry the SDK's
own track layouts (AAC alone, H.265, kvssink's H.264 with and without AAC); a capture whose first
fragment is over MAX_SEED bytes is left out (seeds that large slow every fuzzing run).

Usage: tests/fuzz/make_segment_writers_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib
import re
import shutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
import mkv_scan  # noqa: E402

OUT = HERE / "corpus" / "segment_writers"
IMAGES = HERE / "corpus" / "fragment_images"
CAPTURES = HERE.parent / "data" / "sdk-captures"
SHA1 = re.compile(r"^[0-9a-f]{40}$")
MAX_SEED = 700_000


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for seed in sorted(IMAGES.iterdir()):
        if not SHA1.match(seed.name):
            shutil.copyfile(seed, OUT / seed.name)
    for capture in sorted(CAPTURES.glob("*/04-putMedia-full.mkv")):
        body = capture.read_bytes()
        complete = mkv_scan.scan(body).complete_fragments()
        if not complete:
            continue
        end = complete[0].end
        if end <= MAX_SEED:
            (OUT / f"sdk-{capture.parent.name}").write_bytes(body[:end])
    print(f"{sum(1 for _ in OUT.iterdir())} seeds in {OUT}")


if __name__ == "__main__":
    main()
