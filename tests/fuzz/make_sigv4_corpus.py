#!/usr/bin/env python3
"""Generates the seed corpus of the SigV4 fuzz target (sigv4_fuzz.cpp). Run once; the output is
committed (the fuzz campaign adds to it).

Each seed is lines: control, method, path, query, payload hash, then "name:value" headers (see the
target). Some seeds are signed here with the target's key and clock (AKIDFUZZEXAMPLE, 2024-05-01
12:00:00 UTC), in the header form and the presigned-query form, so the fuzzer starts from requests
that verify() accepts; the others carry one malformed or mismatching part each. The control line
picks which part the target's tamper step changes. Deterministic.

Usage: tests/fuzz/make_sigv4_corpus.py  (from anywhere; paths are relative to this file)
"""
import hashlib
import hmac
import pathlib
import re
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "sigv4"

KEY_ID = "AKIDFUZZEXAMPLE"
SECRET = "fuzzSecretKey/EXAMPLE+0123456789abcdefghij"
AMZ_DATE = "20240501T120000Z"
REGION, SERVICE = "us-west-2", "kinesisvideo"
SCOPE = f"{AMZ_DATE[:8]}/{REGION}/{SERVICE}/aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNRESERVED = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def encode(b):
    return "".join(chr(c) if c in UNRESERVED else "%%%02X" % c for c in b)


def decode(s):
    return urllib.parse.unquote_to_bytes(s)  # '+' stays a '+'


def canonical_query(query, exclude=None):
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if exclude is not None and decode(key) == exclude:
            continue
        pairs.append((encode(decode(key)), encode(decode(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def signature(method, path, query, headers, signed, payload, exclude=None):
    lines = []
    for name in signed:
        values = [v.strip(" \t") for n, v in headers if n.lower() == name]
        lines.append(f"{name}:{','.join(values)}\n")
    canonical = "\n".join([method, path or "/", canonical_query(query, exclude), "".join(lines), ";".join(signed),
                           payload])
    sts = "\n".join(["AWS4-HMAC-SHA256", AMZ_DATE, SCOPE, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SECRET).encode()
    for part in (AMZ_DATE[:8], REGION, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def header_signed(method, path, query, headers, payload):
    headers = headers + [("X-Amz-Date", AMZ_DATE)]
    signed = sorted({n.lower() for n, _ in headers})
    sig = signature(method, path, query, headers, signed, payload)
    auth = f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{SCOPE}, SignedHeaders={';'.join(signed)}, Signature={sig}"
    return headers + [("Authorization", auth)]


def presigned_query(method, path, query, headers, payload, expires=300):
    signed = sorted({n.lower() for n, _ in headers})
    params = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={KEY_ID}%2F{SCOPE.replace('/', '%2F')}"
              f"&X-Amz-Date={AMZ_DATE}&X-Amz-Expires={expires}&X-Amz-SignedHeaders={'%3B'.join(signed)}")
    full = (query + "&" if query else "") + params
    sig = signature(method, path, full, headers, signed, payload, exclude=b"X-Amz-Signature")
    return full + "&X-Amz-Signature=" + sig


def seed(control, method, path, query, payload, headers):
    lines = [control, method, path, query, payload] + [f"{n}:{v}" for n, v in headers]
    return "\n".join(lines).encode()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    host = [("Host", "kinesisvideo.us-west-2.amazonaws.com")]
    body_hash = hashlib.sha256(b'{"StreamName":"s"}').hexdigest()
    put_media_headers = host + [("connection", "keep-alive"), ("transfer-encoding", "chunked"),
                                ("user-agent", "AWS-SDK-KVS/3.4.1  GCC"), ("x-amzn-stream-name", "s"),
                                ("x-amzn-producer-start-timestamp", "1714564800.000")]
    presigned_path = "/hls/v1/getHLSMediaPlaylist.m3u8"
    seeds = {
        # Accepted as received.
        "signed-describe": seed("\0\0", "POST", "/describeStream", "", body_hash,
                                header_signed("POST", "/describeStream", "", host, body_hash)),
        "signed-put-media": seed("\0\1", "POST", "/putMedia", "", EMPTY_SHA256,
                                 header_signed("POST", "/putMedia", "", put_media_headers, EMPTY_SHA256)),
        "signed-put-media-h2-dropped": seed("\1\3", "POST", "/putMedia", "", EMPTY_SHA256,
                                            [h for h in header_signed("POST", "/putMedia", "", put_media_headers,
                                                                      EMPTY_SHA256)
                                             if h[0] not in ("connection", "transfer-encoding")]),
        "signed-query": seed("\0\2", "GET", "/p", "b=2&a=1&c=%2f&d=x+y&e", EMPTY_SHA256,
                             header_signed("GET", "/p", "b=2&a=1&c=%2f&d=x+y&e", host, EMPTY_SHA256)),
        "signed-repeated-header": seed("\0\3\0\0\0\2", "POST", "/x", "", EMPTY_SHA256,
                                       header_signed("POST", "/x", "", host + [("X-Rep", "one"), ("x-rep", " two ")],
                                                     EMPTY_SHA256)),
        "signed-content-sha256": seed("\0\4", "POST", "/x", "", EMPTY_SHA256,
                                      header_signed("POST", "/x", "", host + [("x-amz-content-sha256", EMPTY_SHA256)],
                                                    EMPTY_SHA256)),
        "presigned": seed("\0\5", "GET", presigned_path, presigned_query("GET", presigned_path, "SessionToken=abc", host,
                                                                        EMPTY_SHA256), EMPTY_SHA256, host),
        "presigned-unsigned-payload": seed("\0\6", "GET", "/x", presigned_query("GET", "/x", "", host,
                                                                               "UNSIGNED-PAYLOAD"), "", host),
        # Rejected as received; the signer step still signs and tampers them.
        "missing": seed("\0\7", "GET", "/", "", "", host),
        "bad-scheme": seed("\0\0", "GET", "/", "", "", host + [("Authorization", "Basic dXNlcjpwYXNz")]),
        "bad-components": seed("\0\1", "GET", "/", "", "", host + [
            ("X-Amz-Date", AMZ_DATE),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=zz, Extra=1")]),
        "bad-scope-date": seed("\0\2", "GET", "/", "", "", host + [
            ("X-Amz-Date", "20240502T120000Z"),
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{SCOPE}, SignedHeaders=host;x-amz-date, "
                              f"Signature={'a' * 64}")]),
        "bad-date": seed("\0\3", "GET", "/", "", "", host + [
            ("X-Amz-Date", "20240230T250000Z"),
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={KEY_ID}/{SCOPE}, SignedHeaders=host, Signature={'a' * 64}")]),
        "expired": seed("\0\4\0\0\0\0\xc7", "GET", "/", "", "", host + [
            ("X-Amz-Date", "20240501T100000Z"),
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20240501/{REGION}/{SERVICE}/aws4_request, "
                              f"SignedHeaders=host;x-amz-date, Signature={'b' * 64}")]),
        "wrong-service": seed("\0\5", "GET", "/", "", "", host + [
            ("X-Amz-Date", AMZ_DATE),
            ("Authorization", f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20240501/{REGION}/s3/aws4_request, "
                              f"SignedHeaders=host;x-amz-date, Signature={'c' * 64}")]),
        "unknown-key": seed("\0\6", "GET", "/", "", "", host + [
            ("X-Amz-Date", AMZ_DATE),
            ("Authorization", f"AWS4-HMAC-SHA256 Credential=AKIDOTHER/{SCOPE}, SignedHeaders=host;x-amz-date, "
                              f"Signature={'d' * 64}")]),
        "streaming-payload": seed("\0\7", "PUT", "/", "", "", host + [("x-amz-content-sha256",
                                                                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")]),
        "payload-mismatch": seed("\0\0", "POST", "/", "", EMPTY_SHA256, host + [("x-amz-content-sha256", "f" * 64)]),
        "both-forms": seed("\0\1", "GET", "/", "X-Amz-Signature=" + "e" * 64, "", host + [("Authorization", "x")]),
        "presigned-missing-params": seed("\0\2", "GET", "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=999999",
                                         "", host),
        "repeated-authorization": seed("\0\3", "GET", "/", "", "", host + [("Authorization", "a"), ("authorization", "b")]),
        "authority-only": seed("\1\4", "GET", "/", "", "", [(":authority", "localhost:4567")]),
        "whitespace-values": seed("\0\3\0\1\x2a\0", "POST", "/x", "", EMPTY_SHA256,
                                  host + [("X-Space", "  a   b\t c  "), ("x-tab", "\ta\tb")]),
        "query-edge-cases": seed("\0\2\0\3\x20", "GET", "/", "%zz=%4&&==&a=%41%2F%2f&%=%%", "", host),
        "odd-names": seed("\0\4\0\0\x20", "GET", "/", "", "", host + [("Bad Name", "1"), ("x;y", "2"), ("", "3"),
                                                                      ("UPPER", "4")]),
        "empty-everything": b"",
        "many-params": seed("\0\2", "GET", "/", "&".join(f"p{i}={i}" for i in range(300)), "", host),
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()
