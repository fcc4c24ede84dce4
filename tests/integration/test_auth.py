"""SigV4 authentication at the HTTP edge, against a real kvsd-testserver on port 0.

Requests are signed with botocore (Debian's python3-botocore), the signer of the AWS SDK for
Python, and sent over HTTP/1.1 (http.client) and HTTP/2 (curl --http2-prior-knowledge). The
test routes are /_test/signed (buffered JSON body, hashed) and /_test/signed_stream (streamed
body, signed with the empty-payload hash as the C producer does).
"""

import datetime
import http.client
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import ServerTestCase, Server

SERVICE = "kinesisvideo"
REGION = "us-west-2"
CRED_RE = re.compile(r"dev credentials: (\S+), access key id (AKIA[A-Z0-9]{16})")


def read_credentials(path):
    values = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'(\w+) = "(.*)"$', line.strip())
            if m:
                values[m.group(1)] = m.group(2)
    return values["access_key_id"], values["secret_access_key"]


def sign(server, path, body, akid, secret, region=REGION, query=False, signer_cls=None):
    """Returns a prepared botocore request for POST path with body."""
    url = server.base_url() + path
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    creds = Credentials(akid, secret)
    if query:
        SigV4QueryAuth(creds, SERVICE, region, expires=300).add_auth(req)
    else:
        (signer_cls or SigV4Auth)(creds, SERVICE, region).add_auth(req)
    return req.prepare()


def send_h1(server, prepared, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        target = prepared.url.split(str(server.port), 1)[1]
        headers = {k: v for k, v in prepared.headers.items()}
        conn.request("POST", target, body=prepared.body if body is None else body, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


class DevCredentialsTest(unittest.TestCase):
    def test_file_created_0600_reused_and_secret_not_logged(self):
        data_dir = tempfile.mkdtemp(prefix="kvsd-auth-")
        try:
            # Run twice on the same data dir (a later --data-dir flag wins over the harness's own).
            logs = []
            for _ in range(2):
                srv = Server(https=False, extra_args=["--data-dir", data_dir])
                srv.start()
                try:
                    line = srv.wait_for_log(r"dev credentials: ")
                    logs.append(srv.log())
                    m = CRED_RE.search(line)
                    self.assertIsNotNone(m, line)
                    path = m.group(1)
                    self.assertEqual(path, os.path.join(os.path.abspath(data_dir), "credentials"))
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
                    akid, secret = read_credentials(path)
                    self.assertEqual(m.group(2), akid)
                    self.assertEqual(len(secret), 40)
                    self.assertIn("export AWS_ACCESS_KEY_ID=" + akid, line)
                    # The hint works as written in a shell.
                    hint = line[line.index("export "):]
                    out = subprocess.run(["bash", "-c", hint + '; echo "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY"'],
                                         capture_output=True, text=True, check=True).stdout.split()
                    self.assertEqual(out, [akid, secret])
                    self.assertNotIn(secret, srv.log())
                    prepared = sign(srv, "/_test/signed", b"{}", akid, secret)
                    status, _, body = send_h1(srv, prepared)
                    self.assertEqual(status, 200, body)
                finally:
                    self.assertEqual(srv.stop(), 0)
                    shutil.rmtree(srv.data_dir, ignore_errors=True)
            ids = [CRED_RE.search(l).group(2) for l in logs]
            self.assertEqual(ids[0], ids[1])
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


class SigV4Test(ServerTestCase):
    AKID = "AKIAKVSDTEST00000001"
    SECRET = "kvsdTestSecretKey/0123456789+abcdefghijkl"

    SERVER_ARGS = dict(https=False, env={"KVSD_ACCESS_KEY_ID": AKID, "KVSD_SECRET_ACCESS_KEY": SECRET})

    def signed(self, body=b'{"StreamName":"cam"}', **kw):
        return sign(self.server, "/_test/signed", body, kw.pop("akid", self.AKID), kw.pop("secret", self.SECRET), **kw)

    def assert_error(self, status, headers, body, code, error_type):
        self.assertEqual(status, code, body)
        self.assertEqual(headers.get("x-amzn-ErrorType"), error_type, headers)
        doc = json.loads(body)
        self.assertEqual(doc["__type"], error_type)
        self.assertNotIn(self.SECRET, body.decode())
        return doc

    def test_signed_http1(self):
        status, _, body = send_h1(self.server, self.signed())
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"access_key_id": self.AKID, "body_bytes": 20})

    def test_other_region_accepted_by_default(self):
        status, _, body = send_h1(self.server, self.signed(region="eu-central-1"))
        self.assertEqual(status, 200, body)

    def test_signed_http2_curl(self):
        body = b'{"StreamName":"h2"}'
        prepared = self.signed(body)
        args = ["curl", "-sS", "--http2-prior-knowledge", "-X", "POST", "--data-binary", "@-",
                "-o", "-", "-w", "\n%{http_code} %{http_version}", self.server.base_url() + "/_test/signed"]
        for k, v in prepared.headers.items():
            if k.lower() in ("content-length",):
                continue
            args += ["-H", f"{k}: {v}"]
        out = subprocess.run(args, input=body, capture_output=True, timeout=20, check=True).stdout.decode()
        payload, _, tail = out.rpartition("\n")
        self.assertEqual(tail, "200 2", out)
        self.assertEqual(json.loads(payload), {"access_key_id": self.AKID, "body_bytes": len(body)})

    def test_wrong_secret(self):
        status, headers, body = send_h1(self.server, self.signed(secret="x" * 40))
        doc = self.assert_error(status, headers, body, 403, "SignatureDoesNotMatch")
        self.assertIn("Canonical String", doc["message"])
        self.server.wait_for_log(r"auth failed: .*key=" + self.AKID + r" reason=signature_mismatch")

    def test_unknown_key(self):
        status, headers, body = send_h1(self.server, self.signed(akid="AKIANOSUCHKEY0000000"))
        # auth::to_errc maps unknown_key to not_authorized: 401 NotAuthorizedException.
        self.assert_error(status, headers, body, 401, "NotAuthorizedException")

    def test_expired(self):
        past = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)

        class Past(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return past

        with mock.patch.object(botocore.auth.datetime, "datetime", Past):
            prepared = self.signed()
        status, headers, body = send_h1(self.server, prepared)
        self.assert_error(status, headers, body, 403, "RequestExpired")

    def test_tampered_body(self):
        prepared = self.signed(b'{"StreamName":"cam"}')
        status, headers, body = send_h1(self.server, prepared, body=b'{"StreamName":"cat"}')
        self.assert_error(status, headers, body, 403, "SignatureDoesNotMatch")

    def test_missing_authorization(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("POST", "/_test/signed", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        # http/aws_error.cpp names it MissingAuthenticationTokenException (as API Gateway-style AWS services do).
        self.assert_error(resp.status, dict(resp.getheaders()), body, 403, "MissingAuthenticationTokenException")

    def test_presigned_query(self):
        prepared = self.signed(query=True)
        self.assertIn("X-Amz-Signature=", prepared.url)
        self.assertNotIn("Authorization", prepared.headers)
        status, _, body = send_h1(self.server, prepared)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["access_key_id"], self.AKID)

    def test_streamed_body_signed_with_empty_payload_hash(self):
        url = self.server.base_url() + "/_test/signed_stream"
        req = AWSRequest(method="POST", url=url, data=b"")
        SigV4Auth(Credentials(self.AKID, self.SECRET), SERVICE, REGION).add_auth(req)
        prepared = req.prepare()
        data = os.urandom(300_000)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
        conn.request("POST", "/_test/signed_stream", body=iter([data[:100_000], data[100_000:]]), headers=headers,
                     encode_chunked=True)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.assertEqual(resp.status, 200, body)
        self.assertEqual(json.loads(body), {"bytes": len(data)})

    def test_json_body_over_limit(self):
        big = b"x" * ((1 << 20) + 1)
        status, headers, body = send_h1(self.server, self.signed(big))
        self.assertEqual(status, 413, body)

    def test_streamed_route_rejects_unsigned(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("POST", "/_test/signed_stream", body=b"abc")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 403)

    def test_ops_routes_stay_open(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        self.assertEqual(resp.status, 200)


class TlsH2Test(unittest.TestCase):
    """HTTP/2 over TLS (ALPN h2), the way the C producer SDK talks to kvsd."""

    def test_signed_h2_over_tls(self):
        env = {"KVSD_ACCESS_KEY_ID": SigV4Test.AKID, "KVSD_SECRET_ACCESS_KEY": SigV4Test.SECRET}
        with Server(http=False, env=env) as s:
            url = f"https://localhost:{s.tls_port}/_test/signed"
            body = b'{"StreamName":"tls"}'
            req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
            SigV4Auth(Credentials(SigV4Test.AKID, SigV4Test.SECRET), SERVICE, REGION).add_auth(req)
            args = ["curl", "-sS", "--http2", "--cacert", s.ca_path, "-X", "POST", "--data-binary", "@-",
                    "-o", "-", "-w", "\n%{http_code} %{http_version}", url]
            for k, v in req.headers.items():
                args += ["-H", f"{k}: {v}"]
            out = subprocess.run(args, input=body, capture_output=True, timeout=20, check=True).stdout.decode()
            payload, _, tail = out.rpartition("\n")
            self.assertEqual(tail, "200 2", out)
            self.assertEqual(json.loads(payload)["body_bytes"], len(body))


class CheckRegionTest(unittest.TestCase):
    def test_other_region_rejected_when_checked(self):
        env = {"KVSD_ACCESS_KEY_ID": SigV4Test.AKID, "KVSD_SECRET_ACCESS_KEY": SigV4Test.SECRET}
        with Server(https=False, env=env, extra_args=["--auth-check-region", "true", "--region", "eu-west-1"]) as s:
            ok = sign(s, "/_test/signed", b"{}", SigV4Test.AKID, SigV4Test.SECRET, region="eu-west-1")
            status, _, body = send_h1(s, ok)
            self.assertEqual(status, 200, body)
            other = sign(s, "/_test/signed", b"{}", SigV4Test.AKID, SigV4Test.SECRET, region="us-west-2")
            status, _, body = send_h1(s, other)
            self.assertEqual(status, 403, body)
            self.assertIn("eu-west-1", json.loads(body)["message"])


class AuthNoneTest(unittest.TestCase):
    def test_unsigned_request_passes_and_warning_logged(self):
        with Server(https=False, extra_args=["--auth", "none"]) as s:
            s.wait_for_log(r"\[warn.*requests are NOT authenticated|requests are NOT authenticated")
            self.assertNotIn("dev credentials", s.log())
            self.assertFalse(os.path.exists(os.path.join(s.data_dir, "credentials")))
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("POST", "/_test/signed", body=b"{}")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            self.assertEqual(resp.status, 200, body)
            self.assertEqual(json.loads(body), {"access_key_id": "", "body_bytes": 2})


if __name__ == "__main__":
    unittest.main()
