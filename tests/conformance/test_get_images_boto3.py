"""GetImages through the boto3 client "kinesis-video-archived-media" against a real kvsd: every
request parameter, paging, the NO_MEDIA / MEDIA_ERROR rules and each error.

One kvs-put ingest (a 6 s 640x360 test pattern with audio, 1 s fragments, real time so that server
timestamps are about 1 s apart) feeds most tests; its Cluster timecodes (kvs-put --dump) are the
producer timestamps. The installed botocore carries the older model (SamplingInterval 3000-20000 and
required); requests that use the newer, wider rules go through a client without parameter
validation. boto3 sends whole seconds: `exact` rewrites the signed body to send milliseconds, as
the JS SDK does.
"""

import base64
import contextlib
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import image_probe  # noqa: E402
import mkv_scan  # noqa: E402
import putmedia_client  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE7"
SECRET_KEY = "conformance-secret-key-images-boto3-0123"
REGION = "us-west-2"
STREAM = "gi-main"
NORET = "gi-noret"
VP8 = "gi-vp8"
GAP = "gi-gap"
PATTERN_SECONDS = 6
NEXT_TOKEN_RE = re.compile(r"^[a-zA-Z0-9+/]+={0,2}$")


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def ingest(server, stream, seconds, work_dir, realtime):
    dump = os.path.join(work_dir, stream + ".mkv")
    cmd = [kvs_put_binary(), "--endpoint", server.base_url(), "--stream", stream, "--pattern", str(seconds),
           "--audio", "--retention-hours", "24", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
           "--dump", dump, "--quiet"] + (["--realtime"] if realtime else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"kvs-put exited with {p.returncode}\n{p.stderr}\n--- kvsd log ---\n{server.log()}")
    with open(dump, "rb") as f:
        sc = mkv_scan.scan(f.read())
    assert sc.timecode_scale == 1000000, sc.timecode_scale
    assert len(sc.complete_fragments()) == seconds, len(sc.complete_fragments())
    return sc


def epoch_ms(dt):
    return round(dt.timestamp() * 1000)


def to_dt(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def config():
    return botocore.config.Config(retries={"max_attempts": 0}, read_timeout=120)


class GetImagesBoto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-gi-")
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        cls.server = Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"])
        cls.server.start()
        try:
            cls.kv = cls.client("kinesisvideo")
            cls.am = cls.client("kinesis-video-archived-media")
            cls.raw = cls.client("kinesis-video-archived-media", validate=False)
            cls.scan = ingest(cls.server, STREAM, PATTERN_SECONDS, cls.work, realtime=True)
            cls.producer_ms = [f.timecode for f in cls.scan.complete_fragments()]
            cls.kv.create_stream(StreamName=NORET, DataRetentionInHours=0)
            frags = cls.am.list_fragments(StreamName=STREAM)["Fragments"]
            cls.server_ms = sorted(epoch_ms(f["ServerTimestamp"]) for f in frags)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("kv", "am", "raw"):
            if hasattr(cls, name):
                getattr(cls, name).close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    @classmethod
    def client(cls, service, validate=True):
        cfg = config()
        if not validate:
            cfg = cfg.merge(botocore.config.Config(parameter_validation=False))
        return boto3.client(service, endpoint_url=cls.server.base_url(), region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=cfg)

    @contextlib.contextmanager
    def exact(self, client, start_ms, end_ms):
        """Rewrites the signed GetImages body so that Start/EndTimestamp carry milliseconds."""
        def rewrite(request, **_):
            body = json.loads(request.body)
            body["StartTimestamp"] = start_ms / 1000
            body["EndTimestamp"] = end_ms / 1000
            request.data = json.dumps(body).encode()

        event = "before-sign.kinesis-video-archived-media.GetImages"
        client.meta.events.register(event, rewrite)
        try:
            yield
        finally:
            client.meta.events.unregister(event, rewrite)

    def images(self, start_ms, end_ms, client=None, **kwargs):
        client = client or self.raw
        args = {"StreamName": STREAM, "ImageSelectorType": "PRODUCER_TIMESTAMP", "Format": "JPEG",
                "StartTimestamp": to_dt(start_ms), "EndTimestamp": to_dt(end_ms)}
        args.update(kwargs)
        args = {k: v for k, v in args.items() if v is not None}
        with self.exact(client, start_ms, end_ms):
            return client.get_images(**args)

    def assert_error(self, code, status, fn, *args, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(*args, **kwargs)
        self.assertEqual(ctx.exception.response["Error"]["Code"], code, ctx.exception.response)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        self.assertTrue(ctx.exception.response["Error"]["Message"])
        return ctx.exception

    def decoded(self, image):
        self.assertNotIn("Error", image)
        data = base64.b64decode(image["ImageContent"], validate=True)
        return data, image_probe.image_info(data)

    # --- sampling --------------------------------------------------------------------------
    def test_jpeg_one_image_per_interval(self):
        ts = self.producer_ms
        out = self.images(ts[1], ts[1] + 3000, SamplingInterval=1000)
        self.assertNotIn("NextToken", out)
        imgs = out["Images"]
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in imgs], [ts[1], ts[1] + 1000, ts[1] + 2000])
        contents = set()
        for img in imgs:
            data, info = self.decoded(img)
            self.assertEqual(info, ("JPEG", 640, 360))
            contents.add(data)
        self.assertEqual(len(contents), 3, "three instants, three different frames")

    def test_validating_client_with_model_a_interval(self):
        # The older model's client: whole-second timestamps, SamplingInterval 3000..20000 required.
        ts = self.producer_ms
        start = ts[1] // 1000 * 1000  # whole seconds: at or before fragment 1's start
        out = self.am.get_images(StreamName=STREAM, ImageSelectorType="PRODUCER_TIMESTAMP", Format="JPEG",
                                 StartTimestamp=to_dt(start), EndTimestamp=to_dt(start + 4000), SamplingInterval=3000)
        imgs = out["Images"]
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in imgs], [start, start + 3000])
        if start < ts[1]:
            # Inside fragment 0, which started before StartTimestamp: not read (spec trap 14).
            self.assertEqual(imgs[0].get("Error"), "NO_MEDIA")
        else:
            self.assertEqual(self.decoded(imgs[0])[1], ("JPEG", 640, 360))
        self.assertEqual(self.decoded(imgs[1])[1], ("JPEG", 640, 360))

    def test_straddling_fragment_is_not_used(self):
        # Spec trap 14: fragment 0 contains ts[1] - 500 but started before Start, so it is not read.
        ts = self.producer_ms
        out = self.images(ts[1] - 500, ts[1] + 1000, SamplingInterval=500)
        imgs = out["Images"]
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in imgs], [ts[1] - 500, ts[1], ts[1] + 500])
        self.assertEqual(imgs[0].get("Error"), "NO_MEDIA")
        self.assertNotIn("ImageContent", imgs[0])
        self.decoded(imgs[1])
        self.decoded(imgs[2])
        # Moved back by one fragment, the same instant has an image.
        out = self.images(ts[0], ts[1] + 1000, SamplingInterval=500)
        self.assertTrue(all("ImageContent" in i for i in out["Images"]), out["Images"])

    def test_instants_after_the_last_fragment_are_no_media(self):
        ts = self.producer_ms
        end_of_media = ts[-1] + 1000
        out = self.images(ts[-1], ts[-1] + 3000, SamplingInterval=800)
        for img in out["Images"]:
            t = epoch_ms(img["TimeStamp"])
            if t < end_of_media - 40:
                self.decoded(img)
            elif t >= end_of_media:
                self.assertEqual(img.get("Error"), "NO_MEDIA", img)

    def test_default_sampling_interval_is_3000(self):
        ts = self.producer_ms
        out = self.images(ts[0], ts[0] + 10000)
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in out["Images"]],
                         [ts[0], ts[0] + 3000, ts[0] + 6000, ts[0] + 9000])
        self.decoded(out["Images"][0])
        self.decoded(out["Images"][1])
        self.assertEqual(out["Images"][3].get("Error"), "NO_MEDIA")  # the last fragment ended about ts[0] + 6 s

    def test_range_shorter_than_interval_gives_one_image(self):
        ts = self.producer_ms
        out = self.images(ts[2], ts[2] + 100, SamplingInterval=20000)
        self.assertEqual(len(out["Images"]), 1)
        self.decoded(out["Images"][0])

    def test_paging_with_max_results_and_next_token(self):
        ts = self.producer_ms
        want = [ts[1] + 200 * k for k in range(10)]
        got, tokens = [], []
        kwargs = {"SamplingInterval": 200, "MaxResults": 4}
        while True:
            out = self.images(ts[1], ts[1] + 2000, **kwargs)
            got += out["Images"]
            self.assertLessEqual(len(out["Images"]), 4)
            if "NextToken" not in out:
                break
            self.assertRegex(out["NextToken"], NEXT_TOKEN_RE)
            tokens.append(out["NextToken"])
            kwargs["NextToken"] = out["NextToken"]
        self.assertEqual(len(tokens), 2)
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in got], want)
        for img in got:
            self.decoded(img)

    def test_paginator(self):
        ts = self.producer_ms
        start = -(-ts[0] // 1000) * 1000
        pages = list(self.am.get_paginator("get_images").paginate(
            StreamName=STREAM, ImageSelectorType="PRODUCER_TIMESTAMP", Format="PNG", HeightPixels=36,
            StartTimestamp=to_dt(start), EndTimestamp=to_dt(start + 4 * 3000), SamplingInterval=3000,
            PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["Images"]) for p in pages], [2, 2])
        self.assertEqual([epoch_ms(i["TimeStamp"]) for p in pages for i in p["Images"]],
                         [start + 3000 * k for k in range(4)])

    def test_default_page_is_25_images(self):
        ts = self.producer_ms
        out = self.images(ts[0], ts[0] + 6000, SamplingInterval=200, HeightPixels=90)
        self.assertEqual(len(out["Images"]), 25)
        self.assertRegex(out["NextToken"], NEXT_TOKEN_RE)
        rest = self.images(ts[0], ts[0] + 6000, SamplingInterval=200, HeightPixels=90, NextToken=out["NextToken"])
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in rest["Images"]], [ts[0] + 200 * k for k in range(25, 30)])
        self.assertNotIn("NextToken", rest)
        out = self.images(ts[0], ts[0] + 6000, SamplingInterval=200, HeightPixels=90, MaxResults=100)
        self.assertEqual(len(out["Images"]), 30)
        self.assertNotIn("NextToken", out)

    def test_server_timestamp_and_stream_arn(self):
        sv = self.server_ms
        arn = self.kv.describe_stream(StreamName=STREAM)["StreamInfo"]["StreamARN"]
        out = self.images(sv[2], sv[2] + 1000, SamplingInterval=500, ImageSelectorType="SERVER_TIMESTAMP",
                          StreamName=None, StreamARN=arn)
        self.assertEqual([epoch_ms(i["TimeStamp"]) for i in out["Images"]], [sv[2], sv[2] + 500])
        for img in out["Images"]:
            self.decoded(img)

    # --- format and size --------------------------------------------------------------------
    def test_png_and_sizes(self):
        t = self.producer_ms[2]  # a fragment start: Start must not lie inside a fragment (trap 14)
        cases = [({}, 640, 360), ({"WidthPixels": 100, "HeightPixels": 50}, 100, 50),
                 ({"HeightPixels": 180}, 320, 180), ({"WidthPixels": 3840, "HeightPixels": 2160}, 3840, 2160)]
        for fmt in ("PNG", "JPEG"):
            for extra, w, h in cases:
                with self.subTest(fmt=fmt, extra=extra):
                    out = self.images(t, t + 100, SamplingInterval=3000, Format=fmt, **extra)
                    self.assertEqual(self.decoded(out["Images"][0])[1], (fmt, w, h))
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 100, WidthPixels=100)

    def test_jpeg_quality(self):
        t = self.producer_ms[3]
        sizes = {}
        for q in ("5", "80", "100"):
            out = self.images(t, t + 100, FormatConfig={"JPEGQuality": q})
            sizes[q] = len(self.decoded(out["Images"][0])[0])
        default = len(self.decoded(self.images(t, t + 100)["Images"][0])[0])
        self.assertLess(sizes["5"], sizes["80"])
        self.assertLess(sizes["80"], sizes["100"])
        self.assertEqual(default, sizes["80"])
        for bad in ({"JPEGQuality": "0"}, {"JPEGQuality": "101"}, {"JPEGQuality": "high"}, {"JPEGQuality": 80},
                    {"Quality": "80"}, {"JPEGQuality": "80", "Other": "1"}):
            with self.subTest(bad=bad):
                self.assert_error("InvalidArgumentException", 400, self.images, t, t + 100, FormatConfig=bad)

    # --- MEDIA_ERROR and gaps -----------------------------------------------------------------
    def test_media_error_when_track_1_is_not_h264_or_h265(self):
        self.kv.create_stream(StreamName=VP8, DataRetentionInHours=24)
        t0 = int(time.time() * 1000) - 5000
        body = (mkv_scan.header(tracks=((1, 1, "V_VP8"),)) + mkv_scan.cluster(t0, frames=25, step=40)
                + mkv_scan.cluster(t0 + 1000, frames=25, step=40) + mkv_scan.eof_tags())
        headers = putmedia_client.put_media_headers(VP8, ACCESS_KEY, SECRET_KEY)
        s = putmedia_client.upload(self.server, VP8, body, headers=headers, hold_for=t0 + 1000)
        self.assertTrue(s.has_ack("PERSISTED", t0 + 1000), s.log())
        out = self.images(t0 - 500, t0 + 2500, StreamName=VP8, SamplingInterval=500)
        self.assertEqual([i.get("Error") for i in out["Images"]],
                         ["NO_MEDIA", "MEDIA_ERROR", "MEDIA_ERROR", "MEDIA_ERROR", "MEDIA_ERROR", "NO_MEDIA"])

    def test_gap_between_fragments_is_no_media(self):
        # The first two fragments of the main ingest, the second moved 2 s later: a 2 s hole.
        body = self.scan.body
        frags = self.scan.complete_fragments()
        t0 = int(time.time() * 1000) - 60000
        out = bytearray(body[:frags[0].start])
        for k, shift in ((0, 0), (1, 2000)):
            f = frags[k]
            cluster = bytearray(body[f.start:f.end])
            at = f.timecode_offset - f.start
            cluster[at:at + f.timecode_len] = (t0 + (f.timecode - frags[0].timecode) + shift).to_bytes(
                f.timecode_len, "big")
            out += cluster
        out += mkv_scan.eof_tags()
        self.kv.create_stream(StreamName=GAP, DataRetentionInHours=24)
        last = t0 + 1000 + 2000
        s = putmedia_client.upload(self.server, GAP, bytes(out),
                                   headers=putmedia_client.put_media_headers(GAP, ACCESS_KEY, SECRET_KEY),
                                   hold_for=last)
        self.assertTrue(s.has_ack("PERSISTED", last), s.log())
        got = self.images(t0, t0 + 4000, StreamName=GAP, SamplingInterval=700)["Images"]
        kinds = ["img" if "ImageContent" in i else i["Error"] for i in got]
        # +0 and +700 in fragment 0; +1400..+2800 in the hole; +3500 in the moved fragment.
        self.assertEqual(kinds, ["img", "img", "NO_MEDIA", "NO_MEDIA", "NO_MEDIA", "img"])

    # --- errors -------------------------------------------------------------------------------
    def test_errors(self):
        ts = self.producer_ms
        t = ts[1]
        self.assert_error("ResourceNotFoundException", 404, self.images, t, t + 1000, StreamName="gi-missing")
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, StreamName=None)
        self.assert_error("NoDataRetentionException", 400, self.images, t, t + 1000, StreamName=NORET)
        # Ranges: more than 300 s, end before start, end equal to start.
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 300001)
        self.images(t, t + 300000, SamplingInterval=100000)  # exactly 300 s is allowed
        self.assert_error("InvalidArgumentException", 400, self.images, t, t - 1000)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t)
        # Enums, bounds.
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, ImageSelectorType="ARRIVAL")
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, Format="GIF")
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, Format=None)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, ImageSelectorType=None)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, SamplingInterval=199)
        self.images(t, t + 1000, SamplingInterval=200)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, WidthPixels=3841, HeightPixels=10)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, HeightPixels=2161)
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, HeightPixels=0)
        # Too many images per request.
        e = self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, MaxResults=101)
        self.assertIn("100", e.response["Error"]["Message"])
        self.assert_error("InvalidArgumentException", 400, self.images, t, t + 1000, MaxResults=0)
        # NextToken: not the pattern, not ours, off the sampling grid, outside the range.
        first = self.images(t, t + 2000, SamplingInterval=200, MaxResults=2)
        token = first["NextToken"]
        self.images(t, t + 2000, SamplingInterval=200, NextToken=token)
        for bad in ("!!!", "bm90IGEgdG9rZW4=", token):
            with self.subTest(token=bad):
                self.assert_error("InvalidArgumentException", 400, self.images, t, t + 2000, SamplingInterval=300,
                                  NextToken=bad)
        self.assert_error("InvalidArgumentException", 400, self.images, t + 1000, t + 2000, SamplingInterval=200,
                          NextToken=token)
        # Timestamps must be numbers (boto3 always sends numbers; a string is refused by the server).
        def string_start(request, **_):
            body = json.loads(request.body)
            body["StartTimestamp"] = "2024-01-01T00:00:00Z"
            request.data = json.dumps(body).encode()
        self.raw.meta.events.register("before-sign.kinesis-video-archived-media.GetImages", string_start)
        try:
            self.assert_error("InvalidArgumentException", 400, self.raw.get_images, StreamName=STREAM,
                              ImageSelectorType="PRODUCER_TIMESTAMP", Format="JPEG", StartTimestamp=to_dt(t),
                              EndTimestamp=to_dt(t + 1000))
        finally:
            self.raw.meta.events.unregister("before-sign.kinesis-video-archived-media.GetImages", string_start)

    def test_timestamps_are_json_numbers(self):
        t = self.producer_ms[1] + 123
        t += 1 if t % 1000 == 0 or (t + 500) % 1000 == 0 else 0
        captured = {}

        def grab(http_response, **_):
            captured["body"] = http_response.content

        self.raw.meta.events.register("after-call.kinesis-video-archived-media.GetImages", grab)
        try:
            self.images(t, t + 1000, SamplingInterval=500)
        finally:
            self.raw.meta.events.unregister("after-call.kinesis-video-archived-media.GetImages", grab)
        body = json.loads(captured["body"])
        self.assertEqual([i["TimeStamp"] for i in body["Images"]], [t / 1000, (t + 500) / 1000])
        for img in body["Images"]:
            self.assertIsInstance(img["TimeStamp"], float)
            self.assertEqual(img.get("Error"), "NO_MEDIA")  # Start lies inside fragment 1 (trap 14)


if __name__ == "__main__":
    unittest.main()
