"""kvssink (the GStreamer element of the C++ producer SDK 3.6.0) cases, shared by
test_kvssink_h264.py and test_kvssink_av.py: a real-time H.264 test pattern (1 s fragments),
alone or with an AAC tone on a second pad, streamed with gst-launch-1.0 -e over HTTPS with h2
(kvsd offers h2), HTTPS with HTTP/1.1 only (kvsd --tls-h2 false) and cleartext HTTP/1.1.

Each case must pass sdk_harness.check_upload() (exit 0 within stream time + 8 s, clean log, one
PutMedia session, ListFragments and GetMediaForFragmentList matching the SDK's own dump).
"""

from sdk_harness import InteropTestCase, run_kvssink

SECONDS = 6


class KvssinkCase(InteropTestCase):
    """Base of the kvssink classes: AUDIO selects the two-pad pipeline; each subclass names the
    kvsd it needs (KVSD_ARGS) and its test methods call check_kvssink(scheme)."""

    NEEDS_C_SAMPLES = False
    NEEDS_KVSSINK = True
    AUDIO = False

    def check_kvssink(self, scheme, tag, expect_protocol):
        kind = "av" if self.AUDIO else "h264"
        mark = self.kvsd.log_mark()
        run = run_kvssink(self.sdk, self.kvsd, f"gst-{kind}-{tag}", SECONDS, audio=self.AUDIO, scheme=scheme)
        return self.assert_upload_ok(run, expect_protocol=expect_protocol, kvsd_mark=mark)
