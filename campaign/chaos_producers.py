"""The producers of chaos.py: each Slot is one camera, a stream on one kvsd fed by successive runs
of one producer program, restarted whenever it exits (as a camera's supervisor would restart a
stream the SDK gave up on), until the campaign stops it.

SdkSlot runs the stock C sample kvsVideoOnlyRealtimeStreamingSample (tests/interop/sdk_harness)
at log level DEBUG, line-buffered (stdbuf -oL: the sample's stdout is a file, and a block-buffered
log would show ACKs seconds late). What it acknowledged: every PERSISTED ACK its PutMedia write
callback logged (sdk_faults.ACK_LINE_RE), with the log's wall-clock stamp.

PutSlot runs kvs-put (one stream, --realtime, an input file of the run's length, --dump of the
body it sends). What it acknowledged: the PERSISTED count of its summary (or, if it has none,
its last progress line), and when: its once-a-second progress line, stamped when read.

Both keep `events`, [(wall time, acknowledged so far)], one entry per increase: recovered_at(t)
is the first acknowledgement after t.
"""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import common
import mkv_frames
import sdk_faults
import sdk_harness
from kvs_read import epoch_ms

SAMPLE = "kvsVideoOnlyRealtimeStreamingSample"
RESTART_DELAY_S = 1.0  # a supervisor's pause before it starts a stream again
PUT_PROGRESS_MARGIN_S = 1.0  # kvs-put prints its counts once a second


class Slot:
    kind = ""

    def __init__(self, name, kvsd, stream, label, work):
        self.name, self.kvsd, self.stream, self.label, self.work = name, kvsd, stream, label, work
        self.events = []  # (wall, cumulative acknowledged), strictly increasing counts
        self.runs = []  # finished runs (dicts)
        self.current = None
        self.stopping = False
        self.next_start = 0.0
        self.margin = 0.0  # how late an event's stamp may be (see recovered_at)
        self.nice_problems = set()

    # --- life cycle ------------------------------------------------------------------------------
    def tick(self, now, run_seconds):
        """Reads new output, notices an exit and restarts (unless stopping)."""
        if self.current is not None:
            self._read()
            if self._exited(now):
                self._finish(now)
                self.current = None
                self.next_start = now + RESTART_DELAY_S
        if self.current is None and not self.stopping and now >= self.next_start:
            self._start(run_seconds)

    def running(self):
        return self.current is not None

    def kill(self):
        """Ends the current run at once (SIGKILL to its process group) and books it."""
        if self.current is not None:
            self._kill()
            self._read()
            self._finish(time.time())
            self.current = None

    # --- acknowledgements ------------------------------------------------------------------------
    def acknowledged(self):
        return self.events[-1][1] if self.events else 0

    def _ack(self, wall, total):
        if total > self.acknowledged():
            self.events.append((wall, total))

    def recovered_at(self, t):
        """Wall time of the first acknowledgement after t (None: none yet)."""
        for wall, _ in self.events:
            if wall > t + self.margin:
                return wall
        return None

    def summary(self):
        rcs = {}
        for r in self.runs:
            key = "timeout" if r.get("timed_out") else str(r.get("rc"))
            rcs[key] = rcs.get(key, 0) + 1
        return {"runs": len(self.runs), "exits": rcs, "acknowledged": self.acknowledged()}


class SdkSlot(Slot):
    kind = "sdk"

    def __init__(self, name, kvsd, stream, label, work, sdk):
        super().__init__(name, kvsd, stream, label, work)
        self.sdk = sdk
        self.persisted = set()  # FragmentTimecodes of every PERSISTED ACK (all runs)
        self.errors = {}  # ERROR ACK ErrorId -> count

    def _start(self, run_seconds):
        run_dir = tempfile.mkdtemp(prefix=f"{self.stream}-", dir=self.work)
        argv = ["stdbuf", "-oL", "-eL"] + sdk_harness.c_sample_argv(self.sdk, SAMPLE, self.stream, run_seconds)
        # Time enough for the stream time and the outages in it (every fault has a recovery wait).
        timeout = run_seconds + 240
        run = sdk_harness.SdkRun(label=f"{SAMPLE} h264", stream=self.stream, argv=argv, run_dir=run_dir,
                                 log_path=os.path.join(run_dir, "sdk.log"), dump_dir=os.path.join(run_dir, "dump"),
                                 timeout=timeout, budget_s=timeout)
        env = sdk_harness.sdk_env({
            "CONTROL_PLANE_URI": self.kvsd.control_plane_url("https"),
            "AWS_KVS_CACERT_PATH": self.kvsd.ca_path or "",
            "AWS_ACCESS_KEY_ID": self.kvsd.access_key,
            "AWS_SECRET_ACCESS_KEY": self.kvsd.secret_key,
            "AWS_DEFAULT_REGION": sdk_harness.REGION,
            "AWS_KVS_LOG_LEVEL": "2",
        })
        proc = sdk_harness.SdkProcess(run, argv, env, cwd=run_dir)
        why = common.deprioritize(proc.proc.pid)
        if why:
            self.nice_problems.add(why)
        self.current = {"proc": proc, "offset": 0, "rest": "", "started": time.time(), "seconds": run_seconds,
                        "persisted": 0}

    def _read(self, final=False):
        c = self.current
        try:
            with open(c["proc"].run.log_path, "rb") as f:
                f.seek(c["offset"])
                data = f.read()
        except OSError:
            data = b""
        if not data and not (final and c["rest"]):
            return
        c["offset"] += len(data)
        text = c["rest"] + data.decode("utf-8", "replace") + ("\n" if final else "")
        cut = text.rfind("\n") + 1
        c["rest"] = text[cut:]
        for wall, _, ack in sdk_faults.timed_acks(text[:cut], self.stream):
            kind = ack.get("EventType")
            if kind == "PERSISTED" and isinstance(ack.get("FragmentTimecode"), int):
                if ack["FragmentTimecode"] not in self.persisted:
                    self.persisted.add(ack["FragmentTimecode"])
                    c["persisted"] += 1
                    self._ack(wall, len(self.persisted))
            elif kind == "ERROR":
                self.errors[ack.get("ErrorId")] = self.errors.get(ack.get("ErrorId"), 0) + 1

    def _exited(self, now):
        p = self.current["proc"]
        return p.poll() is not None or now - p.run.started_at >= p.run.timeout

    def _kill(self):
        self.current["proc"].kill()

    def _finish(self, now):
        run = self.current["proc"].wait()
        self._read(final=True)
        self.runs.append({"rc": run.returncode, "timed_out": run.timed_out, "elapsed": round(run.elapsed, 1),
                          "seconds": self.current["seconds"], "persisted": self.current["persisted"],
                          "run_dir": run.run_dir, "log": run.log_path, "started": self.current["started"]})

    def check(self, listed_ms):
        """(acknowledged, lost, what was lost, notes): every PERSISTED timecode must be listed."""
        lost = sorted(self.persisted - listed_ms)
        return len(self.persisted), len(lost), [f"timecodes {lost[:8]}"] if lost else [], []


class PutSlot(Slot):
    kind = "kvs-put"

    def __init__(self, name, kvsd, stream, label, work, binary, input_path, scheme):
        super().__init__(name, kvsd, stream, label, work)
        self.binary, self.input_path, self.scheme = binary, input_path, scheme
        self.margin = PUT_PROGRESS_MARGIN_S
        self.base = 0  # acknowledged by the finished runs

    def _start(self, run_seconds):
        run_dir = tempfile.mkdtemp(prefix=f"{self.stream}-", dir=self.work)
        endpoint = self.kvsd.base_url(self.scheme)
        argv = [self.binary, "--endpoint", endpoint, "--access-key", self.kvsd.access_key, "--secret-key",
                self.kvsd.secret_key, "--stream", self.stream, "--input", self.input_path, "--preload", "--realtime",
                "--summary-json", os.path.join(run_dir, "summary.json"), "--dump", os.path.join(run_dir, "body.mkv")]
        if self.scheme == "https":
            argv += ["--ca", self.kvsd.ca_path]
        log = open(os.path.join(run_dir, "kvs-put.log"), "w")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, errors="replace", start_new_session=True)
        why = common.deprioritize(proc.pid)
        if why:
            self.nice_problems.add(why)
        c = {"proc": proc, "log": log, "run_dir": run_dir, "started": time.time(), "progress": [],
             "lock": threading.Lock()}
        c["thread"] = threading.Thread(target=self._reader, args=(c,), daemon=True)
        c["thread"].start()
        self.current = c

    @staticmethod
    def _reader(c):
        for line in c["proc"].stderr:
            c["log"].write(line)
            p = common.parse_progress(line)
            if p:
                with c["lock"]:
                    c["progress"].append((time.time(), p["persisted"], p["errors"]))

    def _read(self):
        c = self.current
        with c["lock"]:
            items, c["progress"] = c["progress"], []
        for wall, persisted, errors in items:
            c["last"] = (wall, persisted, errors)
            self._ack(wall, self.base + persisted)

    def _exited(self, now):
        return self.current["proc"].poll() is not None

    def _kill(self):
        p = self.current["proc"]
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)

    def _finish(self, now):
        c = self.current
        c["proc"].wait()
        c["thread"].join(5)
        c["log"].close()
        self._read()
        last_wall, last_persisted, last_errors = c.get("last", (c["started"], 0, 0))
        summary = None
        try:
            with open(os.path.join(c["run_dir"], "summary.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            pass
        s = (summary or {}).get("streams", [{}])[0] if summary else {}
        persisted = s.get("persisted", last_persisted) if summary else last_persisted
        # Acknowledgements the summary adds after the last progress line are booked at that line's
        # time: never later than they came.
        self._ack(last_wall, self.base + persisted)
        self.base += persisted
        self.runs.append({"rc": c["proc"].returncode, "timed_out": False, "persisted": persisted,
                          "errors": s.get("errors", last_errors) if summary else last_errors,
                          "error": s.get("error", "") if summary else "no summary (killed)",
                          "summary": summary is not None, "run_dir": c["run_dir"],
                          "dump": os.path.join(c["run_dir"], "body.mkv"), "started": c["started"]})

    def check(self, listed_ms):
        """(acknowledged, lost, what was lost, notes). kvs-put reports how many fragments of a run got PERSISTED,
        not which: a run without ERROR ACKs had its first N fragments PERSISTED (kvsd persists an
        upload's fragments in order), so those N (by the dumped body's Cluster timecodes) must be
        listed; a run with an ERROR ACK must have at least N of its fragments listed."""
        acked, lost, detail, notes = 0, 0, [], []
        for i, r in enumerate(self.runs):
            acked += r["persisted"]
            if r["persisted"] == 0:
                continue
            try:
                with open(r["dump"], "rb") as f:
                    body = f.read()
                sent = [fr.timecode for fr in mkv_frames.parse(body, source="dump").fragments
                        if fr.timecode is not None]
            except (OSError, mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
                notes.append(f"run {i}: its dumped body cannot be read ({e}): checked by count only")
                sent = []
            if r["errors"] == 0 and len(sent) >= r["persisted"]:
                missing = [tc for tc in sent[:r["persisted"]] if tc not in listed_ms]
                if missing:
                    lost += len(missing)
                    detail.append(f"run {i}: timecodes {missing[:8]}")
            else:
                have = sum(1 for tc in set(sent) if tc in listed_ms)
                if have < r["persisted"]:
                    lost += r["persisted"] - have
                    detail.append(f"run {i}: {r['persisted'] - have} of {r['persisted']} (by count)")
        return acked, lost, detail, notes


def listed_ms(kvsd, stream):
    """Producer timestamps (ms) of every fragment ListFragments lists for the stream."""
    return {epoch_ms(f["ProducerTimestamp"]) for f in kvsd.read_client().list_fragments(stream, page_size=1000)}


