"""The faults chaos.py injects into kvsd, other than signals: a private tmpfs to fill (and the
namespace that holds it), slow clients, and malformed PutMedia bodies.

TmpfsNamespace: a user + mount namespace (unshare --user --map-root-user --mount) whose holder
process (sleep) keeps one private tmpfs per kvsd, so the data outlives kvsd's SIGKILLs; kvsd runs
inside through a wrapper script (nsenter, which execs: the pid we spawn is kvsd's). The host sees
the tmpfs at /proc/<holder>/root/<path>, which is where the ballast is written.

SlowClients: many connections that each send one byte every few seconds (a PutMedia body, a
control-plane body, a request head, an h2c preface) and GetMedia readers that take a few hundred
bytes every few seconds through a small receive buffer, held for the fault's length.

Malformed bodies: a valid SDK PutMedia body (tests/data/sdk-captures, cut after 4 fragments) with
random byte flips, truncations, cut-outs, duplicated ranges or inserted garbage, sent with
tests/integration/putmedia_client.py over HTTP/1.1, h2c or TLS to fresh streams.
"""

import datetime
import hashlib
import json
import os
import random
import shlex
import socket
import ssl
import subprocess
import threading
import time

import common  # noqa: F401  (sys.path)
import mkv_scan
import putmedia_client
from putmedia_client import sigv4_authorization

BALLAST = "ballast"
CAPTURE = os.path.join(common.REPO, "tests", "data", "sdk-captures", "realtime-h264", "04-putMedia-full.mkv")


# --- the tmpfs namespace -------------------------------------------------------------------------

class TmpfsNamespace:
    """Private tmpfs mounts {mount dir: size MB}; each gets a `data` folder for kvsd."""

    def __init__(self, mounts, work):
        self.mounts = dict(mounts)
        self.work = work
        self.proc = None

    def start(self):
        for d in self.mounts:
            os.makedirs(d, exist_ok=True)
        cmds = []
        for d, mb in self.mounts.items():
            cmds.append(f"mount -t tmpfs -o size={int(mb)}m,mode=0755 tmpfs {shlex.quote(d)}")
            cmds.append(f"mkdir -p {shlex.quote(os.path.join(d, 'data'))}")
        script = "set -e; " + "; ".join(cmds) + "; echo ready; exec sleep 2147483647"
        self.proc = subprocess.Popen(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            err = self.proc.stderr.read()
            self.proc.wait()
            raise SystemExit(f"chaos: cannot make the private tmpfs namespace (unshare --user --map-root-user "
                             f"--mount, mount -t tmpfs): {err.strip() or line}")

    def data_dir(self, mount):
        return os.path.join(mount, "data")

    def host_path(self, path):
        """Where the host sees a path inside the namespace."""
        return f"/proc/{self.proc.pid}/root{path}"

    def wrapper(self, binary, name):
        """A script that runs `binary` with its arguments inside the namespace (exec)."""
        path = os.path.join(self.work, f"in-namespace-{name}.sh")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\nexec nsenter --target {self.proc.pid} --user --mount -- "
                    f"{shlex.quote(binary)} \"$@\"\n")
        os.chmod(path, 0o755)
        return path

    def usage(self, mount):
        """(used bytes, free bytes) of a mount."""
        st = os.statvfs(self.host_path(mount))
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_bavail * st.f_frsize

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Ballast:
    """A file that fills a tmpfs to the last byte, then goes away."""

    def __init__(self, ns, mount):
        self.ns, self.mount = ns, mount
        self.path = ns.host_path(os.path.join(mount, BALLAST))
        self.bytes = 0

    def fill(self):
        """Writes zeros until ENOSPC (8 MiB, then 64 KiB, then 4 KiB writes); returns bytes written."""
        self.bytes = 0
        with open(self.path, "wb", buffering=0) as f:
            for size in (8 << 20, 64 << 10, 4 << 10):
                block = bytes(size)
                while True:
                    try:
                        n = f.write(block)
                    except OSError:
                        break
                    self.bytes += n or 0
                    if not n or n < size:
                        break
        return self.bytes

    def free(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


# --- signing helpers -----------------------------------------------------------------------------

def signed_json_request(path, payload, host, access_key, secret_key, region="us-west-2"):
    """(head bytes, body bytes) of a SigV4-signed JSON POST, like the AWS SDKs send it."""
    body = json.dumps(payload).encode()
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {"content-type": "application/json", "host": host,
               "x-amz-content-sha256": hashlib.sha256(body).hexdigest(), "x-amz-date": amz_date}
    auth = sigv4_authorization("POST", path, headers, access_key, secret_key, amz_date, region, "kinesisvideo",
                               payload_hash=hashlib.sha256(body).hexdigest())
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"authorization: {auth}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode(), body


def valid_body(fragments=4):
    """A valid SDK PutMedia body: the realtime H.264 capture up to the start of its fragment
    number `fragments` (so it holds the header and `fragments` whole Clusters)."""
    with open(CAPTURE, "rb") as f:
        body = f.read()
    frags = mkv_scan.scan(body).fragments
    return body[:frags[fragments].start] if len(frags) > fragments else body


# --- slow clients --------------------------------------------------------------------------------

class _Slow:
    def __init__(self, kind, sock, payload, every, reader=False):
        self.kind, self.sock, self.payload, self.every, self.reader = kind, sock, payload, every, reader
        self.pos = 0
        self.next_at = time.monotonic() + every
        self.opened = time.monotonic()
        self.closed_at = None
        self.why = None
        self.read = 0


class SlowClients:
    """n slow connections to one kvsd for as long as they are held; a thread does the trickling."""

    KINDS = ("putmedia-body", "control-body", "request-head", "h2c-preface", "getmedia-reader")

    def __init__(self, kvsd, rng, n, put_streams, read_streams, body):
        self.kvsd, self.rng, self.n = kvsd, rng, n
        self.put_streams, self.read_streams, self.body = put_streams, read_streams, body
        self.conns = []
        self.connect_errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.kvsd.port), timeout=5)
        s.setblocking(False)
        return s

    def start(self):
        host = f"127.0.0.1:{self.kvsd.port}"
        readers = 0
        for i in range(self.n):
            kind = self.KINDS[i % len(self.KINDS)]
            every = self.rng.uniform(2.0, 5.0)
            try:
                if kind == "getmedia-reader":
                    if readers >= 2 * len(self.read_streams):  # kvsd allows 3 GetMedia per stream
                        kind = "control-body"
                    else:
                        stream = self.read_streams[readers % len(self.read_streams)]
                        readers += 1
                        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                        raw.settimeout(5)
                        raw.connect(("127.0.0.1", self.kvsd.port))
                        head, body = signed_json_request(
                            "/getMedia", {"StreamName": stream, "StartSelector": {"StartSelectorType": "EARLIEST"}},
                            host, self.kvsd.access_key, self.kvsd.secret_key)
                        raw.sendall(head + body)
                        raw.setblocking(False)
                        self.conns.append(_Slow(kind, raw, b"", every, reader=True))
                        continue
                if kind == "putmedia-body":
                    stream = self.put_streams[i % len(self.put_streams)]
                    hdrs = putmedia_client.put_media_headers(stream, self.kvsd.access_key, self.kvsd.secret_key)
                    head = ("POST /putMedia HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n").encode()
                    s = self._connect()
                    s.setblocking(True)
                    s.sendall(head)
                    s.setblocking(False)
                    # Every byte of a valid body as its own chunk.
                    self.conns.append(_Slow(kind, s, self.body[:4096], every))
                elif kind == "control-body":
                    head, body = signed_json_request("/describeStream", {"StreamName": self.put_streams[0]}, host,
                                                     self.kvsd.access_key, self.kvsd.secret_key)
                    s = self._connect()
                    s.setblocking(True)
                    s.sendall(head)
                    s.setblocking(False)
                    self.conns.append(_Slow(kind, s, body, every))
                elif kind == "request-head":
                    head, body = signed_json_request("/listStreams", {}, host, self.kvsd.access_key,
                                                     self.kvsd.secret_key)
                    self.conns.append(_Slow(kind, self._connect(), head + body, every))
                elif kind == "h2c-preface":
                    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
                    self.conns.append(_Slow(kind, self._connect(), preface, every))
            except OSError as e:
                self.connect_errors.append(f"{kind}: {e}")
        self._thread.start()

    def _loop(self):
        while not self._stop.wait(0.25):
            now = time.monotonic()
            for c in self.conns:
                if c.closed_at is not None or now < c.next_at:
                    continue
                c.next_at = now + c.every
                try:
                    if c.reader:
                        data = c.sock.recv(512)
                        if not data:
                            self._closed(c, "EOF")
                        c.read += len(data)
                        continue
                    # Notice a server that gave up on us (an answer or EOF) before sending on.
                    try:
                        data = c.sock.recv(4096)
                        if data == b"":
                            self._closed(c, "EOF")
                            continue
                        if data:
                            c.read += len(data)
                            c.why = c.why or data[:60].decode("latin-1").split("\r\n")[0]
                    except BlockingIOError:
                        pass
                    if c.pos < len(c.payload):
                        byte = c.payload[c.pos:c.pos + 1]
                        c.sock.send(b"1\r\n" + byte + b"\r\n" if c.kind == "putmedia-body" else byte)
                        c.pos += 1
                except BlockingIOError:
                    pass
                except OSError as e:
                    self._closed(c, type(e).__name__)

    def _closed(self, c, why):
        c.closed_at = time.monotonic()
        c.why = f"{c.why + '; ' if c.why else ''}{why}"

    def stop(self):
        """Closes every connection; returns a summary dict."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        by_kind = {}
        for c in self.conns:
            k = by_kind.setdefault(c.kind, {"opened": 0, "closed_by_kvsd": 0, "bytes_sent": 0, "bytes_read": 0,
                                            "held_s": [], "answers": set()})
            k["opened"] += 1
            k["bytes_sent"] += c.pos
            k["bytes_read"] += c.read
            if c.closed_at is not None:
                k["closed_by_kvsd"] += 1
                k["held_s"].append(round(c.closed_at - c.opened, 1))
            if c.why:
                k["answers"].add(c.why[:80])
            try:
                c.sock.close()
            except OSError:
                pass
        for k in by_kind.values():
            k["answers"] = sorted(k["answers"])[:4]
            held = k.pop("held_s")
            k["closed_after_s"] = f"{min(held)}-{max(held)}" if held else "-"
        return {"kinds": by_kind, "connect_errors": self.connect_errors[:5]}


# --- malformed PutMedia bodies -------------------------------------------------------------------

def mutate(body, rng):
    """(description, mutated body) of a valid body: byte flips anywhere or in the header, a
    truncation, a cut-out, a duplicated range, or inserted garbage."""
    b = bytearray(body)
    kind = rng.choice(["flip", "flip-header", "truncate", "cut-out", "duplicate", "garbage"])
    if kind == "flip":
        n = rng.randint(1, 24)
        at = sorted(rng.randrange(len(b)) for _ in range(n))
        for i in at:
            b[i] ^= rng.randint(1, 255)
        return f"flip {n} bytes at {at[:4]}{'...' if n > 4 else ''}", bytes(b)
    if kind == "flip-header":
        n = rng.randint(1, 4)
        at = sorted(rng.randrange(min(len(b), 600)) for _ in range(n))
        for i in at:
            b[i] ^= rng.randint(1, 255)
        return f"flip {n} header bytes at {at}", bytes(b)
    if kind == "truncate":
        at = rng.randrange(1, len(b))
        return f"truncate at {at} of {len(b)}", bytes(b[:at])
    if kind == "cut-out":
        a = rng.randrange(len(b))
        n = rng.randint(1, 5000)
        return f"cut {n} bytes at {a}", bytes(b[:a] + b[a + n:])
    if kind == "duplicate":
        a = rng.randrange(len(b))
        n = rng.randint(1, 20000)
        return f"duplicate {n} bytes at {a}", bytes(b[:a + n] + b[a:a + n] + b[a + n:])
    a = rng.randrange(len(b))
    n = rng.randint(1, 2000)
    junk = bytes(rng.randrange(256) for _ in range(n))
    return f"insert {n} random bytes at {a}", bytes(b[:a] + junk + b[a:])


def send_malformed(kvsd, stream, body, proto, rng):
    """One PutMedia of `body` to `stream` over proto ("h1", "h2c", "h1-tls", "h2-tls"); returns a
    dict: status, ACK counts by kind, PERSISTED timecodes, ERROR ids, how it ended."""
    tls = proto.endswith("-tls")
    h2 = proto.startswith("h2")
    port = kvsd.tls_port if tls else kvsd.port
    headers = putmedia_client.put_media_headers(stream, kvsd.access_key, kvsd.secret_key, h2=h2)
    out = {"proto": proto, "status": None, "acks": {}, "persisted": [], "errors": [], "ended": ""}
    try:
        if h2:
            s = putmedia_client.H2Session(port, headers, tls_ca=kvsd.ca_path if tls else None)
        else:
            s = putmedia_client.H1Session(port, headers, tls_ca=kvsd.ca_path if tls else None)
    except (OSError, ssl.SSLError) as e:
        out["ended"] = f"connect: {e}"
        return out
    try:
        if not h2:
            s.wait_continue(2.0)
        sent = s.send_body(body, pieces=rng.choice([1000, 4096, 16384, 65536]))
        if not s.closed:
            s.finish()
        done = s.wait_done(30)
        out["ended"] = ("complete" if done else "not finished in 30 s") + ("" if sent else " (body cut short: "
                                                                          "ERROR or closed)")
        if s.send_error:
            out["ended"] += f"; send: {s.send_error[:80]}"
        if s.reset:
            out["ended"] += f"; reset: {s.reset}"
    finally:
        s.close()
    out["status"] = s.status
    for a in s.ack_events():
        out["acks"][a.event] = out["acks"].get(a.event, 0) + 1
        if a.event == "PERSISTED" and a.timecode is not None:
            out["persisted"].append(a.timecode)
        if a.event == "ERROR":
            out["errors"].append(a.error_id)
    if s.parse_errors:
        out["ended"] += f"; unparsable ACK lines: {len(s.parse_errors)}"
    return out


def protocols(kvsd):
    """The protocols a malformed body can go over to this kvsd."""
    return ["h1", "h2c", "h1-tls"] + (["h2-tls"] if kvsd.h2 else [])


def rng_for(seed, *parts):
    """A sub-generator: the same seed and parts give the same sequence whatever else drew."""
    return random.Random(f"{seed}:" + ":".join(str(p) for p in parts))
