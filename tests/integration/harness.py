"""Starts a real kvsd (or kvsd-testserver) process on port 0 for integration tests.

Server(...) is a context manager: it launches the binary with a fresh data dir, waits for the
"listening" log lines, and exposes the bound ports, the dev CA path and the collected log. On exit
it sends SIGTERM and waits; a server that does not exit fails the test.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

LISTEN_RE = re.compile(r"listening (https?) (\S+):(\d+)")
CA_RE = re.compile(r"dev CA certificate: (\S+)")


def testserver_binary():
    return os.environ.get("KVSD_TESTSERVER") or os.path.join(os.path.dirname(__file__), "../../build/bin/kvsd-testserver")


def kvsd_binary():
    return os.environ.get("KVSD_BIN") or os.path.join(os.path.dirname(__file__), "../../build/bin/kvsd")


class Server:
    def __init__(self, binary=None, extra_args=(), env=None, http=True, https=True, start_timeout=30,
                 data_dir=None, http_port=0, https_port=0):
        # data_dir: an existing directory to run on (kept on exit, so a later Server can reuse it
        # after a restart or a kill()); None: a fresh temp dir removed on exit.
        # http_port / https_port: the ports to listen on (0: any free one, chosen by kvsd).
        # start() may be called again after kill() or stop(): the same data dir (a temp dir made by
        # the first start is kept until __exit__) and the same fixed ports; the log accumulates.
        self.own_data_dir = data_dir is None
        self.http_port = http_port
        self.https_port = https_port
        self.given_data_dir = data_dir
        self.binary = binary or testserver_binary()
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.want_http = http
        self.want_https = https
        self.start_timeout = start_timeout
        self.proc = None
        self.data_dir = None
        self.port = None
        self.tls_port = None
        self.ca_path = None
        self._lines = []
        self._cond = threading.Condition()
        self._reader = None

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        try:
            if self.proc and self.proc.poll() is None:
                rc = self.stop()
                if exc[0] is None and rc != 0:
                    raise AssertionError(f"kvsd exited with {rc} on SIGTERM\n{self.log()}")
        finally:
            if self.data_dir and self.own_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
        return False

    def start(self):
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="kvsd-it-") if self.own_data_dir else self.given_data_dir
        args = [self.binary, "--data-dir", self.data_dir,
                "--http", f"127.0.0.1:{self.http_port}" if self.want_http else "",
                "--https", f"127.0.0.1:{self.https_port}" if self.want_https else ""] + self.extra_args
        with self._cond:
            mark = len(self._lines)  # this start's lines begin here
        try:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env,
                                         text=True, errors="replace")
        except OSError as e:
            self.proc = None
            raise AssertionError(f"cannot run {self.binary}: {e}") from e
        self._reader = threading.Thread(target=self._read_log, args=(self.proc,), daemon=True)
        self._reader.start()
        wanted = int(self.want_http) + int(self.want_https)
        deadline = time.monotonic() + self.start_timeout
        with self._cond:
            while True:
                found = [LISTEN_RE.search(l) for l in self._lines[mark:]]
                found = [m for m in found if m]
                if len(found) >= wanted:
                    break
                if self.proc.poll() is not None:
                    raise AssertionError(f"kvsd exited with {self.proc.returncode} during start\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    # Never leave a half-started server behind.
                    self.proc.kill()
                    self.proc.wait()
                    raise AssertionError("kvsd did not report its listeners in time\n" + self.log())
                # Bounded: the reader's last wake-up can come before the exit status is readable.
                self._cond.wait(min(left, 0.2))
        for m in found:
            if m.group(1) == "http":
                self.port = int(m.group(3))
            else:
                self.tls_port = int(m.group(3))
        with self._cond:
            lines = self._lines[mark:]
        for l in lines:
            m = CA_RE.search(l)
            if m:
                self.ca_path = m.group(1)

    def _read_log(self, proc):
        # Bound to one process: after a restart self.proc is the new one, whose pipe this reader
        # of the old one must not touch.
        for line in proc.stderr:
            with self._cond:
                self._lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        proc.stderr.close()
        with self._cond:
            self._cond.notify_all()

    def signal(self, signo=signal.SIGTERM):
        self.proc.send_signal(signo)

    def kill(self):
        """SIGKILLs the server (a crash: no drain, no flush) and reaps it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("kvsd did not exit within %ss of SIGTERM\n%s" % (timeout, self.log()))

    # --- observation -----------------------------------------------------------------------
    def log(self):
        with self._cond:
            return "\n".join(self._lines)

    def wait_for_log(self, pattern, timeout=10):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for l in self._lines:
                    if rx.search(l):
                        return l
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"log line /{pattern}/ did not appear\n" + "\n".join(self._lines[-50:]))
                self._cond.wait(left)

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def base_url(self, scheme="http", host="127.0.0.1"):
        port = self.port if scheme == "http" else self.tls_port
        return f"{scheme}://{host}:{port}"

    def connect(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s


class ServerTestCase(unittest.TestCase):
    """A test class sharing one server; subclasses set SERVER_ARGS (keyword arguments of Server)."""

    SERVER_ARGS = {}

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.SERVER_ARGS)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"


def recv_until_closed(sock, limit=1 << 24):
    """Reads until the peer closes; returns the bytes."""
    out = bytearray()
    while len(out) < limit:
        try:
            b = sock.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    return bytes(out)


def read_response(sock):
    """Parses one HTTP/1.1 response from a socket with http.client; returns (resp, body)."""
    import http.client
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    body = resp.read()
    return resp, body
