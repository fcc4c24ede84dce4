"""Authentication of the JSON API calls and of the ops routes, against a real kvsd (KVSD_BIN) on
port 0.

- A header-signed JSON API call must sign its body: `x-amz-content-sha256: UNSIGNED-PAYLOAD` is
  refused with 403 (AWS does not accept unsigned payloads for this service), so a signature can
  never be replayed with another body. (PutMedia keeps accepting what the stock producer SDK
  sends; that is covered by the PutMedia tests, not here.)
- /metrics is open by default; with [metrics] token set it needs `Authorization: Bearer <token>`
  (401 with `www-authenticate: Bearer` otherwise). /healthz stays open.
"""

import hashlib
import http.client
import json
import unittest
import uuid

from putmedia_client import KvsdTestCase, control_client, signed_json_headers, start_kvsd, stop_kvsd


stop = stop_kvsd


def request(server, method, path, body=None, headers=()):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class UnsignedPayloadTest(KvsdTestCase):

    def call(self, path, body, **kw):
        hdrs = signed_json_headers(f"127.0.0.1:{self.server.port}", path, body, **kw)
        return request(self.server, "POST", path, body, hdrs)

    def test_unsigned_payload_refused_for_json_calls(self):
        """ListStreams signed with `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the header present
        and signed, the signature otherwise valid for that payload hash) gets 403, an AWS-shaped
        error; the same call signed over its real body hash gets 200, with or without the header
        carrying that hash."""
        body = b'{"MaxResults": 10}'
        status, headers, data = self.call("/listStreams", body, payload_hash="UNSIGNED-PAYLOAD",
                                          content_sha256="UNSIGNED-PAYLOAD")
        self.assertEqual(status, 403, data[:400])
        self.assertTrue(headers.get("x-amzn-errortype"), headers)
        self.assertIn("__type", json.loads(data))
        digest = hashlib.sha256(body).hexdigest()
        for what, kw in {"no header": {}, "header with the hash": {"content_sha256": digest}}.items():
            with self.subTest(what):
                status, _, data = self.call("/listStreams", body, **kw)
                self.assertEqual(status, 200, data[:400])
                self.assertIn("StreamInfoList", json.loads(data))

    def test_unsigned_payload_create_stream_not_processed(self):
        """A CreateStream signed with UNSIGNED-PAYLOAD gets 403 and creates no stream (its body,
        not covered by the signature, could be anything)."""
        from botocore.exceptions import ClientError
        name = f"unsigned-{uuid.uuid4().hex[:8]}"
        body = json.dumps({"StreamName": name, "DataRetentionInHours": 1}).encode()
        status, _, data = self.call("/createStream", body, payload_hash="UNSIGNED-PAYLOAD",
                                    content_sha256="UNSIGNED-PAYLOAD")
        self.assertEqual(status, 403, data[:400])
        client = control_client(self.server)
        try:
            with self.assertRaises(ClientError) as cm:
                client.describe_stream(StreamName=name)
            self.assertEqual(cm.exception.response["Error"]["Code"], "ResourceNotFoundException")
        finally:
            client.close()


class MetricsTokenTest(unittest.TestCase):
    def assert_prometheus(self, status, headers, data):
        self.assertEqual(status, 200, data[:300])
        self.assertIn("text/plain", headers.get("content-type", ""))
        self.assertIn(b"# TYPE kvsd_", data)

    def test_metrics_open_by_default(self):
        """Without [metrics] token, GET /metrics is open: 200 with the Prometheus text; /healthz
        is open too."""
        server = start_kvsd()
        try:
            self.assert_prometheus(*request(server, "GET", "/metrics"))
            self.assertEqual(request(server, "GET", "/healthz")[0], 200)
        finally:
            self.assertEqual(stop(server), 0)

    def test_metrics_token(self):
        """With --metrics-token s3cret: GET /metrics without Authorization gets 401 with a
        `www-authenticate: Bearer` challenge, a wrong bearer token (or another scheme) gets 401,
        `Authorization: Bearer s3cret` gets 200 with the Prometheus text; /healthz stays open."""
        server = start_kvsd(["--metrics-token", "s3cret"])
        try:
            status, headers, data = request(server, "GET", "/metrics")
            self.assertEqual(status, 401, data[:300])
            self.assertTrue(headers.get("www-authenticate", "").lower().startswith("bearer"), headers)
            self.assertNotIn(b"# TYPE kvsd_", data)
            for wrong in ("Bearer s3cre", "Bearer s3cretX", "Bearer S3CRET", "Basic czNjcmV0", "s3cret"):
                with self.subTest(wrong):
                    status, headers, data = request(server, "GET", "/metrics", headers=[("Authorization", wrong)])
                    self.assertEqual(status, 401, data[:300])
                    self.assertNotIn(b"# TYPE kvsd_", data)
            self.assert_prometheus(*request(server, "GET", "/metrics", headers=[("Authorization", "Bearer s3cret")]))
            status, _, data = request(server, "GET", "/healthz")
            self.assertEqual((status, data), (200, b"ok\n"))
        finally:
            self.assertEqual(stop(server), 0)


if __name__ == "__main__":
    unittest.main()
