"""An SDK-like PutMedia client for the integration tests (HTTP/1.1 over a raw socket, optionally TLS,
and HTTP/2 with python3-h2, h2c prior knowledge or TLS with ALPN h2).

Like the stock C producer it signs with SigV4 over the empty-payload hash (SignedHeaders
connection;host;transfer-encoding;user-agent;x-amz-date;x-amzn-*), sends Host without the port,
uses `Expect: 100-continue` on HTTP/1.1, sends the body in pieces the caller chooses (one HTTP
chunk / DATA frames per piece) and reads the response full duplex: a reader thread parses the
response incrementally and records every HTTP chunk (h1) or DATA frame (h2) with its arrival time,
and every ACK parsed from them. The caller can hold the end of the body until a condition holds
(e.g. PERSISTED of the last fragment), as the SDK does.

Threading: one reader thread per session; public methods may be called from any one other
thread. Observations (acks, chunks, status) are guarded by the session's condition variable.
"""

import datetime
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
import unittest
from dataclasses import dataclass

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
USER_AGENT = "AWS-PRODUCER-SDK-KVS/1.6.4 GCC/12.2.0 Linux/6.1 x86_64"
REGION = "us-west-2"
SERVICE = "kinesisvideo"


@dataclass
class Ack:
    event: str
    timecode: object  # int or None
    number: object  # str or None
    error_id: object  # int or None
    raw: str
    t: float  # monotonic arrival time
    chunk: int  # index of the HTTP chunk / DATA frame it arrived in

    def __repr__(self):
        s = f"{self.event}"
        if self.timecode is not None:
            s += f" tc={self.timecode}"
        if self.number is not None:
            s += f" #{self.number}"
        if self.error_id is not None:
            s += f" err={self.error_id}"
        return s


def sigv4_authorization(method, path, headers, akid, secret, amz_date, region=REGION, service=SERVICE,
                        payload_hash=EMPTY_SHA256):
    """The Authorization value for headers (dict of lower-case name -> value), all of them signed,
    with payload_hash (default: the empty-payload hash, what the C producer does for PutMedia)."""
    names = sorted(headers)
    canonical_headers = "".join(f"{n}:{' '.join(str(headers[n]).split())}\n" for n in names)
    signed = ";".join(names)
    canonical = "\n".join([method, path, "", canonical_headers, signed, payload_hash])
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={signed}, Signature={sig}"


def producer_start_header(epoch_ms):
    """`seconds.millis` with unpadded millis, like the SDK (5 ms -> `1700000000.5`)."""
    return f"{epoch_ms // 1000}.{epoch_ms % 1000}"


def put_media_headers(stream_name=None, akid=None, secret=None, timecode_type="ABSOLUTE", producer_start_ms=None,
                      stream_arn=None, ack_required="1", region=REGION, h2=False, overrides=None, omit=()):
    """[(name, value)] of a PutMedia request like the SDK's (h2: without connection/transfer-encoding,
    which are still signed as the SDK signs them). overrides/omit tweak headers before signing."""
    if producer_start_ms is None:
        producer_start_ms = int(time.time() * 1000)
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    signed = {
        "connection": "keep-alive",
        "host": "127.0.0.1",
        "transfer-encoding": "chunked",
        "user-agent": USER_AGENT,
        "x-amz-date": amz_date,
        "x-amzn-fragment-acknowledgment-required": ack_required,
        "x-amzn-fragment-timecode-type": timecode_type,
        "x-amzn-producer-start-timestamp": producer_start_header(producer_start_ms),
    }
    if stream_name is not None:
        signed["x-amzn-stream-name"] = stream_name
    if stream_arn is not None:
        signed["x-amzn-stream-arn"] = stream_arn
    for k, v in (overrides or {}).items():
        signed[k.lower()] = v
    for k in omit:
        signed.pop(k.lower(), None)
    out = [("accept", "*/*")]
    if akid:
        out.append(("authorization", sigv4_authorization("POST", "/putMedia", signed, akid, secret, amz_date, region)))
    out.append(("content-type", "application/json"))
    for k in sorted(signed):
        if h2 and k in ("connection", "transfer-encoding", "host"):
            continue
        out.append((k, signed[k]))
    return out


class SockIO:
    """Full-duplex socket access from a reader thread and a writer thread. Plain sockets are used
    directly; an SSL socket must never be read and written at the same time (OpenSSL objects are
    not thread-safe), so both directions take one lock and the reader waits in select() outside it."""

    def __init__(self, sock):
        self.sock = sock
        self.tls = isinstance(sock, ssl.SSLSocket)
        self.lock = threading.Lock()
        if self.tls:
            sock.settimeout(30)

    def sendall(self, data):
        if not self.tls:
            return self.sock.sendall(data)
        with self.lock:
            return self.sock.sendall(data)

    def recv(self, n):
        if not self.tls:
            return self.sock.recv(n)
        import select
        while True:
            if not self.sock.pending():
                select.select([self.sock], [], [], 0.05)
            with self.lock:
                self.sock.settimeout(0.0)
                try:
                    return self.sock.recv(n)
                except (ssl.SSLWantReadError, BlockingIOError):
                    continue
                finally:
                    self.sock.settimeout(30)


class Session:
    """Common observation state of one PutMedia exchange."""

    def __init__(self):
        self.cond = threading.Condition()
        self.acks = []
        self.chunks = []  # (t, bytes)
        self.status = None
        self.headers = {}
        self.got_continue = False
        self.body = bytearray()  # whole response body
        self.done = False  # response completed cleanly (terminal chunk / END_STREAM)
        self.done_t = None
        self.closed = False  # connection gone (EOF, reset) whether or not done
        self.reset = None  # h2 RST_STREAM error code / exception text
        self.send_error = None  # exception text if the body could not be sent
        self.body_end_t = None  # when the end of the body was sent
        self.hold_timed_out = False  # finish(hold_until=...) gave up waiting
        self.parse_errors = []
        self.reader_error = None
        self._ackbuf = b""
        self.acks_per_read = []  # H2Session: ACKs completed by each socket read (over TLS: one record)
        self.t0 = time.monotonic()

    # --- observation --------------------------------------------------------------------------
    def _record_chunk(self, data):
        t = time.monotonic()
        with self.cond:
            idx = len(self.chunks)
            self.chunks.append((t, bytes(data)))
            self.body += data
            if self.status == 200:
                self._ackbuf += data
                while b"\n" in self._ackbuf:
                    line, self._ackbuf = self._ackbuf.split(b"\n", 1)
                    self._parse_ack(line, t, idx)
            self.cond.notify_all()

    def _parse_ack(self, line, t, idx):
        line = line.strip()
        if not line:
            return
        try:
            obj = json.loads(line)
        except ValueError as e:
            self.parse_errors.append(f"{line!r}: {e}")
            return
        if not isinstance(obj, dict):
            self.parse_errors.append(f"{line!r}: not an object")
            return
        self.acks.append(Ack(obj.get("EventType"), obj.get("FragmentTimecode"), obj.get("FragmentNumber"),
                             obj.get("ErrorId"), line.decode("utf-8", "replace"), t, idx))

    def _finish(self, clean):
        with self.cond:
            if clean and not self.done:
                self.done = True
                self.done_t = time.monotonic()
                if self._ackbuf.strip():
                    self.parse_errors.append(f"unterminated ACK line {self._ackbuf!r}")
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        """Waits until pred(self) is true (called under the lock); returns its last value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred(self)
                if v or self.closed:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    return v
                self.cond.wait(min(left, 0.5))

    def wait_done(self, timeout=30):
        return self.wait_for(lambda s: s.done or s.closed, timeout) and self.done

    def ack_events(self, kind=None):
        with self.cond:
            return [a for a in self.acks if kind is None or a.event == kind]

    def has_ack(self, kind, timecode=None):
        return any(a.event == kind and (timecode is None or a.timecode == timecode) for a in self.acks)

    def log(self):
        with self.cond:
            lines = [f"status={self.status} continue={self.got_continue} done={self.done} closed={self.closed} "
                     f"reset={self.reset} send_error={self.send_error} reader_error={self.reader_error}"]
            for t, c in self.chunks:
                lines.append(f"  +{t - self.t0:7.3f}s chunk {len(c):5d}: {c[:300]!r}")
            if self.parse_errors:
                lines.append(f"  parse errors: {self.parse_errors}")
            return "\n".join(lines)

    # --- body helpers -------------------------------------------------------------------------
    def send_body(self, body, pieces=16384, delay=0.0, stop_on_error=True):
        """Sends body as consecutive pieces. pieces: an int (fixed size) or a list of sizes (cycled
        when exhausted). Stops early (returns False) when the connection fails or, with
        stop_on_error, when an ERROR ACK arrived."""
        pos = 0
        i = 0
        while pos < len(body):
            n = pieces if isinstance(pieces, int) else pieces[i % len(pieces)]
            i += 1
            if not self.send(body[pos:pos + n]):
                return False
            pos += n
            if stop_on_error and (self.has_ack("ERROR") or self.closed):
                return False
            if delay:
                time.sleep(delay)
        return True


class H1Session(Session):
    """PutMedia over HTTP/1.1, chunked request body, Expect: 100-continue."""

    def __init__(self, port, headers, host="127.0.0.1", tls_ca=None, expect_continue=True, timeout=30):
        super().__init__()
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(["http/1.1"])
            raw = ctx.wrap_socket(raw, server_hostname=host)
        self.sock = raw
        self.sock.settimeout(None)
        self.io = SockIO(raw)
        self.wlock = threading.Lock()
        hdrs = list(headers)
        if expect_continue:
            hdrs.append(("Expect", "100-continue"))
        req = "POST /putMedia HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n"
        self.io.sendall(req.encode())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_continue(self, timeout=2.0):
        """Waits for 100 Continue (or a final status) like curl; True if 100 came."""
        self.wait_for(lambda s: s.got_continue or s.status is not None, timeout)
        return self.got_continue

    def send(self, data):
        if not data:
            return True
        try:
            with self.wlock:
                self.io.sendall(b"%x\r\n" % len(data) + bytes(data) + b"\r\n")
            return True
        except OSError as e:
            self.send_error = repr(e)
            return False

    def finish(self, hold_until=None, hold_timeout=30):
        """Sends the terminal zero-length chunk, optionally after pred hold_until(self) holds."""
        if hold_until is not None and not self.wait_for(hold_until, hold_timeout):
            self.hold_timed_out = True
        try:
            with self.wlock:
                self.body_end_t = time.monotonic()  # before: the answer may arrive before sendall returns
                self.io.sendall(b"0\r\n\r\n")
            return True
        except OSError as e:
            self.send_error = repr(e)
            return False

    def abort(self):
        """Drops the connection (no terminal chunk)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # --- reader -------------------------------------------------------------------------------
    def _read(self):
        buf = bytearray()
        eof = False

        def fill():
            nonlocal eof
            try:
                b = self.io.recv(65536)
            except OSError as e:
                with self.cond:
                    self.reader_error = repr(e)
                b = b""
            if not b:
                eof = True
            buf.extend(b)

        def read_line():
            while b"\r\n" not in buf:
                if eof:
                    return None
                fill()
            i = buf.index(b"\r\n")
            line = bytes(buf[:i])
            del buf[:i + 2]
            return line

        def read_exact(n):
            while len(buf) < n:
                if eof:
                    return None
                fill()
            out = bytes(buf[:n])
            del buf[:n]
            return out

        try:
            while True:
                status_line = read_line()
                if status_line is None:
                    return self._finish(False)
                parts = status_line.split(b" ", 2)
                status = int(parts[1])
                headers = {}
                while True:
                    line = read_line()
                    if line is None:
                        return self._finish(False)
                    if not line:
                        break
                    k, _, v = line.partition(b":")
                    headers[k.decode().strip().lower()] = v.decode().strip()
                if 100 <= status < 200:
                    with self.cond:
                        if status == 100:
                            self.got_continue = True
                        self.cond.notify_all()
                    continue
                with self.cond:
                    self.status = status
                    self.headers = headers
                    self.cond.notify_all()
                break
            if headers.get("transfer-encoding", "").lower() == "chunked":
                while True:
                    line = read_line()
                    if line is None:
                        return self._finish(False)
                    n = int(line.split(b";")[0], 16)
                    if n == 0:
                        while True:  # trailers
                            t = read_line()
                            if t is None or not t:
                                break
                        return self._finish(True)
                    data = read_exact(n)
                    crlf = read_exact(2)
                    if data is None or crlf != b"\r\n":
                        if data:
                            self._record_chunk(data)
                        return self._finish(False)
                    self._record_chunk(data)
            elif "content-length" in headers:
                data = read_exact(int(headers["content-length"]))
                if data is None:
                    return self._finish(False)
                if data:
                    self._record_chunk(data)
                return self._finish(True)
            else:
                while not eof:
                    fill()
                if buf:
                    self._record_chunk(bytes(buf))
                return self._finish(True)
        except Exception as e:  # noqa: BLE001 - recorded for the test's failure message
            with self.cond:
                self.reader_error = repr(e)
            self._finish(False)


class H2Session(Session):
    """PutMedia over HTTP/2 (h2c prior knowledge, or TLS with ALPN h2) on its own connection."""

    def __init__(self, port, headers, host="127.0.0.1", tls_ca=None, timeout=30):
        super().__init__()
        import h2.config
        import h2.connection
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        scheme = "http"
        if tls_ca:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.set_alpn_protocols(["h2"])
            raw = ctx.wrap_socket(raw, server_hostname=host)
            if raw.selected_alpn_protocol() != "h2":
                raise AssertionError(f"ALPN picked {raw.selected_alpn_protocol()}")
            scheme = "https"
        self.sock = raw
        self.sock.settimeout(None)
        self.io = SockIO(raw)
        self.lock = threading.RLock()  # guards self.conn and socket writes
        self.window_cond = threading.Condition(self.lock)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(8 << 20)
        self.stream_id = self.conn.get_next_available_stream_id()
        hdrs = [(":method", "POST"), (":scheme", scheme), (":path", "/putMedia"), (":authority", host)]
        hdrs += [(k.lower(), v) for k, v in headers]
        self.conn.send_headers(self.stream_id, hdrs, end_stream=False)
        self.io.sendall(self.conn.data_to_send())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_continue(self, timeout=2.0):
        self.wait_for(lambda s: s.got_continue or s.status is not None, timeout)
        return self.got_continue

    def _flush(self):
        data = self.conn.data_to_send()
        if data:
            self.io.sendall(data)

    def send(self, data, timeout=30):
        data = memoryview(bytes(data))
        deadline = time.monotonic() + timeout
        try:
            while len(data):
                with self.window_cond:
                    while True:
                        if self.closed or self.reset is not None:
                            self.send_error = "stream closed"
                            return False
                        win = min(self.conn.local_flow_control_window(self.stream_id),
                                  self.conn.max_outbound_frame_size)
                        if win > 0:
                            break
                        if time.monotonic() > deadline:
                            self.send_error = "flow-control window stayed closed"
                            return False
                        self.window_cond.wait(0.2)
                    n = min(win, len(data))
                    self.conn.send_data(self.stream_id, bytes(data[:n]))
                    self._flush()
                data = data[n:]
            return True
        except Exception as e:  # noqa: BLE001
            self.send_error = repr(e)
            return False

    def finish(self, hold_until=None, hold_timeout=30):
        if hold_until is not None and not self.wait_for(hold_until, hold_timeout):
            self.hold_timed_out = True
        try:
            with self.lock:
                self.body_end_t = time.monotonic()
                self.conn.end_stream(self.stream_id)
                self._flush()
            return True
        except Exception as e:  # noqa: BLE001
            self.send_error = repr(e)
            return False

    def abort(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def close(self):
        try:
            with self.lock:
                self.conn.close_connection()
                self._flush()
        except Exception:  # noqa: BLE001
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def _read(self):
        import h2.events
        try:
            while True:
                try:
                    data = self.io.recv(65536)
                except OSError as e:
                    with self.cond:
                        self.reader_error = repr(e)
                    data = b""
                if not data:
                    return self._finish(False)
                acks_before = len(self.acks)
                with self.lock:
                    events = self.conn.receive_data(data)
                    for ev in events:
                        if isinstance(ev, h2.events.InformationalResponseReceived):
                            with self.cond:
                                if dict(ev.headers).get(":status") == "100":
                                    self.got_continue = True
                                self.cond.notify_all()
                        elif isinstance(ev, h2.events.ResponseReceived):
                            hd = dict(ev.headers)
                            with self.cond:
                                self.status = int(hd.get(":status"))
                                self.headers = {k.lower(): v for k, v in hd.items()}
                                self.cond.notify_all()
                        elif isinstance(ev, h2.events.DataReceived):
                            if ev.flow_controlled_length:
                                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                            if ev.data:
                                self._record_chunk(ev.data)
                        elif isinstance(ev, h2.events.StreamEnded):
                            self._flush()
                            self._finish(True)
                        elif isinstance(ev, h2.events.StreamReset):
                            with self.cond:
                                self.reset = ev.error_code
                            self._finish(False)
                        elif isinstance(ev, h2.events.ConnectionTerminated):
                            self._finish(False)
                        elif isinstance(ev, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
                            self.window_cond.notify_all()
                    self._flush()
                with self.cond:
                    self.acks_per_read.append(len(self.acks) - acks_before)
        except Exception as e:  # noqa: BLE001
            with self.cond:
                self.reader_error = repr(e)
            self._finish(False)


def open_session(proto, port, headers, tls_ca=None):
    if proto == "h2":
        return H2Session(port, headers, tls_ca=tls_ca)
    return H1Session(port, headers, tls_ca=tls_ca)


# --- fixtures shared by the PutMedia test files ---------------------------------------------------

import os  # noqa: E402
import re  # noqa: E402
import http.client  # noqa: E402

ACCESS_KEY = "AKIAKVSDPUTMEDIA0001"
SECRET_KEY = "putmedia-secret-key-0123456789abcdef"
CAPTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sdk-captures")


def start_server(extra_args=(), data_dir=None, https=False):
    from harness import Server, testserver_binary
    env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
    srv = Server(binary=testserver_binary(), https=https, env=env, data_dir=data_dir,
                 extra_args=["--access-log", "false"] + list(extra_args))
    srv.start()
    return srv


def control_client(server):
    import boto3
    import botocore.config
    return boto3.client("kinesisvideo", endpoint_url=server.base_url(), region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=botocore.config.Config(retries={"max_attempts": 0}))


def create_stream(server, name, retention_hours=2, media_type="video/h264"):
    return control_client(server).create_stream(StreamName=name, DataRetentionInHours=retention_hours,
                                                MediaType=media_type)["StreamARN"]


def test_get(server, target, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def stored_fragments(server, stream):
    """The /_test/fragments listing (list of dicts), or raises AssertionError."""
    status, body = test_get(server, f"/_test/fragments?stream={stream}")
    if status != 200:
        raise AssertionError(f"/_test/fragments?stream={stream}: {status} {body[:300]!r}")
    return json.loads(body)["Fragments"]


def stored_fragment_bytes(server, stream, number):
    status, body = test_get(server, f"/_test/fragment?stream={stream}&number={number}")
    if status != 200:
        raise AssertionError(f"/_test/fragment {stream} {number}: {status} {body[:300]!r}")
    return body


def capture_path(name, n=4):
    return os.path.join(CAPTURES, name, f"0{n}-putMedia-full.mkv")


def capture_request(name, n=4):
    """(timecode type, producer start ms) from the captured request headers."""
    with open(os.path.join(CAPTURES, name, f"0{n}-putMedia.txt")) as f:
        text = f.read()
    tc_type = re.search(r"x-amzn-fragment-timecode-type: (\w+)", text).group(1)
    sec, _, millis = re.search(r"x-amzn-producer-start-timestamp: ([\d.]+)", text).group(1).partition(".")
    return tc_type, int(sec) * 1000 + int(millis or 0)


def capture_chunk_sizes(name="realtime-h264"):
    """The body chunk sizes the SDK used (from 04-putMedia-chunks.txt)."""
    with open(os.path.join(CAPTURES, name, "04-putMedia-chunks.txt")) as f:
        return [int(m.group(1)) for m in re.finditer(r"chunk (\d+)", f.read())]


def upload(server, stream, body, proto="h1", pieces=16384, delay=0.0, timecode_type="ABSOLUTE", start_ms=None,
           hold_for=None, hold_timeout=30, done_timeout=60, tls=False, headers=None):
    """Runs one SDK-like PutMedia: headers, wait for 100 Continue (h1), the body in pieces, then
    (like the SDK) holds the end of the body until PERSISTED for timecode hold_for (or an ERROR)
    and waits for the response to complete. Returns the session (closed)."""
    hdrs = headers or put_media_headers(stream, ACCESS_KEY, SECRET_KEY, timecode_type, start_ms, h2=(proto == "h2"))
    port = server.tls_port if tls else server.port
    ca = server.ca_path if tls else None
    s = open_session(proto, port, hdrs, tls_ca=ca)
    try:
        if proto == "h1":
            s.wait_continue(2.0)
        ok = s.send_body(body, pieces, delay)
        hold = None
        if ok and hold_for is not None:
            def hold(x):
                return x.has_ack("PERSISTED", hold_for) or x.has_ack("ERROR")
        if not s.closed:
            s.finish(hold_until=hold, hold_timeout=hold_timeout)
        s.wait_done(done_timeout)
    finally:
        s.close()
    return s


# --- helpers for tests that run the real kvsd binary and send raw signed JSON calls ---------------

def start_kvsd(extra_args=(), https=False):
    """start_server() on the kvsd binary itself (KVSD_BIN), not kvsd-testserver."""
    from harness import Server, kvsd_binary
    env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
    srv = Server(binary=kvsd_binary(), https=https, env=env, extra_args=["--access-log", "false"] + list(extra_args))
    srv.start()
    return srv


def stop_kvsd(server):
    """Stops a start_kvsd() server (SIGTERM) and removes its data dir; returns its exit code."""
    rc = server.stop()
    server.__exit__(None, None, None)
    return rc


class KvsdTestCase(unittest.TestCase):
    """A test class sharing one start_kvsd() server; subclasses set KVSD_ARGS (extra flags)."""

    KVSD_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.server = start_kvsd(list(cls.KVSD_ARGS))

    @classmethod
    def tearDownClass(cls):
        rc = stop_kvsd(cls.server)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"


def signed_json_headers(host, path, body, akid=ACCESS_KEY, secret=SECRET_KEY, payload_hash=None,
                        content_sha256=None, signature=None):
    """[(name, value)] of a header-signed JSON API call (POST path, body) as the AWS SDKs send it:
    host, content-type, x-amz-date (and x-amz-content-sha256 when content_sha256 is given), all
    signed, over payload_hash (default: the body's SHA-256). signature: replace the computed
    signature with this one (a well-formed but wrong signature)."""
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    signed = {"host": host, "content-type": "application/json", "x-amz-date": amz_date}
    if content_sha256 is not None:
        signed["x-amz-content-sha256"] = content_sha256
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    auth = sigv4_authorization("POST", path, signed, akid, secret, amz_date, payload_hash=payload_hash)
    if signature is not None:
        auth = auth[:auth.rindex("Signature=") + len("Signature=")] + signature
    return [(k, v) for k, v in signed.items()] + [("authorization", auth)]
