"""The end of a PutMedia session, against a real kvsd (KVSD_BIN) on port 0.

The contract (stream retention > 0): every fragment that got a RECEIVED ACK ends with exactly one
PERSISTED or one ERROR ACK, the ACKs come in order, and the response always ends, after the last
ACK, with the terminating chunk (HTTP/1.1) or END_STREAM (HTTP/2). The connection is drained
(lingering close) before it is closed, so no ACK is lost to a TCP reset, however the body ends: an
MKV error while the producer is still sending, broken chunk framing, a body cut inside an element,
or a producer that stops sending.
"""

import time
import unittest
import uuid

import boto3
import botocore.config

import mkv_scan as m
from putmedia_client import (ACCESS_KEY, REGION, SECRET_KEY, H1Session, H2Session, create_stream, put_media_headers,
                             KvsdTestCase)
from test_request_framing import recv_for

BASE = 1795800000000  # cluster timecodes (ABSOLUTE, ms)
# A Void element claiming 2 MiB: over [ingest] max_skipped_element_bytes (1 MiB), ERROR 4006.
HUGE_VOID = bytes.fromhex("EC0100000000200000")


def small_fragment(timecode, frames=3, frame_bytes=24):
    """A fragment of a few small frames, closed by an END_OF_FRAGMENT Tags element."""
    return m.cluster(timecode, frames=frames, step=30, payload_size=frame_bytes) + m.eof_tags()


def fragments_body(count, start=BASE, bad_before=None, bad=b"", **kw):
    body = m.header()
    for i in range(count):
        if i == bad_before:
            body += bad
        body += small_fragment(start + i * 100, **kw)
    return body


def archived_media(server):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, read_timeout=20)
    return boto3.client("kinesis-video-archived-media", endpoint_url=server.base_url(), region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=cfg)


def listed_numbers(server, stream):
    client = archived_media(server)
    try:
        out = []
        kw = {"StreamName": stream, "MaxResults": 1000}
        while True:
            r = client.list_fragments(**kw)
            out += [f["FragmentNumber"] for f in r["Fragments"]]
            if not r.get("NextToken"):
                return out
            kw = {"StreamName": stream, "NextToken": r["NextToken"]}
    finally:
        client.close()


def contract_violations(s, persisted_tcs, error_id, error_tc=None):
    """What breaks the end-of-session contract in session s (closed), as a list of short strings:
    the PERSISTED must be exactly persisted_tcs (in order), then exactly one ERROR with error_id
    (for fragment error_tc when given) as the last ACK, every RECEIVED fragment settled once, each
    fragment's ACKs in order, and the response ended cleanly (terminating chunk / END_STREAM)."""
    out = []
    if s.status != 200:
        out.append(f"status {s.status}")
    if s.parse_errors:
        out.append(f"unparsable ACKs {s.parse_errors[:3]}")
    acks = [a for a in s.acks if a.event != "IDLE"]
    errors = [a for a in acks if a.event == "ERROR"]
    persisted = [a.timecode for a in acks if a.event == "PERSISTED"]
    if [e.error_id for e in errors] != [error_id]:
        out.append(f"ERROR ACKs {[e.error_id for e in errors]} (want [{error_id}])")
    elif acks[-1] is not errors[0]:
        out.append(f"{len(acks) - 1 - acks.index(errors[0])} ACKs after the ERROR")
    elif error_tc is not None and errors[0].timecode != error_tc:
        out.append(f"ERROR for fragment {errors[0].timecode} (want {error_tc})")
    if persisted != list(persisted_tcs):
        out.append(f"{len(persisted)} PERSISTED (want {len(persisted_tcs)})")
    for a in acks:
        if a.event == "RECEIVED":
            settled = [b for b in acks if b.timecode == a.timecode and b.event in ("PERSISTED", "ERROR")]
            if len(settled) != 1:
                out.append(f"RECEIVED fragment {a.timecode} settled by {len(settled)} ACKs")
                break
    order = {"BUFFERING": 0, "RECEIVED": 1, "PERSISTED": 2}
    last_kind = {}
    for a in acks:
        if a.event in order and a.timecode is not None:
            if order[a.event] <= last_kind.get(a.timecode, -1):
                out.append(f"{a.event} of {a.timecode} out of order")
                break
            last_kind[a.timecode] = order[a.event]
    # (HTTP/2: an RST_STREAM NO_ERROR after END_STREAM, telling the client to stop sending, is fine.)
    if not s.done:
        out.append(f"response not ended cleanly (reset={s.reset}, reader_error={s.reader_error})")
    return out


class PutMediaEndTest(KvsdTestCase):

    def new_stream(self, server=None):
        name = f"pme-{uuid.uuid4().hex[:10]}"
        create_stream(server or self.server, name)
        return name

    # --- an MKV error while the producer is still sending -------------------------------------------
    def unpaced_error_run(self, proto):
        """One 300-fragment upload with the huge Void before fragment 100, sent as fast as the
        socket takes it (the session's reader thread reads the ACKs meanwhile). Returns the list of
        contract violations (empty when the run is fine)."""
        stream = self.new_stream()
        # 5 frames of 2 KB: ~10 KB a fragment, 3 MB a body, most of it still coming when the
        # server stops reading at the bad element.
        body = fragments_body(300, bad_before=99, bad=HUGE_VOID, frames=5, frame_bytes=2000)
        good = [BASE + i * 100 for i in range(99)]
        hdrs = put_media_headers(stream, ACCESS_KEY, SECRET_KEY, h2=(proto == "h2"))
        s = H2Session(self.server.port, hdrs) if proto == "h2" else H1Session(self.server.port, hdrs)
        try:
            if proto == "h1":
                s.wait_continue(2.0)
            if s.send_body(body, 16384, stop_on_error=False):
                s.finish()
            s.wait_done(30)
        finally:
            s.close()
        bad = contract_violations(s, good, 4006)
        received = {a.number for a in s.acks if a.event == "RECEIVED" and a.timecode in good}
        listed = listed_numbers(self.server, stream)
        if len(listed) != 99 or set(listed) != received:
            bad.append(f"ListFragments lists {len(listed)} fragments (want the 99 acknowledged before the error)")
        return bad

    def test_error_acks_not_lost_unpaced_h1(self):
        """20 unpaced chunked HTTP/1.1 uploads of 300 small fragments with a bad element (a Void
        claiming 2 MiB) before fragment 100: every run gets a PERSISTED for each of the 99
        fragments before it, then ERROR 4006 as the last ACK, then the terminating chunk, and
        ListFragments lists exactly those 99. (Before: 3 of 20 runs lost their ERROR, and runs got
        only 17-67 PERSISTED: the server closed with unread body bytes and the reset dropped ACKs.)"""
        failed = {}
        for run in range(20):
            bad = self.unpaced_error_run("h1")
            if bad:
                failed[run] = bad
        if failed:
            self.fail(f"{len(failed)} of 20 runs broke the contract:\n" +
                      "\n".join(f"  run {r}: {'; '.join(v)}" for r, v in failed.items()))

    def test_error_acks_not_lost_unpaced_h2(self):
        """The same over HTTP/2 (h2c), 4 runs: PERSISTED for the 99, ERROR 4006 last, END_STREAM
        after it (no RST_STREAM), ListFragments lists the 99."""
        failed = {}
        for run in range(4):
            bad = self.unpaced_error_run("h2")
            if bad:
                failed[run] = bad
        if failed:
            self.fail(f"{len(failed)} of 4 runs broke the contract:\n" +
                      "\n".join(f"  run {r}: {'; '.join(v)}" for r, v in failed.items()))

    # --- broken framing and cut bodies --------------------------------------------------------------
    def test_broken_chunk_framing_gets_error_4000(self):
        """After 3 good fragments (RECEIVED) the chunked body goes on with `zz\\r\\n`, which is not
        a chunk size: the producer gets PERSISTED for the 3, then ERROR 4000 as the last ACK, then
        the terminating chunk, and the server closes. (Before: 200 with the ACKs and no ERROR, the
        response never ended.)"""
        stream = self.new_stream()
        s = H1Session(self.server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
        try:
            s.wait_continue(2.0)
            self.assertTrue(s.send(m.header()), s.log())
            tcs = [BASE + i * 100 for i in range(3)]
            for tc in tcs:
                self.assertTrue(s.send(small_fragment(tc)), s.log())
            self.assertTrue(s.wait_for(lambda x: x.has_ack("RECEIVED", tcs[-1]), 10), s.log())
            with s.wlock:
                s.io.sendall(b"zz\r\n")
            s.wait_for(lambda x: x.done or x.closed, 10)
            _, how = recv_for(s.sock, 5) if s.done else (b"", "eof" if s.closed else "open")
        finally:
            s.close()
        self.assertEqual(contract_violations(s, tcs, 4000), [], "\nACK log:\n" + s.log())
        self.assertIn(how, ("eof", "reset"), "the server did not close the connection\n" + s.log())

    def test_body_cut_inside_simple_block_gets_error_4006(self):
        """A chunked body that ends properly (`0\\r\\n\\r\\n`) but whose MKV data stops in the
        middle of a SimpleBlock of the 4th fragment: PERSISTED for the 3 complete fragments, then
        ERROR 4006 for the cut fragment (its FragmentTimecode) as the last ACK, then the
        terminating chunk; ListFragments lists the 3."""
        stream = self.new_stream()
        tcs = [BASE + i * 100 for i in range(3)]
        fourth = BASE + 300
        body = fragments_body(3) + m.cluster_open(fourth) + m.simple_block(1, 0, True)
        block = m.simple_block(1, 30, payload=bytes(2000))
        body += block[:len(block) // 2]
        sc = m.scan(body)
        self.assertTrue(sc.truncated)
        self.assertEqual([f.timecode for f in sc.complete_fragments()], tcs)
        s = H1Session(self.server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
        try:
            s.wait_continue(2.0)
            self.assertTrue(s.send_body(body, 1000), s.log())
            s.finish()
            s.wait_done(15)
        finally:
            s.close()
        self.assertEqual(contract_violations(s, tcs, 4006, error_tc=fourth), [], "\nACK log:\n" + s.log())
        persisted = {a.number for a in s.ack_events("PERSISTED")}
        self.assertEqual(set(listed_numbers(self.server, stream)), persisted)


class StalledUploadTest(KvsdTestCase):
    KVSD_ARGS = ("--timeouts-body-stall-seconds", "2")

    def stalled(self, proto):
        stream = f"stall-{proto}-{uuid.uuid4().hex[:8]}"
        create_stream(self.server, stream)
        tcs = [BASE, BASE + 100]
        hdrs = put_media_headers(stream, ACCESS_KEY, SECRET_KEY, h2=(proto == "h2"))
        s = H2Session(self.server.port, hdrs) if proto == "h2" else H1Session(self.server.port, hdrs)
        try:
            if proto == "h1":
                s.wait_continue(2.0)
            self.assertTrue(s.send(fragments_body(2)), s.log())
            last_sent = time.monotonic()
            # The producer stops sending and keeps the connection open.
            got = s.wait_for(lambda x: x.has_ack("ERROR") and (x.done or x.closed), 10)
            how = None
            if proto == "h1" and s.done:
                _, how = recv_for(s.sock, 5)
        finally:
            s.close()
        msg = "\nACK log:\n" + s.log()
        self.assertTrue(got, "no ERROR and response end within 10 s of the stall" + msg)
        self.assertEqual(contract_violations(s, tcs, 4000), [], msg)
        err = s.ack_events("ERROR")[0]
        self.assertGreaterEqual(err.t - last_sent, 1.5, "ERROR before the stall timeout" + msg)
        self.assertLessEqual(err.t - last_sent, 5.0, msg)
        if proto == "h1":
            self.assertIn(how, ("eof", "reset"), "the server did not close the connection" + msg)

    def test_stalled_upload_h1(self):
        """--timeouts-body-stall-seconds 2: a producer that sends the header and 2 fragments, then
        nothing (socket open), gets PERSISTED for both, then ERROR 4000 (2-5 s after its last byte)
        as the last ACK, then the terminating chunk, and the server closes. (Before: the connection
        was closed without an ERROR or the terminating chunk.)"""
        self.stalled("h1")

    def test_stalled_upload_h2(self):
        """The same over HTTP/2 (h2c): PERSISTED for both, ERROR 4000, then END_STREAM on the
        stream, not an RST_STREAM in place of the ERROR."""
        self.stalled("h2")


if __name__ == "__main__":
    unittest.main()
