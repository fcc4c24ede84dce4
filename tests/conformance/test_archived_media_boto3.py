"""The read APIs (ListFragments, GetMediaForFragmentList, GetClip through the boto3 client
"kinesis-video-archived-media", GetMedia through "kinesis-video-media") against a real kvsd.

One kvs-put ingest per class (a 6 s test pattern with audio, paced in real time so that server
timestamps are about 1 s apart) feeds every test. What was ingested is known exactly from the body
kvs-put dumps (--dump): the Cluster timecodes are the producer timestamps (ABSOLUTE, 1 ms scale)
and the Cluster bytes are what the read APIs must hand back.

boto3 sends request timestamps as whole seconds; the exact-edge tests rewrite the JSON body before
signing (exact_range) to send milliseconds, as the JS SDK does. The GetClip codec check uploads a
small VP8 body with tests/integration/putmedia_client.py.
"""

import contextlib
import datetime
import json
import math
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

import mkv_scan  # noqa: E402
import putmedia_client  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE4"
SECRET_KEY = "conformance-secret-key-archived-0123456789"
REGION = "us-west-2"
STREAM = "am-main"
OTHER = "am-other"  # a second stream with fragments of its own (and the GetMedia connection-limit test)
NORET = "am-noret"  # DataRetentionInHours 0
PATTERN_SECONDS = 6
NEXT_TOKEN_RE = re.compile(r"^[a-zA-Z0-9+/]+={0,2}$")
AWS_TAGS = ["AWS_KINESISVIDEO_FRAGMENT_NUMBER", "AWS_KINESISVIDEO_SERVER_TIMESTAMP",
            "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"]


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def ingest(server, stream, seconds, work_dir, realtime=True):
    """Runs kvs-put (test pattern with audio, retention 24 h); returns the mkv_scan.Scan of the body
    it sent. Raises AssertionError when kvs-put fails."""
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


def cluster_payload(buf, start, end):
    """The bytes of a Cluster's children (after its ID and size field) between start and end."""
    _, il = mkv_scan.read_id(buf, start)
    _, sl = mkv_scan.read_size(buf, start + il)
    return bytes(buf[start + il + sl:end])


def split_documents(body):
    """Splits concatenated MKV documents at each EBML header; returns [(bytes, Scan)]."""
    whole = mkv_scan.scan(body)
    starts = [e.start for e in whole.elements if e.id == mkv_scan.EBML]
    if not starts or starts[0] != 0:
        raise AssertionError(f"body does not start with an EBML header: {body[:16].hex()}")
    out = []
    for a, b in zip(starts, starts[1:] + [len(body)]):
        doc = body[a:b]
        out.append((doc, mkv_scan.scan(doc)))
    return out


def epoch_ms(dt):
    return round(dt.timestamp() * 1000)


def seconds_str(ms):
    return f"{ms // 1000}.{ms % 1000:03d}"


def to_dt(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)


def error_code(ctx):
    return ctx.exception.response["Error"]["Code"]


def config():
    return botocore.config.Config(retries={"max_attempts": 0}, read_timeout=60)


class ArchivedMediaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="kvsd-am-")
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        cls.server = Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"])
        cls.server.start()
        try:
            cls.kv = cls.client("kinesisvideo")
            cls.am = cls.client("kinesis-video-archived-media")
            cls.media = cls.client("kinesis-video-media")
            cls.t_before = time.time()
            cls.scan = ingest(cls.server, STREAM, PATTERN_SECONDS, cls.work)
            cls.t_after = time.time()
            cls.other_scan = ingest(cls.server, OTHER, 2, cls.work, realtime=False)
            cls.kv.create_stream(StreamName=NORET, DataRetentionInHours=0)
            cls.body = cls.scan.body
            cls.expected = cls.scan.complete_fragments()
            cls.producer_ms = [f.timecode for f in cls.expected]
            # Every fragment, the reference for the other tests (its own correctness is test_list_all).
            cls.all = cls.am.list_fragments(StreamName=STREAM)["Fragments"]
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in ("kv", "am", "media"):
            if hasattr(cls, name):
                getattr(cls, name).close()
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.work, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    @classmethod
    def client(cls, service, secret=SECRET_KEY, validate=True):
        cfg = config()
        if not validate:
            cfg = cfg.merge(botocore.config.Config(parameter_validation=False))
        return boto3.client(service, endpoint_url=cls.server.base_url(), region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret, config=cfg)

    def assert_error(self, code, status, fn, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            out = fn(**kwargs)
            if "Payload" in out:
                out["Payload"].close()
        self.assertEqual(error_code(ctx), code, ctx.exception.response)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        return ctx.exception

    def numbers(self, frags):
        return [f["FragmentNumber"] for f in frags]

    def all_numbers(self):
        return self.numbers(self.all)

    def server_ms(self):
        return [epoch_ms(f["ServerTimestamp"]) for f in self.all]

    @contextlib.contextmanager
    def exact_range(self, operation, start_ms, end_ms):
        """boto3 sends timestamps as whole seconds; this rewrites the signed JSON body so that the
        TimestampRange carries start_ms/end_ms with millisecond precision (as JS SDKs send it)."""
        def rewrite(request, **_):
            body = json.loads(request.body)
            rng = (body.get("FragmentSelector") or body["ClipFragmentSelector"])["TimestampRange"]
            rng["StartTimestamp"] = start_ms / 1000
            rng["EndTimestamp"] = end_ms / 1000
            request.data = json.dumps(body).encode()

        event = f"before-sign.kinesis-video-archived-media.{operation}"
        self.am.meta.events.register(event, rewrite)
        try:
            yield
        finally:
            self.am.meta.events.unregister(event, rewrite)

    # --- ListFragments -----------------------------------------------------------------------
    def test_list_all(self):
        out = self.am.list_fragments(StreamName=STREAM)
        self.assertNotIn("NextToken", out)
        frags = out["Fragments"]
        self.assertEqual(len(frags), PATTERN_SECONDS)
        numbers = self.numbers(frags)
        self.assertEqual(len(set(numbers)), len(numbers))
        for f in frags:
            self.assertIsInstance(f["FragmentNumber"], str)
            self.assertRegex(f["FragmentNumber"], r"^[0-9]{1,128}$")
            self.assertIsInstance(f["FragmentSizeInBytes"], int)
            self.assertGreater(f["FragmentSizeInBytes"], 0)
            self.assertIsInstance(f["FragmentLengthInMilliseconds"], int)
            self.assertTrue(900 <= f["FragmentLengthInMilliseconds"] <= 1100, f)
            self.assertIsInstance(f["ProducerTimestamp"], datetime.datetime)
            self.assertIsInstance(f["ServerTimestamp"], datetime.datetime)
        # Ascending server timestamps, in arrival order (fragment numbers rise with ingestion).
        server = [epoch_ms(f["ServerTimestamp"]) for f in frags]
        self.assertEqual(server, sorted(server))
        self.assertEqual([int(n) for n in numbers], sorted(int(n) for n in numbers))
        # The producer timestamps are the Cluster timecodes kvs-put sent, to the millisecond.
        self.assertEqual([epoch_ms(f["ProducerTimestamp"]) for f in frags], self.producer_ms)
        # The server timestamps are when kvsd received them: during the (real-time paced) upload.
        self.assertGreaterEqual(server[0], math.floor(self.t_before * 1000) - 1)
        self.assertLessEqual(server[-1], math.ceil(self.t_after * 1000) + 1)
        self.assertGreater(server[-1] - server[0], (PATTERN_SECONDS - 2) * 1000, server)
        # By StreamARN as well.
        arn = self.kv.describe_stream(StreamName=STREAM)["StreamInfo"]["StreamARN"]
        self.assertEqual(self.am.list_fragments(StreamARN=arn)["Fragments"], frags)

    def test_list_by_producer_timestamp_whole_seconds(self):
        # boto3 sends whole seconds: [floor(t1), ceil(t4)] holds the starts of fragments 1..4 only.
        ts = self.producer_ms
        start = to_dt(ts[1] // 1000 * 1000)
        end = to_dt(-(-ts[4] // 1000) * 1000)
        out = self.am.list_fragments(StreamName=STREAM, FragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {"StartTimestamp": start,
                                                                              "EndTimestamp": end}})
        self.assertEqual(self.numbers(out["Fragments"]), self.all_numbers()[1:5])
        self.assertEqual([epoch_ms(f["ProducerTimestamp"]) for f in out["Fragments"]], ts[1:5])

    def test_list_by_producer_timestamp_exact_edges(self):
        ts = self.producer_ms
        sel = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
               "TimestampRange": {"StartTimestamp": to_dt(ts[0]), "EndTimestamp": to_dt(ts[-1])}}
        # Both edges inclusive: a fragment starting exactly at Start or at End is listed.
        with self.exact_range("ListFragments", ts[1], ts[4]):
            got = self.am.list_fragments(StreamName=STREAM, FragmentSelector=sel)["Fragments"]
        self.assertEqual(self.numbers(got), self.all_numbers()[1:5])
        # One millisecond later: the fragment that started before Start (straddling it) is not.
        with self.exact_range("ListFragments", ts[1] + 1, ts[4] - 1):
            got = self.am.list_fragments(StreamName=STREAM, FragmentSelector=sel)["Fragments"]
        self.assertEqual(self.numbers(got), self.all_numbers()[2:4])
        # Start == End == a fragment start: exactly that one.
        with self.exact_range("ListFragments", ts[2], ts[2]):
            got = self.am.list_fragments(StreamName=STREAM, FragmentSelector=sel)["Fragments"]
        self.assertEqual(self.numbers(got), [self.all_numbers()[2]])

    def test_list_by_server_timestamp(self):
        sv = self.server_ms()
        sel = {"FragmentSelectorType": "SERVER_TIMESTAMP",
               "TimestampRange": {"StartTimestamp": to_dt(sv[0]), "EndTimestamp": to_dt(sv[-1])}}
        with self.exact_range("ListFragments", sv[1], sv[4]):
            got = self.am.list_fragments(StreamName=STREAM, FragmentSelector=sel)["Fragments"]
        self.assertEqual(self.numbers(got), self.all_numbers()[1:5])
        self.assertEqual([epoch_ms(f["ServerTimestamp"]) for f in got], sv[1:5])
        with self.exact_range("ListFragments", sv[1] + 1, sv[4]):
            got = self.am.list_fragments(StreamName=STREAM, FragmentSelector=sel)["Fragments"]
        self.assertEqual(self.numbers(got), self.all_numbers()[2:5])
        # Whole seconds as boto3 sends them: the listing is exactly the fragments starting inside.
        lo, hi = sv[0] // 1000 * 1000, sv[-1] // 1000 * 1000
        got = self.am.list_fragments(StreamName=STREAM, FragmentSelector={
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": to_dt(lo), "EndTimestamp": to_dt(hi)}})["Fragments"]
        self.assertEqual(self.numbers(got), [n for n, t in zip(self.all_numbers(), sv) if lo <= t <= hi])

    def test_list_empty_range(self):
        out = self.am.list_fragments(StreamName=STREAM, FragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc),
                               "EndTimestamp": datetime.datetime(2001, 1, 2, tzinfo=datetime.timezone.utc)}})
        self.assertEqual(out["Fragments"], [])
        self.assertNotIn("NextToken", out)

    def test_list_paginator(self):
        pages = list(self.am.get_paginator("list_fragments").paginate(
            StreamName=STREAM, PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["Fragments"]) for p in pages], [2, 2, 2])
        for p in pages[:-1]:
            self.assertRegex(p["NextToken"], NEXT_TOKEN_RE)
        self.assertNotIn("NextToken", pages[-1])
        got = [f["FragmentNumber"] for p in pages for f in p["Fragments"]]
        self.assertEqual(got, self.all_numbers())
        # By hand, with a selector on every page, MaxResults 4: 4 then 1.
        ts = self.producer_ms
        sel = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
               "TimestampRange": {"StartTimestamp": to_dt(ts[1] // 1000 * 1000),
                                  "EndTimestamp": to_dt(ts[-1] + 1000)}}
        first = self.am.list_fragments(StreamName=STREAM, MaxResults=4, FragmentSelector=sel)
        self.assertEqual(self.numbers(first["Fragments"]), self.all_numbers()[1:5])
        second = self.am.list_fragments(StreamName=STREAM, MaxResults=4, FragmentSelector=sel,
                                        NextToken=first["NextToken"])
        self.assertEqual(self.numbers(second["Fragments"]), self.all_numbers()[5:])
        self.assertNotIn("NextToken", second)

    def test_list_errors(self):
        ts = self.producer_ms
        raw = self.client("kinesis-video-archived-media", validate=False)
        self.addCleanup(raw.close)
        self.assert_error("ResourceNotFoundException", 404, self.am.list_fragments, StreamName="am-missing")
        self.assert_error("InvalidArgumentException", 400, self.am.list_fragments)
        self.assert_error("InvalidArgumentException", 400, self.am.list_fragments, StreamName=STREAM,
                          MaxResults=1001)
        self.assert_error("InvalidArgumentException", 400, self.am.list_fragments, StreamName=STREAM,
                          NextToken="!!notatoken")
        self.assert_error("InvalidArgumentException", 400, self.am.list_fragments, StreamName=STREAM,
                          FragmentSelector={"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {
                              "StartTimestamp": to_dt(ts[3]), "EndTimestamp": to_dt(ts[1])}})
        self.assert_error("InvalidArgumentException", 400, self.am.list_fragments, StreamName=STREAM,
                          FragmentSelector={"FragmentSelectorType": "CLIENT_TIMESTAMP", "TimestampRange": {
                              "StartTimestamp": to_dt(ts[1]), "EndTimestamp": to_dt(ts[3])}})
        # A selector without its required members (botocore would refuse to send it).
        self.assert_error("InvalidArgumentException", 400, raw.list_fragments, StreamName=STREAM,
                          FragmentSelector={"FragmentSelectorType": "SERVER_TIMESTAMP",
                                            "TimestampRange": {"StartTimestamp": 1}})

    # --- GetMediaForFragmentList ---------------------------------------------------------------
    def check_chunk(self, doc, sc, index, number, getmedia=False):
        """One MKV document of a read API: EBML header, unknown-size Segment, Info, Tracks, the
        three AWS tags, then fragment `index` of the ingest with its Cluster content unchanged."""
        exp = self.expected[index]
        listed = self.all[index]
        self.assertEqual(number, listed["FragmentNumber"])
        self.assertEqual(sc.elements[0].id, mkv_scan.EBML)
        self.assertIsNotNone(sc.segment, "no Segment")
        self.assertIsNone(sc.segment.size, "the Segment has a known size")
        ids = [e.id for e in sc.elements]
        self.assertIn(mkv_scan.INFO, ids)
        self.assertIn(mkv_scan.TRACKS, ids)
        self.assertEqual(sc.track_numbers, [1, 2])
        self.assertEqual(sc.timecode_scale, 1000000)
        self.assertEqual(len(sc.fragments), 1, "one Cluster per document")
        frag = sc.fragments[0]
        self.assertTrue(frag.complete)
        self.assertLess(ids.index(mkv_scan.TRACKS), ids.index(mkv_scan.CLUSTER))
        self.assertEqual(frag.timecode, exp.timecode)
        self.assertEqual(cluster_payload(doc, frag.start, frag.end),
                         cluster_payload(self.body, exp.start, exp.end), "Cluster content differs from what was sent")
        before = [items for el, items in sc.tags if el.end <= frag.start]
        after = [items for el, items in sc.tags if el.start >= frag.end]
        aws_before = {k: v for items in before for k, v in items if k.startswith("AWS_KINESISVIDEO_")}
        self.assertEqual(sorted(aws_before), sorted(AWS_TAGS), before)
        self.assertEqual(aws_before["AWS_KINESISVIDEO_FRAGMENT_NUMBER"], number)
        self.assertEqual(aws_before["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"], seconds_str(exp.timecode))
        self.assertEqual(aws_before["AWS_KINESISVIDEO_SERVER_TIMESTAMP"],
                         seconds_str(epoch_ms(listed["ServerTimestamp"])))
        aws_after = {k: v for items in after for k, v in items if k.startswith("AWS_KINESISVIDEO_")}
        if getmedia:
            self.assertEqual(sorted(aws_after), ["AWS_KINESISVIDEO_CONTINUATION_TOKEN",
                                                 "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"], after)
            self.assertEqual(aws_after["AWS_KINESISVIDEO_CONTINUATION_TOKEN"], number)
            self.assertRegex(aws_after["AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"], r"^[0-9]+$")
        return aws_after

    def test_get_media_for_fragment_list(self):
        numbers = self.all_numbers()
        order = [3, 0, 5, 1]
        out = self.am.get_media_for_fragment_list(StreamName=STREAM, Fragments=[numbers[i] for i in order])
        self.assertEqual(out["ContentType"], "video/webm")
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        body = out["Payload"].read()
        docs = split_documents(body)
        self.assertEqual(len(docs), len(order))
        for (doc, sc), i in zip(docs, order):
            with self.subTest(fragment=i):
                self.check_chunk(doc, sc, i, numbers[i])

        # By ARN, one fragment; the saved document decodes with both tracks.
        arn = self.kv.describe_stream(StreamName=STREAM)["StreamInfo"]["StreamARN"]
        one = self.am.get_media_for_fragment_list(StreamARN=arn, Fragments=[numbers[2]])["Payload"].read()
        (doc, sc), = split_documents(one)
        self.check_chunk(doc, sc, 2, numbers[2])
        path = os.path.join(self.work, "gmffl.mkv")
        with open(path, "wb") as f:
            f.write(one)
        p = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(s["codec_name"] for s in json.loads(p.stdout)["streams"]), ["aac", "h264"])

    def test_get_media_for_fragment_list_errors(self):
        numbers = self.all_numbers()
        raw = self.client("kinesis-video-archived-media", validate=False)
        self.addCleanup(raw.close)
        self.assert_error("ResourceNotFoundException", 404, self.am.get_media_for_fragment_list,
                          StreamName="am-missing", Fragments=[numbers[0]])
        self.assert_error("InvalidArgumentException", 400, self.am.get_media_for_fragment_list,
                          Fragments=[numbers[0]])
        unknown = str(int(numbers[-1]) + 1000000)
        e = self.assert_error("InvalidArgumentException", 400, self.am.get_media_for_fragment_list,
                              StreamName=STREAM, Fragments=[numbers[0], unknown])
        self.assertTrue(e.response["Error"]["Message"].startswith("Fragment numbers are invalid"), e.response)
        other = self.am.list_fragments(StreamName=OTHER)["Fragments"][0]["FragmentNumber"]
        e = self.assert_error("InvalidArgumentException", 400, self.am.get_media_for_fragment_list,
                              StreamName=STREAM, Fragments=[other])
        self.assertTrue(e.response["Error"]["Message"].startswith("Fragment numbers are invalid"), e.response)
        self.assert_error("InvalidArgumentException", 400, raw.get_media_for_fragment_list,
                          StreamName=STREAM, Fragments=[numbers[0]] * 1001)
        self.assert_error("InvalidArgumentException", 400, raw.get_media_for_fragment_list,
                          StreamName=STREAM, Fragments=[])

    # --- GetMedia -----------------------------------------------------------------------------
    def get_media(self, selector, stream=STREAM):
        """Reads a GetMedia response to its end; returns (ContentType, [(doc, scan)], seconds it took
        from the request to the end of the body)."""
        t0 = time.monotonic()
        out = self.media.get_media(StreamName=stream, StartSelector=selector)
        body = out["Payload"].read()
        return out["ContentType"], split_documents(body), time.monotonic() - t0

    def check_chunks(self, docs, first):
        numbers = self.all_numbers()
        self.assertEqual(len(docs), len(numbers) - first, [sc.fragments for _, sc in docs])
        for k, (doc, sc) in enumerate(docs):
            with self.subTest(chunk=k):
                self.check_chunk(doc, sc, first + k, numbers[first + k], getmedia=True)

    def test_get_media_earliest_then_ends(self):
        ctype, docs, took = self.get_media({"StartSelectorType": "EARLIEST"})
        self.assertEqual(ctype, "video/webm")
        self.check_chunks(docs, 0)
        # Nothing new for 3 s: the response ends by itself, about 3 s after the request.
        self.assertGreaterEqual(took, 2.0)
        self.assertLess(took, 10.0)

    def test_get_media_after_fragment_number(self):
        numbers = self.all_numbers()
        _, docs, _ = self.get_media({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": numbers[2]})
        self.check_chunks(docs, 3)

    def test_get_media_continuation_token(self):
        # The token of chunk 1 as GetMedia itself wrote it.
        arn = self.kv.describe_stream(StreamName=STREAM)["StreamInfo"]["StreamARN"]
        out = self.media.get_media(StreamARN=arn, StartSelector={"StartSelectorType": "EARLIEST"})
        docs = split_documents(out["Payload"].read())
        token = self.check_chunk(*docs[1], 1, self.all_numbers()[1], getmedia=True)[
            "AWS_KINESISVIDEO_CONTINUATION_TOKEN"]
        _, docs, _ = self.get_media({"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": token})
        self.check_chunks(docs, 2)

    def test_get_media_producer_timestamp(self):
        # boto3 sends whole seconds: T = floor(t3). The first chunk is the fragment containing T
        # (start <= T < start + length), else the first one starting after T.
        ts = self.producer_ms
        t = ts[3] // 1000 * 1000
        lengths = [f["FragmentLengthInMilliseconds"] for f in self.all]
        containing = [i for i in range(len(ts)) if ts[i] <= t < ts[i] + lengths[i]]
        first = containing[0] if containing else min(i for i in range(len(ts)) if ts[i] > t)
        # (Audio frames can make a fragment last a little over 1 s, so T may also fall in the tail
        # of the fragment before the one it precedes: that earlier one is then the first chunk.)
        self.assertGreater(first, 0)
        _, docs, _ = self.get_media({"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": to_dt(t)})
        self.check_chunks(docs, first)

    def test_get_media_errors(self):
        numbers = self.all_numbers()
        self.assert_error("ResourceNotFoundException", 404, self.media.get_media, StreamName="am-missing",
                          StartSelector={"StartSelectorType": "EARLIEST"})
        self.assert_error("InvalidArgumentException", 400, self.media.get_media,
                          StartSelector={"StartSelectorType": "EARLIEST"})
        self.assert_error("InvalidArgumentException", 400, self.media.get_media, StreamName=STREAM,
                          StartSelector={"StartSelectorType": "LATEST"})
        self.assert_error("InvalidArgumentException", 400, self.media.get_media, StreamName=STREAM,
                          StartSelector={"StartSelectorType": "FRAGMENT_NUMBER"})
        self.assert_error("InvalidArgumentException", 400, self.media.get_media, StreamName=STREAM,
                          StartSelector={"StartSelectorType": "PRODUCER_TIMESTAMP"})
        self.assert_error("InvalidArgumentException", 400, self.media.get_media, StreamName=STREAM,
                          StartSelector={"StartSelectorType": "CONTINUATION_TOKEN"})
        other = self.am.list_fragments(StreamName=OTHER)["Fragments"][0]["FragmentNumber"]
        for after in (str(int(numbers[-1]) + 1000000), other):
            self.assert_error("InvalidArgumentException", 400, self.media.get_media, StreamName=STREAM,
                              StartSelector={"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": after})

    def test_get_media_connection_limit(self):
        # Three GetMedia on OTHER stay open until 3 s after their last chunk; a fourth is refused.
        opened = []
        try:
            for _ in range(3):
                opened.append(self.media.get_media(StreamName=OTHER, StartSelector={"StartSelectorType": "EARLIEST"}))
            self.assert_error("ConnectionLimitExceededException", 400, self.media.get_media, StreamName=OTHER,
                              StartSelector={"StartSelectorType": "EARLIEST"})
            # Another stream is not affected.
            out = self.media.get_media(StreamName=STREAM, StartSelector={"StartSelectorType": "FRAGMENT_NUMBER",
                                                                         "AfterFragmentNumber": self.all_numbers()[-2]})
            opened.append(out)
            bodies = [o["Payload"].read() for o in opened]
        finally:
            for o in opened:
                o["Payload"].close()
        for b in bodies[:3]:
            self.assertEqual(len(split_documents(b)), 2)
        self.assertEqual(len(split_documents(bodies[3])), 1)
        # Once they ended, the slots are free again.
        _, docs, _ = self.get_media({"StartSelectorType": "EARLIEST"}, stream=OTHER)
        self.assertEqual(len(docs), 2)

    # --- GetClip ------------------------------------------------------------------------------
    def clip_selector(self, kind, start, end):
        return {"FragmentSelectorType": kind, "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}}

    def test_get_clip(self):
        ts = self.producer_ms
        # Whole seconds: [floor(t1), ceil(t4)] selects fragments 1..4 (4 s, 100 video frames).
        sel = self.clip_selector("PRODUCER_TIMESTAMP", to_dt(ts[1] // 1000 * 1000), to_dt(-(-ts[4] // 1000) * 1000))
        out = self.am.get_clip(StreamName=STREAM, ClipFragmentSelector=sel)
        self.assertEqual(out["ContentType"], "video/mp4")
        body = out["Payload"].read()
        boxes = []
        pos = 0
        while pos + 8 <= len(body):
            size = int.from_bytes(body[pos:pos + 4], "big")
            kind = body[pos + 4:pos + 8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(body[pos + 8:pos + 16], "big")
            elif size == 0:
                size = len(body) - pos
            self.assertGreaterEqual(size, 8, boxes)
            boxes.append(kind)
            pos += size
        self.assertEqual(pos, len(body), boxes)
        self.assertEqual(boxes[0], "ftyp")
        self.assertIn("moov", boxes)
        self.assertIn("mdat", boxes)
        self.assertNotIn("moof", boxes)
        path = os.path.join(self.work, "clip.mp4")
        with open(path, "wb") as f:
            f.write(body)
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.strip(), "", "decoder complaints")
        streams = {s["codec_type"]: s for s in json.loads(p.stdout)["streams"]}
        self.assertEqual(sorted(streams), ["audio", "video"])
        self.assertEqual(streams["video"]["codec_name"], "h264")
        self.assertEqual(streams["audio"]["codec_name"], "aac")
        self.assertEqual(int(streams["video"]["nb_read_frames"]), 100)
        self.assertAlmostEqual(float(streams["video"]["start_time"]), 0.0, delta=0.05)
        self.assertAlmostEqual(float(streams["video"]["duration"]), 4.0, delta=0.25)

        # By server timestamp and StreamARN: fragments 1..2 (exact edges).
        sv = self.server_ms()
        arn = self.kv.describe_stream(StreamName=STREAM)["StreamInfo"]["StreamARN"]
        with self.exact_range("GetClip", sv[1], sv[2]):
            out = self.am.get_clip(StreamARN=arn, ClipFragmentSelector=self.clip_selector(
                "SERVER_TIMESTAMP", to_dt(sv[0]), to_dt(sv[-1])))
        self.assertEqual(out["ContentType"], "video/mp4")
        with open(path, "wb") as f:
            f.write(out["Payload"].read())
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v", "-show_streams",
                            "-of", "json", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(int(json.loads(p.stdout)["streams"][0]["nb_read_frames"]), 50)

    def test_get_clip_errors(self):
        ts = self.producer_ms
        good = self.clip_selector("PRODUCER_TIMESTAMP", to_dt(ts[0] // 1000 * 1000), to_dt(ts[-1] + 1000))
        raw = self.client("kinesis-video-archived-media", validate=False)
        self.addCleanup(raw.close)
        self.assert_error("ResourceNotFoundException", 404, self.am.get_clip, StreamName="am-missing",
                          ClipFragmentSelector=good)
        self.assert_error("InvalidArgumentException", 400, self.am.get_clip, ClipFragmentSelector=good)
        self.assert_error("InvalidArgumentException", 400, raw.get_clip, StreamName=STREAM)
        # End <= Start, and a range longer than 24 h.
        self.assert_error("InvalidArgumentException", 400, self.am.get_clip, StreamName=STREAM,
                          ClipFragmentSelector=self.clip_selector("PRODUCER_TIMESTAMP", to_dt(ts[3]), to_dt(ts[1])))
        self.assert_error("InvalidArgumentException", 400, self.am.get_clip, StreamName=STREAM,
                          ClipFragmentSelector=self.clip_selector("PRODUCER_TIMESTAMP", to_dt(ts[2] // 1000 * 1000),
                                                                  to_dt(ts[2] // 1000 * 1000)))
        self.assert_error("InvalidArgumentException", 400, self.am.get_clip, StreamName=STREAM,
                          ClipFragmentSelector=self.clip_selector("PRODUCER_TIMESTAMP", to_dt(ts[0] - 86400000 - 2000),
                                                                  to_dt(ts[-1])))
        self.assert_error("InvalidArgumentException", 400, self.am.get_clip, StreamName=STREAM,
                          ClipFragmentSelector=self.clip_selector("ARRIVAL_TIMESTAMP", to_dt(ts[0]), to_dt(ts[-1])))
        # No fragment in the range.
        e = self.assert_error("ResourceNotFoundException", 404, self.am.get_clip, StreamName=STREAM,
                              ClipFragmentSelector=self.clip_selector(
                                  "PRODUCER_TIMESTAMP", datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc),
                                  datetime.datetime(2001, 1, 1, 1, tzinfo=datetime.timezone.utc)))
        self.assertTrue(e.response["Error"]["Message"])
        # A stream that keeps no data.
        self.assert_error("NoDataRetentionException", 400, self.am.get_clip, StreamName=NORET,
                          ClipFragmentSelector=good)

    def test_get_clip_unsupported_media_type(self):
        # A VP8 stream (kvsd stores any Matroska video): a clip needs H.264 or H.265.
        self.kv.create_stream(StreamName="am-vp8", DataRetentionInHours=24)
        t0 = int(time.time() * 1000) - 5000
        body = (mkv_scan.header(tracks=((1, 1, "V_VP8"),)) + mkv_scan.cluster(t0, frames=25, step=40)
                + mkv_scan.cluster(t0 + 1000, frames=25, step=40) + mkv_scan.eof_tags())
        headers = putmedia_client.put_media_headers("am-vp8", ACCESS_KEY, SECRET_KEY)
        s = putmedia_client.upload(self.server, "am-vp8", body, headers=headers, hold_for=t0 + 1000)
        self.assertTrue(s.has_ack("PERSISTED", t0 + 1000), s.log())
        self.assertEqual(len(self.am.list_fragments(StreamName="am-vp8")["Fragments"]), 2)
        self.assert_error("UnsupportedStreamMediaTypeException", 400, self.am.get_clip, StreamName="am-vp8",
                          ClipFragmentSelector=self.clip_selector("PRODUCER_TIMESTAMP", to_dt(t0 - 1000),
                                                                  to_dt(t0 + 2000)))
        # HLS and DASH judge the codecs when the session is made (spec 3.6), in every mode.
        vp8_range = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                     "TimestampRange": {"StartTimestamp": to_dt(t0 - 1000), "EndTimestamp": to_dt(t0 + 2000)}}
        self.assert_error("UnsupportedStreamMediaTypeException", 400, self.am.get_hls_streaming_session_url,
                          StreamName="am-vp8", PlaybackMode="ON_DEMAND", HLSFragmentSelector=vp8_range)
        self.assert_error("UnsupportedStreamMediaTypeException", 400, self.am.get_dash_streaming_session_url,
                          StreamName="am-vp8", PlaybackMode="ON_DEMAND", DASHFragmentSelector=vp8_range)

    # --- HLS / DASH session URLs (playback itself: tests/browser) -----------------------------
    def test_streaming_session_url_errors(self):
        ts = self.producer_ms
        rng = {"StartTimestamp": to_dt(ts[0] // 1000 * 1000), "EndTimestamp": to_dt(ts[-1] + 1000)}
        on_demand = {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": rng}
        url = self.am.get_hls_streaming_session_url(StreamName=STREAM, PlaybackMode="ON_DEMAND",
                                                    HLSFragmentSelector=on_demand)["HLSStreamingSessionURL"]
        self.assertRegex(url, r"^http://127\.0\.0\.1:\d+/hls/v1/getHLSMasterPlaylist\.m3u8\?SessionToken=[A-Za-z0-9_.-]+$")
        url = self.am.get_dash_streaming_session_url(StreamName=STREAM, PlaybackMode="ON_DEMAND",
                                                     DASHFragmentSelector=on_demand)["DASHStreamingSessionURL"]
        self.assertRegex(url, r"/dash/v1/getDASHManifest\.mpd\?SessionToken=")
        raw = self.client("kinesis-video-archived-media", validate=False)
        self.addCleanup(raw.close)
        hls = self.am.get_hls_streaming_session_url
        self.assert_error("ResourceNotFoundException", 404, hls, StreamName="am-missing")
        self.assert_error("NoDataRetentionException", 400, hls, StreamName=NORET)
        self.assert_error("InvalidArgumentException", 400, hls, PlaybackMode="ON_DEMAND",
                          HLSFragmentSelector=on_demand)  # no stream
        # A TimestampRange with LIVE; ON_DEMAND without one; an unknown enum value; Expires too large.
        self.assert_error("InvalidArgumentException", 400, hls, StreamName=STREAM, PlaybackMode="LIVE",
                          HLSFragmentSelector=on_demand)
        self.assert_error("InvalidArgumentException", 400, hls, StreamName=STREAM, PlaybackMode="ON_DEMAND")
        self.assert_error("InvalidArgumentException", 400, raw.get_hls_streaming_session_url, StreamName=STREAM,
                          PlaybackMode="BOGUS")
        self.assert_error("InvalidArgumentException", 400, raw.get_hls_streaming_session_url, StreamName=STREAM,
                          PlaybackMode="ON_DEMAND", HLSFragmentSelector=on_demand, Expires=50000)
        self.assert_error("InvalidArgumentException", 400, raw.get_hls_streaming_session_url, StreamName=STREAM,
                          PlaybackMode="ON_DEMAND", HLSFragmentSelector=on_demand, MaxMediaPlaylistFragmentResults=9999)
        # An ON_DEMAND range without fragments.
        empty = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                 "TimestampRange": {"StartTimestamp": datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc),
                                    "EndTimestamp": datetime.datetime(2001, 1, 1, 1, tzinfo=datetime.timezone.utc)}}
        self.assert_error("ResourceNotFoundException", 404, hls, StreamName=STREAM, PlaybackMode="ON_DEMAND",
                          HLSFragmentSelector=empty)
        self.assert_error("ResourceNotFoundException", 404, self.am.get_dash_streaming_session_url,
                          StreamName=STREAM, PlaybackMode="ON_DEMAND", DASHFragmentSelector=empty)

    # --- authentication -----------------------------------------------------------------------
    def test_wrong_secret_rejected(self):
        for service, call, kwargs in (
                ("kinesis-video-archived-media", "list_fragments", {"StreamName": STREAM}),
                ("kinesis-video-archived-media", "get_media_for_fragment_list",
                 {"StreamName": STREAM, "Fragments": [self.all_numbers()[0]]}),
                ("kinesis-video-archived-media", "get_clip", {"StreamName": STREAM, "ClipFragmentSelector": {
                    "FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {
                        "StartTimestamp": to_dt(self.producer_ms[0]), "EndTimestamp": to_dt(self.producer_ms[-1])}}}),
                ("kinesis-video-media", "get_media", {"StreamName": STREAM,
                                                      "StartSelector": {"StartSelectorType": "EARLIEST"}})):
            with self.subTest(call=call):
                bad = self.client(service, secret="wrong-secret-0000000000000000000000")
                self.addCleanup(bad.close)
                self.assert_error("SignatureDoesNotMatch", 403, getattr(bad, call), **kwargs)
                stranger = boto3.client(service, endpoint_url=self.server.base_url(), region_name=REGION,
                                        aws_access_key_id="AKIANOSUCHKEY0000000", aws_secret_access_key=SECRET_KEY,
                                        config=config())
                self.addCleanup(stranger.close)
                self.assert_error("NotAuthorizedException", 401, getattr(stranger, call), **kwargs)


if __name__ == "__main__":
    unittest.main()
