"""PutMedia end to end against a real kvsd-testserver on port 0, driven by an SDK-like client.

Every captured stock-SDK body is ingested over HTTP/1.1 (some over HTTP/2) in the SDK's piece
sizes, holding the end of the body until the last PERSISTED like the SDK. The expected fragments
come from mkv_scan (independent of kvsd); the test asserts the exact ACK sequence, the ACK framing
(one ACK per chunk, < 1024 bytes), that the response completes after the body, and that what
/_test/fragments reports (timecodes, sha256 of the stored cluster bytes, tracks, metadata,
producer timestamps) matches. Also: reconnect replay, rotation overlap, IDLE, ffmpeg-made H.264 and
H.265 streams, and a retention-0 stream.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import mkv_scan
from putmedia_client import (ACCESS_KEY, SECRET_KEY, H1Session, H2Session, capture_chunk_sizes, capture_path,
                             capture_request, create_stream, put_media_headers, start_server, stored_fragment_bytes,
                             stored_fragments, upload)

BASE_KINDS = ("BUFFERING", "RECEIVED", "PERSISTED")


def check_framing(tc, s, msg, one_per_frame=None):
    """Each HTTP chunk / DATA frame is < 1024 bytes (the SDK drops bigger writes) and holds whole
    ACK lines; with one_per_frame (default: HTTP/1.1 sessions) exactly one."""
    if one_per_frame is None:
        one_per_frame = not isinstance(s, H2Session)
    for _, c in s.chunks:
        tc.assertLess(len(c), 1024, "chunk of 1024 bytes or more" + msg)
        tc.assertTrue(c.endswith(b"\n"), f"chunk {c!r} does not end an ACK line" + msg)
        if one_per_frame:
            tc.assertEqual(c.count(b"\n"), 1, f"chunk {c!r} is not exactly one ACK line" + msg)


def check_session(tc, s, expected, persisted=True, replays=(), buffering_only=(), final_error=None):
    """Asserts the ACK stream of a completed session against the expected fragments (in order).
    replays: timecodes of fragments the server already stored (their numbers are checked by the
    caller). buffering_only: timecodes (after the expected ones) that may get only BUFFERING.
    final_error: (timecode, ErrorId) of the one ERROR that must end the stream, if any.
    Returns {timecode: number of its PERSISTED (or RECEIVED when not persisted)}."""
    msg = "\nACK log:\n" + s.log()
    tc.assertEqual(s.status, 200, msg)
    tc.assertTrue(s.done, "the response did not complete" + msg)
    tc.assertEqual(s.parse_errors, [], msg)
    tc.assertFalse(s.hold_timed_out, "the awaited PERSISTED did not come before the body end" + msg)
    check_framing(tc, s, msg)
    acks = [a for a in s.acks if a.event != "IDLE"]
    if final_error is not None:
        tc.assertTrue(acks and acks[-1].event == "ERROR", "the stream does not end with an ERROR" + msg)
        tc.assertEqual((acks[-1].timecode, acks[-1].error_id), tuple(final_error), msg)
        acks = acks[:-1]
    kinds = BASE_KINDS if persisted else BASE_KINDS[:2]
    tcs = [f.timecode for f in expected]
    for k in kinds:
        want = tcs + list(buffering_only) if k == "BUFFERING" else tcs
        tc.assertEqual([a.timecode for a in acks if a.event == k], want, f"{k} timecodes" + msg)
    tc.assertEqual([a for a in acks if a.event not in kinds], [], "unexpected ACK kinds" + msg)
    numbers = {}
    last_received_idx = -1
    prev_number = -1
    for f in expected:
        idx = [i for i, a in enumerate(acks) if a.timecode == f.timecode]
        group = [acks[i] for i in idx]
        tc.assertEqual([a.event for a in group], list(kinds), f"ACK order of fragment {f.timecode}" + msg)
        tc.assertGreater(idx[0], last_received_idx, f"BUFFERING of {f.timecode} before RECEIVED of the previous" + msg)
        last_received_idx = idx[1]
        for a in group:
            tc.assertTrue(isinstance(a.number, str) and a.number.isdigit(), f"FragmentNumber {a.number!r}" + msg)
            tc.assertIsInstance(a.timecode, int, msg)
        if f.timecode not in replays:
            tc.assertEqual(len({a.number for a in group}), 1, f"fragment {f.timecode} has several numbers" + msg)
            tc.assertGreater(int(group[0].number), prev_number, "fragment numbers not increasing" + msg)
            prev_number = int(group[0].number)
        numbers[f.timecode] = group[-1].number
    if persisted and s.body_end_t is not None:
        tc.assertGreaterEqual(s.done_t, s.body_end_t, "response completed before the body ended" + msg)
    return numbers


def check_stored(tc, server, stream, body, expected, numbers, tc_type="ABSOLUTE", start_ms=0, scale=1000000,
                 check_metadata=True, others=0):
    """Asserts the stored fragments of `stream` are exactly `expected` (cut from `body`), numbered
    as acknowledged. others: stored fragments from other uploads expected before/after (ignored)."""
    frs = stored_fragments(server, stream)
    by_tc = {fr["ClusterTimecode"]: fr for fr in frs}
    tc.assertEqual(len(frs), len(expected) + others, f"stored {[fr['ClusterTimecode'] for fr in frs]}")
    tc.assertEqual(len(by_tc), len(frs), "two stored fragments share a cluster timecode")
    pts = [fr["ProducerTimestampMs"] for fr in frs]
    tc.assertEqual(pts, sorted(pts), "listing not in producer-timestamp order")
    for f in expected:
        fr = by_tc.get(f.timecode)
        tc.assertIsNotNone(fr, f"fragment {f.timecode} not stored; stored: {sorted(by_tc)}")
        data = f.bytes_of(body)
        ctx = f"fragment {f.timecode}: {fr}"
        tc.assertEqual(fr["Sha256"], hashlib.sha256(data).hexdigest(), "stored cluster bytes differ; " + ctx)
        tc.assertEqual(fr["SizeBytes"], len(data), ctx)
        if numbers is not None:
            tc.assertEqual(fr["FragmentNumber"], numbers[f.timecode], ctx)
        tc.assertEqual(fr["ProducerTimestampMs"], mkv_scan.producer_timestamp_ms(f.timecode, scale, tc_type, start_ms),
                       ctx)
        tracks = {t["TrackNumber"]: (t["Frames"], t["KeyFrames"]) for t in fr["Tracks"]}
        tc.assertEqual(tracks, f.tracks(), ctx)
        if check_metadata:
            tc.assertEqual([tuple(m) for m in fr["Metadata"]], f.metadata, ctx)
    return frs


class PutMediaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_server(https=True)
        cls.tmp = tempfile.mkdtemp(prefix="kvsd-pm-")
        cls.names = 0

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"

    def new_stream(self, retention=2):
        PutMediaTest.names += 1
        name = f"pm-{self._testMethodName[5:40]}-{PutMediaTest.names}".replace("_", "-")
        create_stream(self.server, name, retention)
        return name

    def ingest(self, body, proto="h1", pieces=16384, tc_type="ABSOLUTE", start_ms=None, delay=0.0, tls=False,
               check_metadata=True, stream=None):
        sc = mkv_scan.scan(body)
        expected = sc.complete_fragments()
        self.assertGreater(len(expected), 0)
        stream = stream or self.new_stream()
        s = upload(self.server, stream, body, proto=proto, pieces=pieces, timecode_type=tc_type, start_ms=start_ms,
                   hold_for=mkv_scan.hold_timecode(expected), delay=delay, tls=tls)
        numbers = check_session(self, s, expected)
        check_stored(self, self.server, stream, body, expected, numbers, tc_type, start_ms or 0, sc.timecode_scale,
                     check_metadata)
        return stream, s, numbers, expected

    def ingest_capture(self, name, proto="h1", pieces=16384, n=4, tls=False):
        body = mkv_scan.load(capture_path(name, n))
        tc_type, start_ms = capture_request(name, n)
        stream, s, numbers, expected = self.ingest(body, proto, pieces, tc_type, start_ms, tls=tls)
        # The read-back route returns exactly the bytes whose hash the listing reports.
        first = expected[0]
        self.assertEqual(stored_fragment_bytes(self.server, stream, numbers[first.timecode]), first.bytes_of(body))
        return stream

    # --- the stock SDK captures ------------------------------------------------------------------
    def test_realtime_h264_sdk_chunks_h1(self):
        self.ingest_capture("realtime-h264", pieces=capture_chunk_sizes("realtime-h264"))

    def test_realtime_h264_h2(self):
        self.ingest_capture("realtime-h264", proto="h2")

    def test_realtime_h264_h1_tls(self):
        self.ingest_capture("realtime-h264", pieces=capture_chunk_sizes("realtime-h264"), tls=True)

    def test_h2_one_ack_per_data_frame(self):
        # The contract: each ACK is its own DATA frame on HTTP/2, as it is its own chunk on HTTP/1.1.
        body = mkv_scan.load(capture_path("kvssink-h264"))
        expected = mkv_scan.scan(body).complete_fragments()
        tc_type, start_ms = capture_request("kvssink-h264")
        s = upload(self.server, self.new_stream(), body, proto="h2", timecode_type=tc_type, start_ms=start_ms,
                   hold_for=expected[-1].timecode)
        check_session(self, s, expected)
        check_framing(self, s, "\nACK log:\n" + s.log(), one_per_frame=True)

    def test_h2_tls_one_ack_per_record(self):
        # The stock SDK's ACK parser handles one complete ACK per curl receive callback, and curl
        # hands over what one TLS record held: every ACK must end a record of its own, also when a
        # fast (offline) upload makes the store persist many fragments in one group commit.
        body = mkv_scan.load(capture_path("offline-h265"))
        expected = mkv_scan.scan(body).complete_fragments()
        self.assertGreater(len(expected), 3)
        tc_type, start_ms = capture_request("offline-h265")
        s = upload(self.server, self.new_stream(), body, proto="h2", pieces=len(body), tls=True,
                   timecode_type=tc_type, start_ms=start_ms, hold_for=expected[-1].timecode)
        check_session(self, s, expected)
        self.assertEqual(len([a for a in s.acks if a.event != "IDLE"]), 3 * len(expected), s.log())
        self.assertEqual(sum(s.acks_per_read), len(s.acks))
        self.assertLessEqual(max(s.acks_per_read), 1, f"ACKs per TLS read: {s.acks_per_read}\n{s.log()}")

    def test_realtime_h264_h2_tls(self):
        self.ingest_capture("realtime-h264", proto="h2", tls=True)

    def test_audio_only_relative_h1(self):
        self.ingest_capture("audio-only-relative")

    def test_audio_video_relative_h1(self):
        self.ingest_capture("audio-video-relative")

    def test_audio_video_relative_h2(self):
        self.ingest_capture("audio-video-relative", proto="h2", pieces=65524)

    def test_kvssink_av_h1(self):
        self.ingest_capture("kvssink-av")

    def test_kvssink_h264_h1(self):
        self.ingest_capture("kvssink-h264", pieces=4096)

    def test_offline_h265_h1(self):
        self.ingest_capture("offline-h265", pieces=1000)

    def test_reconnect_replay_05_alone_h1(self):
        self.ingest_capture("reconnect-replay", n=5)

    def test_reconnect_replay_04_then_05(self):
        stream = self.new_stream()
        b4 = mkv_scan.load(capture_path("reconnect-replay", 4))
        b5 = mkv_scan.load(capture_path("reconnect-replay", 5))
        e4 = mkv_scan.scan(b4).complete_fragments()
        e5 = mkv_scan.scan(b5).complete_fragments()
        tc4 = {f.timecode for f in e4}
        replays = [f.timecode for f in e5 if f.timecode in tc4]
        self.assertEqual(len(replays), 3, "capture changed?")
        t4, st4 = capture_request("reconnect-replay", 4)
        # 04 is a session the SDK reset: its last fragment ends with the body (no END_OF_FRAGMENT).
        self.assertEqual(e4[-1].closed_by, "end-of-body")
        s4 = upload(self.server, stream, b4, timecode_type=t4, start_ms=st4,
                    hold_for=mkv_scan.hold_timecode(e4))
        n4 = check_session(self, s4, e4)
        t5, st5 = capture_request("reconnect-replay", 5)
        s5 = upload(self.server, stream, b5, pieces=capture_chunk_sizes("realtime-h264"), timecode_type=t5,
                    start_ms=st5, hold_for=mkv_scan.hold_timecode(e5))
        n5 = check_session(self, s5, e5, replays=replays)
        for t in replays:
            self.assertEqual(n5[t], n4[t], f"replayed fragment {t} PERSISTED with another number\n{s5.log()}")
        new = [f for f in e5 if f.timecode not in tc4]
        self.assertGreater(min(int(n5[f.timecode]) for f in new), max(int(n) for n in n4.values()))
        # 04's last fragment was cut short by the reset (after a whole block, so it looked complete
        # and was PERSISTED); 05 replays it whole. The whole copy, which begins with every byte that
        # was acknowledged, replaces it under the same number; the other replays change nothing.
        cut = e4[-1]
        whole = next(f for f in e5 if f.timecode == cut.timecode)
        cut_bytes, whole_bytes = cut.bytes_of(b4), whole.bytes_of(b5)
        self.assertGreater(len(whole_bytes), len(cut_bytes), "capture changed?")
        self.assertTrue(whole_bytes.startswith(cut_bytes), "capture changed?")
        frs = check_stored(self, self.server, stream, b4, e4[:-1], n4, others=len(new) + 1)
        check_stored(self, self.server, stream, b5, new + [whole], n5, others=len(e4) - 1)
        self.assertEqual(stored_fragment_bytes(self.server, stream, n4[cut.timecode]), whole_bytes)
        pts = [fr["ProducerTimestampMs"] for fr in frs]
        self.assertEqual(len(pts), len(set(pts)), f"duplicate producer timestamps stored: {pts}")

    # --- sessions -----------------------------------------------------------------------------------
    def test_rotation_second_session_idles_while_first_streams(self):
        stream = self.new_stream()
        body = mkv_scan.load(capture_path("realtime-h264"))
        sc = mkv_scan.scan(body)
        expected = sc.complete_fragments()
        # The second session continues the stream: the same clusters 60 s later.
        body2 = mkv_scan.with_timecodes(body, sc, 60000)
        expected2 = mkv_scan.scan(body2).complete_fragments()
        result = {}

        def first():
            result["a"] = upload(self.server, stream, body, pieces=capture_chunk_sizes("realtime-h264"), delay=0.01,
                                 hold_for=expected[-1].timecode)

        th = threading.Thread(target=first)
        th.start()
        time.sleep(0.5)
        hdrs = put_media_headers(stream, ACCESS_KEY, SECRET_KEY)
        b = H1Session(self.server.port, hdrs)
        try:
            self.assertTrue(b.wait_continue(2.0), b.log())
            time.sleep(3.0)  # headers only, no body, while the first session streams
            self.assertFalse(b.closed, "second session closed while idle\n" + b.log())
            th.join(60)
            self.assertFalse(th.is_alive())
            a = result["a"]
            b.send_body(body2, 16384)
            b.finish(hold_until=lambda x: x.has_ack("PERSISTED", expected2[-1].timecode) or x.has_ack("ERROR"))
            b.wait_done(60)
        finally:
            b.close()
        na = check_session(self, a, expected)
        nb = check_session(self, b, expected2)
        self.assertGreater(min(int(n) for n in nb.values()), max(int(n) for n in na.values()))
        check_stored(self, self.server, stream, body, expected, na, others=len(expected2))
        check_stored(self, self.server, stream, body2, expected2, nb, others=len(expected))

    def test_idle_ack_when_no_body(self):
        stream = self.new_stream()
        s = H1Session(self.server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
        try:
            self.assertTrue(s.wait_continue(2.0), "no 100 Continue\n" + s.log())
            t0 = time.monotonic()
            self.assertTrue(s.wait_for(lambda x: x.status is not None, 2.0), "no 200 before the body\n" + s.log())
            self.assertEqual(s.status, 200, s.log())
            self.assertTrue(s.wait_for(lambda x: x.has_ack("IDLE"), 8.0), "no IDLE ACK\n" + s.log())
            idle = s.ack_events("IDLE")[0]
            self.assertGreaterEqual(idle.t - t0, 1.5, "IDLE sent too early\n" + s.log())
            self.assertEqual(s.chunks[idle.chunk][1], b'{"EventType":"IDLE"}\n', s.log())
            s.finish()
            self.assertTrue(s.wait_done(10), "response not completed after an empty body\n" + s.log())
            self.assertEqual([a.event for a in s.acks if a.event != "IDLE"], [], s.log())
        finally:
            s.close()

    def test_retention_zero_no_persisted(self):
        stream = self.new_stream(retention=0)
        body = mkv_scan.load(capture_path("kvssink-h264"))
        expected = mkv_scan.scan(body).complete_fragments()
        s = upload(self.server, stream, body, hold_for=None)
        check_session(self, s, expected, persisted=False)
        self.assertEqual(s.ack_events("PERSISTED"), [])

    # --- ffmpeg-made streams ------------------------------------------------------------------------
    def ffmpeg_body(self, codec):
        if not shutil.which("ffmpeg"):
            self.skipTest("ffmpeg not installed")
        out = os.path.join(self.tmp, f"{codec}.mkv")
        if not os.path.exists(out):
            extra = ["-x265-params", "log-level=error"] if codec == "libx265" else []
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                            "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine", "-t", "6", "-c:v", codec]
                           + extra + ["-g", "25", "-c:a", "aac", "-f", "matroska", out], check=True, timeout=120)
        return mkv_scan.load(out)

    def ingest_ffmpeg(self, codec, proto):
        body = self.ffmpeg_body(codec)
        start_ms = 1795600000000
        _, s, _, expected = self.ingest(body, proto=proto, tc_type="RELATIVE", start_ms=start_ms)
        self.assertGreaterEqual(len(expected), 5)
        self.assertEqual(len(s.ack_events("PERSISTED")), len(expected))

    def test_ffmpeg_h264_h1(self):
        self.ingest_ffmpeg("libx264", "h1")

    def test_ffmpeg_h264_h2(self):
        self.ingest_ffmpeg("libx264", "h2")

    def test_ffmpeg_h265_h1(self):
        self.ingest_ffmpeg("libx265", "h1")

    def test_ffmpeg_h265_h2(self):
        self.ingest_ffmpeg("libx265", "h2")


if __name__ == "__main__":
    unittest.main()
