"""HTTP/1.1 front end against a real kvsd-testserver on port 0."""

import http.client
import json
import random
import socket
import time
import urllib.request
import unittest

from harness import ServerTestCase, Server, read_response, recv_until_closed


def chunked(parts):
    out = b""
    for p in parts:
        out += b"%x\r\n" % len(p) + p + b"\r\n"
    return out + b"0\r\n\r\n"


def read_responses(sock, count):
    """(status, body) of the next `count` responses on one connection, read with one buffered
    reader (several responses may arrive in one segment)."""
    reader = sock.makefile("rb")

    class Unclosed:  # http.client closes its file after each response; this one stays open
        def __getattr__(self, name):
            return getattr(reader, name)

        def close(self):
            pass

    class Shared:
        def makefile(self, *args, **kwargs):
            return Unclosed()

    out = []
    for _ in range(count):
        resp = http.client.HTTPResponse(Shared())
        resp.begin()
        out.append((resp.status, resp.read()))
    return out


class Http1Test(ServerTestCase):
    SERVER_ARGS = dict(https=False)

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)

    def test_healthz_and_access_log(self):
        c = self.conn()
        c.request("GET", "/healthz")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.read(), b"ok\n")
        self.assertTrue(r.getheader("x-amzn-RequestId"))
        line = self.server.wait_for_log(r"access GET /healthz healthz status=200")
        self.assertIn("proto=HTTP/1.1", line)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        c = self.conn()
        for _ in range(5):
            c.request("GET", "/healthz")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.request("POST", "/_test/sink", body=b"x" * 1000)
        r = c.getresponse()
        self.assertEqual(json.loads(r.read()), {"bytes": 1000})

    def test_metrics_count_requests(self):
        c = self.conn()
        c.request("GET", "/healthz")
        c.getresponse().read()
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode()
        self.assertEqual(r.status, 200)
        self.assertIn("text/plain", r.getheader("content-type"))
        self.assertRegex(text, r'kvsd_http_requests_total\{route="healthz",status="200",protocol="HTTP/1.1"\} [1-9]')
        self.assertRegex(text, r'kvsd_http_request_duration_seconds_count\{route="healthz"\} [1-9]')
        self.assertRegex(text, r"kvsd_connections_open [1-9]")
        self.assertRegex(text, r"kvsd_http_received_bytes_total [1-9]")

    def test_unknown_route_and_wrong_method_are_aws_shaped(self):
        c = self.conn()
        c.request("POST", "/noSuchOperation", body=b"{}")
        r = c.getresponse()
        body = json.loads(r.read())
        self.assertEqual(r.status, 404)
        self.assertEqual(r.getheader("x-amzn-ErrorType"), "UnknownOperationException")
        self.assertEqual(r.getheader("content-type"), "application/json")
        self.assertEqual(body["__type"], "UnknownOperationException")
        self.assertIn("/noSuchOperation", body["message"])
        c.request("DELETE", "/healthz")
        r = c.getresponse()
        self.assertEqual(r.status, 405)
        self.assertEqual(json.loads(r.read())["__type"], "MethodNotAllowedException")

    def test_cors_preflight_and_simple_request(self):
        c = self.conn()
        c.request("OPTIONS", "/getHLSStreamingSessionURL", headers={
            "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-date,authorization"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 204)
        self.assertEqual(r.getheader("access-control-allow-origin"), "http://example.test")
        self.assertIn("POST", r.getheader("access-control-allow-methods"))
        self.assertEqual(r.getheader("access-control-allow-headers"), "content-type,x-amz-date,authorization")
        c.request("GET", "/healthz", headers={"Origin": "http://example.test"})
        r = c.getresponse()
        r.read()
        self.assertEqual(r.getheader("access-control-allow-origin"), "http://example.test")
        self.assertIn("x-amzn-RequestId", r.getheader("access-control-expose-headers"))

    def test_content_length_upload(self):
        c = self.conn()
        c.request("POST", "/_test/echo", body=b"abc" * 10000)
        r = c.getresponse()
        self.assertEqual(r.read(), b"abc" * 10000)

    def test_chunked_upload_split_at_every_byte(self):
        body_parts = [b"hello ", b"chunked", b" world" * 3]
        head = (b"POST /_test/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n")
        wire = head + chunked(body_parts)
        expected = b"".join(body_parts)
        for cut in range(1, len(wire)):
            with self.server.connect() as s:
                s.sendall(wire[:cut])
                time.sleep(0.002)
                s.sendall(wire[cut:])
                resp, body = read_response(s)
                self.assertEqual(resp.status, 200, f"cut at {cut}")
                self.assertEqual(body, expected, f"cut at {cut}")

    def test_chunk_extensions_trailers_and_a_pipelined_request(self):
        # Extensions and trailer fields are skipped; the bytes after the body's final CRLF are the
        # next request on the same connection.
        body = b"5;name=value\r\nhello\r\n000A\r\n0123456789\r\n0;last\r\nX-Trailer: 1\r\n\r\n"
        first = b"POST /_test/sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        second = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with self.server.connect() as s:
            s.sendall(first + second)
            self.assertEqual(read_responses(s, 2), [(200, b'{"bytes":15}'), (200, b"ok\n")])

    def test_many_small_chunks_read_together_then_a_pipelined_request(self):
        # A camera sends a chunk per frame: once the head is in, each read takes every chunk that
        # has arrived, framing and all, and the framing is cut out in place. The body comes in
        # pieces that split size lines, data and CRLFs; the bytes after it are the next request.
        rng = random.Random(7)
        parts = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(300)]
        head = b"POST /_test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        rest = (chunked(parts)[:-2] + b"X-Trailer: 1\r\n\r\n" +
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        cuts = sorted(rng.sample(range(1, len(rest)), 40))
        with self.server.connect() as s:
            s.sendall(head)
            time.sleep(0.05)  # the head is parsed alone: the body is read by the body source
            for a, b in zip([0] + cuts, cuts + [len(rest)]):
                s.sendall(rest[a:b])
                time.sleep(0.001)
            self.assertEqual(read_responses(s, 2), [(200, b"".join(parts)), (200, b"ok\n")])

    def test_large_chunks_arrive_whole(self):
        # Bodies are read straight from the socket into the handler's buffer: 8 MiB in 3 chunks
        # of odd sizes, sent in pieces that do not line up with the chunks, echoed back whole.
        import threading
        parts = [bytes(range(256)) * (n // 256) + bytes([i]) * (n % 256)
                 for i, n in enumerate((3_000_001, 4_194_304, 1_194_999))]
        wire = (b"POST /_test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n" + chunked(parts))
        with self.server.connect() as s:
            def send():
                for i in range(0, len(wire), 777_777):
                    s.sendall(wire[i:i + 777_777])
            sender = threading.Thread(target=send)
            sender.start()
            resp, data = read_response(s)
            sender.join()
        self.assertEqual(resp.status, 200)
        self.assertEqual(data, b"".join(parts))

    def test_broken_chunk_framing_fails_the_body(self):
        cases = {
            "not hex": b"zz\r\nhello\r\n0\r\n\r\n",
            "no CRLF after the data": b"5\r\nhelloXX0\r\n\r\n",
            "bare LF": b"5\nhello\r\n0\r\n\r\n",
            "size line over the limit": b"1" + b" " * 5000 + b"\r\n",
        }
        for name, body in cases.items():
            with self.server.connect() as s:
                s.sendall(b"POST /_test/sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
                resp, data = read_response(s)
                self.assertEqual(resp.status, 400, name)
                self.assertIn(b"body read failed", data, name)
                # The connection is not reused after a broken body.
                self.assertEqual(recv_until_closed(s), b"", name)
        c = self.conn()
        c.request("GET", "/healthz")
        self.assertEqual(c.getresponse().status, 200)

    def test_full_duplex_echo_before_upload_ends(self):
        with self.server.connect() as s:
            s.sendall(b"POST /_test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            f = s.makefile("rb")
            status = f.readline()
            self.assertTrue(status.startswith(b"HTTP/1.1 200"), status)
            headers = {}
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                k, v = line.decode().split(":", 1)
                headers[k.strip().lower()] = v.strip()
            self.assertEqual(headers.get("transfer-encoding"), "chunked")
            for i in range(5):
                payload = b"piece-%d" % i
                s.sendall(b"%x\r\n" % len(payload) + payload + b"\r\n")
                size = int(f.readline().strip(), 16)
                self.assertEqual(f.read(size), payload)  # echoed while the upload is still open
                self.assertEqual(f.readline(), b"\r\n")
            s.sendall(b"0\r\n\r\n")
            self.assertEqual(f.readline().strip(), b"0")

    def test_expect_100_continue_is_answered_at_once(self):
        with self.server.connect() as s:
            s.sendall(b"POST /_test/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            s.settimeout(1.0)
            first = s.recv(100)
            self.assertTrue(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first)
            s.settimeout(10)
            s.sendall(b"12345")
            resp, body = read_response(s)
            self.assertEqual(resp.status, 200)
            self.assertEqual(json.loads(body), {"bytes": 5})

    def test_streamed_response(self):
        c = self.conn()
        c.request("GET", "/_test/source?bytes=3000000")
        r = c.getresponse()
        self.assertEqual(r.getheader("transfer-encoding"), "chunked")
        self.assertEqual(len(r.read()), 3000000)

    def test_oversize_header_gets_431(self):
        with self.server.connect() as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            data = recv_until_closed(s)
            self.assertTrue(data.startswith(b"HTTP/1.1 431"), data[:100])

    def test_too_many_headers_gets_431(self):
        with self.server.connect() as s:
            fields = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
            data = recv_until_closed(s)
            self.assertTrue(data.startswith(b"HTTP/1.1 431"), data[:100])

    def test_malformed_request_gets_400_and_close(self):
        with self.server.connect() as s:
            s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
            data = recv_until_closed(s)
            self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:100])

    def test_thousand_concurrent_connections(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        socks = []
        try:
            for _ in range(1000):
                socks.append(socket.create_connection(("127.0.0.1", self.server.port), timeout=30))
            for s in socks:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            ok = 0
            for s in socks:
                resp, body = read_response(s)
                if resp.status == 200 and body == b"ok\n":
                    ok += 1
            self.assertEqual(ok, 1000)
            c = self.conn()
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            opened = int([l for l in text.splitlines() if l.startswith("kvsd_connections_open ")][0].split()[1])
            self.assertGreaterEqual(opened, 1000)
        finally:
            for s in socks:
                s.close()


class TimeoutTest(unittest.TestCase):
    def test_idle_header_and_stall_timeouts_close_connections(self):
        with Server(https=False, extra_args=["--timeouts-idle-seconds", "1", "--timeouts-header-seconds", "1",
                                             "--timeouts-body-stall-seconds", "1"]) as srv:
            # idle: nothing sent
            with srv.connect() as s:
                t0 = time.monotonic()
                self.assertEqual(recv_until_closed(s), b"")
                self.assertLess(time.monotonic() - t0, 5)
            # header: a slow client trickling its head byte by byte
            with srv.connect() as s:
                t0 = time.monotonic()
                closed = False
                for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 100:
                    try:
                        s.sendall(bytes([ch]))
                    except (BrokenPipeError, ConnectionResetError):
                        closed = True
                        break
                    time.sleep(0.1)
                    if time.monotonic() - t0 > 5:
                        break
                if not closed:
                    s.settimeout(3)
                    self.assertEqual(recv_until_closed(s), b"")
                self.assertLess(time.monotonic() - t0, 5)
            # body stall: announces 100 bytes, sends 10
            with srv.connect() as s:
                s.sendall(b"POST /_test/sink HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
                t0 = time.monotonic()
                data = recv_until_closed(s)
                self.assertLess(time.monotonic() - t0, 5)
                self.assertNotIn(b"200 OK", data)
            # a well-behaved client on the same server is unaffected
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            for kind in ("idle", "header", "body_stall"):
                self.assertRegex(text, r'kvsd_http_timeouts_total\{kind="%s"\} [1-9]' % kind)

    def test_connection_limit(self):
        """At limits.max_connections a new connection is admitted by closing the oldest one that
        never authenticated a request (here: idle ones), so a fresh client still gets in; over
        limits.max_connections_per_address a new connection from that address is closed at once."""
        with Server(https=False, extra_args=["--limits-max-connections", "3"]) as srv:
            held = [srv.connect() for _ in range(3)]
            time.sleep(0.2)
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            c.request("GET", "/healthz")
            self.assertEqual(c.getresponse().status, 200)
            held[0].settimeout(5)
            self.assertEqual(recv_until_closed(held[0]), b"", "the oldest idle connection was evicted")
            c.close()
            for s in held:
                s.close()
        with Server(https=False, extra_args=["--limits-max-connections-per-address", "3"]) as srv:
            held = [srv.connect() for _ in range(3)]
            time.sleep(0.2)
            with srv.connect() as extra:
                extra.settimeout(5)
                self.assertEqual(recv_until_closed(extra), b"")
            other = socket.socket()
            other.bind(("127.0.0.2", 0))
            other.settimeout(5)
            other.connect(("127.0.0.1", srv.port))
            other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertTrue(recv_until_closed(other).startswith(b"HTTP/1.1 200"))
            other.close()
            for s in held:
                s.close()
            text = urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/metrics", timeout=5).read().decode()
            self.assertRegex(text, r"kvsd_connections_rejected_total [1-9]")


class ShutdownTest(unittest.TestCase):
    def test_graceful_shutdown_finishes_request_in_flight(self):
        srv = Server(https=False)
        srv.start()
        try:
            s = srv.connect()
            s.sendall(b"GET /_test/sleep?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            srv.signal()
            srv.wait_for_log(r"shutting down")
            time.sleep(0.2)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            resp, body = read_response(s)
            self.assertEqual(resp.status, 200)
            self.assertEqual(body, b"slept\n")
            self.assertEqual(resp.getheader("connection"), "close")
            self.assertEqual(srv.proc.wait(10), 0)
        finally:
            srv.__exit__(None, None, None)

    def test_grace_period_bounds_shutdown(self):
        srv = Server(https=False, extra_args=["--shutdown-grace-seconds", "1"])
        srv.start()
        try:
            s = srv.connect()
            s.sendall(b"GET /_test/sleep?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            t0 = time.monotonic()
            srv.signal()
            self.assertEqual(srv.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(recv_until_closed(s), b"")
            srv.wait_for_log(r"grace period over")
        finally:
            srv.__exit__(None, None, None)


class CommandLineTest(unittest.TestCase):
    def test_help_and_bad_flag(self):
        import subprocess
        from harness import kvsd_binary
        out = subprocess.run([kvsd_binary(), "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0)
        self.assertIn("--data-dir", out.stdout)
        self.assertIn("KVSD_HTTP", out.stdout)
        bad = subprocess.run([kvsd_binary(), "--nope", "1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown flag --nope", bad.stderr)

    def test_env_overrides_and_port_zero_logged(self):
        from harness import kvsd_binary
        with Server(binary=kvsd_binary(), https=False, env={"KVSD_LOG_LEVEL": "debug"}) as srv:
            self.assertGreater(srv.port, 0)
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            # the test routes exist only in kvsd-testserver
            c.request("POST", "/_test/echo", body=b"x")
            self.assertEqual(c.getresponse().status, 404)

    def test_threads_are_named(self):
        """An operator's top -H / ps -L tells kvsd's threads apart: the I/O threads besides the main
        one, the committer, the sync stage and its fsync helpers, and the blocking pool carry names."""
        import os
        from harness import kvsd_binary
        with Server(binary=kvsd_binary(), https=False, extra_args=("--threads", "3")) as srv:
            pid = srv.proc.pid

            def thread_names():
                out = []
                for tid in os.listdir(f"/proc/{pid}/task"):
                    try:
                        with open(f"/proc/{pid}/task/{tid}/comm") as f:
                            out.append(f.read().strip())
                    except FileNotFoundError:  # a thread that just ended
                        pass
                return out

            # Each thread names itself once it runs, and the I/O threads start just after the
            # listening line the harness waits for: on a loaded machine (the ASan suite at -j2) a
            # thread can exist for a while under its parent's name. Wait until every name is there.
            wanted = ("kvsd-io-1", "kvsd-io-2", "kvsd-commit", "kvsd-sync", "kvsd-fsync-1", "kvsd-pool-1",
                      "kvsd-pool-4")
            deadline = time.monotonic() + 30
            names = thread_names()
            while not all(w in names for w in wanted) and time.monotonic() < deadline:
                time.sleep(0.05)
                names = thread_names()
            with open(f"/proc/{pid}/comm") as f:
                self.assertEqual(f.read().strip(), "kvsd", "the main thread keeps the process's name")
            for want in wanted:
                self.assertEqual(names.count(want), 1, f"{want} in {sorted(names)}")
            self.assertNotIn("kvsd-io-3", names)


if __name__ == "__main__":
    unittest.main()
