"""GetImages through the AWS CLI (`aws kinesis-video-archived-media get-images`, the newer model:
SamplingInterval optional, no minimum in the client) against a real kvsd: JPEG and PNG, sizes,
--format-config, the CLI's own NextToken paging (--page-size), and the errors.

The CLI sends whole-second timestamps, so an instant inside the fragment that straddles
StartTimestamp is NO_MEDIA (spec trap 14); the checks allow for that. Skipped when no `aws`
command is installed.
"""

import base64
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import image_probe  # noqa: E402
import mkv_scan  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE8"
SECRET_KEY = "conformance-secret-key-images-cli-01234"
AWS = shutil.which("aws")
STREAM = "cli-gi"
PATTERN_SECONDS = 6


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def epoch_ms(value):
    """A CLI timestamp (a number of epoch seconds, or an ISO-8601 string) as epoch milliseconds."""
    if isinstance(value, (int, float)):
        return round(value * 1000)
    return round(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


@unittest.skipIf(AWS is None, "the AWS CLI is not installed")
class AwsCliGetImagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-gi-cli-")
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        cls.server = Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"])
        cls.server.start()
        dump = os.path.join(cls.work, "sent.mkv")
        p = subprocess.run([kvs_put_binary(), "--endpoint", cls.server.base_url(), "--stream", STREAM, "--pattern",
                            str(PATTERN_SECONDS), "--retention-hours", "24", "--access-key", ACCESS_KEY,
                            "--secret-key", SECRET_KEY, "--dump", dump, "--quiet"],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            cls.tearDownClass()
            raise AssertionError(f"kvs-put exited with {p.returncode}\n{p.stderr}")
        with open(dump, "rb") as f:
            cls.producer_ms = [fr.timecode for fr in mkv_scan.scan(f.read()).complete_fragments()]

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def aws(self, *args, ok=True, stream=STREAM):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                    "AWS_DEFAULT_REGION": "us-west-2", "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""})
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        cmd = [AWS, "--endpoint-url", self.server.base_url(), "--output", "json", "kinesis-video-archived-media",
               "get-images", "--stream-name", stream] + list(args)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr

    def window(self, first, seconds):
        """(start, end) whole seconds: start at or before fragment `first`, `seconds` long."""
        start = self.producer_ms[first] // 1000
        return ["--start-timestamp", str(start), "--end-timestamp", str(start + seconds)], start * 1000

    def kinds(self, images):
        return ["img" if "ImageContent" in i else i["Error"] for i in images]

    def test_jpeg_default_interval(self):
        args, start = self.window(1, 7)
        out = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", *args)
        imgs = out["Images"]
        # No --sampling-interval: one image every 3 s.
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in imgs], [start, start + 3000, start + 6000])
        # start + 3000 lies in fragment 4 or 5, which started inside the range.
        data = base64.b64decode(imgs[1]["ImageContent"], validate=True)
        self.assertEqual(image_probe.image_info(data), ("JPEG", 640, 360))

    def test_png_sizes_and_quality(self):
        args, start = self.window(1, 3)
        for extra, size in ((["--width-pixels", "160", "--height-pixels", "100"], (160, 100)),
                            (["--height-pixels", "90"], (160, 90))):
            with self.subTest(extra=extra):
                imgs = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "PNG",
                                "--sampling-interval", "1500", *args, *extra)["Images"]
                got = [image_probe.image_info(base64.b64decode(i["ImageContent"])) for i in imgs
                       if "ImageContent" in i]
                self.assertGreaterEqual(len(got), 1, imgs)
                self.assertEqual(set(got), {("PNG",) + size})
        sizes = []
        for q in ("10", "95"):
            imgs = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", "--sampling-interval",
                            "1500", "--format-config", f"JPEGQuality={q}", *args)["Images"]
            sizes.append(sum(len(base64.b64decode(i["ImageContent"])) for i in imgs if "ImageContent" in i))
        self.assertLess(sizes[0], sizes[1])

    def test_cli_follows_next_token(self):
        args, start = self.window(1, 3)
        out = self.aws("--image-selector-type", "SERVER_TIMESTAMP", "--format", "JPEG", "--sampling-interval", "200",
                       "--height-pixels", "36", "--page-size", "4",
                       "--start-timestamp", "0", "--end-timestamp", "1")
        self.assertEqual(len(out["Images"]), 5)  # 1 s at 200 ms, in pages of 4 and 1
        out = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", "--sampling-interval", "200",
                       "--height-pixels", "36", "--page-size", "4", *args)
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in out["Images"]], [start + 200 * k for k in range(15)])
        self.assertNotIn("NextToken", out)
        self.assertIn("img", self.kinds(out["Images"]))
        self.assertEqual(self.kinds(out["Images"])[-1], "img")

    def test_errors(self):
        args, _ = self.window(1, 3)
        err = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", *args, ok=False,
                       stream="cli-gi-missing")
        self.assertIn("ResourceNotFoundException", err)
        err = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", "--width-pixels", "100",
                       *args, ok=False)
        self.assertIn("InvalidArgumentException", err)
        err = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", "--start-timestamp", "1000",
                       "--end-timestamp", "1301", ok=False)
        self.assertIn("InvalidArgumentException", err)
        err = self.aws("--image-selector-type", "PRODUCER_TIMESTAMP", "--format", "JPEG", "--sampling-interval", "100",
                       *args, ok=False)
        self.assertIn("InvalidArgumentException", err)


if __name__ == "__main__":
    unittest.main()
