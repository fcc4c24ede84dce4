"""kvsd SIGKILLed twice under the stock C realtime sample and restarted on the same ports and data
dir 3.5 s later each time.

kvsVideoOnlyRealtimeStreamingSample h264 streams 40 s (25 fps, a key frame every 45 frames: 1.8 s
fragments, nine metadata Tags per fragment) over HTTPS h2; kvsd is killed about 8 s and 24 s into
the run. The run must pass sdk_faults.check_fault_run(): exit 0 within 40 s + the two outages +
10 s, no ACK dropped as "already expired upload handle", ListFragments listing every fragment made
outside the outages once (with all its frames) and nothing twice, the stored frames equal to what
the SDK sent, and every fragment listed just before a kill still byte-identical at the end.
"""

import unittest

import sdk_faults
from sdk_faults import Outage
from sdk_harness import start_c_sample

SECONDS = 40
DOWN_S = 3.5


class RestartUnderCSample(sdk_faults.FaultTestCase):
    KVSD_ARGS = {"h2": True}

    def test_sigkill_twice_realtime_h264(self):
        outages = [Outage("SIGKILL", at=8, length=DOWN_S), Outage("SIGKILL", at=24, length=DOWN_S)]
        budget = SECONDS + 2 * (DOWN_S + 2) + sdk_faults.SLACK_S
        self.run_with_outages(
            lambda: start_c_sample(self.sdk, self.kvsd, "kvsVideoOnlyRealtimeStreamingSample", "restart-c-rt-h264",
                                   SECONDS, codec="h264", log_level=1, budget_s=budget, timeout=budget + 15),
            SECONDS, outages)


if __name__ == "__main__":
    unittest.main()
