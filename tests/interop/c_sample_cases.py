"""The stock C producer samples (SDK 1.6.4), one test per sample and codec, shared by the
transport-specific test files (test_c_samples_h2.py, test_c_samples_http1.py).

Every case streams a few seconds to its own stream on the class's kvsd and must pass
sdk_harness.check_upload(): exit 0 within stream time + 8 s, a clean SDK log (no dropped ACK, no
error), one PutMedia session, every fragment of the SDK's own dump listed by ListFragments, and
GetMediaForFragmentList returning exactly the dump's frames.
"""

from sdk_harness import run_c_sample

REALTIME_SECONDS = 6  # 25 fps, a key frame every 45 frames: fragments of 1.8 s
OFFLINE_SECONDS = 10  # put all at once, timestamps in the past


class CSampleCases:
    """Mixin of the six C-sample cases; combine with sdk_harness.InteropTestCase and set
    TRANSPORT (a short tag used in stream names)."""

    TRANSPORT = "x"
    EXPECT_PROTOCOL = None  # "h2" or "http/1.1": what PutMedia must use (kvsd's access log)

    def stream(self, tag):
        return f"c-{tag}-{self.TRANSPORT}"

    def check_sample(self, sample, tag, seconds, codec="h264"):
        mark = self.kvsd.log_mark()
        run = run_c_sample(self.sdk, self.kvsd, sample, self.stream(tag), seconds, codec=codec)
        return self.assert_upload_ok(run, expect_protocol=self.EXPECT_PROTOCOL, kvsd_mark=mark)

    def test_realtime_h264(self):
        self.check_sample("kvsVideoOnlyRealtimeStreamingSample", "rt-h264", REALTIME_SECONDS, "h264")

    def test_realtime_h265(self):
        self.check_sample("kvsVideoOnlyRealtimeStreamingSample", "rt-h265", REALTIME_SECONDS, "h265")

    def test_audio_video(self):
        self.check_sample("kvsAudioVideoStreamingSample", "av", REALTIME_SECONDS)

    def test_audio_only(self):
        self.check_sample("kvsAudioOnlyStreamingSample", "aac", REALTIME_SECONDS)

    def test_offline_h264(self):
        self.check_sample("kvsVideoOnlyOfflineStreamingSample", "off-h264", OFFLINE_SECONDS, "h264")

    def test_offline_h265(self):
        self.check_sample("kvsVideoOnlyOfflineStreamingSample", "off-h265", OFFLINE_SECONDS, "h265")
