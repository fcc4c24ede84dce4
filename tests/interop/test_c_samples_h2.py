"""The stock C producer samples against kvsd over HTTPS with HTTP/2: kvsd offers h2 in ALPN and
the SDK's libcurl (Debian's, built with nghttp2) picks it for every call, PutMedia included."""

import unittest

from c_sample_cases import CSampleCases
import sdk_harness


class CSamplesOverH2(CSampleCases, sdk_harness.InteropTestCase):
    KVSD_ARGS = {"h2": True}
    TRANSPORT = "h2"
    EXPECT_PROTOCOL = "h2"


if __name__ == "__main__":
    unittest.main()
