"""ON_DEMAND playback of a finished stream in headless Chromium: HLS with hls.js in both container
formats (FRAGMENTED_MP4 and MPEG_TS), and DASH with dash.js.

One kvsd and one kvs-put ingest (8 s test pattern, H.264 + AAC, not paced) feed all tests; the
session range is the producer-timestamp span that ListFragments reports. HLS must play to the end
with at least 90 % of the ingested video frames decoded; DASH must play at least 5 s with decoded
frames growing. No player or <video> error may fire. Screenshots go to out/.
"""

import os
import shutil
import sys
import tempfile
import unittest

import browser_support as bs

STREAM = "browser-vod"
PATTERN_SECONDS = 8


class OnDemandPlaybackTest(unittest.TestCase, bs.PlaybackAssertions):
    @classmethod
    def setUpClass(cls):
        bs.check_tools()
        cls.work = tempfile.mkdtemp(prefix="kvsd-browser-vod-")
        cls.server = bs.Server(binary=bs.kvsd_binary(), https=False, env=bs.SERVER_ENV,
                               extra_args=["--access-log", "false"])
        cls.server.start()
        cls.page = None
        try:
            cls.am = bs.client(cls.server, "kinesis-video-archived-media")
            cls.scan = bs.ingest(cls.server, STREAM, PATTERN_SECONDS, cls.work)
            cls.video_frames = bs.frame_counts(cls.scan)[bs.VIDEO_TRACK]
            cls.selector = bs.on_demand_selector(cls.am, STREAM)
            cls.page = bs.PageServer().__enter__()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.page is not None:
            cls.page.__exit__(None, None, None)
        if hasattr(cls, "am"):
            cls.am.close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def play_hls_to_end(self, container):
        url = self.am.get_hls_streaming_session_url(
            StreamName=STREAM, PlaybackMode="ON_DEMAND", HLSFragmentSelector=self.selector,
            ContainerFormat=container)["HLSStreamingSessionURL"]
        shot = os.path.join(bs.out_dir(), f"hls-on-demand-{container.lower()}.png")
        res = bs.play(self.page, "hls", url, {"ended": True}, 60000, screenshot=shot)
        print(f"\nscreenshot: {shot}", file=sys.stderr)
        self.assert_supported(res)
        self.assert_no_errors(res)
        last = res["samples"][-1]
        self.assertIsNotNone(last["duration"], bs.describe(res))
        self.assertAlmostEqual(last["duration"], PATTERN_SECONDS, delta=1.5,
                               msg="VOD duration differs from the ingested span\n" + bs.describe(res))
        self.assertTrue(res["ended"] or last["currentTime"] >= last["duration"] - 0.5,
                        "did not play to the end within 60 s\n" + bs.describe(res))
        self.assert_frames_grow(res)
        self.assertGreaterEqual(last["frames"], 0.9 * self.video_frames,
                                f"decoded {last['frames']} of {self.video_frames} ingested video frames\n" +
                                bs.describe(res))
        print(f"{container}: decoded {last['frames']} frames of {self.video_frames} ingested "
              f"(dropped {last['dropped']}), duration {last['duration']:.3f} s", file=sys.stderr)

    def test_hls_fragmented_mp4_plays_to_end(self):
        self.play_hls_to_end("FRAGMENTED_MP4")

    def test_hls_mpeg_ts_plays_to_end(self):
        self.play_hls_to_end("MPEG_TS")

    def test_dash_plays(self):
        url = self.am.get_dash_streaming_session_url(
            StreamName=STREAM, PlaybackMode="ON_DEMAND", DASHFragmentSelector=self.selector)["DASHStreamingSessionURL"]
        shot = os.path.join(bs.out_dir(), "dash-on-demand.png")
        res = bs.play(self.page, "dash", url, {"advance": 5}, 40000, screenshot=shot)
        print(f"\nscreenshot: {shot}", file=sys.stderr)
        self.assert_supported(res)
        self.assert_no_errors(res)
        self.assertGreaterEqual(self.advance(res), 5.0, "dash.js did not play 5 s within 40 s\n" + bs.describe(res))
        self.assert_frames_grow(res)


if __name__ == "__main__":
    unittest.main()
