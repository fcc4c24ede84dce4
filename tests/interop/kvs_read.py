"""A minimal SigV4-signed JSON client for kvsd's read APIs (ListFragments and
GetMediaForFragmentList), for the interop tests.

It uses only the standard library (http.client, ssl) and the integration tests' SigV4 signer, so
the interop suite does not depend on boto3 and can talk to either listener: `http://host:port` or
`https://host:port` with the server's CA file. Requests are signed like the AWS SDKs sign them (service `kinesisvideo`,
SignedHeaders content-type;host;x-amz-content-sha256;x-amz-date, payload hash of the body).

Contract: every call returns parsed results or raises ReadError carrying the HTTP status, the AWS
error type (x-amzn-ErrorType) and the start of the body, so a test failure message says what the
server answered. Connection failures propagate as OSError.
"""

import datetime
import hashlib
import http.client
import json
import os
import ssl
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from putmedia_client import sigv4_authorization  # noqa: E402

SERVICE = "kinesisvideo"
DEFAULT_REGION = "us-west-2"


class ReadError(Exception):
    def __init__(self, op, status, error_type, body):
        self.op, self.status, self.error_type, self.body = op, status, error_type, body
        super().__init__(f"{op}: HTTP {status} {error_type or ''} {body[:500]!r}")


def _sign(method, path, headers, body, access_key, secret_key, region, amz_date):
    return sigv4_authorization(method, path, headers, access_key, secret_key, amz_date, region, SERVICE,
                               payload_hash=hashlib.sha256(body).hexdigest())


def epoch_ms(value):
    """ListFragments timestamps arrive as JSON numbers of epoch seconds: integer milliseconds."""
    return int(round(float(value) * 1000))


class ReadClient:
    """Signed calls against one kvsd endpoint. endpoint: `http://127.0.0.1:8080` or
    `https://127.0.0.1:8443` (then ca_path must name the CA PEM). Not thread-safe; cheap to make."""

    def __init__(self, endpoint, access_key, secret_key, region=DEFAULT_REGION, ca_path=None, timeout=60):
        u = urllib.parse.urlsplit(endpoint)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.ca_path, self.timeout = ca_path, timeout

    def _connection(self):
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.ca_path)
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def call(self, op, path, payload):
        """POSTs payload (a dict, as JSON) to path; returns (headers dict, body bytes) of a 200
        answer, raises ReadError otherwise."""
        body = json.dumps(payload).encode()
        amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        host = self.host if self.port is None else f"{self.host}:{self.port}"
        headers = {"content-type": "application/json", "host": host,
                   "x-amz-content-sha256": hashlib.sha256(body).hexdigest(), "x-amz-date": amz_date}
        auth = _sign("POST", path, headers, body, self.access_key, self.secret_key, self.region, amz_date)
        conn = self._connection()
        try:
            conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("authorization", auth)
            conn.putheader("content-length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        if resp.status != 200:
            raise ReadError(op, resp.status, hdrs.get("x-amzn-errortype"), data)
        return hdrs, data

    def list_fragments(self, stream, selector=None, page_size=None):
        """Every fragment of the stream (all pages followed through NextToken), as the API's dicts
        in the order the pages list them. selector: an optional FragmentSelector dict."""
        out = []
        token = None
        for _ in range(10000):
            req = {"StreamName": stream}
            if selector:
                req["FragmentSelector"] = selector
            if page_size:
                req["MaxResults"] = page_size
            if token:
                req["NextToken"] = token
            _, data = self.call("ListFragments", "/listFragments", req)
            page = json.loads(data)
            out.extend(page.get("Fragments") or [])
            token = page.get("NextToken")
            if not token:
                return out
        raise ReadError("ListFragments", 200, None, b"more than 10000 pages")

    def get_media_for_fragment_list(self, stream, numbers):
        """The concatenated MKV body GetMediaForFragmentList returns for the fragment numbers (in
        the order given; requests of at most 1000 numbers each)."""
        body = bytearray()
        for i in range(0, len(numbers), 1000):
            _, data = self.call("GetMediaForFragmentList", "/getMediaForFragmentList",
                                {"StreamName": stream, "Fragments": list(numbers[i:i + 1000])})
            body += data
        return bytes(body)
