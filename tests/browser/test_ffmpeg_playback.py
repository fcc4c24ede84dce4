"""ffmpeg and ffprobe as players of kvsd sessions (no browser).

ON_DEMAND HLS in both container formats must decode with `ffmpeg -i <session URL> -f null -`,
and ffprobe -count_frames must count exactly the video and audio frames of the ingest (counted by
the same ffprobe in the MKV body kvs-put sent); separately, ffmpeg -xerror must report no error at
all. ffprobe must read the DASH MPD
and find the H.264 and AAC tracks.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import browser_support as bs

STREAM = "ffmpeg-vod"
PATTERN_SECONDS = 8


def probe(url_or_path, count=False):
    """{codec_type: stream dict} of the first video and audio stream ffprobe finds."""
    cmd = ["ffprobe", "-v", "error", "-show_entries",
           "stream=index,codec_type,codec_name,width,height,nb_read_frames:format=duration", "-of", "json"]
    if count:
        cmd.append("-count_frames")
    p = subprocess.run(cmd + [url_or_path], capture_output=True, text=True, timeout=180)
    if p.returncode != 0:
        raise AssertionError(f"ffprobe failed ({p.returncode}) on {url_or_path}\n{p.stderr}")
    out = json.loads(p.stdout)
    streams = {}
    for s in out.get("streams", []):
        streams.setdefault(s["codec_type"], s)
    return streams, out.get("format", {}), p.stderr


class FfmpegPlaybackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-ffmpeg-")
        cls.server = bs.Server(binary=bs.kvsd_binary(), https=False, env=bs.SERVER_ENV,
                               extra_args=["--access-log", "false"])
        cls.server.start()
        try:
            cls.am = bs.client(cls.server, "kinesis-video-archived-media")
            cls.scan = bs.ingest(cls.server, STREAM, PATTERN_SECONDS, cls.work)
            cls.selector = bs.on_demand_selector(cls.am, STREAM)
            # The reference: what ffprobe decodes from the very bytes kvs-put uploaded.
            cls.reference, _, _ = probe(os.path.join(cls.work, STREAM + ".mkv"), count=True)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "am"):
            cls.am.close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def hls_url(self, container):
        return self.am.get_hls_streaming_session_url(
            StreamName=STREAM, PlaybackMode="ON_DEMAND", HLSFragmentSelector=self.selector,
            ContainerFormat=container)["HLSStreamingSessionURL"]

    def test_reference_counts(self):
        # The ffprobe reference agrees with the frames kvs-put wrote (track 1 video, track 2 audio).
        counts = bs.frame_counts(self.scan)
        self.assertEqual(int(self.reference["video"]["nb_read_frames"]), counts[1])
        self.assertEqual(int(self.reference["audio"]["nb_read_frames"]), counts[2])
        self.assertEqual(counts[1], PATTERN_SECONDS * 25)

    def decode(self, container, strict):
        """Runs ffmpeg -i <session URL> -f null - (strict: -xerror, stop at the first error)."""
        cmd = ["ffmpeg", "-nostdin", "-v", "error"] + (["-xerror"] if strict else []) + \
              ["-i", self.hls_url(container), "-map", "0:v", "-map", "0:a", "-f", "null", "-"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180)

    def check_hls(self, container):
        p = self.decode(container, strict=False)
        self.assertEqual(p.returncode, 0, f"ffmpeg failed on the {container} session\n{p.stderr}")
        streams, fmt, _ = probe(self.hls_url(container), count=True)
        self.assertIn("video", streams, streams)
        self.assertIn("audio", streams, streams)
        self.assertEqual(streams["video"]["codec_name"], "h264")
        self.assertEqual((streams["video"]["width"], streams["video"]["height"]), (640, 360))
        self.assertEqual(streams["audio"]["codec_name"], "aac")
        self.assertEqual(int(streams["video"]["nb_read_frames"]), int(self.reference["video"]["nb_read_frames"]),
                         f"{container}: video frames decoded from the session differ from the ingest")
        self.assertEqual(int(streams["audio"]["nb_read_frames"]), int(self.reference["audio"]["nb_read_frames"]),
                         f"{container}: audio frames decoded from the session differ from the ingest")

    def test_hls_fragmented_mp4_decodes_every_frame(self):
        self.check_hls("FRAGMENTED_MP4")

    def test_hls_mpeg_ts_decodes_every_frame(self):
        self.check_hls("MPEG_TS")

    def check_clean(self, container):
        # No demuxer or decoder error at all, ffmpeg stopping at the first (-xerror). For TS this
        # also needs the chunks to read as one transport stream: a chunk that restarts its
        # continuity counters must flag it (discontinuity_indicator), or ffmpeg marks the first
        # packet after every chunk boundary corrupt.
        p = self.decode(container, strict=True)
        self.assertEqual(p.returncode, 0, f"ffmpeg -xerror stopped on the {container} session\n{p.stderr}")
        self.assertEqual(p.stderr.strip(), "", f"ffmpeg reported errors on the {container} session")

    def test_hls_fragmented_mp4_decodes_without_errors(self):
        self.check_clean("FRAGMENTED_MP4")

    def test_hls_mpeg_ts_decodes_without_errors(self):
        self.check_clean("MPEG_TS")

    def test_ffprobe_reads_dash_mpd(self):
        url = self.am.get_dash_streaming_session_url(
            StreamName=STREAM, PlaybackMode="ON_DEMAND", DASHFragmentSelector=self.selector)["DASHStreamingSessionURL"]
        self.assertIn("/dash/v1/getDASHManifest.mpd?SessionToken=", url)
        streams, fmt, stderr = probe(url)
        self.assertIn("video", streams, f"{streams}\n{stderr}")
        self.assertIn("audio", streams, f"{streams}\n{stderr}")
        self.assertEqual(streams["video"]["codec_name"], "h264")
        self.assertEqual((streams["video"]["width"], streams["video"]["height"]), (640, 360))
        self.assertEqual(streams["audio"]["codec_name"], "aac")
        self.assertAlmostEqual(float(fmt["duration"]), PATTERN_SECONDS, delta=1.5, msg=str(fmt))


if __name__ == "__main__":
    unittest.main()
