"""Request framing at the HTTP edge of a real kvsd (KVSD_BIN) on port 0: how a request body is
delimited must never be ambiguous, or a front proxy and kvsd disagree on where one request ends and
the next begins (request smuggling).

HTTP/1.1: a Transfer-Encoding other than exactly `chunked` (any letter case), or chunked together
with a Content-Length, is answered with ONE 400 and the connection is closed: the bytes after the
head are never read as a second request. HTTP/2 (h2c prior knowledge): a request carrying a
transfer-encoding field is refused (stream reset or 400) and never reaches its handler.

The raw-socket helpers here (recv_for, parse_responses, read_responses) are shared with the other
files that speak HTTP/1.1 by hand.
"""

import json
import socket
import time
import unittest
import uuid

from putmedia_client import KvsdTestCase, control_client, signed_json_headers

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


# --- raw HTTP/1.1 helpers ----------------------------------------------------------------------------

def recv_for(sock, timeout, stop=None):
    """Reads until the peer closes, the socket is reset, stop(data) is true, or `timeout` s pass.
    Returns (bytes, how): how is "eof", "reset", "stop" or "open" (timed out, still open)."""
    out = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        if stop is not None and stop(bytes(out)):
            return bytes(out), "stop"
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(out), "open"
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return bytes(out), "open"
        except (ConnectionResetError, ConnectionAbortedError):
            return bytes(out), "reset"
        if not b:
            return bytes(out), "eof"
        out += b


def parse_responses(data, closed=True):
    """Splits HTTP/1.1 response bytes into complete responses: a list of dicts with status,
    headers (lower-case names; repeated names joined with ", ") and body. 1xx interim responses are
    kept too. A response without a length ends at the end of data when `closed`. A trailing
    incomplete response is left out."""
    out = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        lines = data[pos:end].decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            break
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.strip().lower()
            headers[k] = f"{headers[k]}, {v.strip()}" if k in headers else v.strip()
        pos = end + 4
        if 100 <= status < 200 or status in (204, 304):
            out.append({"status": status, "headers": headers, "body": b""})
            continue
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                le = data.find(b"\r\n", pos)
                if le < 0:
                    return out
                try:
                    n = int(data[pos:le].split(b";")[0], 16)
                except ValueError:
                    return out
                pos = le + 2
                if n == 0:
                    te = data.find(b"\r\n\r\n", pos - 2)
                    if te < 0:
                        return out
                    pos = te + 4
                    break
                if len(data) < pos + n + 2:
                    return out
                body += data[pos:pos + n]
                pos += n + 2
            out.append({"status": status, "headers": headers, "body": bytes(body)})
        elif "content-length" in headers:
            n = int(headers["content-length"])
            if len(data) < pos + n:
                return out
            out.append({"status": status, "headers": headers, "body": data[pos:pos + n]})
            pos += n
        else:
            if not closed:
                return out
            out.append({"status": status, "headers": headers, "body": data[pos:]})
            pos = len(data)
    return out


def final_responses(data, closed=True):
    return [r for r in parse_responses(data, closed) if r["status"] >= 200]


def read_responses(sock, count, timeout):
    """Reads until `count` final responses are complete (or the peer closes, or timeout).
    Returns (responses, raw bytes, how)."""
    data, how = recv_for(sock, timeout, stop=lambda d: len(final_responses(d, closed=False)) >= count)
    return final_responses(data, closed=how in ("eof", "reset")), data, how


def connect(server, source=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", server.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def head(method, path, headers):
    return (f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()


def chunked(parts):
    return b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in parts if p) + b"0\r\n\r\n"


# --- HTTP/1.1 ------------------------------------------------------------------------------------------

class Http1FramingTest(KvsdTestCase):

    def host(self):
        return f"127.0.0.1:{self.server.port}"

    def assert_one_400_then_close(self, wire, what):
        with connect(self.server) as s:
            s.sendall(wire)
            # Until the server closes; a second response already fails the rule (stop there).
            data, how = recv_for(s, 5, stop=lambda d: len(final_responses(d, closed=False)) >= 2)
        msg = f"{what}: connection {how}, received {data[:600]!r}"
        responses = final_responses(data, closed=how in ("eof", "reset"))
        self.assertEqual([r["status"] for r in responses], [400], msg)
        self.assertIn(how, ("eof", "reset"), "the server did not close the connection; " + msg)
        self.assertEqual(responses[0]["headers"].get("connection", "").lower(), "close", msg)
        self.assertNotIn(b"ok\n", data, "the smuggled GET /healthz was answered; " + msg)

    def test_ambiguous_transfer_encoding_gets_one_400_and_close(self):
        """A Transfer-Encoding that is not exactly `chunked` (a list whose final coding is not
        chunked, an unknown or unsupported coding, chunked twice, chunked spread over two fields)
        gets exactly one response, 400 with `connection: close`, and the connection is closed: the
        GET behind the head is never answered as a second request."""
        cases = {
            "chunked, identity": ["chunked, identity"],
            "gzip": ["gzip"],
            "xchunked": ["xchunked"],
            "identity": ["identity"],
            "chunked, chunked": ["chunked, chunked"],
            "chunked then identity in two fields": ["chunked", "identity"],
        }
        for what, values in cases.items():
            with self.subTest(what):
                fields = "".join(f"Transfer-Encoding: {v}\r\n" for v in values)
                wire = (b"POST /listStreams HTTP/1.1\r\nHost: x\r\n" + fields.encode() + b"\r\n" + SMUGGLED)
                self.assert_one_400_then_close(wire, what)

    def test_chunked_with_content_length_gets_400_and_close(self):
        """A request with both `Transfer-Encoding: chunked` and a Content-Length is refused: one
        400 with `connection: close`, then the server closes (whichever order the fields come in)."""
        orders = {
            "te first": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            "cl first": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        }
        for what, fields in orders.items():
            with self.subTest(what):
                wire = b"POST /listStreams HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n" + b"0\r\n\r\n" + SMUGGLED
                self.assert_one_400_then_close(wire, what)

    def test_plain_chunked_keeps_working(self):
        """`Transfer-Encoding: chunked`, in any letter case, is the one accepted coding: a signed
        ListStreams with a chunked body gets 200 with the JSON answer, and a request pipelined
        behind it on the same connection is answered next (the body ended where the framing said)."""
        body = b'{"MaxResults": 10}'
        for value in ("chunked", "Chunked", "CHUNKED"):
            with self.subTest(value):
                hdrs = signed_json_headers(self.host(), "/listStreams", body)
                wire = head("POST", "/listStreams", hdrs + [("Transfer-Encoding", value)])
                wire += chunked([body[:7], body[7:]])
                wire += b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                with connect(self.server) as s:
                    s.sendall(wire)
                    responses, data, how = read_responses(s, 2, 10)
                msg = f"connection {how}, received {data[:600]!r}"
                self.assertEqual([r["status"] for r in responses], [200, 200], msg)
                self.assertIn("StreamInfoList", json.loads(responses[0]["body"]), msg)
                self.assertEqual(responses[1]["body"], b"ok\n", msg)


# --- HTTP/2 --------------------------------------------------------------------------------------------

class H2FramingTest(KvsdTestCase):

    def h2_create_stream(self, name, extra_headers):
        """Sends a signed CreateStream over h2c with extra (unsigned) header fields; returns
        (status or None, reset error code or None, connection terminated?, body)."""
        import h2.config
        import h2.connection
        import h2.events
        import h2.exceptions
        authority = f"127.0.0.1:{self.server.port}"
        body = json.dumps({"StreamName": name, "DataRetentionInHours": 1}).encode()
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False,
                                        normalize_outbound_headers=False)
        conn = h2.connection.H2Connection(config=cfg)
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        status = reset = None
        terminated = False
        out = bytearray()
        try:
            conn.initiate_connection()
            sid = conn.get_next_available_stream_id()
            hdrs = [(":method", "POST"), (":scheme", "http"), (":path", "/createStream"), (":authority", authority)]
            hdrs += [(k, v) for k, v in signed_json_headers(authority, "/createStream", body) if k != "host"]
            hdrs += list(extra_headers)
            conn.send_headers(sid, hdrs, end_stream=False)
            conn.send_data(sid, body, end_stream=True)
            sock.sendall(conn.data_to_send())
            ended = False
            deadline = time.monotonic() + 10
            while not ended and time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    data = b""
                if not data:
                    terminated = True
                    break
                try:
                    events = conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    terminated = True
                    break
                for ev in events:
                    if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                        status = int(dict(ev.headers)[":status"])
                    elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                        out += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                    elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                        ended = True
                    elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                        reset = ev.error_code
                        ended = True
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        terminated = True
                        ended = True
                pending = conn.data_to_send()
                if pending:
                    sock.sendall(pending)
        finally:
            sock.close()
        return status, reset, terminated, bytes(out)

    def stream_exists(self, name):
        from botocore.exceptions import ClientError
        client = control_client(self.server)
        try:
            client.describe_stream(StreamName=name)
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        finally:
            client.close()

    def test_h2_transfer_encoding_refused_and_not_processed(self):
        """Over HTTP/2 a request carrying a transfer-encoding field (a connection-specific field
        HTTP/2 forbids) is refused, by a stream reset (or GOAWAY) or a 400, and never processed: the
        CreateStream it carries creates no stream. The same request without the field does."""
        control = f"te-control-{uuid.uuid4().hex[:8]}"
        status, reset, terminated, body = self.h2_create_stream(control, [])
        self.assertEqual((status, reset), (200, None), body)
        self.assertTrue(self.stream_exists(control))
        for value in ("chunked", "identity"):
            with self.subTest(value):
                name = f"te-{value}-{uuid.uuid4().hex[:8]}"
                status, reset, terminated, body = self.h2_create_stream(name, [("transfer-encoding", value)])
                msg = f"status={status} reset={reset} terminated={terminated} body={body[:300]!r}"
                self.assertTrue(reset is not None or terminated or status == 400, "not refused: " + msg)
                self.assertNotEqual(status, 200, msg)
                self.assertFalse(self.stream_exists(name), "the request was processed: " + msg)


if __name__ == "__main__":
    unittest.main()
