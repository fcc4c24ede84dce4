"""Server-fault recovery checks for the stock KVS producer SDK against kvsd: kvsd SIGKILLed and
restarted on the same ports and data dir, or SIGSTOPped and SIGCONTed, while a realtime producer
(the C sample kvsVideoOnlyRealtimeStreamingSample, or kvssink) streams. Used by
test_sdk_restart_c.py, test_sdk_restart_kvssink.py and test_sdk_sigstop.py.

What a run must show (check_fault_run; FaultCheck.failures lists every criterion it misses):
  1. the producer exits 0, within stream time + the measured outages + SLACK_S (10 s);
  2. its log shows no ACK dropped as "already expired upload handle", with one exception: an ERROR
     for an upload the SDK had already ended or replaced itself (see ExpiredAck.benign; it is
     reported). Other
     WARN/ERROR lines are expected while kvsd is away: they are reported, not failed;
  3. ListFragments lists no producer timestamp twice, only fragments the producer made, and every
     fragment the producer made outside the outages, each with all the frames the producer put
     into it;
  4. GetMediaForFragmentList returns, for every listed fragment, exactly the frames (track,
     timecode, key flag, payload bytes) of one complete copy of that fragment the SDK sent (its
     dump);
  5. every fragment listed just before an outage (kvsd lists what it stored and acknowledged as
     PERSISTED) is still listed at the end under the same fragment number and producer timestamp,
     and GetMediaForFragmentList returns byte for byte what it returned for it then.

Which fragments the producer made, and when: the SDK runs at log level VERBOSE (1; kvssink: TRACE),
where PIC's putKinesisVideoFrame logs every frame it is given ("debug frame info pts: ...,
isKey N") with the wall-clock time of the call (ms). A fragment is a key frame and the frames after
it up to the next key frame; its Cluster Timecode (ABSOLUTE, TimecodeScale 1 ms) is the key frame's
PTS in ms. The frames' PTS are not used as wall-clock times: the C realtime sample stamps frame n
with start + n x 40 ms while its loop sleeps 40 ms plus the work of each iteration (more while the
SDK retries PutMedia ~100 times a second), so its PTS fall behind the wall clock by 1 to 4 s in a
40 s run here; kvssink's putFrame can also block for seconds during an outage on a loaded machine.

A fragment was made inside an outage when the wall-clock span from its first frame's put to its
last frame's put meets the outage's window [down, back] (so a fragment begun before the kill and
ended after it is inside): down is just before the signal; back is when kvsd was listening again
(start() returned) or SIGCONT was sent, or later, when the SDK read a 4006 kvsd answered to a
resumed body after that (Outage.set_back; the SDK then drops the frames from its sender's position
to the end of that fragment, and with a small backlog its sender is at the newest frame). Every
other fragment is "made outside the outages" and required.

The dump (KVS_DEBUG_DUMP_DATA_FILE_DIR) is read tolerantly here (read_dumps_tolerant): after kvsd
comes back, the first PutMedia that connects does not start with an MKV header but continues the
cut body where its sender stood (inside a frame; see docs/storage.md "Reconnect bodies"), and
sdk_output.read_dumps() raises on such a file. Those sessions are kept as "headerless" (bytes up to
an EBML header that parses are not parsed; Cluster heads in them are found by pattern, for the
report).
"""

import json
import os
import re
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sdk_harness
from sdk_harness import ReadError, epoch_ms, mkv_frames, sdk_acks, sdk_log_problems
from sdk_output import DUMP_RE, dump_paths
from upload_check import listed_fragments

SLACK_S = 10.0  # the time budget: stream time + outages + this
EBML_MAGIC = bytes.fromhex("1a45dfa3")
# A Cluster as PIC writes it: unknown size, then Timecode with an 8-byte size.
CLUSTER_HEAD_RE = re.compile(re.escape(bytes.fromhex("1f43b675ffe788")) + b"(.{8})", re.S)

# PIC's VERBOSE putKinesisVideoFrame line, in the C samples' format and in kvssink's log4cplus one.
FRAME_LINE_RE = re.compile(
    r"^(?:(?P<c_ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) VERBOSE\s+|\[TRACE\s*\] \[(?P<k_ts>\d{4}-\d\d-\d\d "
    r"\d\d:\d\d:\d\d\.\d+)\] )putKinesisVideoFrame\(\): \[(?P<stream>[^\]]*)\] debug frame info pts: (?P<pts>\d+), "
    r"dts: \d+, duration: \d+, size: (?P<size>\d+), trackId: (?P<track>\d+), isKey (?P<key>\d)", re.M)
EXPIRED_RE = re.compile(
    r"\[(?P<stream>[^\]]*)\] An ACK is received for an already expired upload handle (?P<handle>\d+)")
INVALID_HANDLE = 2 ** 64 - 1  # PIC's INVALID_UPLOAD_HANDLE_VALUE
# The SDK ending an upload itself: its read callback reports the end of the body, its network
# thread exits, or PIC terminates the handle.
ENDED_RES = [r"Reported end-of-stream for stream {s}\. Upload handle: {h}\b",
             r"Network thread for Kinesis Video stream: {s} with upload handle: {h} exited",
             r"terminated upload handle {h} with service call result"]
# The SDK's PutMedia write callback at DEBUG, with the log stamp (C samples' format and kvssink's).
ACK_LINE_RE = re.compile(
    r"^(?:(?P<c_ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) DEBUG\s+|\[DEBUG\s*\] \[(?P<k_ts>\d{4}-\d\d-\d\d "
    r"\d\d:\d\d:\d\d\.\d+)\] )postWriteCallback\(\): Curl post body write function for stream with handle: "
    r"(?P<stream>\S+) and upload handle: (?P<handle>\d+) returned: ?(?P<body>.*)$", re.M)
# PIC opening a new PutMedia upload (the state machine does so once the previous one ended).
NEW_HANDLE_RE = re.compile(r"Put stream result event\. New upload handle (?P<handle>\d+)")
KVSD_ERROR_RE = re.compile(r"putMedia (\S+): ERROR (\d+)(?: at body offset \d+)?: (.*)$")


def log_wall(stamp):
    """Epoch seconds of an SDK log time stamp ("2026-12-07 16:20:45.182", local time, ms)."""
    day, clock = stamp.split(" ")
    whole, _, frac = clock.partition(".")
    t = time.mktime(datetime.strptime(f"{day} {whole}", "%Y-%m-%d %H:%M:%S").timetuple())
    return t + int(frac) / 10 ** len(frac)


def timed_acks(log_text, stream):
    """[(wall time the SDK's write callback got it, upload handle, ACK dict)] in log order (ACKs
    whose JSON is on the callback's line; the DEBUG log puts it there)."""
    out = []
    for m in ACK_LINE_RE.finditer(log_text):
        if m.group("stream") != stream:
            continue
        wall = log_wall(m.group("c_ts") or m.group("k_ts"))
        for obj in re.findall(r"\{[^{}]*\}", m.group("body")):
            try:
                out.append((wall, int(m.group("handle")), json.loads(obj)))
            except ValueError:
                pass
    return out


@dataclass
class ExpiredAck:
    """An ACK the SDK dropped as 'already expired upload handle'."""
    line: int
    handle: int
    ack: dict  # the ACK its write callback had just received for that handle (None: not found)
    ended_first: bool  # the SDK had ended that upload itself before the ACK arrived
    text: str
    superseded_first: bool = False  # the SDK had opened a later upload before the ACK arrived

    @property
    def benign(self):
        """Only an ERROR for an upload the SDK had already ended itself, or replaced by a later one:
        it would have ended that upload anyway, so nothing is lost (seen after a restart: the SDK
        sends the last bytes of the cut body on a new handle, ends it or opens the next one, and
        kvsd's 4006 for those bytes arrives just after). An ACK dropped with handle 2^64-1 is PIC's
        ACK parser losing every ACK after the first of one read; a BUFFERING, RECEIVED or PERSISTED
        dropped is never benign."""
        return (self.handle != INVALID_HANDLE and (self.ended_first or self.superseded_first)
                and self.ack is not None and self.ack.get("EventType") == "ERROR")


def expired_acks(log_text, stream):
    """Every 'already expired upload handle' of the stream in the SDK's log, with the ACK it was
    about and whether the SDK had ended that upload before."""
    lines = log_text.splitlines()
    out = []
    for n, line in enumerate(lines):
        m = EXPIRED_RE.search(line)
        if not m or m.group("stream") != stream:
            continue
        handle = int(m.group("handle"))
        ack = None
        for k in range(n - 1, max(-1, n - 200), -1):
            a = ACK_LINE_RE.match(lines[k])
            if a and a.group("stream") == stream and (handle == INVALID_HANDLE or int(a.group("handle")) == handle):
                objs = re.findall(r"\{[^{}]*\}", a.group("body"))
                try:
                    ack = json.loads(objs[-1]) if objs else None
                except ValueError:
                    ack = None
                break
        ended = [re.compile(rx.format(s=re.escape(stream), h=handle)) for rx in ENDED_RES]
        ended_first = any(rx.search(lines[k]) for k in range(max(0, n - 2000), n) for rx in ended)
        superseded_first = any(int(h.group("handle")) > handle for k in range(max(0, n - 2000), n)
                               for h in [NEW_HANDLE_RE.search(lines[k])] if h)
        out.append(ExpiredAck(n + 1, handle, ack, ended_first, line.strip()[:300], superseded_first))
    return out


# --- what the producer made ---------------------------------------------------------------------

@dataclass
class MadeFragment:
    """A fragment as the producer put it: the key frame's PTS in ms (= its Cluster Timecode) and
    the wall-clock times of its frames' putKinesisVideoFrame calls (log stamps, ms, truncated)."""
    timecode: int
    walls: list = field(default_factory=list)
    pts_ms: list = field(default_factory=list)

    @property
    def first_wall(self):
        return self.walls[0]

    @property
    def last_wall(self):
        return self.walls[-1] + 0.001  # the stamp is truncated to the ms

    @property
    def frames(self):
        return len(self.walls)


def made_fragments(log_text, stream):
    """The fragments the producer made, in order, from PIC's VERBOSE frame lines (video track;
    the zero-size end-of-fragment frames are skipped)."""
    out = []
    for m in FRAME_LINE_RE.finditer(log_text):
        if m.group("stream") != stream or int(m.group("size")) == 0 or int(m.group("pts")) == 0:
            continue
        wall = log_wall(m.group("c_ts") or m.group("k_ts"))
        pts_ms = int(m.group("pts")) // 10000  # 100 ns units -> ms (TimecodeScale 1 ms)
        if m.group("key") == "1" or not out:
            out.append(MadeFragment(pts_ms))
        out[-1].walls.append(wall)
        out[-1].pts_ms.append(pts_ms)
    return out


# --- what the SDK sent ----------------------------------------------------------------------------

@dataclass
class Copy:
    """One copy of a fragment in one PutMedia session of the dump."""
    session: str
    fragment: object  # mkv_frames.Fragment

    @property
    def usable(self):
        """All its blocks are whole (a Cluster cut by the end of the body on a block boundary is
        usable: the SDK may have ended that body cleanly there, and kvsd may have stored it)."""
        return self.fragment.complete and self.fragment.timecode is not None


@dataclass
class TolerantDumps:
    names: list = field(default_factory=list)  # every dump file, session order
    empty: int = 0  # sessions that sent no byte (curl could not connect)
    headerless: list = field(default_factory=list)  # (name, bytes, [Cluster timecodes seen by pattern])
    copies: dict = field(default_factory=dict)  # Cluster timecode -> [Copy]
    errors: list = field(default_factory=list)  # parse errors (name: message)
    timecode_scales: set = field(default_factory=set)

    def first_session_with_header_after(self, index):
        """(name, [timecodes]) of the first session at or after position index that has an MKV header."""
        for name in self.names[index:]:
            tcs = [tc for tc, cs in self.copies.items() for c in cs if c.session == name]
            if tcs:
                return name, sorted(tcs)
        return None, []


def read_dumps_tolerant(dump_dir, stream):
    """Reads every dump file of the stream: bodies with an MKV header are parsed whole
    (mkv_frames); a body that starts without one (a resumed body) is kept as headerless up to its
    first EBML header, and parsed from there if it has one."""
    out = TolerantDumps()
    for path in dump_paths(dump_dir, stream):
        name = os.path.basename(path)
        out.names.append(name)
        with open(path, "rb") as f:
            body = f.read()
        if not body:
            out.empty += 1
            continue
        parsed, start = None, 0
        if body.startswith(EBML_MAGIC):
            try:
                parsed = mkv_frames.parse(body, source=name)
            except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
                out.errors.append(f"{name}: {e}")
                continue
        else:
            # A resumed body: look for a later header (a key frame's item may carry one) that
            # parses; the magic can also occur by chance inside a frame's payload.
            start = body.find(EBML_MAGIC)
            while start >= 0 and parsed is None:
                try:
                    parsed = mkv_frames.parse(body[start:], source=name)
                except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid):
                    start = body.find(EBML_MAGIC, start + 1)
            head = body if parsed is None else body[:start]
            out.headerless.append((name, len(head), [int.from_bytes(m.group(1), "big")
                                                    for m in CLUSTER_HEAD_RE.finditer(head)]))
            if parsed is None:
                continue
        out.timecode_scales.add(parsed.timecode_scale)
        for frag in parsed.fragments:
            if frag.timecode is not None:
                out.copies.setdefault(frag.timecode, []).append(Copy(name, frag))
    return out


# --- what kvsd holds ------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """ListFragments and GetMediaForFragmentList of a stream at one moment: per listed fragment
    (producer timestamp order) its number, producer ms and the bytes of its chunk."""
    at: float
    numbers: list = field(default_factory=list)
    producer_ms: dict = field(default_factory=dict)  # number -> producer ms
    chunks: dict = field(default_factory=dict)  # number -> bytes
    error: str = None

    def total_bytes(self):
        return sum(len(c) for c in self.chunks.values())


def split_chunks(body):
    """GetMediaForFragmentList answers one chunk per fragment, each starting with its own EBML
    header: the body split at its top-level EBML headers."""
    sc = mkv_frames.mkv_scan.scan(body)
    starts = [el.start for el in sc.elements if el.id == mkv_frames.mkv_scan.EBML]
    return [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]


def take_snapshot(kvsd, stream):
    """Reads every listed fragment of the stream (one GetMediaForFragmentList call)."""
    snap = Snapshot(at=time.time())
    client = kvsd.read_client()
    try:
        listed = client.list_fragments(stream)
    except ReadError as e:
        if e.error_type == "ResourceNotFoundException":
            return snap
        snap.error = f"ListFragments: {e}"
        return snap
    except OSError as e:
        snap.error = f"ListFragments: {e}"
        return snap
    listed.sort(key=lambda f: (epoch_ms(f["ProducerTimestamp"]), int(f["FragmentNumber"])))
    snap.numbers = [f["FragmentNumber"] for f in listed]
    snap.producer_ms = {f["FragmentNumber"]: epoch_ms(f["ProducerTimestamp"]) for f in listed}
    if not listed:
        return snap
    try:
        body = client.get_media_for_fragment_list(stream, snap.numbers)
        chunks = split_chunks(body)
    except (ReadError, OSError, mkv_frames.mkv_scan.Invalid) as e:
        snap.error = f"GetMediaForFragmentList: {e}"
        return snap
    if len(chunks) != len(snap.numbers):
        snap.error = f"GetMediaForFragmentList returned {len(chunks)} chunks for {len(snap.numbers)} fragments"
        return snap
    snap.chunks = dict(zip(snap.numbers, chunks))
    return snap


# --- the disturbances -----------------------------------------------------------------------------

@dataclass
class Outage:
    """One disturbance of kvsd: kind "SIGKILL" (killed, restarted after `length` s on the same
    ports and data dir) or "SIGSTOP" (stopped, SIGCONT after `length` s), `at` s after the
    producer's launch. Measured: down just before the signal, up when the restarted kvsd reported
    its listeners (start() returned) or SIGCONT was sent; the window of the check is [down, back]
    (set_back)."""
    kind: str
    at: float
    length: float
    down: float = None
    up: float = None
    snapshot: Snapshot = None
    session_index: int = None  # dump sessions that existed at `up` (the first after it is this index)
    sessions_at_down: int = None  # dump sessions that existed at `down`
    restart_s: float = None  # SIGKILL: how long kvsd.start() took (part of the window)
    snapshot_s: float = None  # how long the snapshot before the signal took
    back: float = None  # end of the window: `up`, or later (see set_back)
    recovered: float = None  # first BUFFERING ACK the SDK read after `up`

    def set_back(self, acks, headerless_handles):
        """Ends the window when the SDK read the last 4006 ERROR kvsd answered to its resumed bodies
        (uploads whose body began without an MKV header, headerless_handles) after `up` and before
        its first BUFFERING after `up`, when that is later than `up`. After a
        restart the first uploads that connect continue the cut body without a header; kvsd answers
        4006 and the SDK drops the frames from its sender's position at that instant (the newest
        frame when the backlog is small) to the end of that fragment (docs/storage.md, "Reconnect
        bodies", shape 1). So a fragment begun between kvsd listening and that ACK is part of the
        outage as the producer lived it. Other ERRORs do not extend the window."""
        self.back = self.up
        if self.up is None:
            return
        for wall, handle, ack in acks:
            if wall < self.up:
                continue
            if ack.get("EventType") == "BUFFERING":
                self.recovered = wall
                break
            if (ack.get("EventType") == "ERROR" and str(ack.get("ErrorId")) == "4006"
                    and handle in headerless_handles):
                self.back = max(self.back, wall + 0.001)

    @property
    def duration(self):
        return (self.up - self.down) if self.up and self.down else 0.0

    def covers(self, made):
        """True when the fragment's frames were put during the window [down, back] (or on both sides
        of it)."""
        back = self.back if self.back is not None else self.up
        return self.down is not None and made.first_wall <= back and made.last_wall >= self.down

    def describe(self, t0):
        if self.down is None:
            return f"{self.kind} planned at +{self.at:.0f}s: not done"
        restart = f", of which kvsd's start {self.restart_s:.2f}s" if self.restart_s is not None else ""
        text = (f"{self.kind} at +{self.down - t0:.2f}s (after a {self.snapshot_s:.2f}s snapshot), kvsd back at "
                f"+{self.up - t0:.2f}s (outage {self.duration:.2f}s{restart})")
        if self.session_index is not None and self.sessions_at_down is not None:
            n = self.session_index - self.sessions_at_down
            text += f"; the SDK opened {n} PutMedia sessions meanwhile ({n / max(self.duration, 1e-3):.1f}/s)"
        if self.back is not None and self.back > self.up:
            text += (f"; it read kvsd's last 4006 at +{self.back - t0:.3f}s "
                     f"({(self.back - self.up) * 1000:.0f} ms after)")
        if self.recovered is not None:
            text += f"; first BUFFERING ACK after it at +{self.recovered - t0:.3f}s"
        return text


def run_outages(kvsd, proc, stream, outages):
    """Applies the outages in order while the producer runs (each preceded by a Snapshot of the
    stream). Returns a list of problems (the producer ended before an outage, a snapshot failed, kvsd
    would not restart). kvsd is always left running."""
    problems = []
    t0 = proc.run.started_at
    for o in outages:
        while time.time() < t0 + o.at and proc.poll() is None:
            time.sleep(0.02)
        if proc.poll() is not None:
            problems.append(f"the producer exited (code {proc.poll()}) before the {o.kind} planned at +{o.at:.0f}s")
            break
        began = time.time()
        o.snapshot = take_snapshot(kvsd, stream)
        if o.snapshot.error:
            problems.append(f"snapshot before the {o.kind} at +{o.at:.0f}s failed: {o.snapshot.error}")
        o.sessions_at_down = len(dump_paths(proc.run.dump_dir, stream))
        o.down = time.time()
        o.snapshot_s = o.down - began
        if o.kind == "SIGKILL":
            kvsd.kill()
            time.sleep(o.length)
            began = time.time()
            try:
                kvsd.start()
            except AssertionError as e:
                problems.append(f"kvsd did not restart after the SIGKILL at +{o.at:.0f}s: {e}")
                o.up = time.time()
                break
        elif o.kind == "SIGSTOP":
            kvsd.signal(signal.SIGSTOP)
            try:
                time.sleep(o.length)
            finally:
                kvsd.signal(signal.SIGCONT)
        else:
            raise ValueError(o.kind)
        o.up = time.time()
        if o.kind == "SIGKILL":
            o.restart_s = o.up - began
        o.session_index = len(dump_paths(proc.run.dump_dir, stream))
    return problems


# --- the check ------------------------------------------------------------------------------------

@dataclass
class FaultCheck:
    run: object
    outages: list
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what happened (the report), pass or fail
    problems: list = field(default_factory=list)  # sdk_log_problems (informational)
    made: list = field(default_factory=list)
    inside: set = field(default_factory=set)  # timecodes of fragments made inside an outage
    listed: list = field(default_factory=list)
    dumps: TolerantDumps = None
    budget: float = 0.0
    inside_short: list = field(default_factory=list)  # (tc, number, stored frames, made frames)

    @property
    def ok(self):
        return not self.failures

    def summary(self):
        r = self.run
        return (f"{r.label} [{r.stream}]: {'PASS' if self.ok else 'FAIL'} exit={r.returncode}"
                f"{' (killed at timeout)' if r.timed_out else ''} elapsed={r.elapsed:.1f}s budget={self.budget:.1f}s "
                f"made={len(self.made)} (inside outages {len(self.inside)}) listed={len(self.listed)} "
                f"sessions={len(self.dumps.names) if self.dumps else '?'}")

    def report(self, kvsd):
        parts = [self.summary()]
        if self.failures:
            parts += ["failed criteria:"] + [f"  - {f}" for f in self.failures]
        parts += ["what happened:"] + [f"  {n}" for n in self.notes]
        if self.problems:
            parts += [f"SDK log problems ({len(self.problems)}, expected while kvsd is away; first 15):"]
            parts += [f"  {p}" for p in self.problems[:15]]
        parts.append(f"run dir: {self.run.run_dir}")
        if self.failures:
            parts.append(f"--- SDK log tail ({self.run.log_path}) ---")
            parts.append("\n".join(line[:400] for line in self.run.log_tail(40).splitlines()))
            parts.append("--- kvsd log tail ---")
            parts.append(kvsd.log_tail(40))
        return "\n".join(parts)


def kvsd_story(lines, stream):
    """What kvsd logged about the stream's uploads: sessions started per kvsd start, ERRORs answered
    (by id, with the first message of each), replays acknowledged with a stored number, bodies
    that ended abnormally, fragments not persisted, storage recovery lines."""
    out, per_start = [], []
    errors, first_msg = Counter(), {}
    replays = abnormal = not_persisted = 0
    for line in lines:
        if line.startswith("---- kvsd start #"):
            per_start.append(0)
            continue
        if "storage recovery" in line:
            out.append("kvsd " + line.split(" ", 1)[-1][:200])
        if f"putMedia {stream}:" not in line:
            continue
        if "session started" in line:
            if not per_start:
                per_start.append(0)
            per_start[-1] += 1
        m = KVSD_ERROR_RE.search(line)
        if m and m.group(1) == stream:
            errors[m.group(2)] += 1
            first_msg.setdefault(m.group(2), m.group(3)[:160])
        replays += "is a replay of stored fragment" in line
        abnormal += "body ended abnormally" in line
        not_persisted += "not persisted" in line
    out.insert(0, f"kvsd PutMedia sessions per kvsd start: {per_start}; replays acknowledged with the stored "
                  f"number: {replays}; bodies ended abnormally: {abnormal}; fragments not persisted: {not_persisted}")
    answered = ", ".join(f"{k} x{v} ({first_msg[k]!r})" for k, v in sorted(errors.items()))
    out.insert(1, "kvsd ERRORs answered: " + (answered or "none"))
    return out, errors


def check_fault_run(run, kvsd, outages, stream_seconds, kvsd_lines, driver_problems=()):
    """Applies criteria 1-5 (module docstring) to a finished run; never raises for a server or
    SDK misbehaviour."""
    stream = run.stream
    c = FaultCheck(run=run, outages=outages)
    c.failures.extend(driver_problems)
    t0 = run.started_at
    c.budget = stream_seconds + sum(o.duration for o in outages) + SLACK_S

    # 1. exit status and time
    if run.timed_out:
        c.failures.append(f"did not exit within {run.timeout:.0f}s: killed")
    elif run.returncode != 0:
        c.failures.append(f"exit code {run.returncode}")
    if run.elapsed > c.budget and not run.timed_out:
        c.failures.append(f"took {run.elapsed:.1f}s, more than {c.budget:.1f}s (stream {stream_seconds}s + outages "
                          f"{sum(o.duration for o in outages):.1f}s + slack {SLACK_S:.0f}s)")

    # 2. the SDK's log
    text = run.log()
    expired = expired_acks(text, stream)
    bad = [e for e in expired if not e.benign]
    if bad:
        c.failures.append(f"{len(bad)} ACK(s) dropped by the SDK as 'already expired upload handle': " + "; ".join(
            f"line {e.line}: handle {e.handle}, ACK {e.ack}, upload ended by the SDK before: {e.ended_first}, "
            f"replaced by a later upload before: {e.superseded_first}"
            for e in bad[:4]))
    for e in expired:
        if e.benign:
            c.notes.append(f"'already expired upload handle' for an ERROR on an upload the SDK had already ended "
                           f"or replaced itself (not a lost ACK): line {e.line}, handle {e.handle}, ACK {e.ack}")
    c.problems = sdk_log_problems(text, limit=200)
    acks = sdk_acks(text)
    kinds = Counter(a.get("EventType") for a in acks.acks())
    err_ids = Counter(str(a.get("ErrorId")) for a in acks.acks() if a.get("EventType") == "ERROR")
    c.notes.append(f"ACKs the SDK received: {dict(kinds)}; ERROR ids {dict(err_ids) or 'none'}; "
                   f"{len(acks.multi())} write callbacks carried several ACKs")

    # the dump
    c.dumps = read_dumps_tolerant(run.dump_dir, stream)
    d = c.dumps
    headerless_handles = {int(DUMP_RE.match(n).group("handle")) for n, _, _ in d.headerless}
    acks_timed = timed_acks(text, stream)
    for o in outages:
        o.set_back(acks_timed, headerless_handles)
    c.notes[0:0] = [o.describe(t0) for o in outages]
    c.notes.append(f"PutMedia sessions (dump files): {len(d.names)}, of which {d.empty} sent nothing, "
                   f"{len(d.headerless)} began without an MKV header (name, bytes before a header, Cluster "
                   f"timecodes in them): {d.headerless[:8]}")
    for o in outages:
        if o.session_index is not None:
            name, tcs = d.first_session_with_header_after(o.session_index)
            if name:
                c.notes.append(f"  first session with a header after the {o.kind} at +{o.down - t0:.1f}s: {name}, "
                               f"fragments {tcs[:3]}{'...' if len(tcs) > 3 else ''} ({len(tcs)})")
    for e in d.errors:
        c.failures.append(f"the SDK's dump does not parse: {e}")
    if d.timecode_scales - {1000000}:
        c.failures.append(f"TimecodeScale {sorted(d.timecode_scales)} is not 1 ms: the checks here assume it")
        return c

    # what the producer made
    c.made = made_fragments(text, stream)
    if not c.made:
        c.failures.append("no VERBOSE putKinesisVideoFrame line in the SDK log: cannot tell what the producer made "
                          "(log level must be 1 / TRACE)")
        return c
    made_by_tc = {m.timecode: m for m in c.made}
    for o in outages:
        inside = [m.timecode for m in c.made if o.covers(m)]
        c.inside.update(inside)
        c.notes.append(f"  {o.kind} at +{(o.down or t0) - t0:.1f}s: fragments made inside the window (start of "
                       f"their first frame's put): "
                       f"{[f'+{made_by_tc[tc].first_wall - t0:.1f}s tc {tc}' for tc in inside]}")
    lag = [m.first_wall - m.timecode / 1000 for m in c.made]
    c.notes.append(f"producer: {len(c.made)} fragments, {sum(m.frames for m in c.made)} frames; put time minus PTS "
                   f"from {min(lag) * 1000:.0f} to {max(lag) * 1000:.0f} ms")
    short_sent = []
    for m in c.made:
        usable = [cp for cp in d.copies.get(m.timecode, []) if cp.usable]
        if usable and max(len(cp.fragment.frames) for cp in usable) < m.frames:
            short_sent.append((m.timecode, max(len(cp.fragment.frames) for cp in usable), m.frames))
    if short_sent:
        c.notes.append(f"fragments the SDK never sent with all their frames (tc, most frames sent, made): {short_sent}")

    # 3. ListFragments
    try:
        c.listed = listed_fragments(kvsd, stream)
    except (ReadError, OSError) as e:
        c.failures.append(f"ListFragments failed: {e}")
        return c
    by_ms = Counter(epoch_ms(f["ProducerTimestamp"]) for f in c.listed)
    twice = sorted(ms for ms, n in by_ms.items() if n > 1)
    if twice:
        c.failures.append(f"ListFragments lists {len(twice)} producer timestamps more than once: "
                          f"{[(ms, by_ms[ms]) for ms in twice[:8]]}")
    phantom = sorted(ms for ms in by_ms if ms not in made_by_tc)
    if phantom:
        c.failures.append(f"ListFragments lists {len(phantom)} fragments the producer never made (producer ms "
                          f"{phantom[:8]})")
    required = [m for m in c.made if m.timecode not in c.inside]
    missing = [m for m in required if m.timecode not in by_ms]
    if missing:
        c.failures.append(f"{len(missing)} of {len(required)} fragments made outside the outages are not listed: " +
                          ", ".join(f"tc {m.timecode} (made +{m.first_wall - t0:.1f}s..+{m.last_wall - t0:.1f}s, "
                                    f"{len(d.copies.get(m.timecode, []))} copies in the dump)" for m in missing[:8]))
    inside_listed = sorted(tc for tc in c.inside if tc in by_ms)
    c.notes.append(f"listed: {len(c.listed)}; required (made outside the outages): {len(required)}; made inside: "
                   f"{len(c.inside)}, of which listed {len(inside_listed)}")

    # 4. GetMediaForFragmentList against the dump and the producer
    current = {}  # fragment number -> its chunk of GetMediaForFragmentList, now
    if c.listed:
        numbers = [f["FragmentNumber"] for f in c.listed]
        try:
            chunks = split_chunks(kvsd.read_client().get_media_for_fragment_list(stream, numbers))
            if len(chunks) == len(numbers):
                current = dict(zip(numbers, chunks))
            else:
                c.failures.append(f"GetMediaForFragmentList returned {len(chunks)} chunks for {len(numbers)} fragments")
        except (ReadError, OSError, mkv_frames.mkv_scan.Invalid) as e:
            c.failures.append(f"GetMediaForFragmentList failed: {e}")
    mismatched, incomplete, stored_short = [], [], []
    for f in c.listed:
        number, ms = f["FragmentNumber"], epoch_ms(f["ProducerTimestamp"])
        if number not in current:
            continue
        try:
            got = mkv_frames.parse(current[number], source=f"fragment {number}")
        except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
            mismatched.append(f"fragment {number} (tc {ms}) does not parse: {e}")
            continue
        frags = [g for g in got.fragments if g.timecode is not None]
        if len(frags) != 1 or not frags[0].complete:
            incomplete.append(f"fragment {number} (tc {ms}): {len(frags)} Clusters, complete "
                              f"{[g.complete for g in frags]}")
            continue
        stored = frags[0]
        copies = [cp for cp in d.copies.get(ms, []) if cp.usable]
        if not any(cp.fragment.frames == stored.frames for cp in copies):
            sent = [(cp.session, len(cp.fragment.frames), cp.fragment.closed_by) for cp in copies][:4]
            mismatched.append(f"fragment {number} (tc {ms}, {len(stored.frames)} frames) equals no complete copy the "
                              f"SDK sent (session, frames, closed by): {sent}")
        m = made_by_tc.get(ms)
        if m is not None and len(stored.frames) != m.frames:
            (stored_short if ms not in c.inside else c.inside_short).append((ms, number, len(stored.frames), m.frames))
    if incomplete:
        c.failures.append("GetMediaForFragmentList returns incomplete fragments: " + "; ".join(incomplete[:5]))
    if mismatched:
        c.failures.append(f"{len(mismatched)} stored fragments differ from what the SDK sent: " +
                          "; ".join(mismatched[:5]))
    if stored_short:
        c.failures.append(f"{len(stored_short)} fragments made outside the outages are stored with another number of "
                          f"frames than the producer put (tc, number, stored, made): {stored_short[:8]}")
    if c.inside_short:
        # Not a failure: when kvsd answers 4006 to a resumed body the SDK drops the frames from its
        # sender's position to the end of that fragment (docs/storage.md, "Reconnect bodies").
        c.notes.append(f"fragments made inside an outage stored with fewer frames than made (tc, number, stored, "
                       f"made): {c.inside_short[:8]}")

    # 5. the snapshots
    now_ms = {f["FragmentNumber"]: epoch_ms(f["ProducerTimestamp"]) for f in c.listed}
    for o in outages:
        s = o.snapshot
        if s is None or s.error:
            continue  # a failed snapshot is a failure of its own (run_outages)
        gone, moved, changed = [], [], []
        for number in s.numbers:
            if number not in now_ms:
                gone.append((number, s.producer_ms[number]))
            elif now_ms[number] != s.producer_ms[number]:
                moved.append((number, s.producer_ms[number], now_ms[number]))
            elif number in current and current[number] != s.chunks[number]:
                changed.append(describe_change(number, s.producer_ms[number], s.chunks[number], current[number]))
        when = f"the {o.kind} at +{o.down - t0:.1f}s"
        c.notes.append(f"  snapshot before {when}: {len(s.numbers)} fragments, {s.total_bytes()} bytes; now gone "
                       f"{len(gone)}, moved {len(moved)}, changed {len(changed)}")
        if gone:
            c.failures.append(f"{len(gone)} fragments listed before {when} are no longer listed (number, producer ms): "
                              f"{gone[:6]}")
        if moved:
            c.failures.append(f"{len(moved)} fragments listed before {when} changed producer timestamp: {moved[:6]}")
        if changed:
            c.failures.append(f"{len(changed)} fragments listed before {when} are not byte-identical now: " +
                              "; ".join(changed[:4]))
    return c


def describe_change(number, ms, before, after):
    """One line on how a fragment's GetMediaForFragmentList chunk changed."""
    at = next((i for i, (a, b) in enumerate(zip(before, after)) if a != b), min(len(before), len(after)))
    what = f"fragment {number} (tc {ms}): {len(before)} -> {len(after)} bytes, first difference at byte {at}"
    try:
        fb = mkv_frames.parse(before).fragments
        fa = mkv_frames.parse(after).fragments
        diffs = mkv_frames.diff_fragments(fb, fa, limit=2)
        if diffs:
            what += " (" + "; ".join(diffs) + ")"
        else:
            what += " (same frames)"
    except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
        what += f" (does not parse: {e})"
    return what


def record_fault_result(case, check):
    """Appends one JSON line about a checked run to $KVS_INTEROP_RESULTS (when set), like
    upload_check.record_result."""
    path = os.environ.get("KVS_INTEROP_RESULTS")
    if not path:
        return
    r = check.run
    line = {"case": case, "ok": check.ok, "label": r.label, "stream": r.stream, "exit": r.returncode,
            "timed_out": r.timed_out, "elapsed": round(r.elapsed, 2), "budget": round(check.budget, 2),
            "sessions": len(check.dumps.names) if check.dumps else None, "fragments": len(check.made),
            "inside_outages": len(check.inside), "listed": len(check.listed), "failures": check.failures,
            "outages": [{"kind": o.kind, "down": round(o.down - r.started_at, 3) if o.down else None,
                         "up": round(o.up - r.started_at, 3) if o.up else None,
                         "back": round(o.back - r.started_at, 3) if o.back else None} for o in check.outages],
            "notes": check.notes, "run_dir": r.run_dir}
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


# --- unittest glue --------------------------------------------------------------------------------

class FaultTestCase(sdk_harness.InteropTestCase):
    """One kvsd per class; run_with_outages() starts a producer, disturbs kvsd on schedule, waits for
    the producer and fails the test with the full report unless check_fault_run() passes. A
    summary line goes to stderr either way."""

    def run_with_outages(self, start_producer, stream_seconds, outages):
        mark = self.kvsd.log_mark()
        proc = start_producer()
        try:
            problems = run_outages(self.kvsd, proc, proc.run.stream, outages)
        finally:
            if not self.kvsd.running():
                try:
                    self.kvsd.start()
                except AssertionError:
                    pass
        run = proc.wait()
        time.sleep(0.3)  # kvsd logs a request when it has finished it
        lines = self.kvsd.lines_since(mark)
        check = check_fault_run(run, self.kvsd, outages, stream_seconds, lines, problems)
        story, _ = kvsd_story(lines, run.stream)
        check.notes.extend(story)
        print(f"\ninterop: {self.id()}: {check.summary()}\n" + "\n".join(f"  {n}" for n in check.notes),
              file=sys.stderr, flush=True)
        record_fault_result(self.id(), check)
        return self.settle(run, check)
