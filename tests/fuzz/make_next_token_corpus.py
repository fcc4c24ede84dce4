#!/usr/bin/env python3
"""Generates the seed corpus of the paging token fuzz target (next_token_fuzz.cpp). Run once; the
output is committed (the fuzz campaign adds to it).

Seeds are tokens as clients send them back: ListFragments NextTokens ("1|<p|s>|<from>|<to>|<cursor>"
in standard base64, the cursor a base64url fragment-store key), ListStreams tokens (base64 of a
name), GetImages tokens ("1|<ms>"), fragment store cursors, and near misses (wrong alphabet, bad
padding, non-zero leftover bits, numbers out of range or with junk). The target also reads each
input as a value to encode, so binary seeds are included. Deterministic.

Usage: tests/fuzz/make_next_token_corpus.py  (from anywhere; paths are relative to this file)
"""
import base64
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "next_token"


def cursor(stream_id, ts_ms, fragment_number):
    """A timestamp-index key (stream id, sign-flipped timestamp, fragment number) as a cursor."""
    key = struct.pack(">QQQ", stream_id, (ts_ms ^ (1 << 63)) & (2**64 - 1), fragment_number)
    return base64.urlsafe_b64encode(key).rstrip(b"=")


def list_token(kind, start, end, cur):
    return base64.b64encode(b"1|%s|%d|%d|" % (kind, start, end) + cur)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    c = cursor(7, 1714564800000, 12)
    seeds = {
        "list-server": list_token(b"s", 1714564800000, 1714568400000, c),
        "list-producer-extremes": list_token(b"p", -(2**63), 2**63 - 1, c),
        "list-cursor-with-bars": base64.b64encode(b"1|s|0|1|a|b|c"),
        "list-spaces-in-number": base64.b64encode(b"1|s| 5|+6|" + c),
        "list-number-junk": base64.b64encode(b"1|s|5x|6|" + c),
        "list-number-overflow": base64.b64encode(b"1|p|99999999999999999999|0|" + c),
        "list-empty-cursor": base64.b64encode(b"1|s|0|0|"),
        "list-wrong-version": base64.b64encode(b"2|s|0|0|" + c),
        "list-wrong-kind": base64.b64encode(b"1|x|0|0|" + c),
        "list-too-few-parts": base64.b64encode(b"1|s|0"),
        "list-url-alphabet": base64.urlsafe_b64encode(b"1|s|0|0|\xfb\xff" + c),
        "list-unpadded": list_token(b"s", 1, 2, c).rstrip(b"="),
        "list-leftover-bits": b"MXxzfDB8MHxhYR==",  # "1|s|0|0|aa" with a non-zero leftover bit
        "list-streams-name": base64.b64encode(b"my-stream"),
        "get-images": base64.b64encode(b"1|1714564800000"),
        "cursor-only": c,
        "cursor-bad-char": c[:-1] + b"+",
        "cursor-one-char-tail": c + b"A",
        "pad-in-middle": b"QU=JD",
        "three-pads": b"QQ===",
        "only-pads": b"====",
        "empty": b"",
        "binary-value": bytes(range(0, 256, 7)),
        "binary-value-negative": b"\x01" + struct.pack(">qq", -1, -(2**63)) + b"\x00\xff|\x00",
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
