"""The read APIs through the AWS CLI (`aws kinesis-video-archived-media ...`,
`aws kinesis-video-media get-media ...`) against a real kvsd: list-fragments with a
--fragment-selector JSON, get-media-for-fragment-list / get-media / get-clip to an outfile, and one
404 and one 400.

Skipped when no `aws` command is installed.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import mkv_scan  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE5"
SECRET_KEY = "conformance-secret-key-archived-cli-0123"
AWS = shutil.which("aws")
STREAM = "cli-am"
PATTERN_SECONDS = 6


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def split_documents(body):
    """Splits concatenated MKV documents at each EBML header; returns [Scan]."""
    whole = mkv_scan.scan(body)
    starts = [e.start for e in whole.elements if e.id == mkv_scan.EBML]
    if not starts or starts[0] != 0:
        raise AssertionError(f"body does not start with an EBML header: {body[:16].hex()}")
    return [mkv_scan.scan(body[a:b]) for a, b in zip(starts, starts[1:] + [len(body)])]


def aws_tags(sc):
    return {k: v for _, items in sc.tags for k, v in items if k.startswith("AWS_KINESISVIDEO_")}


def epoch_ms(value):
    """A CLI timestamp (a number of epoch seconds, or an ISO-8601 string) as epoch milliseconds."""
    if isinstance(value, (int, float)):
        return round(value * 1000)
    return round(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


@unittest.skipIf(AWS is None, "the AWS CLI is not installed")
class AwsCliArchivedMediaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-am-cli-")
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        cls.server = Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"])
        cls.server.start()
        dump = os.path.join(cls.work, "sent.mkv")
        p = subprocess.run([kvs_put_binary(), "--endpoint", cls.server.base_url(), "--stream", STREAM, "--pattern",
                            str(PATTERN_SECONDS), "--audio", "--retention-hours", "24", "--access-key", ACCESS_KEY,
                            "--secret-key", SECRET_KEY, "--dump", dump, "--quiet"],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            cls.tearDownClass()
            raise AssertionError(f"kvs-put exited with {p.returncode}\n{p.stderr}")
        with open(dump, "rb") as f:
            cls.sent = mkv_scan.scan(f.read()).complete_fragments()
        cls.producer_ms = [f.timecode for f in cls.sent]

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def aws(self, service, *args, ok=True):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                    "AWS_DEFAULT_REGION": "us-west-2", "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""})
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        cmd = [AWS, "--endpoint-url", self.server.base_url(), "--output", "json", service] + list(args)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else {}
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr

    def list_all(self):
        return self.aws("kinesis-video-archived-media", "list-fragments", "--stream-name", STREAM)["Fragments"]

    def test_list_fragments_with_selector(self):
        frags = self.list_all()
        self.assertEqual(len(frags), PATTERN_SECONDS)
        self.assertEqual([epoch_ms(f["ProducerTimestamp"]) for f in frags], self.producer_ms)
        for f in frags:
            self.assertRegex(f["FragmentNumber"], r"^[0-9]+$")
            self.assertGreater(f["FragmentSizeInBytes"], 0)
        # The CLI sends whole seconds: [floor(t1), ceil(t4)] holds the starts of fragments 1..4.
        ts = self.producer_ms
        selector = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {"StartTimestamp": ts[1] // 1000, "EndTimestamp": -(-ts[4] // 1000)}}
        # --page-size 2: the CLI follows NextToken across pages and merges them.
        got = self.aws("kinesis-video-archived-media", "list-fragments", "--stream-name", STREAM,
                       "--fragment-selector", json.dumps(selector), "--page-size", "2")["Fragments"]
        self.assertEqual([f["FragmentNumber"] for f in got], [f["FragmentNumber"] for f in frags[1:5]])

    def test_get_media_for_fragment_list_to_outfile(self):
        numbers = [f["FragmentNumber"] for f in self.list_all()]
        out = os.path.join(self.work, "gmffl.mkv")
        wanted = [numbers[4], numbers[1]]
        # --fragments takes one or more values: the outfile must come before it.
        res = self.aws("kinesis-video-archived-media", "get-media-for-fragment-list", out, "--stream-name", STREAM,
                       "--fragments", json.dumps(wanted))
        self.assertEqual(res, {"ContentType": "video/webm"})
        with open(out, "rb") as f:
            docs = split_documents(f.read())
        self.assertEqual([aws_tags(d)["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for d in docs], wanted)
        self.assertEqual([d.fragments[0].timecode for d in docs], [self.producer_ms[4], self.producer_ms[1]])

    def test_get_media_to_outfile(self):
        numbers = [f["FragmentNumber"] for f in self.list_all()]
        out = os.path.join(self.work, "getmedia.mkv")
        res = self.aws("kinesis-video-media", "get-media", "--stream-name", STREAM, "--start-selector",
                       json.dumps({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": numbers[1]}), out)
        self.assertEqual(res, {"ContentType": "video/webm"})
        with open(out, "rb") as f:
            docs = split_documents(f.read())
        self.assertEqual([aws_tags(d)["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for d in docs], numbers[2:])
        self.assertEqual([aws_tags(d)["AWS_KINESISVIDEO_CONTINUATION_TOKEN"] for d in docs], numbers[2:])
        self.assertEqual([d.fragments[0].timecode for d in docs], self.producer_ms[2:])

    def test_get_clip_to_outfile(self):
        ts = self.producer_ms
        out = os.path.join(self.work, "clip.mp4")
        selector = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {"StartTimestamp": ts[0] // 1000, "EndTimestamp": -(-ts[2] // 1000)}}
        res = self.aws("kinesis-video-archived-media", "get-clip", "--stream-name", STREAM,
                       "--clip-fragment-selector", json.dumps(selector), out)
        self.assertEqual(res, {"ContentType": "video/mp4"})
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", out],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        streams = {s["codec_type"]: s for s in json.loads(p.stdout)["streams"]}
        self.assertEqual(streams["video"]["codec_name"], "h264")
        self.assertEqual(streams["audio"]["codec_name"], "aac")
        self.assertEqual(int(streams["video"]["nb_read_frames"]), 75)  # fragments 0..2

    def test_errors(self):
        err = self.aws("kinesis-video-archived-media", "list-fragments", "--stream-name", "cli-am-missing", ok=False)
        self.assertIn("ResourceNotFoundException", err)
        err = self.aws("kinesis-video-archived-media", "get-media-for-fragment-list", os.path.join(self.work, "no.mkv"),
                       "--stream-name", STREAM, "--fragments", '["12345"]', ok=False)
        self.assertIn("InvalidArgumentException", err)
        self.assertIn("Fragment numbers are invalid", err)
        err = self.aws("kinesis-video-media", "get-media", "--stream-name", "cli-am-missing", "--start-selector",
                       "StartSelectorType=EARLIEST", os.path.join(self.work, "never2.mkv"), ok=False)
        self.assertIn("ResourceNotFoundException", err)


if __name__ == "__main__":
    unittest.main()
