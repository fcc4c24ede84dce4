"""Slow and oversized request bodies on kvsd's cleartext HTTP/1.1 listener (a real kvsd, KVSD_BIN,
on port 0): a client must not be able to hold a connection, a handler and its buffer for long by
announcing a large body, by sending none, or by trickling it.

- A JSON call whose Content-Length is over [limits] json_body_bytes gets 413 before any body byte.
- The SigV4 checks that do not need the body (Authorization present, known key, date) are made
  before the body is read.
- [timeouts] body_seconds bounds the whole read of a body; [limits] body_min_rate is the least
  average rate over each [timeouts] body_stall_seconds of waiting for the client.
- [limits] max_connections_per_address bounds the connections of one source address; at
  [limits] max_connections the oldest connections that never completed an authenticated request
  are closed to make room (the reserve), so a real client still gets in.
"""

import datetime
import hashlib
import http.client
import json
import re
import select
import time
import unittest
import uuid

import botocore.config

import mkv_scan as m
from putmedia_client import (ACCESS_KEY, REGION, SECRET_KEY, H1Session, create_stream,
                             KvsdTestCase, put_media_headers, signed_json_headers, sigv4_authorization,
                             start_kvsd, stop_kvsd)
from test_request_framing import connect, final_responses, head, read_responses, recv_for

BASE = 1795700000000


stop = stop_kvsd


def json_body(size):
    """A ListStreams JSON body of exactly `size` bytes (padded with spaces)."""
    doc = b'{"MaxResults": 10}'
    return doc + b" " * (size - len(doc))


def healthz(server, source="127.0.0.1", timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class JsonBodyCapTest(unittest.TestCase):
    def check_413_at_once(self, server, content_length):
        host = f"127.0.0.1:{server.port}"
        body = json_body(content_length)
        hdrs = signed_json_headers(host, "/listStreams", body) + [("Content-Length", str(content_length))]
        with connect(server) as s:
            t0 = time.monotonic()
            s.sendall(head("POST", "/listStreams", hdrs))  # no body byte
            responses, data, how = read_responses(s, 1, 3)
            elapsed = time.monotonic() - t0
            msg = f"Content-Length {content_length}: connection {how} after {elapsed:.2f}s, received {data[:400]!r}"
            self.assertEqual([r["status"] for r in responses], [413], msg)
            self.assertLess(elapsed, 2.0, msg)
            self.assertEqual(responses[0]["headers"].get("connection", "").lower(), "close", msg)
            if how == "stop":
                _, how = recv_for(s, 3)
            self.assertIn(how, ("eof", "reset"), "the server did not close the connection; " + msg)

    def test_over_default_cap_gets_413_before_the_body(self):
        """POST /listStreams announcing a body over the JSON body cap (default json_body_bytes
        262144: 1,000,000 and 300,000 bytes) with valid-looking signed headers gets 413 at once,
        before any body byte is sent, with `connection: close`, and the server closes."""
        server = start_kvsd()
        try:
            for n in (1_000_000, 300_000):
                with self.subTest(content_length=n):
                    self.check_413_at_once(server, n)
        finally:
            self.assertEqual(stop(server), 0)

    def test_configured_cap(self):
        """[limits] json_body_bytes sets the cap: with --limits-json-body-bytes 1000 a 100000-byte
        Content-Length gets 413 at once, while a signed 500-byte ListStreams still gets 200. (The
        connection closes because the unread rest is more than kvsd drains to keep a connection,
        64 KiB; a smaller rest is drained instead.)"""
        server = start_kvsd(["--limits-json-body-bytes", "1000"])
        try:
            self.check_413_at_once(server, 100000)
            host = f"127.0.0.1:{server.port}"
            body = json_body(500)
            hdrs = signed_json_headers(host, "/listStreams", body) + [("Content-Length", "500")]
            with connect(server) as s:
                s.sendall(head("POST", "/listStreams", hdrs) + body)
                responses, data, how = read_responses(s, 1, 5)
            self.assertEqual([r["status"] for r in responses], [200], data[:400])
        finally:
            self.assertEqual(stop(server), 0)


class AuthBeforeBodyTest(KvsdTestCase):

    def answer_without_body(self, hdrs):
        """Sends POST /listStreams with hdrs and Content-Length 100 but no body byte; returns
        (response or None, elapsed, raw bytes)."""
        with connect(self.server) as s:
            t0 = time.monotonic()
            s.sendall(head("POST", "/listStreams", list(hdrs) + [("Content-Length", "100")]))
            responses, data, how = read_responses(s, 1, 3)
            return (responses[0] if responses else None), time.monotonic() - t0, data

    def assert_aws_error(self, resp, error_type, data):
        self.assertEqual(resp["headers"].get("x-amzn-errortype", "").split(":")[0], error_type, data[:400])
        self.assertEqual(json.loads(resp["body"])["__type"], error_type, data[:400])

    def test_missing_authorization_answered_before_body(self):
        """A JSON call without Authorization (and no X-Amz-Signature) is refused before its body
        is read: 403 MissingAuthenticationTokenException within 2 s while the announced 100 body
        bytes never come."""
        host = f"127.0.0.1:{self.server.port}"
        resp, elapsed, data = self.answer_without_body([("Host", host), ("Content-Type", "application/json")])
        self.assertIsNotNone(resp, f"no answer within 3 s while the body was not sent; received {data[:400]!r}")
        self.assertLess(elapsed, 2.0)
        self.assertEqual(resp["status"], 403, data[:400])
        self.assert_aws_error(resp, "MissingAuthenticationTokenException", data)

    def test_unknown_access_key_answered_before_body(self):
        """A signature naming an access key id kvsd does not know is refused before the body is
        read: the auth error (403 per the probe's rule; test_auth pins the unknown-key status at
        401 NotAuthorizedException, so either auth status is accepted) within 2 s, no body sent."""
        host = f"127.0.0.1:{self.server.port}"
        hdrs = signed_json_headers(host, "/listStreams", json_body(100), akid="AKIANOSUCHKEY0000000",
                                   secret="x" * 40)
        resp, elapsed, data = self.answer_without_body(hdrs)
        self.assertIsNotNone(resp, f"no answer within 3 s while the body was not sent; received {data[:400]!r}")
        self.assertLess(elapsed, 2.0)
        self.assertIn(resp["status"], (401, 403), data[:400])
        self.assertIn(b"__type", resp["body"], data[:400])

    def test_expired_signature_answered_before_body(self):
        """The request date is checked before the body is read too: a signature dated 20 minutes
        ago gets 403 RequestExpired within 2 s, no body sent."""
        host = f"127.0.0.1:{self.server.port}"
        body = json_body(100)
        past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20))
        amz_date = past.strftime("%Y%m%dT%H%M%SZ")
        signed = {"host": host, "content-type": "application/json", "x-amz-date": amz_date}
        auth = sigv4_authorization("POST", "/listStreams", signed, ACCESS_KEY, SECRET_KEY, amz_date,
                                   payload_hash=hashlib.sha256(body).hexdigest())
        resp, elapsed, data = self.answer_without_body(list(signed.items()) + [("authorization", auth)])
        self.assertIsNotNone(resp, f"no answer within 3 s while the body was not sent; received {data[:400]!r}")
        self.assertLess(elapsed, 2.0)
        self.assertEqual(resp["status"], 403, data[:400])
        self.assert_aws_error(resp, "RequestExpired", data)


class SlowBodyTest(unittest.TestCase):
    def test_trickled_json_body_times_out(self):
        """[timeouts] body_seconds bounds the whole body read: a correctly signed ListStreams whose
        30-byte body comes one byte a second (never stalling) gets 408 RequestTimeoutException, or
        is closed, within 3 s + 2 s with --timeouts-body-seconds 3; no 200; the connection closes."""
        server = start_kvsd(["--timeouts-body-seconds", "3"])
        try:
            body = json_body(30)
            hdrs = signed_json_headers(f"127.0.0.1:{server.port}", "/listStreams", body)
            hdrs.append(("Content-Length", str(len(body))))
            with connect(server) as s:
                s.sendall(head("POST", "/listStreams", hdrs))
                t0 = time.monotonic()
                data = b""
                how = "open"
                sent = 0
                while time.monotonic() - t0 < 10:
                    if sent < len(body):
                        try:
                            s.sendall(body[sent:sent + 1])
                        except (BrokenPipeError, ConnectionResetError):
                            how = "reset"
                            break
                        sent += 1
                    more, how = recv_for(s, 1.0, stop=lambda d: len(final_responses(data + d, closed=False)) >= 1)
                    data += more
                    if how != "open":
                        break
                elapsed = time.monotonic() - t0
                if how == "stop":
                    more, how = recv_for(s, 3)
                    data += more
            responses = final_responses(data, closed=how in ("eof", "reset"))
            msg = (f"{sent} of {len(body)} body bytes sent; connection {how} after {elapsed:.2f}s; "
                   f"received {data[:400]!r}")
            self.assertNotIn(200, [r["status"] for r in responses], msg)
            self.assertLessEqual(elapsed, 5.0, msg)
            self.assertIn(how, ("eof", "reset"), "the connection was not closed; " + msg)
            if responses:
                self.assertEqual([r["status"] for r in responses], [408], msg)
                self.assertEqual(json.loads(responses[0]["body"])["__type"], "RequestTimeoutException", msg)
        finally:
            self.assertEqual(stop(server), 0)

    def test_put_media_below_min_rate_fails_with_4000(self):
        """[limits] body_min_rate: with --timeouts-body-stall-seconds 3 --limits-body-min-rate 100
        a PutMedia whose body comes at 2 bytes/s after the MKV header fails within ~3-5 s: the
        producer gets ERROR 4000 (the last ACK), then the terminating chunk, then the server closes.
        (Before: one byte every 10 s kept an upload alive forever.)"""
        server = start_kvsd(["--timeouts-body-stall-seconds", "3", "--limits-body-min-rate", "100"])
        try:
            stream = f"slow-{uuid.uuid4().hex[:8]}"
            create_stream(server, stream)
            s = H1Session(server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
            try:
                s.wait_continue(2.0)
                self.assertTrue(s.send(m.header()), s.log())
                trickle = m.cluster(BASE) + m.eof_tags()
                t0 = time.monotonic()
                for i in range(len(trickle)):
                    if time.monotonic() - t0 > 10 or not s.send(trickle[i:i + 1]):
                        break
                    if s.wait_for(lambda x: x.has_ack("ERROR") or x.closed, 0.5):
                        break
                got_error = s.wait_for(lambda x: x.has_ack("ERROR"), max(0.0, 10 - (time.monotonic() - t0)))
                self.assertTrue(got_error, "no ERROR ACK for a body at 2 bytes/s\n" + s.log())
                err = s.ack_events("ERROR")[0]
                self.assertLessEqual(err.t - t0, 6.0, s.log())
                self.assertEqual(err.error_id, 4000, s.log())
                self.assertIs(s.acks[-1], err, "ACKs after the ERROR\n" + s.log())
                self.assertTrue(s.wait_done(5), "the response did not end with its terminating chunk\n" + s.log())
                _, how = recv_for(s.sock, 5)
                self.assertIn(how, ("eof", "reset"), "the server did not close the connection\n" + s.log())
            finally:
                s.close()
        finally:
            self.assertEqual(stop(server), 0)


class ConnectionLimitTest(unittest.TestCase):
    def open_connections(self, server):
        return int(re.search(r"kvsd_connections_open (\d+)", self.metrics(server, "127.0.0.2")).group(1))

    def metrics(self, server, source):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5, source_address=(source, 0))
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read().decode()
            self.assertEqual(resp.status, 200, body[:300])
            return body
        finally:
            conn.close()

    def test_per_address_limit(self):
        """[limits] max_connections_per_address 50: with 50 idle connections from 127.0.0.1 a 51st
        from 127.0.0.1 is closed at once with no HTTP response, while 127.0.0.2 still gets
        GET /healthz 200, and the 50 held connections still work."""
        server = start_kvsd(["--limits-max-connections-per-address", "50"])
        held = []
        try:
            held = [connect(server) for _ in range(50)]
            # Await the server's accepting all 50 (the metrics connection itself is the +1).
            deadline = time.monotonic() + 10
            while self.open_connections(server) < 51 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(self.open_connections(server), 51)
            with connect(server) as extra:
                t0 = time.monotonic()
                try:
                    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                data, how = recv_for(extra, 5)
                elapsed = time.monotonic() - t0
            self.assertEqual(data, b"", "the 51st connection from 127.0.0.1 got an answer")
            self.assertIn(how, ("eof", "reset"), f"the 51st connection stayed open ({elapsed:.2f}s)")
            self.assertLess(elapsed, 2.0)
            self.assertEqual(healthz(server, source="127.0.0.2"), (200, b"ok\n"))
            s = held[-1]
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            responses, data, how = read_responses(s, 1, 5)
            self.assertEqual([r["status"] for r in responses], [200], f"a held connection: {how} {data[:300]!r}")
        finally:
            for s in held:
                s.close()
            self.assertEqual(stop(server), 0)

    def test_oldest_unauthenticated_connections_evicted_at_the_limit(self):
        """At [limits] max_connections (100, per-address limit off), all taken by connections
        waiting for a body (POST /listStreams signed with the right key but a wrong signature, body
        trickling), a new client still gets in: GET /healthz 200 and a boto3 ListStreams succeed
        within a few seconds; the connections closed to make room are the oldest of those that
        never completed an authenticated request; the oldest connection of all, which completed a
        signed ListStreams, is kept and still serves."""
        server = start_kvsd(["--limits-max-connections", "100", "--limits-max-connections-per-address", "0"])
        waiting = []
        authed = None
        try:
            host = f"127.0.0.1:{server.port}"
            body = json_body(200)

            def signed_list_streams(sock):
                hdrs = signed_json_headers(host, "/listStreams", body) + [("Content-Length", str(len(body)))]
                sock.sendall(head("POST", "/listStreams", hdrs) + body)
                responses, data, how = read_responses(sock, 1, 5)
                self.assertEqual([r["status"] for r in responses], [200], f"{how} {data[:300]!r}")

            authed = connect(server)
            signed_list_streams(authed)
            for _ in range(99):
                s = connect(server)
                hdrs = signed_json_headers(host, "/listStreams", body, signature="0" * 64)
                s.sendall(head("POST", "/listStreams", hdrs + [("Content-Length", "1000")]) + b"{")
                waiting.append(s)
            for s in waiting[:50]:
                s.sendall(b" ")  # the bodies trickle

            t0 = time.monotonic()
            self.assertEqual(healthz(server, timeout=5), (200, b"ok\n"))
            healthz_s = time.monotonic() - t0
            cfg = botocore.config.Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 0})
            import boto3
            client = boto3.client("kinesisvideo", endpoint_url=server.base_url(), region_name=REGION,
                                  aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=cfg)
            try:
                self.assertIn("StreamInfoList", client.list_streams())
            finally:
                client.close()
            self.assertLess(time.monotonic() - t0, 6.0, f"healthz took {healthz_s:.2f}s")

            # The room was made before the new connections were served: the closed ones are
            # readable (EOF, a reset, or an answer then EOF) by now; give them a moment to show.
            select.select(waiting, [], [], 2.0)
            readable, _, _ = select.select(waiting, [], [], 0)
            closed = []
            for s in readable:
                data, how = recv_for(s, 1.0)
                i = waiting.index(s)
                if how in ("eof", "reset"):
                    closed.append(i)
                self.assertNotIn(b" 200 ", data[:20], f"waiting connection {i} got a 200")
            closed.sort()
            self.assertGreater(len(closed), 0, "no waiting connection was closed to make room")
            # The oldest first (a little slack for accept order).
            self.assertLessEqual(max(closed), len(closed) + 5, f"closed: {closed}")
            signed_list_streams(authed)
        finally:
            if authed:
                authed.close()
            for s in waiting:
                s.close()
            self.assertEqual(stop(server), 0)


if __name__ == "__main__":
    unittest.main()
