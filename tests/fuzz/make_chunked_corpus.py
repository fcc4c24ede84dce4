#!/usr/bin/env python3
"""Generates the seed corpus of the chunked decoder fuzz target (run once; the output is committed).

Each seed is a small chunked body: valid ones (extensions, trailers, a pipelined request after the
body, direct-read-sized chunks) and one per failure kind of the decoder's contract. Deterministic.

Usage: tests/fuzz/make_chunked_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "chunked_decoder"
MAX_LINE = 4096  # ChunkedDecoder::kMaxLineBytes
MAX_TRAILER = 16384  # ChunkedDecoder::kMaxTrailerBytes


def chunk(data, ext=b""):
    return b"%x" % len(data) + ext + b"\r\n" + data + b"\r\n"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    wiki = b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
    seeds = {
        "valid-simple": wiki,
        "valid-empty": b"0\r\n\r\n",
        "valid-hex-forms": b"1A\r\n" + b"x" * 26 + b"\r\n000a\r\n" + b"y" * 10 + b"\r\naBc\r\n" + b"z" * 0xABC
        + b"\r\n000\r\n\r\n",
        "valid-extensions": chunk(b"hello", b";name=value") + chunk(b" world", b';a;b="q;x"') + b"0;last\r\n\r\n",
        "valid-trailers": chunk(b"abc") + b"0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n",
        "valid-pipelined": wiki + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "valid-many-chunks": b"".join(chunk(bytes([65 + n % 26]) * n) for n in range(1, 41)) + b"0\r\n\r\n",
        "valid-max-size-truncated": b"10000000000\r\n" + b"d" * 300,
        "truncated-size-line": b"1",
        "fail-empty-size": b"\r\n",
        "fail-non-hex": b"zz\r\n",
        "fail-bare-lf-size": b"5\nhello\r\n0\r\n\r\n",
        "fail-missing-crlf-after-data": b"5\r\nhelloXX",
        "fail-bare-lf-trailer": b"3\r\nabc\r\n0\r\nX: 1\n\r\n",
        "fail-17-hex-digits": b"FFFFFFFFFFFFFFFFF\r\n",
        "fail-size-over-max": b"10000000001\r\n",
        "fail-size-line-too-long": b"1;" + b"e" * (MAX_LINE + 100),
        "fail-trailer-too-long": b"0\r\n" + b"X-Pad: 0123456789abcdef\r\n" * (MAX_TRAILER // 25 + 10),
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
