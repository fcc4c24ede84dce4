"""PutMedia error paths against a real kvsd-testserver: every ERROR ACK id kvsd produces, provoked
by bodies built with mkv_scan (after good fragments that were PERSISTED first), checked for the
right ErrorId, a cleanly ended response, earlier fragments still stored byte for byte, and a second
stream ingesting concurrently that is unaffected. Plus the HTTP errors before the body (404, 400)
and truncated tails (body end or connection drop in the middle of a SimpleBlock).
"""

import hashlib
import threading
import time
import unittest

import mkv_scan as m
from putmedia_client import (ACCESS_KEY, SECRET_KEY, H1Session, capture_path, capture_request, control_client,
                             create_stream, put_media_headers, start_server, stored_fragments, test_get, upload)
from test_put_media import check_framing, check_session, check_stored

BASE = 1795600000000  # cluster timecodes of crafted bodies (ABSOLUTE, ms)
MAX_FRAGMENT_BYTES = 500000


def good_part(count=2, start=BASE, tracks=((1, 1, "V_MPEG4/ISO/AVC"),)):
    """Header + count SDK-like fragments each closed by an END_OF_FRAGMENT Tags element."""
    body = m.header(tracks)
    for i in range(count):
        body += m.cluster(start + i * 1000, tracks=[t[0] for t in tracks]) + m.eof_tags()
    return body


class PutMediaErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_server(extra_args=["--ingest-max-fragment-bytes", str(MAX_FRAGMENT_BYTES)])
        cls.names = 0

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM"

    def new_stream(self, server=None, retention=2):
        PutMediaErrorsTest.names += 1
        name = f"pme-{self._testMethodName[5:40]}-{PutMediaErrorsTest.names}".replace("_", "-")
        create_stream(server or self.server, name, retention)
        return name

    # --- a concurrent, unaffected upload --------------------------------------------------------
    def start_bystander(self):
        stream = self.new_stream()
        body = m.load(capture_path("kvssink-h264"))
        expected = m.scan(body).complete_fragments()
        tc_type, start_ms = capture_request("kvssink-h264")
        out = {}

        def run():
            out["s"] = upload(self.server, stream, body, pieces=16384, delay=0.004, timecode_type=tc_type,
                              start_ms=start_ms, hold_for=expected[-1].timecode)

        th = threading.Thread(target=run)
        th.start()
        return th, stream, body, expected, out

    def check_bystander(self, by):
        th, stream, body, expected, out = by
        th.join(120)
        self.assertFalse(th.is_alive(), "bystander upload hung")
        s = out["s"]
        numbers = check_session(self, s, expected)
        self.assertEqual(s.ack_events("ERROR"), [], s.log())
        check_stored(self, self.server, stream, body, expected, numbers)

    # --- the error upload -------------------------------------------------------------------------
    def error_upload(self, good, bad, error_id, bad_timecode=None, stream=None, server=None, on_persisted=None,
                     bystander=True):
        """Sends `good` (must contain complete EoF-closed fragments), waits for PERSISTED of its last
        fragment, then sends `bad`; expects one ERROR ACK with error_id, a cleanly ended response,
        and the good fragments stored byte for byte."""
        server = server or self.server
        stream = stream or self.new_stream(server)
        by = self.start_bystander() if bystander else None
        good_frags = m.scan(good).complete_fragments()
        s = H1Session(server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
        try:
            s.wait_continue(2.0)
            self.assertTrue(s.send_body(good, 4096), s.log())
            if good_frags:
                last = good_frags[-1].timecode
                self.assertTrue(s.wait_for(lambda x: x.has_ack("PERSISTED", last), 20),
                                "good fragments not PERSISTED\n" + s.log())
            if on_persisted:
                on_persisted(stream)
            s.send_body(bad, 4096)
            self.assertTrue(s.wait_for(lambda x: x.has_ack("ERROR"), 20), f"no ERROR ACK\n{s.log()}")
            s.finish()
            self.assertTrue(s.wait_done(20), "response did not end cleanly after the ERROR\n" + s.log())
        finally:
            s.close()
        msg = "\nACK log:\n" + s.log()
        errors = s.ack_events("ERROR")
        self.assertEqual(len(errors), 1, msg)
        err = errors[0]
        self.assertEqual(err.error_id, error_id, msg)
        self.assertIn(f'"ErrorId":{error_id}', err.raw, msg)
        if bad_timecode is not None:
            self.assertEqual(err.timecode, bad_timecode, "ERROR FragmentTimecode" + msg)
        self.assertIs(s.acks[-1], err, "ACKs after the ERROR" + msg)
        check_framing(self, s, msg)
        persisted = s.ack_events("PERSISTED")
        self.assertEqual([a.timecode for a in persisted], [f.timecode for f in good_frags], msg)
        if on_persisted is None:
            numbers = {a.timecode: a.number for a in persisted}
            check_stored(self, server, stream, good, good_frags, numbers)
        if by:
            self.check_bystander(by)
        return s, stream

    # --- ERROR ids ----------------------------------------------------------------------------------
    def test_4006_invalid_mkv(self):
        self.error_upload(good_part(), b"\x00" * 64 + b"not matroska at all" * 10, 4006)

    def test_4006_not_matroska_from_the_first_byte(self):
        self.error_upload(b"", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4, 4006, bystander=False)

    def test_4006_garbage_inside_cluster(self):
        tc = BASE + 5000
        self.error_upload(good_part(), m.cluster_open(tc) + m.simple_block(1, 0, True) + b"\x00" * 64, 4006)

    def test_4004_timecode_lower_than_previous(self):
        tc = BASE + 500  # the good part ends at BASE + 1000
        self.error_upload(good_part(), m.cluster(tc) + m.eof_tags(), 4004, bad_timecode=tc)

    def test_4005_more_than_three_tracks(self):
        tracks = [(n, 1 if n == 1 else 2, "V_MPEG4/ISO/AVC" if n == 1 else "A_AAC") for n in range(1, 5)]
        bad = m.element(m.TRACKS, b"".join(m.track_entry(*t) for t in tracks), width=4)
        bad += m.cluster(BASE + 5000, tracks=[1, 2, 3, 4]) + m.eof_tags()
        self.error_upload(good_part(), bad, 4005)

    def test_4005_in_first_header(self):
        tracks = [(n, 1 if n == 1 else 2, "V_MPEG4/ISO/AVC" if n == 1 else "A_AAC") for n in range(1, 5)]
        bad = m.header(tracks) + m.cluster(BASE, tracks=[1, 2, 3, 4]) + m.eof_tags()
        self.error_upload(b"", bad, 4005, bystander=False)

    def test_4010_block_track_not_in_tracks(self):
        tc = BASE + 5000
        bad = m.cluster_open(tc) + m.simple_block(1, 0, True) + m.simple_block(5, 40) + m.eof_tags()
        self.error_upload(good_part(), bad, 4010, bad_timecode=tc)

    def test_4001_fragment_too_big(self):
        tc = BASE + 5000
        bad = m.cluster_open(tc)
        for i in range(40):
            bad += m.simple_block(1, i * 40, i == 0, payload=bytes(20000))
        self.assertGreater(len(bad), MAX_FRAGMENT_BYTES)
        self.error_upload(good_part(), bad + m.eof_tags(), 4001, bad_timecode=tc)

    def test_4002_fragment_too_long(self):
        tc = BASE + 5000
        bad = m.cluster_open(tc) + m.simple_block(1, 0, True) + m.simple_block(1, 10000) + m.simple_block(1, 21000)
        self.error_upload(good_part(), bad + m.eof_tags(), 4002, bad_timecode=tc)

    def test_4009_more_than_ten_metadata_tags(self):
        tc = BASE + 5000
        bad = m.cluster(tc) + b"".join(m.tags([(f"KEY_{i}", f"value {i}")]) for i in range(11)) + m.eof_tags()
        self.error_upload(good_part(), bad, 4009, bad_timecode=tc)

    def test_ten_metadata_tags_are_fine(self):
        stream = self.new_stream()
        body = m.header() + m.cluster(BASE) + b"".join(m.tags([(f"KEY_{i}", f"v{i}")]) for i in range(10))
        body += m.eof_tags()
        expected = m.scan(body).complete_fragments()
        s = upload(self.server, stream, body, pieces=100, hold_for=BASE)
        numbers = check_session(self, s, expected)
        check_stored(self, self.server, stream, body, expected, numbers)

    def test_4008_stream_deleted_during_upload(self):
        def delete(stream):
            cp = control_client(self.server)
            arn = cp.describe_stream(StreamName=stream)["StreamInfo"]["StreamARN"]
            cp.delete_stream(StreamARN=arn)

        tc = BASE + 5000
        self.error_upload(good_part(), m.cluster(tc) + m.eof_tags(), 4008, on_persisted=delete)

    def test_5001_storage_failure(self):
        srv = start_server(extra_args=["--storage-min-free-bytes", "1000000000000000"])
        try:
            stream = self.new_stream(srv)
            body = good_part(1)
            s, _ = self.error_upload(b"", body, 5001, bad_timecode=BASE, stream=stream, server=srv, bystander=False)
            self.assertEqual(s.ack_events("PERSISTED"), [], s.log())
            self.assertEqual(stored_fragments(srv, stream), [])
        finally:
            rc = srv.stop()
            srv.__exit__(None, None, None)
        self.assertEqual(rc, 0)

    # --- HTTP errors before the body ------------------------------------------------------------------
    def request_error(self, headers, status, error_type):
        s = H1Session(self.server.port, headers)
        try:
            s.wait_continue(2.0)
            self.assertTrue(s.wait_for(lambda x: x.status is not None, 10), s.log())
            if not s.done:
                s.finish()
            s.wait_done(10)
        finally:
            s.close()
        self.assertEqual(s.status, status, s.log())
        self.assertEqual(s.headers.get("x-amzn-errortype", "").split(":")[0], error_type, s.headers)
        self.assertEqual(s.acks, [], s.log())
        self.assertNotIn(b"EventType", bytes(s.body), s.log())

    def test_404_missing_stream(self):
        self.request_error(put_media_headers("no-such-stream-xyz", ACCESS_KEY, SECRET_KEY), 404,
                           "ResourceNotFoundException")

    def test_404_missing_stream_arn(self):
        arn = "arn:aws:kinesisvideo:us-west-2:123456789012:stream/no-such-stream/1700000000000"
        self.request_error(put_media_headers(None, ACCESS_KEY, SECRET_KEY, stream_arn=arn), 404,
                           "ResourceNotFoundException")

    def test_400_bad_headers(self):
        stream = self.new_stream()
        cases = {
            "bad timecode type": dict(overrides={"x-amzn-fragment-timecode-type": "SOMETIMES"}),
            "bad producer start": dict(overrides={"x-amzn-producer-start-timestamp": "yesterday"}),
            "no stream": dict(omit=["x-amzn-stream-name"]),
            "bad stream name": dict(overrides={"x-amzn-stream-name": "bad name!"}),
        }
        for what, kw in cases.items():
            with self.subTest(what):
                self.request_error(put_media_headers(stream, ACCESS_KEY, SECRET_KEY, **kw), 400,
                                   "InvalidArgumentException")
        # The stream is still usable afterwards.
        self.assertEqual(test_get(self.server, f"/_test/fragments?stream={stream}")[0], 200)

    # --- truncated tails ---------------------------------------------------------------------------------
    def truncated_capture(self):
        body = m.load(capture_path("kvssink-h264"))  # fragments closed by the next Cluster, no EoF tags
        frags = m.scan(body).fragments
        fourth = frags[3]
        blk = fourth.blocks[len(fourth.blocks) // 2]
        cut = body[:blk.start + (blk.end - blk.start) // 2]
        sc = m.scan(cut)
        self.assertTrue(sc.truncated)
        self.assertEqual(len(sc.complete_fragments()), 3)
        return cut, sc.complete_fragments(), fourth.timecode

    def test_truncated_tail_body_end(self):
        cut, expected, fourth = self.truncated_capture()
        stream = self.new_stream()
        tc_type, start_ms = capture_request("kvssink-h264")
        s = upload(self.server, stream, cut, timecode_type=tc_type, start_ms=start_ms, hold_for=expected[-1].timecode)
        # The body ends inside the fourth fragment's last SimpleBlock: that fragment is not stored
        # and gets ERROR 4006 (a clean end comes between elements); the three before it are kept.
        numbers = check_session(self, s, expected, buffering_only=[fourth], final_error=(fourth, 4006))
        self.assertEqual(len(s.ack_events("ERROR")), 1, s.log())
        check_stored(self, self.server, stream, cut, expected, numbers)

    def test_truncated_tail_connection_drop(self):
        cut, expected, fourth = self.truncated_capture()
        stream = self.new_stream()
        tc_type, start_ms = capture_request("kvssink-h264")
        s = H1Session(self.server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY, tc_type, start_ms))
        try:
            s.wait_continue(2.0)
            self.assertTrue(s.send_body(cut, 16384), s.log())
            last = expected[-1].timecode
            self.assertTrue(s.wait_for(lambda x: x.has_ack("PERSISTED", last), 20), s.log())
        finally:
            s.abort()
        numbers = {a.timecode: a.number for a in s.ack_events("PERSISTED")}
        check_stored(self, self.server, stream, cut, expected, numbers)
        # The server is fine afterwards: the same stream takes a new upload (the rest of the capture).
        time.sleep(0.2)
        body = m.load(capture_path("kvssink-h264"))
        full = m.scan(body).complete_fragments()
        s2 = upload(self.server, stream, body, timecode_type=tc_type, start_ms=start_ms, hold_for=full[-1].timecode)
        check_session(self, s2, full, replays=[f.timecode for f in expected])
        frs = stored_fragments(self.server, stream)
        self.assertEqual([fr["ClusterTimecode"] for fr in frs], [f.timecode for f in full])
        for f, fr in zip(full, frs):
            self.assertEqual(fr["Sha256"], hashlib.sha256(f.bytes_of(body)).hexdigest())


if __name__ == "__main__":
    unittest.main()
