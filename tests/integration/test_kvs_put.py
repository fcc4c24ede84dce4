"""tools/kvs-put against a real kvsd on port 0: the SDK-like producer's whole sequence
(DescribeStream, CreateStream, GetDataEndpoint, PutMedia with ACKs) over http and https, SigV4 with
kvsd's dev credentials, and the MKV it sent (--dump) decoded by ffprobe."""

import json
import os
import re
import subprocess
import tempfile
import unittest

from harness import ServerTestCase, kvsd_binary

CRED_RE = re.compile(r"dev credentials: (\S+), access key id")


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


class KvsPutTest(ServerTestCase):
    SERVER_ARGS = dict(binary=kvsd_binary())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = CRED_RE.search(cls.server.wait_for_log(r"dev credentials: "))
        cls.credentials = m.group(1)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="kvs-put-it-")
        self.addCleanup(self.tmp.cleanup)

    def run_put(self, *args, scheme="http", timeout=120):
        summary = os.path.join(self.tmp.name, "summary.json")
        cmd = [kvs_put_binary(), "--endpoint", self.server.base_url(scheme), "--credentials-file", self.credentials,
               "--summary-json", summary, "--quiet", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        data = None
        if os.path.exists(summary):
            with open(summary) as f:
                data = json.load(f)
        return p, data

    def ffprobe(self, path):
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                            "stream=codec_name,codec_type,width,height,nb_read_frames", "-of", "json", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", "decoder complaints")
        return json.loads(p.stdout)["streams"]

    def test_pattern_over_http_is_persisted_and_decodes(self):
        dump = os.path.join(self.tmp.name, "body.mkv")
        p, s = self.run_put("--stream", "kp-http", "--pattern", "5", "--dump", dump)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(s["ok"])
        # 25 fps, GOP 25: one fragment per second
        self.assertEqual(s["fragments"], 5)
        self.assertEqual(s["fragments_received"], 5)
        self.assertEqual(s["fragments_persisted"], 5)
        self.assertEqual(s["errors"], 0)
        self.assertEqual(s["persisted_latency_ms"]["count"], 5)
        # Each fragment's end is written at or after its last byte, so its second latency is no
        # longer, and neither is any order statistic of them.
        after_end = s["persisted_after_end_latency_ms"]
        self.assertEqual(after_end["count"], 5)
        for q in ("p50", "p99", "max"):
            self.assertLessEqual(after_end[q], s["persisted_latency_ms"][q], q)
        self.assertGreater(after_end["p50"], 0)
        self.assertEqual(os.path.getsize(dump), s["bytes"])
        streams = self.ffprobe(dump)
        self.assertEqual(len(streams), 1)
        self.assertEqual(streams[0]["codec_name"], "h264")
        self.assertEqual((streams[0]["width"], streams[0]["height"]), (640, 360))
        self.assertEqual(int(streams[0]["nb_read_frames"]), 125)
        self.server.wait_for_log(r"access POST /createStream .*status=200")

    def test_pattern_over_https_with_audio_relative_and_eofr(self):
        self.assertIsNotNone(self.server.ca_path)
        dump = os.path.join(self.tmp.name, "av.mkv")
        p, s = self.run_put("--stream", "kp-https", "--pattern", "3", "--audio", "--eofr", "--timecode-type",
                            "RELATIVE", "--ca", self.server.ca_path, "--dump", dump, scheme="https")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["fragments"], 3)
        self.assertEqual(s["fragments_persisted"], 3)
        kinds = sorted(st["codec_name"] for st in self.ffprobe(dump))
        self.assertEqual(kinds, ["aac", "h264"])

    def test_existing_stream_and_parallel_streams(self):
        p, s = self.run_put("--stream", "kp-multi", "--pattern", "2", "--streams", "3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["streams_total"], 3)
        self.assertEqual(s["fragments"], 6)
        self.assertEqual(sorted(x["stream"] for x in s["streams"]), ["kp-multi-0", "kp-multi-1", "kp-multi-2"])
        # a second upload to the same (now existing) streams: DescribeStream 200, no CreateStream
        p, s = self.run_put("--stream", "kp-multi", "--pattern", "1", "--streams", "3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["fragments_persisted"], 3)

    def test_ffmpeg_on_stdin(self):
        src = os.path.join(self.tmp.name, "src.mkv")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2",
                        "-c:v", "libx264", "-g", "25", "-bf", "2", "-f", "matroska", src], check=True, timeout=60)
        with open(src, "rb") as f:
            summary = os.path.join(self.tmp.name, "stdin.json")
            p = subprocess.run([kvs_put_binary(), "--endpoint", self.server.base_url(), "--credentials-file",
                                self.credentials, "--stream", "kp-stdin", "--input", "-", "--summary-json", summary,
                                "--quiet"], stdin=f, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(summary) as f:
            self.assertEqual(json.load(f)["fragments_persisted"], 2)

    def test_stagger_spreads_the_producer_starts(self):
        # producer i of 3 starts i * 3 / 3 s late: the last one 2 s after the first
        p, s = self.run_put("--stream", "kp-stagger", "--pattern", "1", "--streams", "3", "--stagger", "3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["fragments_persisted"], 3)
        self.assertGreaterEqual(s["duration_seconds"], 2.0)
        p, _ = self.run_put("--stream", "x", "--pattern", "1", "--stagger", "-1")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--stagger takes seconds", p.stderr)

    def test_preload_reads_the_input_first(self):
        dump = os.path.join(self.tmp.name, "pre.mkv")
        p, s = self.run_put("--stream", "kp-preload", "--pattern", "3", "--preload", "--dump", dump)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["fragments_persisted"], 3)
        self.assertEqual(int(self.ffprobe(dump)[0]["nb_read_frames"]), 75)
        # stdin never ends for sure, so it cannot be preloaded
        p = subprocess.run([kvs_put_binary(), "--endpoint", self.server.base_url(), "--stream", "x", "--input", "-",
                            "--preload", "--quiet"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--preload needs a file", p.stderr)

    def test_max_rate_paces_the_bytes(self):
        p, s = self.run_put("--stream", "kp-rate", "--pattern", "20", "--preload")
        self.assertEqual(p.returncode, 0, p.stderr)
        total = s["bytes"]
        burst = 256 * 1024  # kvs-put writes whole chunks of up to this many bytes unpaced
        self.assertGreater(total, 2 * burst, "the pattern is too small to pace")
        # Paced so that the bytes past the first burst take 2 s to leave.
        rate_mbps = (total - burst) / 2 / 1e6
        p, s = self.run_put("--stream", "kp-rate", "--pattern", "20", "--preload", "--max-rate", f"{rate_mbps:.6f}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(s["fragments_persisted"], 20)
        self.assertGreaterEqual(s["duration_seconds"], 1.5)
        for bad, message in ((["--max-rate", "0"], "--max-rate takes MB/s"),
                             (["--max-rate", "10", "--realtime"], "two ways of pacing")):
            p, _ = self.run_put("--stream", "x", "--pattern", "1", *bad)
            self.assertEqual(p.returncode, 2)
            self.assertIn(message, p.stderr)

    def test_wrong_secret_fails_with_a_message(self):
        p = subprocess.run([kvs_put_binary(), "--endpoint", self.server.base_url(), "--stream", "kp-denied",
                            "--pattern", "1", "--access-key", "AKIAWRONG0000000000", "--secret-key", "nope", "--quiet"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("DescribeStream kp-denied: HTTP 40", p.stderr)

    def test_unreachable_endpoint_fails(self):
        p = subprocess.run([kvs_put_binary(), "--endpoint", "http://127.0.0.1:1", "--stream", "x", "--pattern", "1",
                            "--quiet"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("connecting to 127.0.0.1:1", p.stderr)

    def test_usage_errors(self):
        p = subprocess.run([kvs_put_binary(), "--stream", "x"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage:", p.stderr)


if __name__ == "__main__":
    unittest.main()
