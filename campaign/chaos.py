"""Chaos: release kvsd under a mix of real producers while faults are injected at random.

Two kvsd processes (build-release/bin/kvsd), each on its own private tmpfs (a user + mount
namespace, chaos_faults.TmpfsNamespace), on fixed ports and data dirs kept across restarts:
  - "h2": its TLS listener offers h2, so the stock SDK uses HTTP/2;
  - "h1": --tls-h2 false, so the stock SDK uses HTTP/1.1.
On each, CHAOS_SDK_PER_KVSD stock C samples (kvsVideoOnlyRealtimeStreamingSample h264 over https)
and CHAOS_PUT_PER_KVSD kvs-put real-time streams (cleartext HTTP/1.1 on "h2", HTTP/1.1 over TLS on
"h1") stream without pause: every producer is a slot restarted whenever its program exits
(chaos_producers).

Faults, one at a time on a kvsd picked at random, the kinds drawn from a shuffled bag (so a short
run still sees each kind), all from one seed (CHAOS_SEED, printed):
  kill       SIGKILL, down 1-4 s, restarted on the same data dir and ports;
  stop       SIGSTOP for 3-8 s, then SIGCONT;
  disk       the tmpfs filled to the last byte with a ballast file for 8-20 s, then freed (kvsd
             answers ERROR 5001 meanwhile; a stock SDK may give its stream up: its slot restarts it);
  slow       CHAOS_SLOW_CONNECTIONS connections trickling a PutMedia body, a control-plane body, a
             request head or an h2c preface one byte every 2-5 s, and GetMedia readers taking 512
             bytes every 2-5 s through a 4 KiB receive buffer, for 20-40 s;
  malformed  CHAOS_MALFORMED_BODIES PutMedia bodies (a valid SDK body with random byte flips,
             truncation, a cut-out, a duplicated range or garbage) over HTTP/1.1, h2c or TLS.
After each fault it waits (up to CHAOS_RECOVERY_SECONDS) until every producer has had a new
PERSISTED ACK after the fault ended, then a quiet gap of 5-15 s.

At the end (producers finish their runs; with CHAOS_FINAL_CRASH=1 both kvsd are SIGKILLed and
restarted once more) it checks:
  - lost = 0: every fragment any producer got PERSISTED for (the SDKs' ACK logs, kvs-put's
    counts with its dumped bodies, the malformed sessions' ACKs) is listed by ListFragments;
  - every producer recovered after every fault;
  - kvsd never exited except by our SIGKILL, exits 0 on SIGTERM at the end, and its log has no
    'Assertion', 'AddressSanitizer', 'terminate' (common.ABORT_RE).
Writes campaign/out/chaos-<UTC timestamp>/report.md (faults by kind, fragments acknowledged,
lost, recoveries, failures, a timeline) and the kvsd logs; the producers' run directories stay
in the work dir when something failed (CHAOS_KEEP=1: always). Exit 1 on any failure, 2 when it
cannot start.

Knobs: CHAOS_SECONDS (1800), CHAOS_SEED, CHAOS_SDK_PER_KVSD (2), CHAOS_PUT_PER_KVSD (3),
CHAOS_RUN_SECONDS (a producer run's stream time: 120, or 60 when CHAOS_SECONDS < 600),
CHAOS_RECOVERY_SECONDS (90), CHAOS_KINDS (comma list, default all), CHAOS_SLOW_CONNECTIONS (40),
CHAOS_MALFORMED_BODIES (6), CHAOS_PUT_KBPS (300), CHAOS_TMPFS_MB (per kvsd; default from the
producers' rates), CHAOS_MIN_FREE_MB (kvsd's storage floor, 64), CHAOS_FINAL_CRASH (1),
CHAOS_KEEP (0), KVS_SDK_DIR (default /var/tmp/kvs-sdk), KVSD_BIN, KVS_PUT_BIN, CAMPAIGN_OUT.
"""

import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import unittest

import common
from common import env_float, env_int, fmt

SECONDS = env_int("CHAOS_SECONDS", 1800)
SEED = os.environ.get("CHAOS_SEED", "").strip() or str(random.SystemRandom().randrange(1, 10 ** 9))
SDK_PER_KVSD = env_int("CHAOS_SDK_PER_KVSD", 2)
PUT_PER_KVSD = env_int("CHAOS_PUT_PER_KVSD", 3)
RUN_S = env_int("CHAOS_RUN_SECONDS", 120 if SECONDS >= 600 else 60)
RECOVERY_S = env_float("CHAOS_RECOVERY_SECONDS", 90.0)
KINDS = [k.strip() for k in os.environ.get("CHAOS_KINDS", "kill,stop,disk,slow,malformed").split(",") if k.strip()]
SLOW_CONNS = env_int("CHAOS_SLOW_CONNECTIONS", 40)
MALFORMED = env_int("CHAOS_MALFORMED_BODIES", 6)
PUT_KBPS = env_int("CHAOS_PUT_KBPS", 300)
MIN_FREE_MB = env_int("CHAOS_MIN_FREE_MB", 64)
FINAL_CRASH = os.environ.get("CHAOS_FINAL_CRASH", "1") == "1"
KEEP = os.environ.get("CHAOS_KEEP", "0") == "1"
SDK_BYTES_PER_S = 560_000  # the C sample's H.264 frames: 8.6 MB per 16 s loop
GAP_S = (5.0, 15.0)
INPUTS = "/var/tmp/kvsd-campaign"  # generated kvs-put inputs, kept for the next run
WARMUP_S = 120.0

os.environ.setdefault("KVS_SDK_DIR", "/var/tmp/kvs-sdk")
import chaos_faults  # noqa: E402
import chaos_producers  # noqa: E402
import sdk_harness  # noqa: E402
from kvs_read import ReadError  # noqa: E402


def log(msg):
    print(f"chaos: {time.strftime('%H:%M:%S')} {msg}", flush=True)


class ChaosKvsd(sdk_harness.Kvsd):
    """A kvsd inside the tmpfs namespace on fixed ports; its dev CA is copied out to the host
    after every start (the SDKs and kvs-put read it from there). Exits are booked: `expected`
    ones are ours (SIGKILL, SIGTERM)."""

    def __init__(self, name, ns, mount, h2, binary, work):
        super().__init__(h2=h2, binary=ns.wrapper(binary, name), data_dir=ns.data_dir(mount), start_timeout=60,
                         extra_args=["--storage-min-free-bytes", str(MIN_FREE_MB << 20)])
        self.name, self.ns, self.mount = name, ns, mount
        self.host_ca = os.path.join(work, f"ca-{name}.pem")
        self.exits = []  # (wall, exit status, expected)
        self.expect_down = False
        self.stopped = False
        self.unexpected = 0
        self.banked = {}  # (metric, label value) -> sum over this kvsd's lifetimes
        self.bank_misses = 0

    def start(self):
        super().start()
        inner = self.ca_path if self.ca_path and self.ca_path != self.host_ca else os.path.join(
            self.data_dir, "tls", "ca.pem")
        shutil.copyfile(f"/proc/{self.proc.pid}/root{inner}", self.host_ca)
        self.ca_path = self.host_ca
        self.expect_down = False

    BANKED = (("kvsd_ingest_fragments_total", "result"), ("kvsd_ingest_error_acks_total", "error_id"),
              ("kvsd_connections_total", "protocol"))

    def bank(self):
        """Adds this lifetime's counters to `banked` (kvsd's counters start at 0 at every start)."""
        m = common.fetch_metrics(self.base_url(), timeout=3)
        if m is None:
            self.bank_misses += 1
            return
        for (name, labels), v in m.items():
            for metric, label in self.BANKED:
                if name == metric:
                    key = (metric, dict(labels).get(label))
                    self.banked[key] = self.banked.get(key, 0) + v

    def counter(self, metric):
        """{label value: banked count} of one banked counter."""
        return {k[1]: int(v) for k, v in sorted(self.banked.items(), key=lambda kv: str(kv[0])) if k[0] == metric}

    def crash(self):
        """Our SIGKILL (its counters banked first); returns the exit status."""
        if self.stopped:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.stopped = False
        self.bank()
        self.expect_down = True
        rc = self.kill()
        self.exits.append((time.time(), rc, True))
        return rc

    def restart(self, tries=3):
        for i in range(tries):
            try:
                self.start()
                return ""
            except AssertionError as e:
                why = str(e).splitlines()[0]
                log(f"kvsd {self.name} did not start ({why}); retrying")
                time.sleep(2)
        return why

    def died(self):
        """The exit status if kvsd exited without us asking (booked once), else None."""
        if self.expect_down or self.proc is None or self.proc.poll() is None:
            return None
        rc = self.proc.returncode
        self.exits.append((time.time(), rc, False))
        self.unexpected += 1
        self.expect_down = True
        return rc


class Campaign:
    def __init__(self, out, work, sdk, kvsd_bin, put_bin):
        self.out, self.work, self.sdk = out, work, sdk
        self.kvsd_bin, self.put_bin = kvsd_bin, put_bin
        self.rng = random.Random(SEED)
        self.failures, self.notes = [], []
        self.faults = []
        self.slots = []
        self.junk = []  # (kvsd, stream, PERSISTED timecodes)
        self.slow_streams = {}
        self.kvsds = []
        self.ns = None
        self.base_body = chaos_faults.valid_body()
        self.bag = []
        self.run_s = RUN_S

    # --- set-up ----------------------------------------------------------------------------------
    def tmpfs_mb(self):
        if os.environ.get("CHAOS_TMPFS_MB"):
            return env_int("CHAOS_TMPFS_MB", 0)
        span = SECONDS + self.run_s + WARMUP_S + 120
        rate = SDK_PER_KVSD * SDK_BYTES_PER_S * (1 if self.sdk else 0) + PUT_PER_KVSD * PUT_KBPS * 125
        # A fault with its recovery and gap takes 30 s or more; a malformed one is one of the kinds.
        junk = MALFORMED * len(self.base_body) * (SECONDS / 30 / max(1, len(KINDS)) + 1)
        return int((rate * span + junk) * 1.25 / 2 ** 20) + MIN_FREE_MB + 256

    def start(self):
        mb = self.tmpfs_mb()
        with open("/proc/meminfo") as f:
            avail = next(int(l.split()[1]) for l in f if l.startswith("MemAvailable")) // 1024
        log(f"tmpfs per kvsd {mb} MB (x2); MemAvailable {avail} MB")
        if 2 * mb > 0.6 * avail:
            raise SystemExit(f"chaos: two {mb} MB tmpfs would take more than 60% of the available memory ({avail} MB):"
                             f" lower CHAOS_SECONDS, CHAOS_SDK_PER_KVSD or CHAOS_PUT_KBPS, or set CHAOS_TMPFS_MB")
        mounts = {os.path.join(self.work, "disk-h2"): mb, os.path.join(self.work, "disk-h1"): mb}
        self.ns = chaos_faults.TmpfsNamespace(mounts, self.work)
        self.ns.start()
        for (mount, _), (name, h2) in zip(mounts.items(), (("h2", True), ("h1", False))):
            k = ChaosKvsd(name, self.ns, mount, h2, self.kvsd_bin, self.work)
            k.start()
            self.kvsds.append(k)
            alpn = "h2" if h2 else "http/1.1 only"
            log(f"kvsd {name}: pid {k.proc.pid}, http {k.port}, https {k.tls_port} ({alpn}), "
                f"data {k.data_dir} on a private {mb} MB tmpfs")
        os.makedirs(INPUTS, exist_ok=True)
        input_path = common.make_input_file(os.path.join(INPUTS, f"input-{self.run_s}s-{PUT_KBPS}k.mkv"),
                                            self.run_s, PUT_KBPS, log)
        for k in self.kvsds:
            for i in range(SDK_PER_KVSD if self.sdk else 0):
                proto = "h2" if k.h2 else "http/1.1"
                self.slots.append(chaos_producers.SdkSlot(f"sdk-{k.name}-{i}", k, f"chaos-sdk-{k.name}-{i}",
                                                          f"C sample, https {proto}", self.work, self.sdk))
            for i in range(PUT_PER_KVSD):
                scheme = "http" if k.h2 else "https"
                self.slots.append(chaos_producers.PutSlot(f"put-{k.name}-{i}", k, f"chaos-put-{k.name}-{i}",
                                                          f"kvs-put, {scheme} http/1.1", self.work, self.put_bin,
                                                          input_path, scheme))
            client = k.read_client()
            self.slow_streams[k.name] = []
            for i in range(max(1, SLOW_CONNS // len(chaos_faults.SlowClients.KINDS))):
                name = f"chaos-slow-{k.name}-{i}"
                client.call("CreateStream", "/createStream", {"StreamName": name, "DataRetentionInHours": 2,
                                                              "MediaType": "video/h264"})
                self.slow_streams[k.name].append(name)

    # --- the clock -------------------------------------------------------------------------------
    def tick(self):
        now = time.time()
        seconds = max(20, min(self.run_s, int(self.deadline - now) + 5))
        for s in self.slots:
            s.tick(now, seconds)
        for k in self.kvsds:
            rc = k.died()
            if rc is not None:
                self.failures.append(f"kvsd {k.name} exited by itself with status {rc} at +{now - self.t0:.0f} s")
                log(f"FAILURE: kvsd {k.name} exited by itself ({rc}); restarting it")
                why = k.restart()
                if why:
                    raise RuntimeError(f"kvsd {k.name} does not start again: {why}")

    def sleep(self, seconds):
        end = time.time() + seconds
        while True:
            self.tick()
            left = end - time.time()
            if left <= 0:
                return
            time.sleep(min(0.5, left))

    def wait_for(self, pred, timeout):
        end = time.time() + timeout
        while not pred():
            if time.time() >= end:
                return False
            self.tick()
            time.sleep(0.5)
        return True

    # --- faults ----------------------------------------------------------------------------------
    def draw_kind(self):
        if not self.bag:
            self.bag = list(KINDS)
            self.rng.shuffle(self.bag)
        return self.bag.pop()

    def inject(self, kind, k):
        n = len(self.faults) + 1
        f = {"n": n, "kind": kind, "target": k.name, "start": time.time(), "details": "", "problems": []}
        log(f"fault #{n}: {kind} on kvsd {k.name}")
        getattr(self, f"fault_{kind}")(k, f)
        f["end"] = time.time()
        self.faults.append(f)
        log(f"fault #{n} over after {f['end'] - f['start']:.1f} s: {f['details']}")
        return f

    def fault_kill(self, k, f):
        down = self.rng.uniform(1.0, 4.0)
        rc = k.crash()
        self.sleep(down)
        why = k.restart()
        if why:
            raise RuntimeError(f"kvsd {k.name} does not start again after SIGKILL: {why}")
        f["details"] = f"SIGKILL (exit {rc}), restarted after {down:.1f} s, listening again " \
                       f"{time.time() - f['start']:.1f} s after the kill"

    def fault_stop(self, k, f):
        hold = self.rng.uniform(3.0, 8.0)
        os.kill(k.proc.pid, signal.SIGSTOP)
        k.stopped = True
        self.sleep(hold)
        os.kill(k.proc.pid, signal.SIGCONT)
        k.stopped = False
        f["details"] = f"SIGSTOP for {hold:.1f} s"

    def fault_disk(self, k, f):
        hold = self.rng.uniform(8.0, 20.0)
        before = common.fetch_metrics(k.base_url())
        ballast = chaos_faults.Ballast(self.ns, k.mount)
        t = time.time()
        written = ballast.fill()
        fill_s = time.time() - t
        _, free = self.ns.usage(k.mount)
        self.sleep(hold)
        during = common.fetch_metrics(k.base_url())
        ballast.free()
        errors = {}
        for (name, labels), v in (during or {}).items():
            if name == "kvsd_ingest_error_acks_total":
                prev = (before or {}).get((name, labels), 0.0)
                if v > prev:
                    errors[dict(labels).get("error_id")] = int(v - prev)
        failed = int(common.metric_sum(during, "kvsd_ingest_fragments_total", result="failed")
                     - common.metric_sum(before, "kvsd_ingest_fragments_total", result="failed"))
        f["details"] = (f"ballast {written / 2 ** 20:.0f} MB in {fill_s:.1f} s (free then {free} bytes), held "
                        f"{hold:.1f} s; meanwhile {failed} fragments failed to persist (ERROR 5001), ERROR ACKs "
                        f"counted by kvsd_ingest_error_acks_total {errors or 'none'}")
        if during is None:
            f["problems"].append("/metrics did not answer while the disk was full")

    def fault_slow(self, k, f):
        hold = self.rng.uniform(20.0, 40.0)
        before = common.fetch_metrics(k.base_url())
        rss0 = common.proc_rss_kb(k.proc.pid) or 0
        reads = [s.stream for s in self.slots if s.kvsd is k]
        slow = chaos_faults.SlowClients(k, chaos_faults.rng_for(SEED, "slow", f["n"]), SLOW_CONNS,
                                        self.slow_streams[k.name], reads, self.base_body)
        slow.start()
        try:
            self.sleep(hold)
            during = common.fetch_metrics(k.base_url())
            rss1 = common.proc_rss_kb(k.proc.pid) or 0
        finally:
            result = slow.stop()
        f["rss_kb"] = (rss0, rss1)
        f["details"] = (f"{sum(v['opened'] for v in result['kinds'].values())} slow connections for {hold:.1f} s; "
                        f"connections open {fmt(common.metric_sum(before, 'kvsd_connections_open'))} -> "
                        f"{fmt(common.metric_sum(during, 'kvsd_connections_open'))}; kvsd RSS {rss0 // 1024} -> "
                        f"{rss1 // 1024} MB; " + "; ".join(
                            f"{kind}: {v['opened']} opened, {v['closed_by_kvsd']} closed by kvsd (after "
                            f"{v['closed_after_s']} s), sent {v['bytes_sent']} B, read {v['bytes_read']} B"
                            + (f", answers {v['answers']}" if v["answers"] else "")
                            for kind, v in sorted(result["kinds"].items())))
        if result["connect_errors"]:
            f["problems"].append(f"slow clients could not connect: {result['connect_errors']}")
        if during is None:
            f["problems"].append("/metrics did not answer during the slow clients")
        f["connections_before"] = common.metric_sum(before, "kvsd_connections_open")

    def fault_malformed(self, k, f):
        rng = chaos_faults.rng_for(SEED, "malformed", f["n"])
        results = []

        def work():
            client = k.read_client()
            for i in range(MALFORMED):
                stream = f"chaos-junk-{k.name}-{f['n']}-{i}"
                desc, body = chaos_faults.mutate(self.base_body, rng)
                proto = rng.choice(chaos_faults.protocols(k))
                try:
                    client.call("CreateStream", "/createStream", {"StreamName": stream, "DataRetentionInHours": 2,
                                                                  "MediaType": "video/h264"})
                    r = chaos_faults.send_malformed(k, stream, body, proto, rng)
                except (ReadError, OSError) as e:
                    r = {"proto": proto, "status": None, "acks": {}, "persisted": [], "errors": [],
                         "ended": f"failed: {e}"}
                r["stream"], r["mutation"] = stream, desc
                results.append(r)

        t = threading.Thread(target=work, daemon=True)
        t.start()
        self.wait_for(lambda: not t.is_alive(), 60 * MALFORMED)
        if t.is_alive():
            f["problems"].append("the malformed bodies were not all sent within a minute each")
        for r in list(results):
            self.junk.append((k, r["stream"], set(r["persisted"])))
        f["details"] = f"{len(results)} bodies: " + "; ".join(
            f"[{r['proto']}] {r['mutation']} -> HTTP {r['status']}, ACKs {r['acks'] or 'none'}"
            + (f", ERROR {sorted(set(r['errors']))}" if r["errors"] else "") + f", {r['ended']}" for r in results)

    def wait_recovery(self, f):
        end = f["end"]
        ok = self.wait_for(lambda: all(s.recovered_at(end) is not None for s in self.slots), RECOVERY_S)
        f["recovery"] = {s.name: (None if s.recovered_at(end) is None else s.recovered_at(end) - end)
                         for s in self.slots}
        missing = [n for n, v in f["recovery"].items() if v is None]
        if not ok or missing:
            for name in missing:
                self.failures.append(f"fault #{f['n']} ({f['kind']} on {f['target']}): producer {name} had no "
                                     f"PERSISTED ACK within {RECOVERY_S:.0f} s after the fault ended")
        if f["kind"] == "slow":
            self.check_released(f)
        times = [v for v in f["recovery"].values() if v is not None]
        log(f"fault #{f['n']}: {len(times)}/{len(self.slots)} producers recovered"
            + (f" (max {max(times):.1f} s after the end)" if times else ""))

    def check_released(self, f):
        """After slow clients: kvsd's open connections fall back to what they were before (give or
        take the producers' own reconnects) within 20 s."""
        target = next(k for k in self.kvsds if k.name == f["target"])
        allowed = f["connections_before"] + 4 + sum(1 for s in self.slots if s.kvsd is target)
        now = [None]

        def released():
            now[0] = common.metric_sum(common.fetch_metrics(target.base_url()), "kvsd_connections_open")
            return now[0] <= allowed

        if not self.wait_for(released, 20):
            self.failures.append(f"fault #{f['n']} (slow clients on {target.name}): kvsd still had {now[0]:.0f} "
                                 f"connections open 20 s after they were closed ({f['connections_before']:.0f} before)")
        f["details"] += (f"; connections open afterwards {fmt(now[0])}, kvsd RSS afterwards "
                         f"{(common.proc_rss_kb(target.proc.pid) or 0) // 1024} MB")

    # --- the run ---------------------------------------------------------------------------------
    def run(self):
        self.t0 = time.time()
        self.deadline = self.t0 + SECONDS
        log(f"{len(self.slots)} producers: " + ", ".join(f"{s.name} ({s.label})" for s in self.slots))
        for s in self.slots:
            s.tick(time.time(), self.run_s)
            time.sleep(0.3)
        if not self.wait_for(lambda: all(s.acknowledged() > 0 for s in self.slots), WARMUP_S):
            for s in self.slots:
                if not s.acknowledged():
                    self.failures.append(f"producer {s.name} had no PERSISTED ACK within {WARMUP_S:.0f} s of its start")
        log(f"warm-up done at +{time.time() - self.t0:.0f} s; faults until +{SECONDS} s (seed {SEED})")
        while time.time() + 20 < self.deadline:
            kind = self.draw_kind()
            k = self.rng.choice(self.kvsds)
            f = self.inject(kind, k)
            self.wait_recovery(f)
            self.sleep(min(self.rng.uniform(*GAP_S), max(0.0, self.deadline - time.time())))
        log("no more faults; the producers finish their runs")
        for s in self.slots:
            s.stopping = True
        if not self.wait_for(lambda: not any(s.running() for s in self.slots), self.run_s + 90):
            self.notes.append("some producer runs did not end in time and were killed")
        for s in self.slots:
            s.kill()
        if FINAL_CRASH:
            for k in self.kvsds:
                k.crash()
                why = k.restart()
                if why:
                    raise RuntimeError(f"kvsd {k.name} does not start after the final SIGKILL: {why}")
            log("final SIGKILL + restart of both kvsd done")

    # --- checks ----------------------------------------------------------------------------------
    def check(self):
        totals = {"sdk": [0, 0], "kvs-put": [0, 0], "malformed": [0, 0]}  # acknowledged, lost
        self.lost_detail = []
        for s in self.slots:
            try:
                listed = chaos_producers.listed_ms(s.kvsd, s.stream)
            except (ReadError, OSError) as e:
                self.failures.append(f"ListFragments {s.stream} failed: {e}")
                listed = set()
            acked, lost, detail, notes = s.check(listed)
            self.notes += [f"{s.name}: {n}" for n in notes]
            totals[s.kind][0] += acked
            totals[s.kind][1] += lost
            if lost:
                self.lost_detail.append(f"{s.name} ({s.stream}): {lost} lost: " + "; ".join(detail))
        for k, stream, persisted in self.junk:
            if not persisted:
                continue
            try:
                listed = chaos_producers.listed_ms(k, stream)
            except (ReadError, OSError) as e:
                self.failures.append(f"ListFragments {stream} failed: {e}")
                listed = set()
            lost = sorted(persisted - listed)
            totals["malformed"][0] += len(persisted)
            totals["malformed"][1] += len(lost)
            if lost:
                self.lost_detail.append(f"{stream} (malformed body): {lost[:8]}")
        self.totals = totals
        lost = sum(v[1] for v in totals.values())
        if lost:
            self.failures.append(f"{lost} acknowledged (PERSISTED) fragments are not listed: "
                                 + "; ".join(self.lost_detail[:6]))

    def stop_kvsds(self):
        for k in self.kvsds:
            if k.proc is None:
                continue
            if k.stopped:
                os.kill(k.proc.pid, signal.SIGCONT)
                k.stopped = False
            if k.proc.poll() is None:
                k.bank()
                k.expect_down = True
                try:
                    rc = k.stop(timeout=60)
                except AssertionError as e:
                    rc = None
                    self.failures.append(f"kvsd {k.name}: {str(e).splitlines()[0]}")
                k.exits.append((time.time(), rc, True))
                if rc not in (0, None):
                    self.failures.append(f"kvsd {k.name} exited with {rc} on SIGTERM at the end")
            with open(os.path.join(self.out, f"kvsd-{k.name}.log"), "w") as f:
                f.write(k.log())
            aborts = common.kvsd_abort_lines(k.log())
            if aborts:
                self.failures.append(f"kvsd {k.name}'s log shows an abort: {aborts[0][:200]}")

    def cleanup(self):
        for s in self.slots:
            try:
                s.kill()
            except Exception:  # noqa: BLE001 - best effort
                pass
        for k in self.kvsds:
            if k.proc is not None and k.proc.poll() is None:
                if k.stopped:
                    os.kill(k.proc.pid, signal.SIGCONT)
                k.proc.kill()
                k.proc.wait()
        if self.ns:
            self.ns.stop()

    # --- report ----------------------------------------------------------------------------------
    def report(self, wall):
        by_kind = {}
        for f in self.faults:
            d = by_kind.setdefault(f["kind"], {"n": 0, "targets": {}, "recoveries": 0, "unrecovered": 0, "max": 0.0})
            d["n"] += 1
            d["targets"][f["target"]] = d["targets"].get(f["target"], 0) + 1
            rec = f.get("recovery", {})
            d["recoveries"] += sum(1 for v in rec.values() if v is not None)
            d["unrecovered"] += sum(1 for v in rec.values() if v is None)
            d["max"] = max([d["max"]] + [v for v in rec.values() if v is not None])
        recoveries = sum(d["recoveries"] for d in by_kind.values())
        unrecovered = sum(d["unrecovered"] for d in by_kind.values())
        acked = sum(v[0] for v in self.totals.values())
        lost = sum(v[1] for v in self.totals.values())
        lines = [f"# kvsd chaos: {SECONDS} s, seed {SEED}", "",
                 f"Result: **{'PASS' if not self.failures else 'FAIL'}**  (reproduce the fault sequence: "
                 f"`CHAOS_SEED={SEED} CHAOS_SECONDS={SECONDS} make chaos`)", ""]
        if self.failures:
            lines += ["## Failures", ""] + [f"- {x}" for x in self.failures[:60]] + [""]
        lines += ["## Figures", "", common.md_table(["figure", "value"], [
            ["wall time", f"{wall:.0f} s ({len(self.faults)} faults)"],
            ["faults injected", ", ".join(f"{k} {d['n']}" for k, d in sorted(by_kind.items())) or "none"],
            ["fragments acknowledged (PERSISTED)", f"{acked} (stock SDK {self.totals['sdk'][0]}, kvs-put "
                                                   f"{self.totals['kvs-put'][0]}, malformed bodies "
                                                   f"{self.totals['malformed'][0]})"],
            ["fragments lost (PERSISTED, not listed)", str(lost)],
            ["recoveries (producer x fault, new PERSISTED after the fault)", f"{recoveries} of "
                                                                              f"{recoveries + unrecovered}"],
            ["unrecovered", str(unrecovered)],
            ["kvsd exits", "; ".join(
                f"{k.name}: {sum(1 for e in k.exits if e[2] and e[1] == -9)} by our SIGKILL (final one included), "
                f"{k.unexpected} by itself, final SIGTERM -> "
                f"{next((e[1] for e in reversed(k.exits) if e[1] != -9), 'n/a')}" for k in self.kvsds)],
            ["final SIGKILL + restart before the listing", "yes" if FINAL_CRASH else "no"],
            ["CPU used (this script; kvsd + producers, reaped)", cpu_used(wall)],
        ]), "", "## Faults by kind", "", common.md_table(
            ["kind", "injected", "targets", "recoveries", "unrecovered", "slowest recovery"],
            [[k, d["n"], ", ".join(f"{t} {n}" for t, n in sorted(d["targets"].items())), d["recoveries"],
              d["unrecovered"], f"{d['max']:.1f} s"] for k, d in sorted(by_kind.items())]), ""]
        lines += ["## Producers", "", common.md_table(
            ["producer", "stream", "kind", "runs", "exits (status: runs)", "acknowledged", "ERROR ACKs seen"],
            [[s.name, s.stream, s.label, len(s.runs), fmt_counts(dict(sorted(s.summary()["exits"].items()))),
              s.acknowledged(), fmt_counts(s.errors) if s.kind == "sdk" else
              f"{sum(1 for r in s.runs if r.get('errors'))} runs ended by one"]
             for s in self.slots]), ""]
        lines += ["## Timeline", "", common.md_table(
            ["#", "at", "kind", "kvsd", "took", "recovered (slowest)", "summary"],
            [[f["n"], f"+{f['start'] - self.t0:.0f} s", f["kind"], f["target"], f"{f['end'] - f['start']:.1f} s",
              f"{sum(1 for v in f.get('recovery', {}).values() if v is not None)}/{len(f.get('recovery', {}))} ("
              f"{max([v for v in f.get('recovery', {}).values() if v is not None], default=0):.1f} s)",
              short(f["details"]) + (" PROBLEMS" if f["problems"] else "")]
             for f in self.faults]), "", "## Fault details", ""]
        lines += [f"{f['n']}. {f['kind']} on {f['target']}: {f['details']}"
                  + ("".join(f"\n   - PROBLEM: {p}" for p in f["problems"])) for f in self.faults] + [""]
        lines += ["## kvsd counters over the run", "",
                  "Summed over every lifetime of each kvsd (its counters start at 0 at each start; they are read "
                  "just before each of our SIGKILLs and before the final SIGTERM). ERROR 5001 for a fragment the "
                  "store failed is counted as a failed fragment, not in kvsd_ingest_error_acks_total.", "",
                  common.md_table(
                      ["kvsd", "fragments by result", "ERROR ACKs by id (kvsd_ingest_error_acks_total)",
                       "connections accepted by protocol", "readings missed"],
                      [[k.name, fmt_counts(k.counter("kvsd_ingest_fragments_total")),
                        fmt_counts(k.counter("kvsd_ingest_error_acks_total")),
                        fmt_counts(k.counter("kvsd_connections_total")), k.bank_misses] for k in self.kvsds]), ""]
        if self.notes or self.lost_detail:
            lines += ["## Notes", ""] + [f"- {n}" for n in self.lost_detail + self.notes] + [""]
        lines += [f"Logs: kvsd-h2.log, kvsd-h1.log here; the producers' runs in {self.work}"
                  + (" (kept)" if self.failures or KEEP else " (removed)") + ".", ""]
        with open(os.path.join(self.out, "report.md"), "w") as f:
            f.write("\n".join(lines))


def cpu_used(wall):
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, others = me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime
    return (f"{own:.0f} s ({own / wall:.0%} of a core); {others:.0f} s ({others / wall:.0%} of a core) "
            f"over {wall:.0f} s")


def short(text, n=110):
    text = text.replace("|", "/")
    return text if len(text) <= n else text[:n - 3] + "..."


def fmt_counts(d):
    return ", ".join(f"{k}: {v}" for k, v in d.items()) or "none"


def main():
    out = common.out_dir("chaos")
    kvsd_bin = common.release_binary("kvsd", "KVSD_BIN")
    put_bin = common.release_binary("kvs-put", "KVS_PUT_BIN")
    log(f"seed {SEED} (set CHAOS_SEED={SEED} to repeat the fault sequence); {SECONDS} s; out {out}")
    sdk = None
    if SDK_PER_KVSD > 0:
        try:
            sdk = sdk_harness.find_sdk()
        except unittest.SkipTest as e:
            raise SystemExit(f"chaos: {e}\n(CHAOS_SDK_PER_KVSD=0 runs kvs-put producers only)")
    unknown = [k for k in KINDS if not hasattr(Campaign, f"fault_{k}")]
    if unknown or not KINDS:
        raise SystemExit(f"chaos: unknown CHAOS_KINDS {unknown}; known: kill, stop, disk, slow, malformed")
    work = tempfile.mkdtemp(prefix="kvsd-chaos-", dir="/var/tmp")
    c = Campaign(out, work, sdk, kvsd_bin, put_bin)
    t0 = time.time()
    try:
        c.start()
        c.run()
        c.check()
    except BaseException as e:  # noqa: BLE001 - the report says what happened
        c.failures.append(f"the campaign stopped early: {type(e).__name__}: {e}")
        traceback.print_exc()
        if not hasattr(c, "totals"):
            c.totals = {"sdk": [0, 0], "kvs-put": [0, 0], "malformed": [0, 0]}
            c.lost_detail = []
        if not hasattr(c, "t0"):
            c.t0 = t0
    finally:
        c.stop_kvsds()
        c.cleanup()
    c.report(time.time() - t0)
    if not c.failures and not KEEP:
        shutil.rmtree(work, ignore_errors=True)
    log(f"report: {os.path.join(out, 'report.md')}")
    for f in c.failures[:20]:
        log(f"FAIL: {f}")
    log("PASS" if not c.failures else "FAILED")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
