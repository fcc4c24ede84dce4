"""LIVE in headless Chromium while kvs-put streams a test pattern in real time: HLS with hls.js
(both fragment selector types) and DASH with dash.js.

One kvsd and one real-time kvs-put (H.264 + AAC, 1 s fragments) feed all tests; each test asks
for its own LIVE session URL once fragments are there and plays it: currentTime must advance by
at least 5 s within 30 s, decoded frames must grow, and neither hls.js (fatal ERROR) nor the
<video> element may report an error. Sessions carry DisplayFragmentTimestamp=ALWAYS, so hls.js
knows the program date time of the playhead and the live latency (wall clock minus that time) is
printed and written to out/hls-live-latency-*.json.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import browser_support as bs

STREAM = "browser-live"
PATTERN_SECONDS = 100  # long enough for the three tests to play one after the other


class LivePlaybackTest(unittest.TestCase, bs.PlaybackAssertions):
    @classmethod
    def setUpClass(cls):
        bs.check_tools()
        cls.work = tempfile.mkdtemp(prefix="kvsd-browser-live-")
        cls.server = bs.Server(binary=bs.kvsd_binary(), https=False, env=bs.SERVER_ENV,
                               extra_args=["--access-log", "false"])
        cls.server.start()
        cls.producer = None
        cls.page = None
        try:
            cls.am = bs.client(cls.server, "kinesis-video-archived-media")
            cls.page = bs.PageServer().__enter__()
            cls.producer = subprocess.Popen(bs.kvs_put_cmd(cls.server, STREAM, PATTERN_SECONDS, realtime=True),
                                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(3)
            deadline = time.monotonic() + 15
            while True:
                try:
                    if len(cls.am.list_fragments(StreamName=STREAM)["Fragments"]) >= 2:
                        break
                except cls.am.exceptions.ResourceNotFoundException:
                    pass
                if cls.producer.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("kvs-put produced no fragments\n" + cls.server.log())
                time.sleep(0.5)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.producer is not None and cls.producer.poll() is None:
            cls.producer.terminate()
            try:
                cls.producer.wait(10)
            except subprocess.TimeoutExpired:
                cls.producer.kill()
                cls.producer.wait()
        if cls.page is not None:
            cls.page.__exit__(None, None, None)
        if hasattr(cls, "am"):
            cls.am.close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def play_live(self, name, selector_type):
        self.assertIsNone(self.producer.poll(), "kvs-put ended before the test could play live")
        kwargs = {"StreamName": STREAM, "PlaybackMode": "LIVE", "DisplayFragmentTimestamp": "ALWAYS"}
        if selector_type:
            kwargs["HLSFragmentSelector"] = {"FragmentSelectorType": selector_type}
        url = self.am.get_hls_streaming_session_url(**kwargs)["HLSStreamingSessionURL"]
        shot = os.path.join(bs.out_dir(), f"hls-live-{name}.png")
        res = bs.play(self.page, "hls", url, {"advance": 5, "minWallMs": 12000}, 30000, screenshot=shot)
        print(f"\nscreenshot: {shot}", file=sys.stderr)
        self.assert_supported(res)
        self.assert_no_errors(res)
        self.assertGreaterEqual(self.advance(res), 5.0, "currentTime did not advance by 5 s in 30 s\n" +
                                bs.describe(res))
        self.assert_frames_grow(res)
        # Program date time of the playhead (EXT-X-PROGRAM-DATE-TIME) -> live latency.
        lat = [s["latencyMs"] for s in res["samples"] if s["latencyMs"] is not None and not s["paused"]]
        buf = [s["bufferedLatencyMs"] for s in res["samples"] if s["bufferedLatencyMs"] is not None]
        self.assertTrue(lat, "hls.js never knew the playhead's program date time (EXT-X-PROGRAM-DATE-TIME "
                        "with DisplayFragmentTimestamp=ALWAYS)\n" + bs.describe(res))
        p50, p90 = bs.percentiles(lat)
        b50, b90 = bs.percentiles(buf)
        summary = {"selector": selector_type or "default (SERVER_TIMESTAMP)", "playhead_latency_ms_p50": p50,
                   "playhead_latency_ms_p90": p90, "buffered_end_latency_ms_p50": b50,
                   "buffered_end_latency_ms_p90": b90, "samples": len(lat),
                   "time_to_first_frame_ms": res["firstPlaying"]["t"], "browser": res.get("browserVersion")}
        print(f"live latency ({summary['selector']}): {json.dumps(summary)}", file=sys.stderr)
        with open(os.path.join(bs.out_dir(), f"hls-live-latency-{name}.json"), "w") as f:
            json.dump(summary, f, indent=1)
        # The playhead is behind the wall clock, and by seconds, not minutes or hours (a wrong time
        # base or unit in PROGRAM-DATE-TIME shows up here).
        self.assertGreater(p50, 0, bs.describe(res))
        self.assertLess(p50, 20000, bs.describe(res))
        return res

    def test_live_server_timestamps(self):
        # The defaults: SERVER_TIMESTAMP selector, so DiscontinuityMode ALWAYS (a discontinuity
        # before every segment, which hls.js must play through).
        self.play_live("server-ts", None)

    def test_live_producer_timestamps(self):
        # PRODUCER_TIMESTAMP: the program date time is kvs-put's capture time, so the latency is
        # capture -> playhead.
        self.play_live("producer-ts", "PRODUCER_TIMESTAMP")

    def test_live_dash(self):
        self.assertIsNone(self.producer.poll(), "kvs-put ended before the test could play live")
        url = self.am.get_dash_streaming_session_url(StreamName=STREAM, PlaybackMode="LIVE")["DASHStreamingSessionURL"]
        shot = os.path.join(bs.out_dir(), "dash-live.png")
        res = bs.play(self.page, "dash", url, {"advance": 5, "minWallMs": 8000}, 30000, screenshot=shot)
        print(f"\nscreenshot: {shot}", file=sys.stderr)
        self.assert_supported(res)
        self.assert_no_errors(res)
        self.assertGreaterEqual(self.advance(res), 5.0, "dash.js did not advance 5 s in 30 s\n" + bs.describe(res))
        self.assert_frames_grow(res)


if __name__ == "__main__":
    unittest.main()
