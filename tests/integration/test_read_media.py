"""Round trip through kvsd's read APIs: an ffmpeg-made H.264 + AAC clip goes in with kvs-put and comes
back out of ListFragments, GetMediaForFragmentList, GetMedia and GetClip (boto3 clients and raw
SigV4-signed requests). Checks that the Cluster bytes are returned unchanged, that ffprobe finds every
ingested video and audio frame with the source's video timestamps, and that GetMedia tails a live
PutMedia with low delay and ends by itself about 3 s after the last fragment.

The helpers at the top (signed_post, DocumentSplitter, GetMediaReader, paced_put_media, probe_*) are
also used by bench/read_bench.py.
"""

import datetime
import http.client
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

import mkv_scan  # noqa: E402
import putmedia_client  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDREADMEDIA001"
SECRET_KEY = "read-media-secret-key-0123456789abcdef"
REGION = "us-west-2"

FRAGMENT_NUMBER = "AWS_KINESISVIDEO_FRAGMENT_NUMBER"
SERVER_TS = "AWS_KINESISVIDEO_SERVER_TIMESTAMP"
PRODUCER_TS = "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"
MILLIS_BEHIND = "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"
CONT_TOKEN = "AWS_KINESISVIDEO_CONTINUATION_TOKEN"
TS_RE = re.compile(r"^\d+\.\d{3}$")


# --- clients ------------------------------------------------------------------------------------

def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def start_server(extra_args=(), data_dir=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY, log_level=None):
    env = {"KVSD_ACCESS_KEY_ID": access_key, "KVSD_SECRET_ACCESS_KEY": secret_key}
    args = ["--access-log", "false"] + (["--log-level", log_level] if log_level else []) + list(extra_args)
    srv = Server(binary=kvsd_binary(), https=False, env=env, data_dir=data_dir, extra_args=args)
    srv.start()
    return srv


def boto_client(server, service, read_timeout=60, validate=True):
    return boto3.client(service, endpoint_url=server.base_url(), region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY,
                        config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=read_timeout,
                                                      parameter_validation=validate))


def sign_request(port, path, payload, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """(body, headers) of a SigV4-signed (service kinesisvideo) JSON POST to 127.0.0.1:port."""
    body = json.dumps(payload).encode()
    req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}{path}", data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(access_key, secret_key), "kinesisvideo", REGION).add_auth(req)
    return body, dict(req.headers.items())


def signed_post(port, path, payload, timeout=30, conn=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """POSTs a signed JSON body; returns (conn, response) with the body unread. conn: an open
    HTTPConnection to reuse (keep-alive), else a new one."""
    body, headers = sign_request(port, path, payload, access_key, secret_key)
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", path, body=body, headers=headers)
    return conn, conn.getresponse()


def kvs_put(server, stream, args, tmp, timeout=600, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """Runs kvs-put; returns its summary (dict). Raises AssertionError on a non-zero exit."""
    summary = os.path.join(tmp, f"summary-{stream}.json")
    cmd = [kvs_put_binary(), "--endpoint", server.base_url(), "--stream", stream, "--access-key", access_key,
           "--secret-key", secret_key, "--summary-json", summary, "--quiet"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f"kvs-put exited {p.returncode}: {p.stderr[-3000:]}")
    with open(summary) as f:
        return json.load(f)


def make_source(path, seconds=6):
    """testsrc2 320x240 25 fps H.264 with 1 s GOPs + a 44.1 kHz sine in AAC, as Matroska."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi",
                    "-i", "sine=frequency=440:sample_rate=44100", "-c:v", "libx264", "-g", "25", "-keyint_min", "25",
                    "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", str(seconds), "-f", "matroska",
                    path], check=True)


# --- MKV documents ------------------------------------------------------------------------------

def split_documents(body):
    """Cuts a multi-document MKV body at every top-level EBML header; returns [bytes]."""
    sc = mkv_scan.scan(body)
    starts = [e.start for e in sc.elements if e.id == mkv_scan.EBML]
    if not starts or starts[0] != 0:
        raise AssertionError(f"body does not start with an EBML header (headers at {starts[:5]})")
    return [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]


def describe_document(doc):
    """{'ids': top-level IDs, 'segment_unknown': bool, 'info'/'tracks': bytes, 'tags': [[(k, v)]],
    'clusters': [bytes]} of one MKV document."""
    sc = mkv_scan.scan(doc)
    if sc.truncated:
        raise AssertionError("document is truncated")
    out = {"ids": [e.id for e in sc.elements], "segment_unknown": sc.segment is not None and sc.segment.size is None,
           "tags": [items for _, items in sc.tags], "clusters": [f.bytes_of(doc) for f in sc.fragments]}
    for e in sc.elements:
        if e.id == mkv_scan.INFO:
            out["info"] = doc[e.start:e.end]
        elif e.id == mkv_scan.TRACKS:
            out["tracks"] = doc[e.start:e.end]
    return out


class DocumentSplitter:
    """Cuts a growing GetMedia body into its chunks. feed(bytes) returns the chunks completed by
    those bytes: a chunk runs from an EBML header to the end of the Tags element holding
    AWS_KINESISVIDEO_CONTINUATION_TOKEN. An unknown-size Cluster is complete once the ID of the
    next level-1 element has arrived."""

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0  # start of the next top-level element to read
        self.doc_start = None

    def pending(self):
        """Bytes received after the last completed chunk."""
        return len(self.buf) - (self.doc_start if self.doc_start is not None else 0)

    def _next(self, pos):
        """(id, element, end) of the complete element at pos, or None if more bytes are needed."""
        buf = self.buf
        try:
            eid, il = mkv_scan.read_id(buf, pos)
            size, sl = mkv_scan.read_size(buf, pos + il)
        except mkv_scan.Truncated:
            return None
        el = mkv_scan.Element(eid, pos, il + sl, size)
        if eid == mkv_scan.SEGMENT:
            return eid, el, el.data_start  # step into the Segment
        if size is not None:
            el.end = el.data_start + size
            return (eid, el, el.end) if el.end <= len(buf) else None
        if eid != mkv_scan.CLUSTER:
            raise mkv_scan.Invalid(f"unknown-size element {eid:#x} at {pos}")
        p = el.data_start
        while True:
            try:
                cid, cil = mkv_scan.read_id(buf, p)
                if cid in mkv_scan.LEVEL1_IDS:
                    el.end = p
                    return eid, el, p
                csize, csl = mkv_scan.read_size(buf, p + cil)
            except mkv_scan.Truncated:
                return None
            if csize is None:
                raise mkv_scan.Invalid(f"unknown-size cluster child {cid:#x} at {p}")
            p += cil + csl + csize
            if p > len(buf):
                return None

    def feed(self, data):
        self.buf += data
        done = []
        while True:
            r = self._next(self.pos)
            if r is None:
                break
            eid, el, end = r
            if eid == mkv_scan.EBML:
                self.doc_start = self.pos
            elif eid == mkv_scan.TAGS and self.doc_start is not None:
                items = dict(mkv_scan.parse_tags(self.buf, el))
                if CONT_TOKEN in items:
                    done.append(bytes(self.buf[self.doc_start:end]))
                    del self.buf[:end]
                    self.doc_start = None
                    end = 0
            self.pos = end
        return done


def document_tags(doc):
    """{name: value} of all SimpleTags of a document (later ones win)."""
    out = {}
    for items in describe_document(doc)["tags"]:
        out.update(items)
    return out


class GetMediaReader(threading.Thread):
    """GetMedia over a raw signed HTTP/1.1 request, read incrementally. chunks: [(arrival time
    (monotonic), fragment number, document bytes)] in arrival order."""

    def __init__(self, port, payload, timeout=60, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        super().__init__(daemon=True)
        self.port = port
        self.keys = (access_key, secret_key)
        self.payload = payload
        self.timeout = timeout
        self.chunks = []
        self.status = None
        self.headers = {}
        self.error_body = b""
        self.clean_end = False
        self.error = None
        self.leftover = 0
        self.start_t = None
        self.end_t = None
        self.cond = threading.Condition()

    def run(self):
        self.start_t = time.monotonic()
        conn = None
        try:
            conn, resp = signed_post(self.port, "/getMedia", self.payload, self.timeout, None, *self.keys)
            with self.cond:
                self.status = resp.status
                self.headers = {k.lower(): v for k, v in resp.getheaders()}
                self.cond.notify_all()
            if resp.status != 200:
                self.error_body = resp.read()
                return
            splitter = DocumentSplitter()
            while True:
                data = resp.read1(1 << 16)
                t = time.monotonic()
                if not data:
                    break
                for doc in splitter.feed(data):
                    number = dict(describe_document(doc)["tags"][0]).get(FRAGMENT_NUMBER)
                    with self.cond:
                        self.chunks.append((t, number, doc))
                        self.cond.notify_all()
            self.leftover = splitter.pending()
            self.clean_end = True
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = repr(e)
        finally:
            self.end_t = time.monotonic()
            if conn is not None:
                conn.close()
            with self.cond:
                self.cond.notify_all()

    def wait_chunks(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.chunks) < n and self.is_alive() and time.monotonic() < deadline:
                self.cond.wait(0.1)
            return len(self.chunks) >= n


def paced_put_media(port, stream, body, interval=1.0, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """Sends an SDK-shaped MKV body (header, Clusters, closing END_OF_FRAGMENT tag) over PutMedia,
    one fragment every `interval` seconds, with its Cluster timecodes moved to now. Holds the end
    of the body until the last PERSISTED (or an ERROR). Returns the closed session (with its acks);
    its sent_body is the body as sent (timecodes moved)."""
    sc = mkv_scan.scan(body)
    frags = sc.complete_fragments()
    now_ms = int(time.time() * 1000)
    body = mkv_scan.with_timecodes(body, sc, now_ms - frags[0].timecode)
    last_tc = frags[-1].timecode + now_ms - frags[0].timecode
    headers = putmedia_client.put_media_headers(stream, access_key, secret_key, "ABSOLUTE", now_ms)
    s = putmedia_client.H1Session(port, headers)
    s.sent_body = body
    try:
        s.wait_continue(2.0)
        s.send(body[:frags[0].start])
        t0 = time.monotonic()
        for i, f in enumerate(frags):
            due = t0 + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            end = frags[i + 1].start if i + 1 < len(frags) else len(body)
            if not s.send(body[f.start:end]) or s.has_ack("ERROR"):
                break
        s.finish(hold_until=lambda x: x.has_ack("PERSISTED", last_tc) or x.has_ack("ERROR"), hold_timeout=30)
        s.wait_done(30)
    finally:
        s.close()
    return s


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))]


# --- ffprobe ------------------------------------------------------------------------------------

def probe_file(path):
    """{'video': [pts ms], 'audio': [pts ms]} of every packet ffprobe reads from a file."""
    p = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "stream=index,codec_type,time_base:packet=stream_index,pts,dts", "-of", "json", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"ffprobe {path} failed: {p.stderr[-2000:]}")
    info = json.loads(p.stdout)
    kinds, tbs = {}, {}
    for st in info.get("streams", []):
        kinds[st["index"]] = st.get("codec_type")
        num, den = st["time_base"].split("/")
        tbs[st["index"]] = (int(num), int(den))
    out = {"video": [], "audio": []}
    for pkt in info.get("packets", []):
        kind = kinds.get(pkt["stream_index"])
        if kind not in out:
            continue
        ts = pkt.get("pts", pkt.get("dts"))
        num, den = tbs[pkt["stream_index"]]
        out[kind].append(round(int(ts) * num * 1000 / den) if ts is not None else None)
    return out


def probe_bytes(data, tmpdir, name, split=False):
    """probe_file of data; split: probe every MKV document on its own and sum (parser-library#43)."""
    parts = split_documents(data) if split else [data]
    total = {"video": [], "audio": []}
    for i, part in enumerate(parts):
        path = os.path.join(tmpdir, f"{name}-{i}.bin")
        with open(path, "wb") as f:
            f.write(part)
        r = probe_file(path)
        total["video"] += r["video"]
        total["audio"] += r["audio"]
    return total


def relative(ts):
    ts = sorted(ts)
    return [t - ts[0] for t in ts]


def ms_of(dt):
    return round(dt.timestamp() * 1000)


# --- the tests ----------------------------------------------------------------------------------

class ReadMediaTest(unittest.TestCase):
    STREAM = "rt-main"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kvsd-read-")
        cls.server = start_server()
        try:
            cls.src = os.path.join(cls.tmp, "src.mkv")
            make_source(cls.src)
            cls.dump_path = os.path.join(cls.tmp, "body.mkv")
            cls.summary = kvs_put(cls.server, cls.STREAM, ["--input", cls.src, "--dump", cls.dump_path], cls.tmp)
            cls.dump = mkv_scan.load(cls.dump_path)
            cls.dump_scan = mkv_scan.scan(cls.dump)
            cls.frags = cls.dump_scan.complete_fragments()
            cls.video_track, cls.audio_track = cls.dump_scan.track_numbers[:2]
            cls.ingested = {"video": sum(f.tracks().get(cls.video_track, (0, 0))[0] for f in cls.frags),
                            "audio": sum(f.tracks().get(cls.audio_track, (0, 0))[0] for f in cls.frags)}
            cls.dump_header = {e.id: cls.dump[e.start:e.end] for e in cls.dump_scan.elements
                               if e.id in (mkv_scan.INFO, mkv_scan.TRACKS)}
            cls.source_probe = probe_file(cls.src)
            cls._listing = None
        except BaseException:
            cls.server.stop()
            shutil.rmtree(cls.server.data_dir, ignore_errors=True)
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        shutil.rmtree(cls.server.data_dir, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"

    def setUp(self):
        self.media = self.client("kinesis-video-media")
        self.archived = self.client("kinesis-video-archived-media")
        self.raw_archived = self.client("kinesis-video-archived-media", validate=False)

    def client(self, service, validate=True):
        c = boto_client(self.server, service, validate=validate)
        self.addCleanup(c.close)
        return c

    def listing(self):
        """ListFragments of the main stream (all, one page), checked once."""
        if ReadMediaTest._listing is None:
            resp = self.archived.list_fragments(StreamName=self.STREAM)
            self.assertNotIn("NextToken", resp)
            ReadMediaTest._listing = resp["Fragments"]
        return ReadMediaTest._listing

    def numbers(self):
        return [f["FragmentNumber"] for f in self.listing()]

    def error_of(self, fn, **kw):
        with self.assertRaises(ClientError) as ctx:
            fn(**kw)
        r = ctx.exception.response
        return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")

    def check_document(self, doc, i, number, get_media):
        """One returned MKV document against fragment i of the dump."""
        d = describe_document(doc)
        expected_ids = [mkv_scan.EBML, mkv_scan.INFO, mkv_scan.TRACKS, mkv_scan.TAGS, mkv_scan.CLUSTER]
        if get_media:
            expected_ids.append(mkv_scan.TAGS)
        self.assertEqual([hex(x) for x in d["ids"]], [hex(x) for x in expected_ids], f"document {i}")
        self.assertTrue(d["segment_unknown"], f"document {i}: Segment must have unknown size")
        self.assertEqual(d["info"], self.dump_header[mkv_scan.INFO], f"document {i}: Info differs from the stored one")
        self.assertEqual(d["tracks"], self.dump_header[mkv_scan.TRACKS], f"document {i}: Tracks differ")
        self.assertEqual(len(d["clusters"]), 1)
        self.assertEqual(d["clusters"][0], self.frags[i].bytes_of(self.dump),
                         f"document {i}: Cluster bytes differ from what kvs-put sent")
        tags = dict(d["tags"][0])
        self.assertEqual(tags.get(FRAGMENT_NUMBER), number)
        for name in (SERVER_TS, PRODUCER_TS):
            self.assertRegex(tags.get(name, ""), TS_RE, name)
        tc = self.frags[i].timecode
        self.assertEqual(tags[PRODUCER_TS], f"{tc // 1000}.{tc % 1000:03d}")
        listed = self.listing()[self.numbers().index(number)]
        self.assertEqual(round(float(tags[SERVER_TS]) * 1000), ms_of(listed["ServerTimestamp"]))
        if get_media:
            trailer = dict(d["tags"][1])
            self.assertEqual(trailer.get(CONT_TOKEN), number)
            self.assertRegex(trailer.get(MILLIS_BEHIND, ""), r"^\d+$")
        return d

    def check_probe(self, probe, what):
        self.assertEqual(len(probe["video"]), self.ingested["video"], f"{what}: video frames")
        self.assertEqual(len(probe["audio"]), self.ingested["audio"], f"{what}: audio frames")
        self.assertEqual(relative(probe["video"]), relative(self.source_probe["video"]),
                         f"{what}: video timestamps (ms, relative to the first frame) differ from the source")

    # --- ListFragments -----------------------------------------------------------------------

    def test_ingest_counts_match_source(self):
        # The reference counts come from kvs-put's dump; the source must agree for video.
        self.assertEqual(len(self.frags), 6)
        self.assertEqual(self.ingested["video"], len(self.source_probe["video"]))
        self.assertGreater(self.ingested["audio"], 250)
        self.assertEqual(relative(self.source_probe["video"]),
                         relative([f.timecode + b.rel_timecode for f in self.frags for b in f.blocks
                                   if b.track == self.video_track]))

    def test_list_fragments(self):
        frags = self.listing()
        self.assertEqual(len(frags), len(self.frags))
        for i, f in enumerate(frags):
            self.assertRegex(f["FragmentNumber"], r"^\d+$")
            self.assertEqual(ms_of(f["ProducerTimestamp"]), self.frags[i].timecode)
            self.assertGreaterEqual(f["FragmentSizeInBytes"], len(self.frags[i].bytes_of(self.dump)))
            self.assertIsInstance(f["FragmentLengthInMilliseconds"], int)
        servers = [ms_of(f["ServerTimestamp"]) for f in frags]
        self.assertEqual(servers, sorted(servers))
        self.assertEqual([int(n) for n in self.numbers()], sorted(int(n) for n in self.numbers()))

    def test_list_fragments_paginator_and_selectors(self):
        pages = list(self.archived.get_paginator("list_fragments").paginate(
            StreamName=self.STREAM, PaginationConfig={"PageSize": 4}))
        self.assertEqual([len(p["Fragments"]) for p in pages], [4, 2])
        self.assertEqual([f["FragmentNumber"] for p in pages for f in p["Fragments"]], self.numbers())
        # Producer range with whole seconds (boto3 sends integers): starts within [T1, T2].
        tcs = [f.timecode for f in self.frags]
        t1, t2 = math.ceil(tcs[1] / 1000), tcs[4] // 1000
        want = [n for n, tc in zip(self.numbers(), tcs) if t1 * 1000 <= tc <= t2 * 1000]
        self.assertTrue(want)
        got = self.archived.list_fragments(StreamName=self.STREAM, FragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": datetime.datetime.fromtimestamp(t1, datetime.timezone.utc),
                               "EndTimestamp": datetime.datetime.fromtimestamp(t2, datetime.timezone.utc)}})
        self.assertEqual([f["FragmentNumber"] for f in got["Fragments"]], want)
        srv = [ms_of(f["ServerTimestamp"]) for f in self.listing()]
        got = self.archived.list_fragments(StreamName=self.STREAM, FragmentSelector={
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": datetime.datetime.fromtimestamp(srv[0] // 1000, datetime.timezone.utc),
                               "EndTimestamp": datetime.datetime.fromtimestamp(srv[-1] // 1000 + 1,
                                                                               datetime.timezone.utc)}})
        self.assertEqual([f["FragmentNumber"] for f in got["Fragments"]], self.numbers())
        empty = self.archived.list_fragments(StreamName=self.STREAM, FragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc),
                               "EndTimestamp": datetime.datetime(2001, 1, 2, tzinfo=datetime.timezone.utc)}})
        self.assertEqual(empty["Fragments"], [])
        code, status, _ = self.error_of(self.archived.list_fragments, StreamName="rt-no-such-stream")
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        code, status, _ = self.error_of(self.archived.list_fragments, StreamName=self.STREAM, NextToken="!!notatoken")
        self.assertEqual((code, status), ("InvalidArgumentException", 400))

    # --- GetMediaForFragmentList -------------------------------------------------------------

    def gmffl(self, numbers):
        resp = self.archived.get_media_for_fragment_list(StreamName=self.STREAM, Fragments=numbers)
        self.assertEqual(resp["ContentType"], "video/webm")
        return resp["Payload"].read()

    def test_gmffl_returns_stored_clusters_unchanged(self):
        numbers = self.numbers()
        body = self.gmffl(numbers)
        docs = split_documents(body)
        self.assertEqual(len(docs), len(numbers))
        for i, (doc, n) in enumerate(zip(docs, numbers)):
            self.check_document(doc, i, n, get_media=False)
        # Request order, not fragment order.
        order = [3, 0, 5, 1]
        docs = split_documents(self.gmffl([numbers[i] for i in order]))
        self.assertEqual([dict(describe_document(d)["tags"][0])[FRAGMENT_NUMBER] for d in docs],
                         [numbers[i] for i in order])
        for doc, i in zip(docs, order):
            self.assertEqual(describe_document(doc)["clusters"][0], self.frags[i].bytes_of(self.dump))

    def test_gmffl_same_bytes_over_h2c(self):
        # HTTP/1.1 cleartext sends clusters with sendfile; HTTP/2 reads them from the file in
        # pieces. Both bodies must be the same bytes.
        numbers = self.numbers()
        h1 = self.gmffl(numbers)
        body, headers = sign_request(self.server.port, "/getMediaForFragmentList",
                                     {"StreamName": self.STREAM, "Fragments": numbers})
        out = os.path.join(self.tmp, "gmffl-h2c.bin")
        args = ["curl", "-sS", "--http2-prior-knowledge", "-o", out, "-w", "%{http_code} %{http_version}",
                "--data-binary", "@-"]
        for k, v in headers.items():
            args += ["-H", f"{k}: {v}"]
        p = subprocess.run(args + [f"http://127.0.0.1:{self.server.port}/getMediaForFragmentList"], input=body,
                           capture_output=True, timeout=60)
        self.assertEqual(p.stdout.decode(), "200 2", p.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), h1)

    def test_gmffl_ffprobe(self):
        body = self.gmffl(self.numbers())
        whole = probe_bytes(body, self.tmp, "gmffl-whole")
        print(f"\nffprobe of the whole GMFFL body: {len(whole['video'])} video / {len(whole['audio'])} audio packets "
              f"(ingested {self.ingested['video']} / {self.ingested['audio']})")
        self.check_probe(probe_bytes(body, self.tmp, "gmffl", split=True), "GetMediaForFragmentList")

    def test_gmffl_errors(self):
        code, status, msg = self.error_of(self.raw_archived.get_media_for_fragment_list, StreamName=self.STREAM,
                                          Fragments=["12345678901234567890"])
        self.assertEqual((code, status), ("InvalidArgumentException", 400))
        self.assertTrue(msg.startswith("Fragment numbers are invalid"), msg)
        code, status, _ = self.error_of(self.raw_archived.get_media_for_fragment_list, StreamName="rt-no-such-stream",
                                        Fragments=self.numbers()[:1])
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        code, status, _ = self.error_of(self.raw_archived.get_media_for_fragment_list, StreamName=self.STREAM,
                                        Fragments=[self.numbers()[0]] * 1001)
        self.assertEqual((code, status), ("InvalidArgumentException", 400))

    # --- GetMedia ----------------------------------------------------------------------------

    def test_get_media_earliest(self):
        t0 = time.monotonic()
        resp = self.media.get_media(StreamName=self.STREAM, StartSelector={"StartSelectorType": "EARLIEST"})
        self.assertEqual(resp["ContentType"], "video/webm")
        body = resp["Payload"].read()
        resp["Payload"].close()
        elapsed = time.monotonic() - t0
        print(f"\nGetMedia EARLIEST: {len(body)} bytes, ended after {elapsed:.2f} s")
        self.assertGreaterEqual(elapsed, 2.0, "GetMedia ended before its 3 s idle time")
        self.assertLessEqual(elapsed, 8.0, "GetMedia did not end about 3 s after the last fragment")
        docs = split_documents(body)
        self.assertEqual(len(docs), len(self.frags))
        for i, (doc, n) in enumerate(zip(docs, self.numbers())):
            self.check_document(doc, i, n, get_media=True)
        self.check_probe(probe_bytes(body, self.tmp, "getmedia", split=True), "GetMedia EARLIEST")

    def get_media_numbers(self, selector):
        r = GetMediaReader(self.server.port, {"StreamName": self.STREAM, "StartSelector": selector})
        r.start()
        r.join(30)
        self.assertFalse(r.is_alive(), "GetMedia did not end")
        self.assertEqual(r.status, 200, r.error_body)
        self.assertTrue(r.clean_end, r.error)
        self.assertEqual(r.leftover, 0)
        return [n for _, n, _ in r.chunks]

    def test_get_media_selectors(self):
        numbers = self.numbers()
        listing = self.listing()
        self.assertEqual(self.get_media_numbers({"StartSelectorType": "FRAGMENT_NUMBER",
                                                 "AfterFragmentNumber": numbers[2]}), numbers[3:])
        self.assertEqual(self.get_media_numbers({"StartSelectorType": "CONTINUATION_TOKEN",
                                                 "ContinuationToken": numbers[3]}), numbers[4:])

        def expected_from(t_ms, key):
            for i, f in enumerate(listing):
                start = ms_of(f[key])
                if start <= t_ms < start + f["FragmentLengthInMilliseconds"]:
                    return numbers[i:]
            return [n for n, f in zip(numbers, listing) if ms_of(f[key]) > t_ms]

        t = self.frags[2].timecode // 1000 + 1  # whole seconds: boto3-style requests send integers
        self.assertEqual(self.get_media_numbers({"StartSelectorType": "PRODUCER_TIMESTAMP", "StartTimestamp": t}),
                         expected_from(t * 1000, "ProducerTimestamp"))
        t = ms_of(listing[0]["ServerTimestamp"]) // 1000
        self.assertEqual(self.get_media_numbers({"StartSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": t}),
                         expected_from(t * 1000, "ServerTimestamp"))

    def test_get_media_errors(self):
        code, status, _ = self.error_of(self.media.get_media, StreamName="rt-no-such-stream",
                                        StartSelector={"StartSelectorType": "EARLIEST"})
        self.assertEqual((code, status), ("ResourceNotFoundException", 404))
        code, status, _ = self.error_of(self.media.get_media, StreamName=self.STREAM,
                                        StartSelector={"StartSelectorType": "FRAGMENT_NUMBER",
                                                       "AfterFragmentNumber": "12345678901234567890"})
        self.assertEqual((code, status), ("InvalidArgumentException", 400))

    def test_get_media_connection_limit(self):
        readers = [GetMediaReader(self.server.port, {"StreamName": self.STREAM,
                                                     "StartSelector": {"StartSelectorType": "EARLIEST"}})
                   for _ in range(3)]
        for r in readers:
            r.start()
        for r in readers:
            self.assertTrue(r.wait_chunks(1, 10), f"GetMedia {r.status} {r.error_body!r} {r.error}")
        code, status, _ = self.error_of(self.media.get_media, StreamName=self.STREAM,
                                        StartSelector={"StartSelectorType": "EARLIEST"})
        self.assertEqual((code, status), ("ConnectionLimitExceededException", 400))
        for r in readers:
            r.join(30)
            self.assertTrue(r.clean_end, r.error)
            self.assertEqual(len(r.chunks), len(self.frags))
        # The slots are free again.
        self.assertEqual(len(self.get_media_numbers({"StartSelectorType": "EARLIEST"})), len(self.frags))

    # --- GetClip -----------------------------------------------------------------------------

    def test_get_clip_ffprobe(self):
        tcs = [f.timecode for f in self.frags]
        resp = self.archived.get_clip(StreamName=self.STREAM, ClipFragmentSelector={
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": datetime.datetime.fromtimestamp(tcs[0] // 1000, datetime.timezone.utc),
                               "EndTimestamp": datetime.datetime.fromtimestamp(tcs[-1] // 1000 + 1,
                                                                               datetime.timezone.utc)}})
        self.assertEqual(resp["ContentType"], "video/mp4")
        body = resp["Payload"].read()
        top = []
        pos = 0
        while pos + 8 <= len(body):
            size = int.from_bytes(body[pos:pos + 4], "big")
            top.append(body[pos + 4:pos + 8].decode("latin-1"))
            if size < 8:
                break
            pos += size
        self.assertEqual(pos, len(body), f"MP4 boxes do not add up: {top}")
        for box in ("ftyp", "moov", "mdat"):
            self.assertIn(box, top)
        self.assertNotIn("moof", top)
        probe = probe_bytes(body, self.tmp, "clip")
        self.check_probe(probe, "GetClip")
        self.assertEqual(min(probe["video"]), 0, "GetClip video timestamps must start at 0")

    # --- live tail ---------------------------------------------------------------------------

    def test_get_media_now_tails_live_put_media(self):
        stream = "rt-live"
        self.client("kinesisvideo").create_stream(StreamName=stream, DataRetentionInHours=2, MediaType="video/h264")
        reader = GetMediaReader(self.server.port, {"StreamName": stream, "StartSelector": {"StartSelectorType": "NOW"}})
        reader.start()
        time.sleep(0.5)  # the request is in; NOW counts fragments completing after it
        session = paced_put_media(self.server.port, stream, self.dump)
        reader.join(20)
        self.assertFalse(reader.is_alive(), "GetMedia NOW did not end after the upload")
        self.assertEqual(reader.status, 200, reader.error_body)
        self.assertTrue(reader.clean_end, reader.error)
        received = {a.number: a.t for a in session.ack_events("RECEIVED")}
        self.assertEqual(len(received), len(self.frags), session.log())
        self.assertEqual(len(session.ack_events("ERROR")), 0, session.log())
        got = {n: t for t, n, _ in reader.chunks}
        self.assertEqual([n for _, n, _ in reader.chunks], sorted(received, key=int), "chunks vs RECEIVED fragments")
        deltas = [(got[n] - received[n]) * 1000 for n in sorted(received, key=int)]
        print(f"\nGetMedia NOW: chunk arrival - RECEIVED ack per fragment (ms): {[f'{d:.1f}' for d in deltas]}; "
              f"p50 {statistics.median(deltas):.1f} max {max(deltas):.1f}")
        for d in deltas:
            self.assertLess(d, 1000.0)
        # Each chunk is whole and carries the live fragment's Cluster as sent.
        sent = mkv_scan.scan(session.sent_body).complete_fragments()
        for i, (_, n, doc) in enumerate(reader.chunks):
            d = describe_document(doc)
            self.assertEqual(dict(d["tags"][1]).get(CONT_TOKEN), n)
            self.assertEqual(d["clusters"], [sent[i].bytes_of(session.sent_body)], f"live chunk {i}")
        gap = reader.end_t - max(received.values())
        print(f"GetMedia NOW ended {gap:.2f} s after the last RECEIVED")
        self.assertGreaterEqual(gap, 2.0)
        self.assertLessEqual(gap, 6.0)


if __name__ == "__main__":
    unittest.main()
