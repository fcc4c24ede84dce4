"""HTTP/2 front end (h2c prior knowledge and h2 over TLS) against a real kvsd-testserver on port 0.

Clients: curl, nghttp2's h2load, and a raw HTTP/2 client built on python3-h2 for what the
command-line tools cannot show (full duplex, flow control, resets, header limits).
"""

import collections
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import unittest

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

from harness import ServerTestCase, Server

STREAM_WINDOW = 256 * 1024  # limits.h2_stream_window default


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise unittest.SkipTest(f"{name} is not installed")
    return path


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


class H2Client:
    """A blocking HTTP/2 client over one socket; frames are processed only inside pump()."""

    def __init__(self, port, timeout=10, auto_ack=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.auto_ack = auto_ack
        self.headers = {}
        self.informational = {}
        self.bodies = collections.defaultdict(bytearray)
        self.ended = set()
        self.resets = {}
        self.goaway = None
        self.closed = False
        self.settings_seen = False
        self.window_updates = 0
        self.flush()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, headers=(), end_stream=True):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "127.0.0.1")]
        self.conn.send_headers(sid, hdrs + list(headers), end_stream=end_stream)
        self.flush()
        return sid

    def send(self, sid, data, end_stream=False):
        self.conn.send_data(sid, data, end_stream=end_stream)
        self.flush()

    def upload(self, sid, data, end_stream=True, timeout=30):
        """Sends `data` (bytes, or an int: that many zero bytes) as the window allows.
        Returns (times blocked on the window, largest window seen)."""
        zeros = isinstance(data, int)
        view = memoryview(bytes(65536) if zeros else data)
        length = data if zeros else len(view)
        off = blocked = max_window = 0
        while off < length:
            window = self.conn.local_flow_control_window(sid)
            max_window = max(max_window, window)
            if window <= 0:
                blocked += 1
                if sid in self.resets or self.closed:
                    raise AssertionError(f"stream {sid} ended during the upload")
                if not self.pump(timeout):
                    raise AssertionError(f"no WINDOW_UPDATE within {timeout} s")
                continue
            n = min(window, self.conn.max_outbound_frame_size, length - off)
            if zeros:
                n = min(n, len(view))
            self.conn.send_data(sid, view[:n] if zeros else view[off:off + n])
            off += n
            self.flush()
        if end_stream:
            self.conn.end_stream(sid)
            self.flush()
        return blocked, max_window

    def _handle(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            self.headers[ev.stream_id] = dict(ev.headers)
        elif isinstance(ev, h2.events.InformationalResponseReceived):
            self.informational[ev.stream_id] = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            self.bodies[ev.stream_id] += ev.data
            if self.auto_ack:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.ended.add(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            self.resets[ev.stream_id] = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.settings_seen = True
        elif isinstance(ev, h2.events.WindowUpdated):
            self.window_updates += 1

    def pump(self, timeout):
        """Reads once (up to `timeout` s) and processes the frames. False when nothing arrived."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return True
        try:
            for ev in self.conn.receive_data(data):
                self._handle(ev)
        except h2.exceptions.ProtocolError:
            self.closed = True  # h2 treats frames after GOAWAY as errors; the test looks at self.goaway
        self.flush()
        return True

    def wait(self, cond, timeout=10, what="condition"):
        deadline = time.monotonic() + timeout
        while not cond():
            if self.closed:
                raise AssertionError(f"connection closed while waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self.pump(left)

    def wait_closed(self, timeout=10):
        deadline = time.monotonic() + timeout
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("connection not closed in time")
            self.pump(left)

    def exchange(self, method, path, headers=(), body=None, timeout=10):
        sid = self.request(method, path, headers, end_stream=body is None)
        if body is not None:
            self.upload(sid, body)
        self.wait(lambda: sid in self.ended or sid in self.resets, timeout, f"{method} {path}")
        return sid, self.headers.get(sid, {}), bytes(self.bodies[sid])


def metrics_text(port):
    with H2Client(port) as c:
        _, _, body = c.exchange("GET", "/metrics")
        return body.decode()


class Http2Test(ServerTestCase):

    def url(self, path):
        return self.server.base_url("http") + path

    def test_h2c_prior_knowledge_curl(self):
        out = run([tool("curl"), "-sS", "-i", "--http2-prior-knowledge", self.url("/healthz")])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:200])
        self.assertIn("x-amzn-requestid:", out.stdout.lower())
        self.assertTrue(out.stdout.endswith("ok\n"), out.stdout[-50:])
        line = self.server.wait_for_log(r"access GET /healthz healthz status=200 .*proto=HTTP/2")
        self.assertIn("proto=HTTP/2", line)
        self.assertRegex(metrics_text(self.server.port),
                         r'kvsd_http_requests_total\{route="healthz",status="200",protocol="HTTP/2"\} [1-9]')

    def test_h2_over_tls_alpn(self):
        if not self.server.tls_port:
            self.skipTest("no TLS listener")
        out = run([tool("curl"), "-sS", "-i", "-k", "--http2", self.server.base_url("https") + "/healthz"])
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("HTTP/2 200"), out.stdout[:200])
        out = run([tool("curl"), "-sS", "-k", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{size_download}",
                   self.server.base_url("https") + "/_test/source?bytes=5000000"])
        self.assertEqual(out.stdout, "2 5000000", out.stderr)

    def test_streamed_download_and_post(self):
        out = run([tool("curl"), "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{size_download}",
                   self.url("/_test/source?bytes=20000000")])
        self.assertEqual(out.stdout, "20000000", out.stderr)
        out = run([tool("curl"), "-sS", "--http2-prior-knowledge", "--data-binary", "@-", self.url("/_test/sink")])
        self.assertEqual(json.loads(out.stdout), {"bytes": 0})
        with H2Client(self.server.port) as c:
            sid, h, body = c.exchange("POST", "/_test/sink", body=b"z" * 300000)
            self.assertEqual(h[":status"], "200")
            self.assertEqual(json.loads(body), {"bytes": 300000})
            # a status without content: END_STREAM on HEADERS, no content-length
            sid, h, body = c.exchange("OPTIONS", "/healthz", headers=[
                ("origin", "http://example.test"), ("access-control-request-method", "GET")])
            self.assertEqual(h[":status"], "204")
            self.assertNotIn("content-length", h)
            self.assertEqual(h["access-control-allow-origin"], "http://example.test")
            self.assertEqual(body, b"")

    def test_h2load_100_concurrent_streams(self):
        out = run([tool("h2load"), "-n", "1000", "-c", "1", "-m", "100", self.url("/healthz")])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed")
        self.assertRegex(out.stdout, r"status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx")

    def test_h2load_concurrent_uploads(self):
        import tempfile
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"u" * 200000)
            f.flush()
            out = run([tool("h2load"), "-n", "300", "-c", "2", "-m", "100", "-d", f.name, self.url("/_test/echo")])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"requests: 300 total, 300 started, 300 done, 300 succeeded, 0 failed")
        self.assertRegex(out.stdout, r"status codes: 300 2xx")
        m = re.search(r"traffic: .*\((\d+)\) data", out.stdout)
        self.assertIsNotNone(m, out.stdout)
        self.assertGreaterEqual(int(m.group(1)), 300 * 200000)

    def test_full_duplex_echo(self):
        with H2Client(self.server.port) as c:
            sid = c.request("POST", "/_test/echo", end_stream=False)
            c.wait(lambda: sid in c.headers, what="response head before the upload ends")
            self.assertEqual(c.headers[sid][":status"], "200")
            for i in range(5):
                payload = b"piece-%d" % i
                before = len(c.bodies[sid])
                c.send(sid, payload)
                c.wait(lambda: len(c.bodies[sid]) >= before + len(payload), what=f"echo of chunk {i}")
                self.assertEqual(bytes(c.bodies[sid][before:]), payload)  # echoed while the upload is open
                self.assertNotIn(sid, c.ended)
            c.send(sid, b"", end_stream=True)
            c.wait(lambda: sid in c.ended, what="end of the echo")
            self.assertEqual(bytes(c.bodies[sid]), b"".join(b"piece-%d" % i for i in range(5)))

    def test_oversize_header_block_gets_431(self):
        with H2Client(self.server.port) as c:
            sid, h, body = c.exchange("GET", "/healthz", headers=[("x-big", "a" * 20000)])
            self.assertEqual(h.get(":status"), "431", c.resets)
            self.assertEqual(json.loads(body)["__type"], "RequestHeaderFieldsTooLarge")
            self.assertEqual(h.get("x-amzn-errortype"), "RequestHeaderFieldsTooLarge")
            sid, h, body = c.exchange("GET", "/healthz", headers=[("x-h%d" % i, "v") for i in range(150)])
            self.assertEqual(h.get(":status"), "431")
            # an upload with an oversize head: answered, and the connection stays usable
            sid = c.request("POST", "/_test/sink", headers=[("x-big", "b" * 20000)], end_stream=False)
            c.send(sid, b"x" * 1000)
            c.wait(lambda: sid in c.ended or sid in c.resets, what="431 to an upload")
            self.assertEqual(c.headers[sid][":status"], "431")
            sid, h, body = c.exchange("GET", "/healthz")
            self.assertEqual((h[":status"], body), ("200", b"ok\n"))

    def test_expect_100_continue(self):
        with H2Client(self.server.port) as c:
            sid = c.request("POST", "/_test/sink", headers=[("expect", "100-continue")], end_stream=False)
            c.wait(lambda: sid in c.informational, timeout=5, what="interim 100 before the body")
            self.assertEqual(c.informational[sid][":status"], "100")
            c.upload(sid, b"12345")
            c.wait(lambda: sid in c.ended, what="sink response")
            self.assertEqual((c.headers[sid][":status"], json.loads(bytes(c.bodies[sid]))), ("200", {"bytes": 5}))

    def test_client_reset_mid_response_keeps_connection(self):
        with H2Client(self.server.port) as c:
            sid = c.request("GET", "/_test/source?bytes=100000000")
            c.wait(lambda: len(c.bodies[sid]) > 100000, what="start of a large response")
            c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            c.flush()
            sid2, h, body = c.exchange("GET", "/healthz")
            self.assertEqual((h[":status"], body), ("200", b"ok\n"))
            # and an upload reset while its handler reads
            sid3 = c.request("POST", "/_test/echo", end_stream=False)
            c.send(sid3, b"x" * 1000)
            c.wait(lambda: len(c.bodies[sid3]) >= 1000, what="echo before reset")
            c.conn.reset_stream(sid3, h2.errors.ErrorCodes.CANCEL)
            c.flush()
            sid4, h, body = c.exchange("POST", "/_test/sink", body=b"y" * 5000)
            self.assertEqual(json.loads(body), {"bytes": 5000})


class Http2BackpressureTest(unittest.TestCase):
    def test_backpressure_bounds_memory_and_throttles_sender(self):
        total = 200 * 1024 * 1024
        chunk, delay_ms = 131072, 5
        # Under AddressSanitizer freed blocks sit in a quarantine (256 MB by default) that would
        # show up as RSS; keep it small so the bound measures what the server really holds.
        asan = (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16").lstrip(":")
        with Server(https=False, env={"ASAN_OPTIONS": asan}) as srv, H2Client(srv.port) as c:
            c.exchange("GET", "/healthz")
            baseline = srv.rss_kb()
            peak = [baseline]
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    peak[0] = max(peak[0], srv.rss_kb())
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            try:
                sid = c.request("POST", f"/_test/sink?delay_ms={delay_ms}&chunk={chunk}", end_stream=False)
                c.wait(lambda: c.settings_seen, what="server SETTINGS")
                t0 = time.monotonic()
                blocked, max_window = c.upload(sid, total)
                send_seconds = time.monotonic() - t0
                c.wait(lambda: sid in c.ended or sid in c.resets, timeout=120, what="sink response")
            finally:
                stop.set()
                sampler.join()
            self.assertEqual(c.headers[sid][":status"], "200")
            self.assertEqual(json.loads(bytes(c.bodies[sid])), {"bytes": total})
        # Throttled: the sender was held by the window, never had more than one stream window in
        # flight, and could not outrun the handler's reading pace (chunk bytes per delay_ms).
        growth_kb = peak[0] - baseline
        facts = (f"blocked {blocked}x, max window {max_window}, sent in {send_seconds:.1f} s, "
                 f"RSS {baseline} KiB + {growth_kb} KiB")
        self.assertGreater(blocked, 100, facts)
        self.assertLessEqual(max_window, STREAM_WINDOW, facts)
        self.assertGreater(send_seconds, 0.8 * (total / chunk) * delay_ms / 1000.0, facts)
        self.assertLess(growth_kb, 64 * 1024, facts)


class Http2TimeoutTest(unittest.TestCase):
    def test_idle_body_stall_and_write_stall(self):
        args = ["--timeouts-idle-seconds", "1", "--timeouts-body-stall-seconds", "1",
                "--timeouts-write-stall-seconds", "1"]
        with Server(https=False, extra_args=args) as srv:
            # idle: a connection with no stream gets GOAWAY and is closed
            with H2Client(srv.port) as c:
                t0 = time.monotonic()
                c.wait_closed(timeout=5)
                self.assertIsNotNone(c.goaway)
                self.assertLess(time.monotonic() - t0, 5)
            # body stall: the handler's read fails and it answers; then the stream, whose body
            # never ended, is reset with NO_ERROR (RFC 9113 8.1); the connection survives
            with H2Client(srv.port) as c:
                sid = c.request("POST", "/_test/sink", end_stream=False)
                c.send(sid, b"x" * 10)
                t0 = time.monotonic()
                c.wait(lambda: sid in c.resets, timeout=5, what="RST_STREAM after a body stall")
                self.assertLess(time.monotonic() - t0, 5)
                self.assertEqual(c.resets[sid], h2.errors.ErrorCodes.NO_ERROR)
                sid2, h, _ = c.exchange("GET", "/healthz")
                self.assertEqual(h[":status"], "200")
            # write stall: a client that stops acknowledging response data
            with H2Client(srv.port, auto_ack=False) as c:
                sid = c.request("GET", "/_test/source?bytes=10000000")
                t0 = time.monotonic()
                c.wait(lambda: sid in c.resets, timeout=8, what="RST_STREAM after a write stall")
                self.assertLess(time.monotonic() - t0, 8)
            text = metrics_text(srv.port)
            for kind in ("idle", "body_stall", "write_stall"):
                self.assertRegex(text, r'kvsd_http_timeouts_total\{kind="%s"\} [1-9]' % kind)


class Http2ShutdownTest(unittest.TestCase):
    def test_graceful_drain_finishes_stream_in_flight(self):
        srv = Server(https=False)
        srv.start()
        try:
            idle = H2Client(srv.port)
            idle.exchange("GET", "/healthz")
            curl = subprocess.Popen([tool("curl"), "-sS", "-i", "--http2-prior-knowledge",
                                     srv.base_url("http") + "/_test/sleep?ms=1500"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.4)
            srv.signal()
            srv.wait_for_log(r"shutting down")
            out, err = curl.communicate(timeout=15)
            self.assertEqual(curl.returncode, 0, err)
            self.assertTrue(out.startswith("HTTP/2 200"), out[:200])
            self.assertTrue(out.endswith("slept\n"), out[-50:])
            idle.wait_closed(timeout=5)  # the idle connection got GOAWAY and was closed
            self.assertIsNotNone(idle.goaway)
            idle.close()
            self.assertEqual(srv.proc.wait(10), 0)
        finally:
            srv.__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main()
