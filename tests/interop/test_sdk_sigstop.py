"""kvsd SIGSTOPped for 8 s under the stock C realtime sample, then SIGCONTed.

kvsVideoOnlyRealtimeStreamingSample h264 streams 30 s (1.8 s fragments, nine metadata Tags per
fragment); about 10 s into the run kvsd is stopped for 8 s: its sockets stay open and the kernel
keeps accepting connections into the listen backlog, but nothing is read or answered. Two
transports, because the SDK lives the stop differently on them:
  - HTTPS h2: curl can send only what the stream's flow-control window allows, so the sender
    stops, the SDK's staleness check (made when the sender moves on) never fires, and the one
    PutMedia simply resumes after SIGCONT;
  - HTTPS HTTP/1.1 (kvsd --tls-h2 false): the socket buffers take seconds of video, the sender runs
    on without ACKs, the connection-staleness timer (5 s without BUFFERING) resets the upload and
    the SDK opens a new PutMedia into the stopped server's listen backlog.
Each run must pass sdk_faults.check_fault_run(): exit 0 within 30 s + the outage + 10 s, no ACK
dropped as "already expired upload handle", ListFragments listing every fragment made outside the
outage once (with all its frames) and nothing twice, the stored frames equal to what the SDK sent,
and every fragment listed just before the SIGSTOP still byte-identical at the end.
"""

import unittest

import sdk_faults
from sdk_faults import Outage
from sdk_harness import start_c_sample

SECONDS = 30
STOP_AT = 10
STOP_S = 8


class SigstopCase(sdk_faults.FaultTestCase):
    """The case; each subclass names its kvsd (KVSD_ARGS) and a stream tag."""
    TAG = "x"

    def check_sigstop(self):
        outages = [Outage("SIGSTOP", at=STOP_AT, length=STOP_S)]
        budget = SECONDS + STOP_S + 1 + sdk_faults.SLACK_S
        self.run_with_outages(
            lambda: start_c_sample(self.sdk, self.kvsd, "kvsVideoOnlyRealtimeStreamingSample",
                                   f"sigstop-c-rt-h264-{self.TAG}", SECONDS, codec="h264", log_level=1,
                                   budget_s=budget, timeout=budget + 15),
            SECONDS, outages)


class SigstopOverH2(SigstopCase):
    KVSD_ARGS = {"h2": True}
    TAG = "h2"

    def test_sigstop_realtime_h264_h2(self):
        self.check_sigstop()


class SigstopOverHttp1(SigstopCase):
    KVSD_ARGS = {"h2": False}
    TAG = "h1"

    def test_sigstop_realtime_h264_http1(self):
        self.check_sigstop()


if __name__ == "__main__":
    unittest.main()
