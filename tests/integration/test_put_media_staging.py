"""Streaming appends end to end: a real kvsd (port 0, temp data dirs) ingests an ffmpeg-made 720p H.264
clip whose 1 s fragments are about 1.3 MB each, so the PutMedia handler hands every fragment to the
store in staged parts while it arrives (`ingest.stage_part_bytes`, set to 64 KiB here: the default,
256 KiB, is sized for cameras).

Checked: every fragment is acknowledged BUFFERING, RECEIVED, PERSISTED over HTTP/1.1 and HTTP/2;
`kvsd_ingest_staged_bytes_total` shows that most of the cluster bytes were staged (and none with
--ingest-stage-part-bytes 0); GetMediaForFragmentList returns the clusters byte-identical to the
input; a GetMedia NOW reader gets the live fragments (staged parts joined with the rest) unchanged;
two uploads of the clip racing acknowledge only stored fragment numbers; and an upload broken
off in the middle of a staged fragment, then replayed whole on a new
connection, leaves each fragment stored exactly once and intact, also after a clean restart and
after a SIGKILL restart on the same data dir.
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import mkv_scan
from putmedia_client import H1Session, put_media_headers, upload
from test_put_media import check_session
from test_read_media import (ACCESS_KEY, FRAGMENT_NUMBER, SECRET_KEY, GetMediaReader, boto_client, describe_document,
                             ms_of, split_documents, start_server)

STAGED = "kvsd_ingest_staged_bytes_total"
PART_BYTES = 64 * 1024  # ingest.stage_part_bytes of these servers
PART_ARGS = ("--ingest-stage-part-bytes", str(PART_BYTES))
START_MS = 1795700000000  # producer start of every upload (RELATIVE timecodes)
PIECE = 16384  # body piece size (one HTTP chunk / DATA frames each)

_body = None  # the clip as uploaded, made once per run by setUpModule
_tmp = None


def setUpModule():
    global _body, _tmp
    _tmp = tempfile.mkdtemp(prefix="kvsd-staging-")
    path = os.path.join(_tmp, "big.mkv")
    # testsrc2 at 720p with -qp 10: 1 s GOPs of about 1.3 MB, far above the part size.
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x720:rate=25", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10",
                    "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-f", "matroska",
                    path], check=True, timeout=120)
    _body = mkv_scan.load(path)


def tearDownModule():
    shutil.rmtree(_tmp, ignore_errors=True)


def metric_value(server, name):
    """The value of an unlabelled counter on GET /metrics (0 while it has no sample yet). Raises
    AssertionError if the metric is not registered at all."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    if f"# TYPE {name} counter" not in text:
        raise AssertionError(f"metric {name} is not registered:\n{text[:2000]}")
    m = re.search(rf"^{name}(?:\{{\}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def headers_for(stream, proto="h1"):
    return put_media_headers(stream, ACCESS_KEY, SECRET_KEY, "RELATIVE", START_MS, h2=(proto == "h2"))


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class StagingTestBase(unittest.TestCase):
    SERVER_EXTRA = PART_ARGS
    names = 0  # streams made so far (their names are unique within the run)

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(extra_args=cls.SERVER_EXTRA)

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        shutil.rmtree(cls.server.data_dir, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"

    def setUp(self):
        self.body = _body
        self.expected = mkv_scan.scan(self.body).complete_fragments()
        # The clip must make fragments big enough to stage (else these tests would prove nothing).
        self.assertEqual(len(self.expected), 5)
        for f in self.expected:
            self.assertGreater(f.end - f.start, 8 * PART_BYTES, f"fragment {f.timecode} too small to stage")
        self.cluster_bytes = sum(f.end - f.start for f in self.expected)

    def new_stream(self, server=None):
        StagingTestBase.names += 1
        name = f"stg-{self._testMethodName[5:40]}-{StagingTestBase.names}".replace("_", "-")
        control = boto_client(server or self.server, "kinesisvideo")
        try:
            control.create_stream(StreamName=name, DataRetentionInHours=2, MediaType="video/h264")
        finally:
            control.close()
        return name

    def put(self, stream, proto="h1", server=None):
        """One SDK-like PutMedia of the whole clip, holding the body end until the last PERSISTED.
        Returns {timecode: fragment number} after checking the ACK stream."""
        s = upload(server or self.server, stream, self.body, proto=proto, pieces=PIECE, timecode_type="RELATIVE",
                   start_ms=START_MS, hold_for=mkv_scan.hold_timecode(self.expected),
                   headers=headers_for(stream, proto))
        return check_session(self, s, self.expected)

    def assert_cluster(self, got, f, what):
        want = f.bytes_of(self.body)
        if got != want:
            self.fail(f"{what}: cluster of fragment {f.timecode} differs from the input: {len(got)} bytes vs "
                      f"{len(want)}, first difference at offset {first_difference(got, want)}")

    def check_archive(self, stream, numbers, server=None, what="archive"):
        """ListFragments holds each expected fragment exactly once under the acknowledged number
        ({timecode: number}), and GetMediaForFragmentList returns each cluster as it was sent."""
        archived = boto_client(server or self.server, "kinesis-video-archived-media")
        try:
            resp = archived.list_fragments(StreamName=stream)
            self.assertNotIn("NextToken", resp)
            listed = sorted(resp["Fragments"], key=lambda fr: ms_of(fr["ProducerTimestamp"]))
            got = [(ms_of(fr["ProducerTimestamp"]), fr["FragmentNumber"]) for fr in listed]
            want = [(START_MS + f.timecode, numbers[f.timecode]) for f in self.expected]
            self.assertEqual(got, want, f"{what}: ListFragments (producer timestamp, number)")
            # FragmentSizeInBytes is the stored Cluster bytes (docs/api-compat.md): staged parts + the rest.
            for fr, f in zip(listed, self.expected):
                self.assertEqual(fr["FragmentSizeInBytes"], f.end - f.start, f"{what}: size of {f.timecode}")
            wanted = [numbers[f.timecode] for f in self.expected]
            payload = archived.get_media_for_fragment_list(StreamName=stream, Fragments=wanted)["Payload"].read()
        finally:
            archived.close()
        docs = split_documents(payload)
        self.assertEqual(len(docs), len(self.expected), f"{what}: GetMediaForFragmentList documents")
        for doc, f in zip(docs, self.expected):
            d = describe_document(doc)
            self.assertEqual(dict(d["tags"][0]).get(FRAGMENT_NUMBER), numbers[f.timecode], what)
            self.assertEqual(len(d["clusters"]), 1, what)
            self.assert_cluster(d["clusters"][0], f, f"{what}: GetMediaForFragmentList")

    def assert_staged(self, delta, what):
        # Parts are cut from the cluster bytes only, and each fragment's last part is staged too.
        self.assertEqual(delta, self.cluster_bytes, f"{what}: staged bytes vs the cluster bytes")


class StagedIngestTest(StagingTestBase):
    """64 KiB parts: fragments are staged while they arrive."""

    def staged_round_trip(self, proto):
        stream = self.new_stream()
        before = metric_value(self.server, STAGED)
        numbers = self.put(stream, proto)
        self.assert_staged(metric_value(self.server, STAGED) - before, proto)
        self.check_archive(stream, numbers, what=proto)

    def test_big_fragments_staged_h1(self):
        self.staged_round_trip("h1")

    def test_big_fragments_staged_h2(self):
        self.staged_round_trip("h2")

    def test_sync_stage_metrics_count_rounds_files_and_fragments(self):
        # The store's sync stage reports each round: kvsd_store_sync_rounds_total, the files it
        # fdatasynced, and per round the time of those syncs and of the index write, and how
        # many fragments it answered (their sum is every fragment of the upload). Per fragment,
        # kvsd_ingest_store_seconds times RECEIVED to the store's answer, a part of
        # kvsd_ingest_persist_seconds (which ends when the upload's strand learns it).
        def scrape():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.server.port}/metrics", timeout=10) as resp:
                text = resp.read().decode()
            out = {}
            for name in ("kvsd_store_sync_rounds_total", "kvsd_store_segment_syncs_total",
                         "kvsd_store_segment_sync_seconds_count", "kvsd_store_index_sync_seconds_count",
                         "kvsd_store_sync_round_fragments_count", "kvsd_store_sync_round_fragments_sum",
                         "kvsd_ingest_store_seconds_count", "kvsd_ingest_store_seconds_sum",
                         "kvsd_ingest_persist_seconds_count", "kvsd_ingest_persist_seconds_sum"):
                m = re.search(rf"^{name}(?:\{{\}})? (\S+)$", text, re.M)
                out[name] = float(m.group(1)) if m else 0.0
            return out

        stream = self.new_stream()
        before = scrape()
        numbers = self.put(stream, "h1")
        after = scrape()
        d = {k: after[k] - before[k] for k in after}
        self.assertEqual(len(numbers), len(self.expected))
        self.assertGreaterEqual(d["kvsd_store_sync_rounds_total"], 1, d)
        self.assertEqual(d["kvsd_store_segment_sync_seconds_count"], d["kvsd_store_sync_rounds_total"], d)
        self.assertGreaterEqual(d["kvsd_store_sync_round_fragments_count"], 1, d)
        # every round that answered fragments synced their segment
        self.assertGreaterEqual(d["kvsd_store_segment_syncs_total"], d["kvsd_store_sync_round_fragments_count"], d)
        self.assertGreaterEqual(d["kvsd_store_index_sync_seconds_count"], 1, d)
        self.assertLessEqual(d["kvsd_store_index_sync_seconds_count"], d["kvsd_store_sync_rounds_total"], d)
        self.assertEqual(d["kvsd_store_sync_round_fragments_sum"], len(self.expected), d)
        self.assertLessEqual(d["kvsd_store_sync_round_fragments_count"], len(self.expected), d)
        self.assertEqual(d["kvsd_ingest_store_seconds_count"], len(self.expected), d)
        self.assertEqual(d["kvsd_ingest_persist_seconds_count"], len(self.expected), d)
        self.assertGreater(d["kvsd_ingest_store_seconds_sum"], 0, d)
        self.assertLessEqual(d["kvsd_ingest_store_seconds_sum"], d["kvsd_ingest_persist_seconds_sum"], d)

    def test_live_reader_gets_staged_fragments_whole(self):
        stream = self.new_stream()
        reader = GetMediaReader(self.server.port, {"StreamName": stream, "StartSelector": {"StartSelectorType": "NOW"}})
        reader.start()
        # The response head is sent once the reader is subscribed to the live feed.
        with reader.cond:
            reader.cond.wait_for(lambda: reader.status is not None or not reader.is_alive(), 10)
        self.assertEqual(reader.status, 200, f"{reader.error_body!r} {reader.error}")
        before = metric_value(self.server, STAGED)
        numbers = self.put(stream)
        self.assert_staged(metric_value(self.server, STAGED) - before, "live upload")
        reader.join(20)  # GetMedia ends by itself about 3 s after the last fragment
        self.assertFalse(reader.is_alive(), "GetMedia NOW did not end after the upload")
        self.assertTrue(reader.clean_end, reader.error)
        self.assertEqual(reader.leftover, 0, "GetMedia ended inside a chunk")
        self.assertEqual([n for _, n, _ in reader.chunks], [numbers[f.timecode] for f in self.expected])
        for (_, _, doc), f in zip(reader.chunks, self.expected):
            clusters = describe_document(doc)["clusters"]
            self.assertEqual(len(clusters), 1)
            self.assert_cluster(clusters[0], f, "GetMedia NOW")

    def test_racing_uploads_of_one_fragment_acknowledge_only_stored_numbers(self):
        # Two uploads of the same clip at once (a producer replaying on a second connection while
        # the first still runs): each fragment is stored once, and every PERSISTED of either
        # upload names a fragment that is stored, so the producer can read back what it was told.
        stream = self.new_stream()
        sessions = {}

        def go(k):
            sessions[k] = upload(self.server, stream, self.body, pieces=PIECE, timecode_type="RELATIVE",
                                 start_ms=START_MS, hold_for=mkv_scan.hold_timecode(self.expected),
                                 headers=headers_for(stream))

        threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(sessions), [0, 1], "an upload did not finish")
        archived = boto_client(self.server, "kinesis-video-archived-media")
        try:
            listed = archived.list_fragments(StreamName=stream)["Fragments"]
        finally:
            archived.close()
        self.assertEqual(len(listed), len(self.expected), "each fragment stored once")
        stored = {ms_of(fr["ProducerTimestamp"]) - START_MS: fr["FragmentNumber"] for fr in listed}
        for k, s in sorted(sessions.items()):
            self.assertEqual(s.ack_events("ERROR"), [], f"upload {k}")
            persisted = {a.timecode: a.number for a in s.ack_events("PERSISTED")}
            self.assertEqual(persisted, {f.timecode: stored[f.timecode] for f in self.expected}, f"upload {k}")
        self.check_archive(stream, stored, what="after racing uploads")

    def test_broken_off_upload_then_replay(self):
        data_dir = tempfile.mkdtemp(prefix="kvsd-staging-data-")
        server = start_server(data_dir=data_dir, extra_args=PART_ARGS)
        try:
            stream = self.new_stream(server)
            exp = self.expected
            big = exp[2]
            s = H1Session(server.port, headers_for(stream))
            try:
                self.assertTrue(s.wait_continue(2.0), s.log())
                # A fragment closes when the next Cluster starts: send the first piece of the big one.
                opened = big.start + PIECE
                self.assertTrue(s.send_body(self.body[:opened], PIECE), s.log())
                self.assertTrue(s.wait_for(lambda x: x.has_ack("PERSISTED", exp[1].timecode) or x.has_ack("ERROR"),
                                           30), "fragments before the cut not PERSISTED\n" + s.log())
                first = check_acks_so_far(self, s, exp[:2])
                # Fragment 1's parts were all staged before its RECEIVED; the big one holds less
                # than a part so far.
                before = metric_value(server, STAGED)
                half = big.start + (big.end - big.start) // 2
                self.assertGreater(half - big.start, 4 * PART_BYTES)
                self.assertTrue(s.send_body(self.body[opened:half - PIECE], PIECE), s.log())
                # Parts smaller than 1 MiB leave at a read 10 ms or more after the last part: a
                # last piece after a pause hands over what the burst left unstaged.
                time.sleep(0.05)
                self.assertTrue(s.send_body(self.body[half - PIECE:half], PIECE), s.log())
                # Wait until more than 128 KiB of the open fragment went to the store's lane.
                deadline = time.monotonic() + 10
                while metric_value(server, STAGED) - before <= 2 * PART_BYTES and time.monotonic() < deadline:
                    time.sleep(0.02)
                staged = metric_value(server, STAGED) - before
                self.assertGreater(staged, 2 * PART_BYTES, "the open fragment was not staged before the cut")
                self.assertTrue(s.wait_for(lambda x: x.has_ack("BUFFERING", big.timecode), 5), s.log())
                # Reset the connection (RST, not FIN) in the middle of the fragment.
                s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.sock.close()
            finally:
                s.close()
            server.wait_for_log(rf"putMedia {re.escape(stream)}: body ended abnormally", 10)
            self.assertFalse(s.has_ack("RECEIVED", big.timecode), s.log())

            # The producer replays the whole body on a new connection.
            numbers = self.replay(server, stream, first)
            self.check_archive(stream, numbers, server, "after the replay")

            rc = server.stop()
            self.assertEqual(rc, 0, server.log())
            server = start_server(data_dir=data_dir, extra_args=PART_ARGS)
            self.check_archive(stream, numbers, server, "after a clean restart")

            server.kill()
            server = start_server(data_dir=data_dir, extra_args=PART_ARGS)
            self.check_archive(stream, numbers, server, "after a SIGKILL restart")
        finally:
            if server.proc.poll() is None:
                server.stop()
            shutil.rmtree(data_dir, ignore_errors=True)

    def replay(self, server, stream, first):
        """Uploads the whole clip again; the fragments `first` ({timecode: number}) stored by the
        broken-off upload are acknowledged under their stored numbers. Returns {timecode: number}."""
        s = upload(server, stream, self.body, pieces=PIECE, timecode_type="RELATIVE", start_ms=START_MS,
                   hold_for=mkv_scan.hold_timecode(self.expected), headers=headers_for(stream))
        replays = list(first)
        numbers = check_session(self, s, self.expected, replays=replays)
        for tc in replays:
            self.assertEqual(numbers[tc], first[tc], f"replayed fragment {tc} got another number\n{s.log()}")
        return numbers


def check_acks_so_far(tc, s, frags):
    """The first fragments of a session still in progress got BUFFERING, RECEIVED, PERSISTED under
    one number each and no ERROR came; returns {timecode: number}."""
    out = {}
    tc.assertEqual(s.ack_events("ERROR"), [], s.log())
    for f in frags:
        group = [a for a in s.acks if a.timecode == f.timecode]
        tc.assertEqual([a.event for a in group], ["BUFFERING", "RECEIVED", "PERSISTED"], s.log())
        tc.assertEqual(len({a.number for a in group}), 1, s.log())
        out[f.timecode] = group[0].number
    return out


class WholeFragmentsTest(StagingTestBase):
    """--ingest-stage-part-bytes 0: fragments are only written whole, at their end."""

    SERVER_EXTRA = ("--ingest-stage-part-bytes", "0")

    def test_whole_fragments_only_h1(self):
        stream = self.new_stream()
        received = metric_value(self.server, "kvsd_ingest_bytes_total")
        numbers = self.put(stream)
        self.assertEqual(metric_value(self.server, "kvsd_ingest_bytes_total") - received, len(self.body))
        self.assertEqual(metric_value(self.server, STAGED), 0.0)
        self.check_archive(stream, numbers, what="whole fragments")


if __name__ == "__main__":
    unittest.main()
