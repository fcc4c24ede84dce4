"""Stock producer SDK benchmark: the unmodified KVS C SDK samples against a release kvsd, over
https with HTTP/2 and with HTTP/1.1 only (tests/interop/sdk_harness.py runs them).

1. kvsVideoOnlyOfflineStreamingSample h265 10 (the whole 10 s clip put at once, then the SDK waits
   for the last PERSISTED): OFFLINE_RUNS runs in a row (default 20) per protocol. Reports wall time
   per run, p50 and max, ACKs the SDK dropped ("already expired upload handle") and stalls (runs
   over STALL_S, which before ACK delivery was fixed meant curl's 30 s low-speed timeout).
2. kvsVideoOnlyRealtimeStreamingSample h264 REALTIME_S (25 fps, a key frame every 1.8 s): the time
   from a fragment's last frame to its PERSISTED as the SDK saw it, from the SDK's own DEBUG log
   (level 2): the sample logs each key frame it reads ("readFrameData(): Key frame file") and puts
   it at once, with an end-of-fragment tag just before it that closes the previous fragment, whose
   last frame was put one frame interval (40 ms) earlier; the PERSISTED's log line carries the
   time the SDK's write callback got it. This is what a camera sees: its own send path (curl's
   pacing of the body), kvsd's parse, fsync and index write, and the ACK's way back. (The frames'
   timestamps cannot serve: the sample stamps them start + n x 40 ms while its loop runs slower,
   so they drift seconds behind the wall clock over a run.) Reports p50 and max per protocol; the
   last fragment (closed only at the end of the run) is left out.

The baseline of each figure is the same measurement over HTTP/1.1 in the same run (ratio h2/h1).
Without KVS_SDK_DIR (the OUT of the SDK build, see the README) it prints why and measures nothing.
"""

import datetime
import os
import statistics
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "interop"))
import sdk_harness  # noqa: E402
import sdk_output  # noqa: E402

OFFLINE_RUNS = int(os.environ.get("BENCH_SDK_OFFLINE_RUNS", "20"))
REALTIME_S = int(os.environ.get("BENCH_SDK_REALTIME_SECONDS", "30"))
STALL_S = 10.0
FRAME_MS = 40  # the realtime sample's 25 fps


def log_time_ms(line):
    """Epoch ms of a C-SDK log line ("2026-12-07 16:04:48.901 DEBUG ..."; the runs set TZ=UTC)."""
    stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp() * 1000.0


def ack_times(text):
    """[(event, FragmentTimecode, log time ms)] of every ACK the SDK's write callback logged."""
    out = []
    for line in text.splitlines():
        m = sdk_output.ACK_WRITE_RE.search(line)
        if not m:
            continue
        for ack in sdk_harness.sdk_acks(line).acks():
            out.append((ack.get("EventType"), ack.get("FragmentTimecode"), log_time_ms(line)))
    return out


def key_frame_times(text):
    """Log times (epoch ms) at which the sample read each key frame, in order (DEBUG
    "readFrameData(): Key frame file ..."): it puts the frame right after reading it."""
    return [log_time_ms(line) for line in text.splitlines() if "readFrameData(): Key frame file" in line]


def persisted_latencies(text):
    """ms from each fragment's last frame to its PERSISTED (all fragments but the last)."""
    persisted = {}
    for ev, tc, t in ack_times(text):
        if ev == "PERSISTED" and isinstance(tc, int):
            persisted.setdefault(tc, t)
    order = sorted(persisted)
    keys = key_frame_times(text)
    out = []
    # Fragment i starts at key frame i; its last frame was put one frame interval before key frame i + 1.
    for i, tc in enumerate(order):
        if i + 1 < len(keys):
            out.append(persisted[tc] - (keys[i + 1] - FRAME_MS))
    return out


def fmt(xs, unit, digits=0):
    if not xs:
        return "n/a"
    return f"p50 {statistics.median(xs):.{digits}f} {unit}, max {max(xs):.{digits}f} {unit} (n={len(xs)})"


def bench_protocol(sdk, h2):
    name = "h2" if h2 else "http/1.1"
    with sdk_harness.Kvsd(h2=h2, http=False) as kvsd:
        walls, dropped, stalls, failed = [], 0, 0, 0
        for i in range(OFFLINE_RUNS):
            run = sdk_harness.run_c_sample(sdk, kvsd, "kvsVideoOnlyOfflineStreamingSample", f"bench-off-{i}", 10,
                                           codec="h265", log_level=3, budget_s=60, env={"TZ": "UTC"})
            walls.append(run.elapsed)
            text = run.log()
            dropped += text.count("already expired upload handle")
            stalls += run.elapsed > STALL_S
            failed += run.returncode != 0
        rt = sdk_harness.run_c_sample(sdk, kvsd, "kvsVideoOnlyRealtimeStreamingSample", "bench-rt", REALTIME_S,
                                      codec="h264", log_level=2, env={"TZ": "UTC"})
        lat = persisted_latencies(rt.log())
        rt_dropped = rt.log().count("already expired upload handle")
    print(f"  {name:8}  offline x{OFFLINE_RUNS}: wall {fmt(walls, 's', 2)}; dropped ACKs {dropped}, stalls {stalls}, "
          f"non-zero exits {failed}")
    print(f"  {name:8}  realtime {REALTIME_S} s: last frame -> PERSISTED {fmt(lat, 'ms')}; dropped ACKs {rt_dropped}, "
          f"exit {rt.returncode}")
    return walls, lat


def main():
    try:
        sdk = sdk_harness.find_sdk()
    except unittest.SkipTest as e:
        print(f"sdk bench: skipped: {e}")
        return
    print("Stock C SDK samples against kvsd (https)")
    w2, l2 = bench_protocol(sdk, h2=True)
    w1, l1 = bench_protocol(sdk, h2=False)
    if w1 and w2:
        print(f"  ratio h2/h1: offline wall p50 {statistics.median(w2) / statistics.median(w1):.2f}"
              + (f", PERSISTED latency p50 {statistics.median(l2) / statistics.median(l1):.2f}" if l1 and l2 else ""))


if __name__ == "__main__":
    main()
