"""What a stock KVS producer SDK run leaves behind, and how to read it: the dump of every PutMedia
body (KVS_DEBUG_DUMP_DATA_FILE_DIR) and the SDK's log.

The dump (producer-c src/source/Response.c): when KVS_DEBUG_DUMP_DATA_FILE_DIR is set, every
streaming request (PutMedia) creates (truncates) <dir>/<stream name>_<upload handle>.mkv and its
curl read callback appends each buffer it hands to curl. One file per PutMedia session, in upload
handle order; it is the body as the SDK produced it (before TLS/HTTP framing). The C++ SDK's
kvssink uses the same C library (producer-c 1.6.2) and writes the same dump.

The log: the C samples print PIC's default format ("2026-12-07 15:55:13.123 WARN    func(): msg")
on stdout at AWS_KVS_LOG_LEVEL; kvssink goes through log4cplus (sdk_harness.start_kvssink writes
"[WARN ] [2026-12-07 15:55:13.123] msg"). At DEBUG (2) the SDK logs every buffer its PutMedia write
callback receives ("Curl post body write function ... returned: <bytes>", the ACKs) and the end of
each PutMedia ("Network thread for Kinesis Video stream: S with upload handle: N exited. http
status: 200"). A message may span lines (an HTTP error WARN carries the response body, the request
URL and headers on the following lines).
"""

import json
import os
import re
from dataclasses import dataclass, field

import mkv_frames


DUMP_RE = re.compile(r"^(?P<stream>.+)_(?P<handle>\d+)\.mkv$")


def dump_paths(dump_dir, stream):
    """The dump files of a stream, ordered by upload handle (= PutMedia session order)."""
    out = []
    for name in os.listdir(dump_dir) if os.path.isdir(dump_dir) else []:
        m = DUMP_RE.match(name)
        if m and m.group("stream") == stream:
            out.append((int(m.group("handle")), os.path.join(dump_dir, name)))
    return [p for _, p in sorted(out)]


@dataclass
class DumpSet:
    """What the SDK sent for one stream, one mkv_frames.Parsed per PutMedia session (dump file).
    The SDK writes to <dir>/<stream>_<upload handle>.mkv every byte its curl read callback hands
    to curl: each session starts with a full MKV header (EBML, Segment, Info, Tracks). A session
    the SDK ends in order (stream stop, rotation) ends with an END_OF_FRAGMENT Tags element, so
    its last fragment is closed by that tag; a session cut by an error, a reset or a lost
    connection simply stops, inside a Cluster or between two blocks. A Cluster that runs to the
    end of its dump file is therefore a cut fragment, even when it ends on a block boundary.
    After a reconnect the SDK replays the fragments not yet acknowledged as RECEIVED, with the same
    Cluster timecodes, after a fresh MKV header."""
    paths: list
    sessions: list  # mkv_frames.Parsed, same order as paths

    @property
    def timecode_scale(self):
        return self.sessions[0].timecode_scale if self.sessions else 1000000

    @staticmethod
    def whole(fragment):
        """True for a fragment the SDK sent completely: closed by the next Cluster, an
        END_OF_FRAGMENT tag or a new header, not by the end of its dump file."""
        return fragment.complete and fragment.closed_by != "end-of-body"

    def fragments(self):
        """The distinct fragments sent whole, by Cluster timecode (a replayed fragment counts
        once: its first whole copy), in timecode order."""
        seen = {}
        for s in self.sessions:
            for f in s.fragments:
                if self.whole(f):
                    seen.setdefault(f.timecode, f)
        return [seen[k] for k in sorted(seen)]

    def cut(self):
        """Every fragment copy that was cut short (its session ended inside it)."""
        return [f for s in self.sessions for f in s.fragments if not self.whole(f)]

    def never_whole(self):
        """The cut fragments that no session sent whole (by timecode, in order)."""
        whole = {f.timecode for f in self.fragments()}
        return sorted({f.timecode for f in self.cut()} - whole)


def read_dumps(dump_dir, stream):
    paths = dump_paths(dump_dir, stream)
    return DumpSet(paths, [mkv_frames.parse_file(p) for p in paths])


# --- the SDK's log ----------------------------------------------------------------------------------

# A C-sample log line: "2026-12-07 15:55:13.123 WARN    message"; kvssink (log4cplus, the pattern
# written by start_kvssink): "[WARN ] [2026-12-07 15:55:13.123] message".
C_LEVEL_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (VERBOSE|DEBUG|INFO|WARN|ERROR|FATAL|PROFILE)\s")
CPP_LEVEL_RE = re.compile(r"^\[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s*\]")
LOG_HEAD_RE = re.compile(C_LEVEL_RE.pattern + "|" + CPP_LEVEL_RE.pattern)
# gst-launch's own messages, GLib criticals, and GST_DEBUG-format lines at ERROR/WARN.
GST_PROBLEM_RE = re.compile(r"^(ERROR|WARNING): |CRITICAL \*\*|^\d+:\d\d:\d\d\.\d+ +\d+ +0x[0-9a-f]+ (ERROR|WARN) ")

# WARN lines the stock SDK prints on every healthy run against any server (checked against AWS
# behaviour in the SDK sources); anything else at WARN is a problem.
BENIGN_WARN_RE = re.compile("|".join([
    # DescribeStream of a stream that does not exist yet: the SDK then calls CreateStream.
    r"HTTP Error 404 : Response: .*ResourceNotFoundException.*Request URL: \S*/describeStream",
    # The first frame arrives before curl has a connection for the new PutMedia: curl_easy_pause()
    # answers CURLE_BAD_FUNCTION_ARGUMENT (43) for a handle without one (producer-c Response.c
    # notifyDataAvailable); curl calls the read callback anyway once connected. Client-side race.
    r"Failed to un-pause curl with error: 43\.",
    # Teardown: freeing the client runs the callbacks' shutdown a second time (producer-c
    # curlApiCallbacksShutdown); logged on every run, after the stream is closed.
    r"curlApiCallbacksShutdown called when already in progress of shutting down",
    # kvssink: GstCollectPads calls its buffer function with no buffer once every pad is at EOS
    # (gstkvssink.cpp gst_kvs_sink_handle_buffer), and it warns about that NULL buffer.
    r"GStreamer buffer is invalid for ",
]), re.S)

SYMPTOMS = [
    (re.compile(r'"EventType" *: *"ERROR"'), "ERROR ACK from the server"),
    (re.compile(r"already expired upload handle"), "dropped ACK (ACK for an already expired upload handle)"),
    (re.compile(r"Failed to submit ACK"), "ACK rejected by the SDK's ACK parser"),
    (re.compile(r"Reported streamConnectionStale"), "connection stale (no BUFFERING ACK in time)"),
    (re.compile(r"Reported droppedFrame"), "the SDK dropped a frame"),
    (re.compile(r"Reported droppedFragment"), "the SDK dropped a fragment"),
    (re.compile(r"Reported streamError"), "stream error callback"),
    (re.compile(r"Reported abort-connection"), "the SDK aborted the PutMedia connection"),
    (re.compile(r"Failed with status"), "the sample failed"),
]
STATUS_RE = re.compile(r"Network thread for Kinesis Video stream: (\S+) with upload handle: (\d+) exited\. "
                       r"http status: (\d+)")
ACK_WRITE_RE = re.compile(r"Curl post body write function .*? returned: ?(.*)$")
ACK_JSON_RE = re.compile(r"\{[^{}]*\}")


def log_records(text):
    """Splits an SDK log into records [(first line number, [lines])]: a record is a line with a
    log header (C or kvssink format) plus the lines without one that follow it (a message may span
    lines, e.g. an HTTP error's response body and request headers). Lines before the first header
    form their own records, one per line."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if LOG_HEAD_RE.match(line) or not out or not LOG_HEAD_RE.match(out[-1][1][0]):
            out.append((n, [line]))
        else:
            out[-1][1].append(line)
    return out


def sdk_log_problems(text, limit=40):
    """Log records and lines that show a problem, as 'line N: <symptom>: <first line>' strings (at
    most limit, then a count of the rest). Empty for a clean run. A problem is: a SYMPTOMS match, a
    record at ERROR or FATAL, a WARN record not matching BENIGN_WARN_RE, a PutMedia whose network
    thread ended with an HTTP status other than 200, or a GStreamer error/warning/critical line."""
    out = []
    for n, lines in log_records(text):
        record = "\n".join(lines)
        what = None
        for rx, desc in SYMPTOMS:
            if rx.search(record):
                what = desc
                break
        m = C_LEVEL_RE.match(lines[0]) or CPP_LEVEL_RE.match(lines[0])
        if what is None and m:
            if m.group(1) in ("ERROR", "FATAL"):
                what = m.group(1)
            elif m.group(1) == "WARN" and not BENIGN_WARN_RE.search(record):
                what = "WARN"
        if what is None:
            st = STATUS_RE.search(record)
            if st and st.group(3) != "200":
                what = f"PutMedia ended with HTTP {st.group(3)}"
        if what:
            out.append(f"line {n}: {what}: {lines[0].strip()[:300]}")
        for k, line in enumerate(lines):
            if (k > 0 or not m) and GST_PROBLEM_RE.search(line):
                out.append(f"line {n + k}: GStreamer: {line.strip()[:300]}")
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more"]
    return out


def sdk_put_media_statuses(text):
    """[(upload handle, HTTP status)] of every PutMedia whose network thread exited (DEBUG log)."""
    return [(int(m.group(2)), int(m.group(3))) for m in STATUS_RE.finditer(text)]


@dataclass
class AckDelivery:
    """The ACKs the SDK's curl write callback received (from its DEBUG log), one list per
    callback invocation. A callback carrying more than one ACK loses all but the first in PIC
    1.2's ACK parser (they are logged as 'already expired upload handle')."""
    callbacks: list = field(default_factory=list)  # [[ack dict, ...], ...]

    def acks(self):
        return [a for cb in self.callbacks for a in cb]

    def count(self, event):
        return sum(1 for a in self.acks() if a.get("EventType") == event)

    def multi(self):
        return [cb for cb in self.callbacks if len(cb) > 1]

    def summary(self):
        kinds = {}
        for a in self.acks():
            kinds[a.get("EventType")] = kinds.get(a.get("EventType"), 0) + 1
        return f"{len(self.callbacks)} callbacks, {kinds}, {len(self.multi())} callbacks with several ACKs"


def sdk_acks(text):
    """Parses the ACK payloads logged at DEBUG by the SDK's PutMedia write callback."""
    out = AckDelivery()
    cur = None
    for line in text.splitlines():
        m = ACK_WRITE_RE.search(line)
        if m:
            cur = [m.group(1)]
            out.callbacks.append(cur)
            continue
        if cur is not None and not LOG_HEAD_RE.match(line):
            cur.append(line)
            continue
        cur = None
    parsed = []
    for parts in out.callbacks:
        acks = []
        for obj in ACK_JSON_RE.findall("\n".join(parts)):
            try:
                acks.append(json.loads(obj))
            except ValueError:
                acks.append({"unparsed": obj})
        parsed.append(acks)
    out.callbacks = parsed
    return out
