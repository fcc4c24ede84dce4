#!/usr/bin/env python3
"""Generates the seed corpus of the HTTP/2 connection fuzz target (http2_connection_fuzz.cpp).
Run once; the output is committed (the fuzz campaign adds to it).

Each seed is 2 control bytes (piece size; options: client SETTINGS first, drain, timeouts, small
limits, late handlers; see the target) and then the client's frames after the connection
preface, which the target always sends itself. Header blocks are HPACK with static-table indexes
and literals (no Huffman, no dynamic table), written here. The seeds cover the target's routes
(POST /echo, GET /stream, PUT /early), the Dispatcher's 404/405, every frame type a client sends,
flow control, resets, limits and protocol errors. Deterministic.

Usage: tests/fuzz/make_http2_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "http2_connection"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20

# Options of the second control byte.
CLIENT_SETTINGS, DRAIN, TIMEOUTS, SMALL_LIMITS, LATE_HANDLERS = 1, 2, 4, 8, 16

# HPACK static table entries (RFC 7541 appendix A).
STATIC = {(":method", "GET"): 2, (":method", "POST"): 3, (":path", "/"): 4, (":scheme", "http"): 6,
          (":scheme", "https"): 7}
STATIC_NAMES = {":authority": 1, ":method": 2, ":path": 4, ":scheme": 6, "content-length": 28, "content-type": 31,
                "expect": 35, "host": 38}


def hpack_int(value, prefix_bits, first):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack_string(s):
    b = s.encode() if isinstance(s, str) else s
    return hpack_int(len(b), 7, 0) + b


def header_block(fields):
    out = b""
    for name, value in fields:
        if (name, value) in STATIC:
            out += hpack_int(STATIC[(name, value)], 7, 0x80)  # indexed
        elif name in STATIC_NAMES:
            out += hpack_int(STATIC_NAMES[name], 4, 0x00) + hpack_string(value)  # literal, indexed name
        else:
            out += b"\x00" + hpack_string(name) + hpack_string(value)  # literal, new name
    return out


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def request(stream, method, path, extra=(), end_stream=True):
    fields = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "localhost")] + list(extra)
    return frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, header_block(fields))


def data(stream, payload, end_stream=True):
    return frame(DATA, END_STREAM if end_stream else 0, stream, payload)


def settings(*pairs, flags=0):
    return frame(SETTINGS, flags, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def seed(c0, c1, *frames):
    return bytes([c0, c1]) + b"".join(frames)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    ack = settings(flags=ACK)
    echo_head = request(1, "POST", "/echo", [("content-type", "application/octet-stream"), ("content-length", "11")],
                        end_stream=False)
    split_block = header_block([(":method", "GET"), (":scheme", "http"), (":path", "/stream"), ("x-long", "v" * 40)])
    seeds = {
        "get-stream": seed(0, CLIENT_SETTINGS, ack, request(1, "GET", "/stream")),
        "get-stream-pieces": seed(7, CLIENT_SETTINGS, request(1, "GET", "/stream"), request(3, "GET", "/stream")),
        "echo": seed(0, CLIENT_SETTINGS, echo_head, data(1, b"hello", False), data(1, b" world")),
        "echo-late-handlers": seed(0, CLIENT_SETTINGS | LATE_HANDLERS, echo_head, data(1, b"hello world")),
        "echo-trailers": seed(0, CLIENT_SETTINGS, echo_head, data(1, b"hello world", False),
                              frame(HEADERS, END_HEADERS | END_STREAM, 1, header_block([("x-trailer", "1")]))),
        "echo-padded": seed(0, CLIENT_SETTINGS, echo_head,
                            frame(DATA, PADDED | END_STREAM, 1, b"\x04hello world\0\0\0\0")),
        "echo-expect-continue": seed(0, CLIENT_SETTINGS, request(1, "POST", "/echo", [("expect", "100-continue")],
                                                                 end_stream=False), data(1, b"x")),
        "echo-window-exhausted": seed(0, CLIENT_SETTINGS | SMALL_LIMITS, request(1, "POST", "/echo", end_stream=False),
                                      data(1, b"a" * 1024, False), data(1, b"b" * 100)),
        "early-unread-body": seed(0, CLIENT_SETTINGS, request(1, "PUT", "/early", end_stream=False),
                                  data(1, b"ignored", False), data(1, b"more")),
        "not-found": seed(0, CLIENT_SETTINGS, request(1, "GET", "/nope")),
        "wrong-method": seed(0, CLIENT_SETTINGS, request(1, "DELETE", "/echo")),
        "head-request": seed(0, CLIENT_SETTINGS, request(1, "HEAD", "/stream")),
        "cors-preflight": seed(0, CLIENT_SETTINGS, request(1, "OPTIONS", "/echo", [
            ("origin", "http://localhost:8000"), ("access-control-request-method", "POST")])),
        "continuation": seed(0, CLIENT_SETTINGS, frame(HEADERS, END_STREAM, 1, split_block[:20]),
                             frame(CONTINUATION, 0, 1, split_block[20:40]),
                             frame(CONTINUATION, END_HEADERS, 1, split_block[40:])),
        "priority-flag": seed(0, CLIENT_SETTINGS, frame(HEADERS, END_HEADERS | END_STREAM | PRIO, 1,
                                                        struct.pack(">IB", 0, 15) + header_block(
                                                            [(":method", "GET"), (":scheme", "http"),
                                                             (":path", "/stream")]))),
        "priority-frame": seed(0, CLIENT_SETTINGS, frame(PRIORITY, 0, 3, struct.pack(">IB", 1, 200)),
                               request(1, "GET", "/stream")),
        "ping": seed(0, CLIENT_SETTINGS, frame(PING, 0, 0, b"12345678"), frame(PING, ACK, 0, b"87654321")),
        "settings-params": seed(0, 0, settings((1, 0), (2, 0), (3, 10), (4, 65535), (5, 16384), (6, 100))),
        "settings-tiny-window": seed(0, 0, settings((4, 1)), request(1, "GET", "/stream"),
                                     frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1000))),
        "window-update": seed(0, CLIENT_SETTINGS, frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)),
                              request(1, "GET", "/stream"), frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 100))),
        "rst-mid-body": seed(0, CLIENT_SETTINGS, request(1, "POST", "/echo", end_stream=False), data(1, b"abc", False),
                             frame(RST_STREAM, 0, 1, struct.pack(">I", 8))),
        "rst-before-response": seed(0, CLIENT_SETTINGS | LATE_HANDLERS, request(1, "GET", "/stream"),
                                    frame(RST_STREAM, 0, 1, struct.pack(">I", 8))),
        "client-goaway": seed(0, CLIENT_SETTINGS, request(1, "GET", "/stream"),
                              frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0) + b"bye")),
        "drain": seed(0, CLIENT_SETTINGS | DRAIN, request(1, "GET", "/stream"), request(3, "POST", "/echo", end_stream=False),
                      data(3, b"late")),
        "timeouts-open-headers": seed(0, CLIENT_SETTINGS | TIMEOUTS, frame(HEADERS, 0, 1, split_block[:10])),
        "timeouts-idle": seed(0, CLIENT_SETTINGS | TIMEOUTS, ack),
        "timeouts-open-body": seed(0, CLIENT_SETTINGS | TIMEOUTS, request(1, "POST", "/echo", end_stream=False)),
        "many-streams-small-limits": seed(0, CLIENT_SETTINGS | SMALL_LIMITS,
                                          *(request(i, "POST", "/echo", end_stream=False) for i in (1, 3, 5, 7))),
        "too-many-fields": seed(0, CLIENT_SETTINGS | SMALL_LIMITS, request(1, "GET", "/stream",
                                                                           [("x-f%d" % i, "v") for i in range(10)])),
        "header-too-large": seed(0, CLIENT_SETTINGS | SMALL_LIMITS, request(1, "GET", "/stream", [("x-big", "b" * 300)])),
        "bad-data-stream-0": seed(0, CLIENT_SETTINGS, frame(DATA, 0, 0, b"x")),
        "bad-even-stream": seed(0, CLIENT_SETTINGS, request(2, "GET", "/stream")),
        "bad-push-promise": seed(0, CLIENT_SETTINGS, frame(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2))),
        "bad-uppercase-header": seed(0, CLIENT_SETTINGS, request(1, "GET", "/stream", [("X-Upper", "1")])),
        "bad-connection-header": seed(0, CLIENT_SETTINGS, request(1, "GET", "/stream", [("connection", "keep-alive")])),
        "bad-content-length": seed(0, CLIENT_SETTINGS, request(1, "POST", "/echo", [("content-length", "3")],
                                                               end_stream=False), data(1, b"toolong")),
        "bad-frame-size": seed(0, CLIENT_SETTINGS, frame(PING, 0, 0, b"1234567")),
        "unknown-frame-type": seed(0, CLIENT_SETTINGS, frame(0x42, 0xFF, 0, b"whatever"), request(1, "GET", "/stream")),
        "no-client-settings": seed(0, 0, request(1, "GET", "/stream")),
    }
    for name, payload in seeds.items():
        (OUT / name).write_bytes(payload)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
