"""kvsd SIGKILLed under kvssink and restarted on the same ports and data dir 3.5 s later.

gst-launch-1.0 with kvssink (C++ producer SDK 3.6.0 on producer-c 1.6.2) streams a 40 s H.264 test
pattern (30 fps, a key frame every 30 frames: 1 s fragments) over HTTPS h2; kvsd is killed about
12 s into the run. The run must pass sdk_faults.check_fault_run(): exit 0 within 40 s + the outage
+ 10 s, no ACK dropped as "already expired upload handle", ListFragments listing every fragment
made outside the outage once (with all its frames) and nothing twice, the stored frames equal to
what the SDK sent, and every fragment listed just before the kill still byte-identical at the end.
"""

import unittest

import sdk_faults
from sdk_faults import Outage
from sdk_harness import start_kvssink

SECONDS = 40
DOWN_S = 3.5


class RestartUnderKvssink(sdk_faults.FaultTestCase):
    KVSD_ARGS = {"h2": True}
    NEEDS_C_SAMPLES = False
    NEEDS_KVSSINK = True

    def test_sigkill_h264(self):
        outages = [Outage("SIGKILL", at=12, length=DOWN_S)]
        budget = SECONDS + DOWN_S + 2 + sdk_faults.SLACK_S
        self.run_with_outages(
            lambda: start_kvssink(self.sdk, self.kvsd, "restart-gst-h264", SECONDS, scheme="https", log_level=1,
                                  budget_s=budget, timeout=budget + 15),
            SECONDS, outages)


if __name__ == "__main__":
    unittest.main()
