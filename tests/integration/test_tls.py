"""TLS listener: the generated dev CA, ALPN h2 / http/1.1, names from config, reuse on restart."""

import hashlib
import os
import socket
import ssl
import subprocess
import unittest

from harness import Server


def curl(*args):
    out = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_version} %{http_code}", *args],
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


class TlsTest(unittest.TestCase):
    def test_dev_ca_alpn_and_extra_names(self):
        with Server(http=False, extra_args=["--tls-names", "cam-server.lan,10.1.2.3"]) as srv:
            self.assertIsNotNone(srv.ca_path)
            self.assertTrue(os.path.isfile(srv.ca_path))
            url = f"https://localhost:{srv.tls_port}/healthz"
            rc, out, err = curl("--http2", "--cacert", srv.ca_path, url)
            self.assertEqual(rc, 0, err)
            self.assertTrue(out.endswith("\n2 200"), out)
            rc, out, err = curl("--http1.1", "--cacert", srv.ca_path, f"https://127.0.0.1:{srv.tls_port}/healthz")
            self.assertEqual(rc, 0, err)
            self.assertTrue(out.endswith("\n1.1 200"), out)
            # a LAN name from config is covered by the certificate
            rc, out, err = curl("--cacert", srv.ca_path, "--resolve", f"cam-server.lan:{srv.tls_port}:127.0.0.1",
                                f"https://cam-server.lan:{srv.tls_port}/healthz")
            self.assertEqual(rc, 0, err)
            # a name that is not covered is refused by the client
            rc, out, err = curl("--cacert", srv.ca_path, "--resolve", f"other.lan:{srv.tls_port}:127.0.0.1",
                                f"https://other.lan:{srv.tls_port}/healthz")
            self.assertNotEqual(rc, 0)
            # Python's ssl with hostname checking against the IP SAN, ALPN offered like libcurl
            ctx = ssl.create_default_context(cafile=srv.ca_path)
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            with socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    self.assertEqual(s.selected_alpn_protocol(), "h2")

    def test_alpn_without_h2_and_ca_reused_on_restart(self):
        srv = Server(http=False, extra_args=["--tls-h2", "false"])
        srv.start()
        data_dir = srv.data_dir
        try:
            with open(srv.ca_path, "rb") as f:
                first = hashlib.sha256(f.read()).hexdigest()
            ctx = ssl.create_default_context(cafile=srv.ca_path)
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            with socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    data = b""
                    while True:
                        b = s.recv(4096)
                        if not b:
                            break
                        data += b
                    self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:80])
            self.assertEqual(srv.stop(), 0)
            # restart on the same data dir: the CA is kept, so cameras keep trusting the server
            again = Server(http=False, extra_args=["--data-dir", data_dir])
            again.start()
            try:
                with open(again.ca_path, "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), first)
                rc, out, err = curl("--cacert", again.ca_path, f"https://localhost:{again.tls_port}/healthz")
                self.assertEqual(rc, 0, err)
                self.assertEqual(again.stop(), 0)
            finally:
                again.data_dir = None  # owned by the first server
        finally:
            srv.__exit__(None, None, None)

    def test_plain_http_on_tls_port_is_refused_cleanly(self):
        with Server(http=False) as srv:
            with socket.create_connection(("127.0.0.1", srv.tls_port), timeout=10) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(10)
                data = b""
                try:
                    while True:
                        b = s.recv(4096)
                        if not b:
                            break
                        data += b
                except ConnectionResetError:
                    pass
                self.assertFalse(data.startswith(b"HTTP/1.1 200"))
            rc, out, err = curl("--cacert", srv.ca_path, f"https://localhost:{srv.tls_port}/healthz")
            self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
