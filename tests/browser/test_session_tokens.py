"""HLS/DASH session tokens and the HTTP shape of session resources, with plain unsigned GETs.

A token is the only credential of a session's GETs: a forged one (one base64url character
changed) gets 403 on every resource, and a valid token cannot fetch another stream's fragments by
their fragment numbers. Every response (errors included) carries CORS headers and the
Content-Type of its kind. Expiry: Expires is at least 300 s, so the test re-signs a token whose
expiry lies in the past with the server's own key (<data_dir>/session.key, the documented token
form), which only someone holding the key can do; the server must answer 403 "expired".
"""

import re
import shutil
import base64
import hashlib
import hmac
import os
import tempfile
import time
import unittest
import urllib.parse

import browser_support as bs

STREAM_A = "token-a"
STREAM_B = "token-b"
URL_SAFE = re.compile(r"^[A-Za-z0-9_~.-]+$")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def playlist_uris(text):
    """URIs in an m3u8: plain lines and URI="..." attributes, in order."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            out += re.findall(r'URI="([^"]+)"', line)
        else:
            out.append(line)
    return out


def token_of(url):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["SessionToken"][0]


def with_token(url, token):
    parts = urllib.parse.urlsplit(url)
    query = [(k, token if k == "SessionToken" else v) for k, v in urllib.parse.parse_qsl(parts.query)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="~")))


def flip(token, pos):
    """The token with the first base64url character at or after pos changed in its top bit (a bit
    every base64url character carries, so the decoded bytes change whatever the decoder does with
    unused low bits). Separators such as '.' or '~' are stepped over."""
    while token[pos] not in B64URL:
        pos += 1
    c = token[pos]
    return token[:pos] + B64URL[B64URL.index(c) ^ 32] + token[pos + 1:]


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def resign_expiring_at(token, key, expires_ms):
    """The token's fields with the last one (the expiry, epoch ms) replaced, signed with `key`."""
    fields = unb64url(token.split(".")[0]).decode().split("|")
    fields[-1] = str(expires_ms)
    payload = "|".join(fields).encode()
    return b64url(payload) + "." + b64url(hmac.new(key, payload, hashlib.sha256).digest())


class SessionTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-browser-tokens-")
        cls.server = bs.Server(binary=bs.kvsd_binary(), https=False, env=bs.SERVER_ENV,
                               extra_args=["--access-log", "false"])
        cls.server.start()
        try:
            cls.am = bs.client(cls.server, "kinesis-video-archived-media")
            bs.ingest(cls.server, STREAM_A, 3, cls.work)
            bs.ingest(cls.server, STREAM_B, 3, cls.work)
            cls.sessions = {}
            for stream in (STREAM_A, STREAM_B):
                for container in ("FRAGMENTED_MP4", "MPEG_TS"):
                    cls.sessions[(stream, container)] = cls.session(stream, container)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "am"):
            cls.am.close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    @classmethod
    def session(cls, stream, container):
        """{master, media: [media playlist URLs], init: [...], fragments: [...]} of an ON_DEMAND
        session (absolute URLs, resolved as players resolve them)."""
        master = cls.am.get_hls_streaming_session_url(
            StreamName=stream, PlaybackMode="ON_DEMAND", ContainerFormat=container,
            HLSFragmentSelector=bs.on_demand_selector(cls.am, stream))["HLSStreamingSessionURL"]
        status, _, body = bs.http_get(master)
        assert status == 200, (status, body[:300])
        media = [urllib.parse.urljoin(master, u) for u in playlist_uris(body.decode())]
        out = {"master": master, "media": media, "init": [], "fragments": []}
        for m in media:
            status, _, body = bs.http_get(m)
            assert status == 200, (m, status, body[:300])
            for u in playlist_uris(body.decode()):
                full = urllib.parse.urljoin(m, u)
                path = urllib.parse.urlsplit(full).path
                out["init" if "InitFragment" in path else "fragments"].append(full)
        assert out["fragments"], f"no fragments in the {stream} {container} session"
        return out

    def assert_cors(self, headers, what):
        self.assertIsNotNone(headers.get("Access-Control-Allow-Origin"), f"no CORS header on {what}")

    # --- the HTTP shape ----------------------------------------------------------------------
    def test_session_url_and_token_shape(self):
        for s in self.sessions.values():
            self.assertRegex(s["master"], r"^http://127\.0\.0\.1:\d+/hls/v1/getHLSMasterPlaylist\.m3u8\?SessionToken=")
            self.assertRegex(token_of(s["master"]), URL_SAFE)
            for u in s["media"] + s["init"] + s["fragments"]:
                self.assertEqual(token_of(u), token_of(s["master"]), u)
        tokens = {token_of(s["master"]) for s in self.sessions.values()}
        self.assertEqual(len(tokens), len(self.sessions), "two sessions got the same token")

    def test_content_types_and_cors(self):
        expect = [("master", "application/vnd.apple.mpegurl"), ("media", "application/vnd.apple.mpegurl"),
                  ("init", "video/mp4"), ("fragments", "video/mp4")]
        mp4 = self.sessions[(STREAM_A, "FRAGMENTED_MP4")]
        for key, ctype in expect:
            for u in ([mp4[key]] if key == "master" else mp4[key][:2]):
                status, headers, body = bs.http_get(u)
                self.assertEqual(status, 200, u)
                self.assertEqual(headers.get_content_type(), ctype, u)
                self.assert_cors(headers, u)
                self.assertGreater(len(body), 0, u)
        ts = self.sessions[(STREAM_A, "MPEG_TS")]
        self.assertEqual(ts["init"], [], "an MPEG_TS session lists no init fragment")
        status, headers, body = bs.http_get(ts["fragments"][0])
        self.assertEqual(status, 200)
        self.assertEqual(headers.get_content_type(), "video/mp2t")
        self.assertEqual(body[0], 0x47, "a TS chunk starts with the sync byte")
        self.assertEqual(len(body) % 188, 0, "a TS chunk is whole 188-byte packets")
        self.assert_cors(headers, "a TS fragment")
        dash = self.am.get_dash_streaming_session_url(
            StreamName=STREAM_A, PlaybackMode="ON_DEMAND",
            DASHFragmentSelector=bs.on_demand_selector(self.am, STREAM_A))["DASHStreamingSessionURL"]
        self.assertRegex(dash, r"^http://127\.0\.0\.1:\d+/dash/v1/getDASHManifest\.mpd\?SessionToken=")
        status, headers, body = bs.http_get(dash)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get_content_type(), "application/dash+xml")
        self.assert_cors(headers, "the MPD")
        self.assertIn(b"<MPD", body)

    # --- forged tokens -----------------------------------------------------------------------
    def test_forged_token_gets_403(self):
        s = self.sessions[(STREAM_A, "FRAGMENTED_MP4")]
        token = token_of(s["master"])
        for pos in (3, len(token) // 2, len(token) - 8):
            forged = flip(token, pos)
            self.assertNotEqual(forged, token)
            for u in (s["master"], s["media"][0], s["init"][0], s["fragments"][0]):
                status, headers, body = bs.http_get(with_token(u, forged))
                self.assertEqual(status, 403, f"forged token (position {pos}) on {u}: {status} {body[:200]!r}")
                self.assert_cors(headers, "a 403 answer")
        ts = self.sessions[(STREAM_A, "MPEG_TS")]
        status, _, _ = bs.http_get(with_token(ts["fragments"][0], flip(token_of(ts["master"]), 10)))
        self.assertEqual(status, 403)

    def test_forged_dash_token_gets_403(self):
        dash = self.am.get_dash_streaming_session_url(
            StreamName=STREAM_A, PlaybackMode="ON_DEMAND",
            DASHFragmentSelector=bs.on_demand_selector(self.am, STREAM_A))["DASHStreamingSessionURL"]
        token = token_of(dash)
        status, _, _ = bs.http_get(with_token(dash, flip(token, len(token) // 2)))
        self.assertEqual(status, 403)

    def test_missing_or_truncated_token_gets_403(self):
        s = self.sessions[(STREAM_A, "FRAGMENTED_MP4")]
        token = token_of(s["master"])
        for bad in ("", token[:-4], token[: len(token) // 2], "not-a-token"):
            status, _, body = bs.http_get(with_token(s["master"], bad))
            self.assertEqual(status, 403, f"token {bad!r}: {status} {body[:200]!r}")

    # --- tokens stay with their stream -------------------------------------------------------
    def test_token_cannot_fetch_another_streams_fragments(self):
        for container in ("FRAGMENTED_MP4", "MPEG_TS"):
            a = self.sessions[(STREAM_A, container)]
            b = self.sessions[(STREAM_B, container)]
            token_a = token_of(a["master"])
            # Control: A's own fragment with A's token is served.
            status, _, _ = bs.http_get(a["fragments"][0])
            self.assertEqual(status, 200)
            statuses = set()
            for u in b["fragments"]:
                moved = with_token(u, token_a)
                status, headers, body = bs.http_get(moved)
                self.assertEqual(status, 403,
                                 f"{container}: stream A's token fetched stream B's fragment {u}: {status}")
                self.assertNotIn(headers.get_content_type(), ("video/mp4", "video/mp2t"), moved)
                statuses.add(status)
            print(f"\n{container}: A's token with B's fragment numbers -> {sorted(statuses)}")

    # --- expiry ---------------------------------------------------------------------------------
    def test_expired_token_gets_403(self):
        with open(os.path.join(self.server.data_dir, "session.key"), "rb") as f:
            key = f.read()
        a = self.sessions[(STREAM_A, "FRAGMENTED_MP4")]
        token = token_of(a["master"])
        # Control: the same token re-signed with a future expiry is accepted (the re-signing is right).
        fresh = resign_expiring_at(token, key, int(time.time() * 1000) + 600_000)
        status, _, body = bs.http_get(with_token(a["master"], fresh))
        self.assertEqual(status, 200, body[:200])
        expired = resign_expiring_at(token, key, int(time.time() * 1000) - 1000)
        for u in (a["master"], a["fragments"][0]):
            status, headers, body = bs.http_get(with_token(u, expired))
            self.assertEqual(status, 403, f"expired token on {u}: {status} {body[:200]!r}")
            self.assertIn(b"expired", body)
            self.assert_cors(headers, "a 403 answer")


if __name__ == "__main__":
    unittest.main()
