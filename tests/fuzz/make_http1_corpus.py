#!/usr/bin/env python3
"""Generates the seed corpus of the HTTP/1.1 request head fuzz target (http1_request_head_fuzz.cpp).
Run once; the output is committed (the fuzz campaign adds to it).

Each seed is 4 control bytes (header limit, header count limit, split point; see the target) and
then the bytes a client sends: the requests kvsd serves (SDK PutMedia, signed JSON calls, HLS
GETs), the framing variants HTTP/1.1 allows, and one per malformed or over-limit kind. Deterministic.

Usage: tests/fuzz/make_http1_corpus.py  (from anywhere; paths are relative to this file)
"""
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "http1_request_head"


def control(split=0, header_limit=None, header_count=None):
    """header_limit / header_count: None for kvsd's defaults (16 KiB, 100)."""
    c0 = 0 if header_limit is None else 1 | ((header_limit - 64) // 16) << 1
    c1 = 0 if header_count is None else 1 | header_count << 1
    return bytes([c0 & 0xFF, c1 & 0xFF]) + struct.pack(">H", split)


def head(start, fields, end=b"\r\n"):
    return start + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in fields) + end


SIGNED = [
    (b"Host", b"kinesisvideo.us-west-2.amazonaws.com"),
    (b"X-Amz-Date", b"20240501T120000Z"),
    (b"Authorization", b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-west-2/kinesisvideo/aws4_request, "
                       b"SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    put_media = head(b"POST /putMedia HTTP/1.1", [
        (b"Host", b"127.0.0.1:4567"), (b"Accept", b"*/*"), (b"connection", b"keep-alive"),
        (b"transfer-encoding", b"chunked"), (b"user-agent", b"AWS-SDK-KVS/3.4.1 GCC/12.2.0 Linux/6.1"),
        (b"x-amzn-fragment-acknowledgment-required", b"1"), (b"x-amzn-fragment-timecode-type", b"ABSOLUTE"),
        (b"x-amzn-producer-start-timestamp", b"1714564800.000"), (b"x-amzn-stream-name", b"my-stream"),
        (b"Expect", b"100-continue")] + SIGNED[1:])
    describe = head(b"POST /describeStream HTTP/1.1", SIGNED + [
        (b"Content-Type", b"application/json"), (b"Content-Length", b"26")]) + b'{"StreamName":"my-stream"}'
    hls = head(b"GET /hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=MXwwfGFi.c2ln HTTP/1.1",
               [(b"Host", b"localhost"), (b"Origin", b"http://localhost:8000")])
    seeds = {
        "valid-put-media": control(40) + put_media,
        "valid-describe-stream": control(7) + describe,
        "valid-hls-get": control(300) + hls,
        "valid-http10": control(3) + b"GET /healthz HTTP/1.0\r\n\r\n",
        "valid-no-host": control(1) + b"GET / HTTP/1.1\r\n\r\n",
        "valid-two-hosts": control(20) + head(b"GET /a?b HTTP/1.1", [(b"Host", b"one"), (b"host", b"two")]),
        "valid-query-only": control(5) + b"OPTIONS ?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n",
        "valid-asterisk": control(9) + b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "valid-absolute-form": control(11) + b"GET http://h:80/p?q=%2F HTTP/1.1\r\nHost: h:80\r\n\r\n",
        "valid-empty-and-tab-values": control(33) + b"GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Tab:\t a\tb \t\r\n\r\n",
        "valid-mixed-case-names": control(2) + head(b"PUT /x HTTP/1.1", [(b"HOST", b"h"), (b"cOnTeNt-LeNgTh", b"0")]),
        "valid-pipelined": control(60) + b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        "valid-body-follows": control(30) + head(b"POST /echo HTTP/1.1", [(b"Content-Length", b"5")]) + b"hello",
        "valid-connection-close": control(4) + head(b"GET / HTTP/1.1", [(b"Connection", b"close")]),
        "valid-keep-alive-10": control(4) + head(b"GET / HTTP/1.0", [(b"Connection", b"keep-alive")]),
        "valid-non-ascii-value": control(8) + head(b"GET / HTTP/1.1", [(b"X-Name", "Kamera \u00fc\u00df".encode())]),
        "limit-small-header": control(10, header_limit=64) + put_media,
        "limit-exactly-at": control(0, header_limit=64) + b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + b"p" * 26 + b"\r\n\r\n",
        "limit-field-count": control(12, header_count=3) + head(b"GET / HTTP/1.1", [(b"A", b"1"), (b"B", b"2"), (b"C", b"3"), (b"D", b"4")]),
        "limit-zero-fields": control(0, header_count=0) + b"GET / HTTP/1.1\r\n\r\n",
        "limit-long-line": control(100, header_limit=256) + b"GET /" + b"a" * 400 + b" HTTP/1.1\r\n\r\n",
        "bad-both-framings": control(15) + head(b"POST /x HTTP/1.1", [(b"Content-Length", b"3"), (b"Transfer-Encoding", b"chunked")]),
        "bad-te-list": control(15) + head(b"POST /x HTTP/1.1", [(b"Transfer-Encoding", b"gzip, chunked")]),
        "bad-two-lengths": control(15) + head(b"POST /x HTTP/1.1", [(b"Content-Length", b"3"), (b"Content-Length", b"4")]),
        "bad-length-value": control(15) + head(b"POST /x HTTP/1.1", [(b"Content-Length", b"-1")]),
        "bad-huge-length": control(15) + head(b"POST /x HTTP/1.1", [(b"Content-Length", b"99999999999999999999999")]),
        "bad-version": control(6) + b"GET / HTTP/2.0\r\n\r\n",
        "bad-method-char": control(2) + b"G(T / HTTP/1.1\r\n\r\n",
        "bad-space-in-name": control(2) + b"GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
        "bad-obs-fold": control(25) + b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n",
        "bad-bare-lf": control(3) + b"GET / HTTP/1.1\nHost: h\n\n",
        "bad-nul-in-value": control(3) + b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n",
        "bad-no-target": control(2) + b"GET  HTTP/1.1\r\n\r\n",
        "truncated-start-line": control(4) + b"POST /putMe",
        "truncated-fields": control(20) + b"POST /putMedia HTTP/1.1\r\nHost: h\r\nX-Amz",
        "empty": control(0),
        "tls-client-hello": control(1) + bytes.fromhex("16030100c4010000c00303") + b"\x00" * 32,
        "h2-preface": control(5) + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
