"""The interop acceptance test of one SDK run against kvsd (check_upload) and its report.

A run passes when the SDK program exited 0 within its budget (stream time + slack), its log shows
no problem (sdk_output.sdk_log_problems: no dropped or rejected ACK, no error, every PutMedia ended
with HTTP 200), it used the expected number of PutMedia sessions, ListFragments lists exactly the
fragments of the SDK's own dump, and GetMediaForFragmentList returns exactly the dump's frames.
"""

import json
import os
import re
from dataclasses import dataclass, field

import mkv_frames
from kvs_read import ReadError, epoch_ms
from sdk_output import AckDelivery, DumpSet, sdk_acks, sdk_log_problems, sdk_put_media_statuses  # noqa: F401


@dataclass
class UploadCheck:
    """Everything check_upload() found. failures is empty when the run passed."""
    run: object  # sdk_harness.SdkRun
    failures: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # sdk_log_problems()
    acks: AckDelivery = None
    dumps: DumpSet = None
    expected: list = field(default_factory=list)  # dump fragments (mkv_frames.Fragment)
    listed: list = field(default_factory=list)  # ListFragments dicts, producer-timestamp order
    returned: list = field(default_factory=list)  # GetMediaForFragmentList fragments

    @property
    def ok(self):
        return not self.failures

    def summary(self):
        r = self.run
        frames = sum(len(f.frames) for f in self.expected)
        return (f"{r.label} [{r.stream}]: {'PASS' if self.ok else 'FAIL'} exit={r.returncode}"
                f"{' (killed at timeout)' if r.timed_out else ''} elapsed={r.elapsed:.1f}s budget={r.budget_s:.0f}s "
                f"sessions={len(self.dumps.paths) if self.dumps else '?'} fragments={len(self.expected)} "
                f"frames={frames} listed={len(self.listed)}")

    def report(self, kvsd=None, sdk_lines=60, kvsd_lines=40):
        """A failure message: every failed criterion, the log problems, the ACK delivery, the SDK
        log tail and the kvsd log tail."""
        parts = [self.summary(), "failed criteria:"] + [f"  - {f}" for f in self.failures]
        if self.problems:
            parts += ["SDK log problems:"] + [f"  {p}" for p in self.problems[:25]]
        if self.acks is not None:
            parts.append(f"ACK delivery to the SDK: {self.acks.summary()}")
        parts.append(f"run dir (kept): {self.run.run_dir}")
        parts.append(f"--- SDK log tail ({self.run.log_path}) ---")
        parts.append(self.run.log_tail(sdk_lines))
        if kvsd is not None:
            parts.append("--- kvsd log tail ---")
            parts.append(kvsd.log_tail(kvsd_lines))
        return "\n".join(parts)


# A DEBUG line in either SDK log format (see sdk_output).
DEBUG_RE = re.compile(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ DEBUG\s|\[DEBUG\])", re.M)

# kvsd's access log line of a finished request (src/http/dispatcher.cpp).
ACCESS_PUT_MEDIA_RE = re.compile(r"access POST /putMedia \S+ status=(\d+) .*?proto=(\S+)")
PROTOCOL_NAMES = {"h2": "HTTP/2", "http/1.1": "HTTP/1.1"}


def put_media_protocols(kvsd_lines):
    """[(status, protocol)] of the PutMedia requests kvsd's access log shows as finished."""
    out = []
    for line in kvsd_lines:
        m = ACCESS_PUT_MEDIA_RE.search(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
    return out


def listed_fragments(kvsd, stream):
    """Every fragment ListFragments lists for the stream (all pages), by producer timestamp then
    fragment number. Raises ReadError or OSError."""
    listed = kvsd.read_client().list_fragments(stream)
    return sorted(listed, key=lambda f: (epoch_ms(f["ProducerTimestamp"]), int(f["FragmentNumber"])))


def check_upload(run, kvsd, stream=None, expect_sessions=1, expect_protocol=None, kvsd_lines=None):
    """Applies the interop acceptance test to a finished SDK run against kvsd:
      1. the program exited 0, within run.budget_s;
      2. its log shows no problem (sdk_log_problems), no write callback carried several ACKs,
         every PutMedia ended with HTTP 200, and (when it logged at DEBUG) a PERSISTED ACK reached
         it for every fragment of the dump;
      3. it used expect_sessions PutMedia sessions (None: any number) and its dump holds whole
         fragments;
      4. ListFragments (all pages) lists exactly as many fragments as the dump holds, with producer
         timestamps that are the Cluster timecodes (ABSOLUTE) or all offset by one producer start
         time (RELATIVE);
      5. GetMediaForFragmentList of the listed fragments returns exactly the dump's frames (track,
         timecode, key flag, payload bytes), fragment by fragment;
      6. with expect_protocol ("h2" or "http/1.1") and kvsd_lines (kvsd's log lines of the run;
         meaningful only when no other producer used that kvsd meanwhile): every PutMedia kvsd
         logged as finished used that protocol, and there was at least one.
    Never raises for a server or SDK misbehaviour: every failed criterion is one string in the
    returned UploadCheck.failures."""
    stream = stream or run.stream
    c = UploadCheck(run=run)
    if run.timed_out:
        c.failures.append(f"did not exit within {run.timeout:.0f}s: killed (stream time + slack = {run.budget_s:.0f}s)")
    elif run.returncode != 0:
        c.failures.append(f"exit code {run.returncode}")
    if run.elapsed > run.budget_s and not run.timed_out:
        c.failures.append(f"took {run.elapsed:.1f}s, more than {run.budget_s:.0f}s (stream time + slack)")
    text = run.log()
    c.problems = sdk_log_problems(text)
    c.acks = sdk_acks(text)
    if c.problems:
        c.failures.append(f"{len(c.problems)} problem line(s) in the SDK log, first: {c.problems[0]}")
    if c.acks.multi():
        c.failures.append(f"{len(c.acks.multi())} write callback(s) carried several ACKs (the SDK keeps only the "
                          f"first), e.g. {c.acks.multi()[0]}")
    if expect_protocol is not None and kvsd_lines is not None:
        seen = put_media_protocols(kvsd_lines)
        want = PROTOCOL_NAMES.get(expect_protocol, expect_protocol)
        if not seen:
            c.failures.append("kvsd's access log shows no finished PutMedia for the run")
        elif {p for _, p in seen} != {want}:
            c.failures.append(f"PutMedia used {sorted({p for _, p in seen})}, expected {want}")
    statuses = sdk_put_media_statuses(text)
    bad = [s for s in statuses if s[1] != 200]
    if bad:
        c.failures.append(f"{len(bad)} PutMedia session(s) ended with an HTTP status other than 200: "
                          f"(upload handle, status) {bad[:8]}{' ...' if len(bad) > 8 else ''}")
    try:
        c.dumps = run.dumps()
    except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
        c.failures.append(f"the SDK's dump does not parse: {e}")
        return c
    if not c.dumps.paths:
        c.failures.append(f"the SDK wrote no dump in {run.dump_dir} (no PutMedia?)")
        return c
    if expect_sessions is not None and len(c.dumps.paths) != expect_sessions:
        names = [os.path.basename(p) for p in c.dumps.paths]
        c.failures.append(f"{len(names)} PutMedia sessions instead of {expect_sessions} (reconnects): "
                          f"{names[:6]}{' ...' if len(names) > 6 else ''}")
    if c.dumps.never_whole():
        c.failures.append(f"fragment(s) cut short in the dump and never sent whole: timecodes "
                          f"{c.dumps.never_whole()}")
    c.expected = c.dumps.fragments()
    if not c.expected:
        c.failures.append("the dump holds no complete fragment")
        return c
    if DEBUG_RE.search(text):  # the SDK logged at DEBUG, so every ACK it received is in its log
        persisted = {a.get("FragmentTimecode") for a in c.acks.acks() if a.get("EventType") == "PERSISTED"}
        missing = [f.timecode for f in c.expected if f.timecode not in persisted]
        if missing:
            c.failures.append(f"no PERSISTED ACK reached the SDK for {len(missing)} of {len(c.expected)} fragments: "
                              f"timecodes {missing[:10]}")
    scale_ms = c.dumps.timecode_scale / 1e6
    try:
        c.listed = listed_fragments(kvsd, stream)
    except (ReadError, OSError) as e:
        c.failures.append(f"ListFragments failed: {e}")
        return c
    if len(c.listed) != len(c.expected):
        c.failures.append(f"ListFragments lists {len(c.listed)} fragments, the SDK sent {len(c.expected)}: producer "
                          f"ms {[epoch_ms(f['ProducerTimestamp']) for f in c.listed]} vs Cluster timecodes "
                          f"{[f.timecode for f in c.expected]}")
    else:
        offsets = {epoch_ms(f["ProducerTimestamp"]) - round(e.timecode * scale_ms) for f, e in zip(c.listed, c.expected)}
        absolute = c.expected[0].timecode * scale_ms > 1e12  # epoch milliseconds: an ABSOLUTE upload
        if len(offsets) != 1 or (absolute and offsets != {0}):
            c.failures.append(f"ListFragments producer timestamps do not match the Cluster timecodes "
                              f"(offsets {sorted(offsets)[:5]})")
    if not c.listed:
        return c
    try:
        body = kvsd.read_client().get_media_for_fragment_list(stream, [f["FragmentNumber"] for f in c.listed])
    except (ReadError, OSError) as e:
        c.failures.append(f"GetMediaForFragmentList failed: {e}")
        return c
    try:
        got = mkv_frames.parse(body, source="GetMediaForFragmentList")
    except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
        c.failures.append(f"GetMediaForFragmentList body does not parse: {e}")
        return c
    c.returned = got.fragments
    if got.truncated or any(not f.complete for f in got.fragments):
        c.failures.append("GetMediaForFragmentList body ends inside a Cluster")
    diffs = mkv_frames.diff_fragments(c.expected, c.returned)
    if diffs:
        c.failures.append("GetMediaForFragmentList frames differ from the dump: " + "; ".join(diffs))
    return c


def record_result(case, check):
    """Appends one JSON line about a checked run to $KVS_INTEROP_RESULTS (when set)."""
    path = os.environ.get("KVS_INTEROP_RESULTS")
    if not path:
        return
    r = check.run
    line = {"case": case, "ok": check.ok, "label": r.label, "stream": r.stream, "exit": r.returncode,
            "timed_out": r.timed_out, "elapsed": round(r.elapsed, 2), "budget": r.budget_s,
            "sessions": len(check.dumps.paths) if check.dumps else None, "fragments": len(check.expected),
            "listed": len(check.listed), "failures": check.failures, "problems": check.problems[:10],
            "acks": check.acks.summary() if check.acks else None, "run_dir": r.run_dir}
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")
