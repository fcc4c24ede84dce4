"""kvssink, H.264 + AAC on two pads (videotestsrc ! x264enc ! h264parse and audiotestsrc !
voaacenc ! aacparse into one kvssink), over HTTPS h2, HTTPS HTTP/1.1-only and cleartext HTTP."""

import unittest

import kvssink_cases


class KvssinkAvH2(kvssink_cases.KvssinkCase):
    """kvsd offers h2 (TLS) and cleartext HTTP/1.1."""
    KVSD_ARGS = {"h2": True}
    AUDIO = True

    def test_https_h2(self):
        self.check_kvssink("https", "h2", expect_protocol="h2")

    def test_http(self):
        self.check_kvssink("http", "http", expect_protocol="http/1.1")


class KvssinkAvHttp1(kvssink_cases.KvssinkCase):
    """kvsd offers only http/1.1 in ALPN."""
    KVSD_ARGS = {"h2": False}
    AUDIO = True

    def test_https_http1(self):
        self.check_kvssink("https", "h1", expect_protocol="http/1.1")


if __name__ == "__main__":
    unittest.main()
