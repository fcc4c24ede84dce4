"""Crash recovery: kvsd-testserver on one data dir, three streams ingesting concurrently, SIGKILL at a
random moment, restart on the same data dir. Every fragment for which a PERSISTED ACK was received
must be listed with the acknowledged number and byte-identical (sha256) cluster bytes; every
listed fragment must be intact; and the restarted server must accept new uploads on the streams.

KVSD_CRASH_ROUNDS (default 20) sets the number of kill/restart rounds; KVSD_CRASH_SEED fixes the
random kill moments (the seed is printed in failure messages).
"""

import hashlib
import os
import random
import shutil
import tempfile
import threading
import time
import unittest

import mkv_scan as m
from putmedia_client import (ACCESS_KEY, SECRET_KEY, H1Session, capture_path, create_stream, put_media_headers,
                             start_server, stored_fragments, upload)
from test_put_media import check_session

CAPTURES = ("realtime-h264", "kvssink-av", "offline-h265")  # all ABSOLUTE
SHIFT_MS = 60000  # each loop of a body moves its cluster timecodes this much further


class Feeder:
    """Feeds one stream: loops its capture body (timecodes shifted per loop), one PutMedia per loop,
    16 KiB pieces with small sleeps, until the connection dies. Records PERSISTED ACKs."""

    def __init__(self, port, stream, body, first_loop, expected_sha):
        self.port = port
        self.stream = stream
        self.body = body
        self.scan = m.scan(body)
        self.loop = first_loop
        self.expected_sha = expected_sha  # shared {(stream, timecode): sha256}
        self.persisted = []  # (timecode, number)
        self.sessions = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while True:
            shifted = m.with_timecodes(self.body, self.scan, self.loop * SHIFT_MS)
            frags = m.scan(shifted).complete_fragments()
            for f in frags:
                self.expected_sha[(self.stream, f.timecode)] = hashlib.sha256(f.bytes_of(shifted)).hexdigest()
            self.loop += 1
            try:
                s = H1Session(self.port, put_media_headers(self.stream, ACCESS_KEY, SECRET_KEY))
            except OSError:
                return
            self.sessions.append(s)
            try:
                s.wait_continue(2.0)
                ok = s.send_body(shifted, 16384, delay=0.005)
                if ok:
                    last = m.hold_timecode(frags)
                    s.finish(hold_until=lambda x: x.has_ack("PERSISTED", last) or x.has_ack("ERROR"))
                    s.wait_done(30)
            finally:
                s.wait_for(lambda x: x.closed, 0.1)
                s.close()
                self.persisted += [(a.timecode, a.number) for a in s.ack_events("PERSISTED")]
            if not s.done or s.ack_events("ERROR"):
                return


class CrashRecoveryTest(unittest.TestCase):
    def test_sigkill_during_concurrent_ingest(self):
        rounds = int(os.environ.get("KVSD_CRASH_ROUNDS", "20"))
        seed = int(os.environ.get("KVSD_CRASH_SEED", str(random.randrange(1 << 30))))
        rng = random.Random(seed)
        data_dir = tempfile.mkdtemp(prefix="kvsd-crash-")
        bodies = {c: m.load(capture_path(c)) for c in CAPTURES}
        streams = {c: f"crash-{c}" for c in CAPTURES}
        expected_sha = {}
        acked = {}  # (stream, timecode) -> number, over all rounds
        next_loop = {c: 0 for c in CAPTURES}  # timecode shifts never repeat on a stream
        started = time.monotonic()
        srv = None
        try:
            srv = start_server(data_dir=data_dir)
            for c in CAPTURES:
                create_stream(srv, streams[c], 2)
            for rnd in range(rounds):
                ctx = f"seed={seed} round={rnd}"
                feeders = [Feeder(srv.port, streams[c], bodies[c], next_loop[c], expected_sha) for c in CAPTURES]
                for f in feeders:
                    f.thread.start()
                delay = rng.uniform(0.5, 3.0)
                time.sleep(delay)
                srv.kill()
                for c, f in zip(CAPTURES, feeders):
                    f.thread.join(30)
                    next_loop[c] = f.loop
                    self.assertFalse(f.thread.is_alive(), f"feeder hung after the kill; {ctx}")
                    for tc, number in f.persisted:
                        key = (f.stream, tc)
                        self.assertFalse(key in acked, f"{key} PERSISTED twice; {ctx}")
                        acked[key] = number
                srv = start_server(data_dir=data_dir)
                self.verify(srv, streams.values(), acked, expected_sha, f"{ctx} kill after {delay:.2f}s")
            # The restarted server takes complete new uploads on every stream.
            for c in CAPTURES:
                body = m.with_timecodes(bodies[c], m.scan(bodies[c]), next_loop[c] * SHIFT_MS)
                expected = m.scan(body).complete_fragments()
                s = upload(srv, streams[c], body, hold_for=m.hold_timecode(expected))
                numbers = check_session(self, s, expected)
                for f in expected:
                    expected_sha[(streams[c], f.timecode)] = hashlib.sha256(f.bytes_of(body)).hexdigest()
                    acked[(streams[c], f.timecode)] = numbers[f.timecode]
            self.verify(srv, streams.values(), acked, expected_sha, f"seed={seed} after the final uploads")
            self.assertGreater(len(acked), 0, "nothing was PERSISTED in any round")
            rc = srv.stop()
            self.assertEqual(rc, 0, srv.log())
            srv = None
            print(f"crash recovery: {rounds} rounds, {len(acked)} PERSISTED fragments verified, "
                  f"{time.monotonic() - started:.1f}s, seed {seed}")
        finally:
            if srv is not None:
                srv.kill()
            shutil.rmtree(data_dir, ignore_errors=True)

    def verify(self, srv, streams, acked, expected_sha, ctx):
        for stream in streams:
            frs = stored_fragments(srv, stream)
            by_tc = {}
            for fr in frs:
                tc = fr["ClusterTimecode"]
                self.assertNotIn(tc, by_tc, f"{stream}: timecode {tc} stored twice; {ctx}")
                by_tc[tc] = fr
                want = expected_sha.get((stream, tc))
                self.assertIsNotNone(want, f"{stream}: unexpected stored timecode {tc}; {ctx}")
                self.assertEqual(fr["Sha256"], want, f"{stream}: stored fragment {tc} corrupt; {ctx}")
            numbers = [int(fr["FragmentNumber"]) for fr in frs]
            self.assertEqual(len(numbers), len(set(numbers)), f"{stream}: duplicate fragment numbers; {ctx}")
            for (s, tc), number in acked.items():
                if s != stream:
                    continue
                fr = by_tc.get(tc)
                self.assertIsNotNone(fr, f"{stream}: PERSISTED fragment {tc} #{number} lost; {ctx}")
                self.assertEqual(fr["FragmentNumber"], number, f"{stream}: fragment {tc}; {ctx}")


if __name__ == "__main__":
    unittest.main()
