#!/usr/bin/env python3
"""Generates the seed corpus of the playback session token fuzz target (session_token_fuzz.cpp).
Run once; the output is committed (the fuzz campaign adds to it).

The first byte picks the target's mode: 0 a token as a client sends it, 1 a session to sign and
tamper with, 2 a payload the target MACs with its key. Token seeds include tokens signed here with
the target's fixed key in the exact payload format of SessionSigner::sign (HLS and DASH, live and
on-demand, unexpired and expired at the target's clock), so the fuzzer starts from accepted tokens
and mutates them. Deterministic.

Usage: tests/fuzz/make_session_token_corpus.py  (from anywhere; paths are relative to this file)
"""
import base64
import hashlib
import hmac
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "session_token"
KEY = b"kvsd-fuzz-session-key-0123456789"
NOW_MS = 1714564800000  # the target's clock


def payload(protocol=0, sid="0123456789abcdef", stream_id=7, mode=0, kind=1, start=None, end=None, mpeg_ts=0,
            discontinuity=0, display_ts=0, display_fn=0, max_results=5, created=NOW_MS - 1000, expires=NOW_MS + 300000):
    fields = ["1", protocol, sid, stream_id, mode, kind, "" if start is None else start, "" if end is None else end,
              mpeg_ts, discontinuity, display_ts, display_fn, max_results, created, expires]
    return "|".join(str(f) for f in fields).encode()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(p):
    return b64url(p) + b"." + b64url(hmac.new(KEY, p, hashlib.sha256).digest())


def session(flags_a, flags_b, stream_id, start, end, max_results, created, expires, at, xor, sid):
    return (b"\x01" + bytes([flags_a, flags_b]) + struct.pack(">QqqQqqHB", stream_id, start, end, max_results, created,
                                                             expires, at, xor) + sid)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    live = token(payload())
    seeds = {
        "token-hls-live": b"\x00" + live,
        "token-dash-on-demand": b"\x00" + token(payload(protocol=1, mode=2, kind=0, start=NOW_MS - 3600000,
                                                        end=NOW_MS - 60000, display_fn=1, max_results=1000)),
        "token-hls-ts-replay": b"\x00" + token(payload(mode=1, start=NOW_MS - 600000, mpeg_ts=1, discontinuity=2,
                                                       display_ts=1)),
        "token-expired": b"\x00" + token(payload(expires=NOW_MS)),
        "token-negative-times": b"\x00" + token(payload(start=-(2**63), created=-1, expires=2**63 - 1)),
        "token-tampered": b"\x00" + live[:10] + bytes([live[10] ^ 1]) + live[11:],
        "token-no-dot": b"\x00" + live.replace(b".", b""),
        "token-two-dots": b"\x00" + live + b".x",
        "token-padded": b"\x00" + live + b"==",
        "token-std-alphabet": b"\x00" + live.replace(b"-", b"+").replace(b"_", b"/"),
        "token-too-long": b"\x00" + b64url(b"1|" * 800) + b".AAAA",
        "token-empty": b"\x00",
        "token-garbage": b"\x00not a token at all",
        "session-live": session(0x00, 0x00, 7, 0, 0, 5, NOW_MS, NOW_MS + 300000, 3, 0x01, b"0123456789abcdef"),
        "session-dash-range": session(0x0B, 0x1F, 2**64 - 1, -5, 2**63 - 1, 2**32 - 1, -(2**63), 2**63 - 1, 40, 0x80,
                                      b"id"),
        "session-min-expiry": session(0x24, 0x08, 0, -(2**63), 0, 0, 0, -(2**63), 0xFFFF, 0xFF, b""),
        "session-odd-id": session(0x12, 0x10, 1, 0, 1, 1, 1, 2, 7, 0x20, "\u00e9\n.=".encode()),
        "payload-canonical": b"\x02" + payload(),
        "payload-lenient-numbers": b"\x02" + payload(stream_id=" +7", max_results="-1", created="12abc"),
        "payload-enum-out-of-range": b"\x02" + payload(protocol=256, mode=7, kind=-3, discontinuity=9),
        "payload-14-fields": b"\x02" + payload().rsplit(b"|", 1)[0],
        "payload-16-fields": b"\x02" + payload() + b"|0",
        "payload-number-overflow": b"\x02" + payload(stream_id="99999999999999999999999", expires="9" * 30),
        "payload-empty": b"\x02",
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
