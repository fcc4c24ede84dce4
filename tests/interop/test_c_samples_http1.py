"""The stock C producer samples against kvsd over HTTPS with HTTP/1.1 only: kvsd runs with
--tls-h2 false, so ALPN offers only http/1.1 and PutMedia is a chunked HTTP/1.1 upload."""

import unittest

from c_sample_cases import CSampleCases
import sdk_harness


class CSamplesOverHttp1(CSampleCases, sdk_harness.InteropTestCase):
    KVSD_ARGS = {"h2": False}
    TRANSPORT = "h1"
    EXPECT_PROTOCOL = "http/1.1"


if __name__ == "__main__":
    unittest.main()
