"""ACK delivery in bursts: the stock offline C sample, many runs in a row, over HTTPS with h2 and
over HTTPS with HTTP/1.1 only.

kvsVideoOnlyOfflineStreamingSample h265 10 puts the whole 10 s clip at once (its timestamps are
in the past) and then waits for the PERSISTED ACK of the last fragment, so kvsd answers with a
burst of ACKs (BUFFERING, RECEIVED, PERSISTED for every fragment) within a few milliseconds. Before
kvsd wrote each HTTP/2 ACK in its own TLS record, the SDK's ACK parser dropped every ACK after the
first that completed in one curl receive ("already expired upload handle") and the run stalled on
curl's 30 s low-speed timeout now and then; one run in a row does not show it, RUNS runs do.

Each run gets its own stream and must pass sdk_harness.check_upload(): exit 0 within its budget
(0 s of stream time + 8 s: the offline sample's stream time does not count), a clean SDK log
(no dropped or rejected ACK, no error, every PutMedia ended with HTTP 200, a PERSISTED ACK for
every fragment), one PutMedia session over the class's protocol (kvsd's access log), every
fragment of the SDK's dump listed by ListFragments and GetMediaForFragmentList returning exactly
the dump's frames. On top of that no run may take longer than STALL_S (they take about 1.1 s).
Every run is made even when one fails; the failure message lists every failing run and the
per-protocol wall time p50/max, which is also printed when the class passes.

Knobs: KVS_INTEROP_OFFLINE_RUNS (default 20).
"""

import os
import statistics
import sys
import unittest

import sdk_harness

RUNS = int(os.environ.get("KVS_INTEROP_OFFLINE_RUNS", "20"))
SECONDS = 10  # the clip's length: the offline sample puts all of it at once
STALL_S = 8.0  # a run over this stalled (curl's low-speed timeout is 30 s; a healthy run is ~1.1 s)
SAMPLE = "kvsVideoOnlyOfflineStreamingSample"
FULL_REPORTS = 2  # failing runs whose whole report (log tails) goes into the failure message


def wall_summary(walls):
    if not walls:
        return "no runs"
    return (f"wall p50 {statistics.median(walls):.2f} s, max {max(walls):.2f} s, min {min(walls):.2f} s "
            f"(n={len(walls)})")


class OfflineRepeatCases:
    """Mixin of the repeated offline case; combine with sdk_harness.InteropTestCase and set
    TRANSPORT (stream-name tag) and EXPECT_PROTOCOL ("h2" or "http/1.1")."""

    TRANSPORT = "x"
    EXPECT_PROTOCOL = None

    def test_offline_h265_repeated(self):
        walls, failed, stalls, dropped = [], [], [], 0
        for i in range(RUNS):
            stream = f"off-rep-{self.TRANSPORT}-{i:02d}"
            mark = self.kvsd.log_mark()
            run = sdk_harness.run_c_sample(self.sdk, self.kvsd, SAMPLE, stream, SECONDS, codec="h265")
            walls.append(run.elapsed)
            dropped += run.log().count("already expired upload handle")
            if run.elapsed > STALL_S:
                stalls.append(f"run {i} ({stream}) took {run.elapsed:.2f} s, over the {STALL_S:g} s stall threshold")
            try:
                # check_upload with the protocol check on kvsd's log lines of this run alone (the
                # runs are sequential); removes the run dir of a passing run, keeps a failing one.
                self.assert_upload_ok(run, expect_protocol=self.EXPECT_PROTOCOL, kvsd_mark=mark)
            except self.failureException as e:
                failed.append((i, str(e)))
        summary = (f"offline {SAMPLE} h265 {SECONDS} s x{RUNS} over https {self.EXPECT_PROTOCOL}: "
                   f"{wall_summary(walls)}; passed {RUNS - len(failed)}/{RUNS}, stalls (> {STALL_S:g} s) "
                   f"{len(stalls)}, ACKs dropped by the SDK {dropped}")
        print(f"\ninterop: {self.id()}: {summary}", file=sys.stderr, flush=True)
        if failed or stalls:
            parts = [summary, "per-run wall s: " + " ".join(f"{w:.2f}" for w in walls)] + stalls
            for n, (i, report) in enumerate(failed):
                if n < FULL_REPORTS:
                    parts += [f"--- run {i} failed ---", report]
                else:  # the summary line and the failed criteria, without the log tails
                    head = report.split("\nSDK log problems:")[0].split("\nACK delivery")[0]
                    parts += [f"--- run {i} failed ---", head]
            self.fail("\n".join(parts))


class OfflineRepeatOverH2(OfflineRepeatCases, sdk_harness.InteropTestCase):
    """kvsd offers h2 in ALPN: the SDK's libcurl uses HTTP/2 for PutMedia."""
    KVSD_ARGS = {"h2": True}
    TRANSPORT = "h2"
    EXPECT_PROTOCOL = "h2"


class OfflineRepeatOverHttp1(OfflineRepeatCases, sdk_harness.InteropTestCase):
    """kvsd offers only http/1.1 in ALPN (--tls-h2 false)."""
    KVSD_ARGS = {"h2": False}
    TRANSPORT = "h1"
    EXPECT_PROTOCOL = "http/1.1"


if __name__ == "__main__":
    unittest.main()
