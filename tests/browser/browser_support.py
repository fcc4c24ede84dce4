"""Shared pieces of the browser playback tests (tests/browser/test_*.py).

- PageServer serves the test page (tests/browser/page) and the hls.js / dash.js builds from
  tests/browser/node_modules on 127.0.0.1, port 0, from a thread. kvsd answers the players'
  cross-origin requests with its CORS headers.
- play() runs play.mjs (headless Debian Chromium through playwright-core) on one session URL and
  returns what it recorded (samples of currentTime / decoded frames / latency, events, errors).
- ingest() / start_kvs_put() run tools/kvs-put against a real kvsd started with harness.Server.
"""

import datetime
import functools
import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402

import mkv_scan  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402,F401

ACCESS_KEY = "AKIAKVSDBROWSERTEST1"
SECRET_KEY = "browser-secret-key-0123456789abcdefghij"
REGION = "us-west-2"
SERVER_ENV = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}

NODE_MODULES = os.path.join(HERE, "node_modules")
PAGE_DIR = os.path.join(HERE, "page")
PLAY_MJS = os.path.join(HERE, "play.mjs")
CHROMIUM = "/usr/bin/chromium"
LIBS = {
    "/lib/hls.min.js": os.path.join(NODE_MODULES, "hls.js", "dist", "hls.min.js"),
    "/lib/dash.all.min.js": os.path.join(NODE_MODULES, "dashjs", "dist", "modern", "umd", "dash.all.min.js"),
}
VIDEO_TRACK = 1  # kvs-put writes the H.264 track as track 1 and AAC as track 2


def check_tools():
    """Raises AssertionError naming what is missing (install-deps installs all of it)."""
    missing = []
    if not os.path.exists(CHROMIUM):
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not os.path.isdir(os.path.join(NODE_MODULES, "playwright-core")):
        missing.append("tests/browser/node_modules/playwright-core (npm ci --prefix tests/browser)")
    for path in LIBS.values():
        if not os.path.exists(path):
            missing.append(os.path.relpath(path, HERE))
    if missing:
        raise AssertionError("browser test dependencies missing (run scripts/install-deps.sh): " + ", ".join(missing))


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def out_dir():
    """tests/browser/out, where screenshots go (ignored by git)."""
    d = os.path.join(HERE, "out")
    os.makedirs(d, exist_ok=True)
    return d


# --- the page --------------------------------------------------------------------------------
class _PageHandler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean in LIBS:
            return LIBS[clean]
        return super().translate_path(path)

    def log_message(self, *args):
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A player that aborts a download (seek, teardown) closes its connection mid-response.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class PageServer:
    """Serves tests/browser/page on http://127.0.0.1:<port>/ from a daemon thread."""

    def __enter__(self):
        handler = functools.partial(_PageHandler, directory=PAGE_DIR)
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
        return False

    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/index.html"


def play(page_server, kind, url, stop, timeout_ms, screenshot=None, hls_config=None):
    """Plays url in headless Chromium; returns play.mjs's JSON (see its header)."""
    cfg = {"pageUrl": page_server.url(), "kind": kind, "url": url, "stop": stop, "timeoutMs": timeout_ms,
           "screenshot": screenshot, "hlsConfig": hls_config or {}}
    p = subprocess.run(["node", PLAY_MJS, json.dumps(cfg)], capture_output=True, text=True, cwd=HERE,
                       timeout=timeout_ms / 1000 + 60)
    if p.returncode != 0:
        raise AssertionError(f"play.mjs exited with {p.returncode}\n{p.stderr}")
    return json.loads(p.stdout)


def describe(res, samples=8):
    """A short text of a play() result for assertion messages."""
    s = res.get("samples", [])
    picked = s if len(s) <= samples else [s[i * (len(s) - 1) // (samples - 1)] for i in range(samples)]
    lines = [f"stop: {res.get('stopReason')}; support: {res.get('support')}",
             f"errors: {res.get('errors')}", f"events: {[e['name'] for e in res.get('events', [])][:40]}",
             f"page errors: {res.get('pageErrors')}", f"failed requests: {res.get('requestFailures', [])[:10]}",
             f"console: {res.get('console', [])[:10]}"]
    for x in picked:
        lines.append(f"  t={x['t']}ms currentTime={x['currentTime']:.3f} frames={x['frames']} "
                     f"duration={x['duration']} bufferedEnd={x['bufferedEnd']} latency={x['latencyMs']}")
    return "\n".join(lines)


def percentiles(values):
    """(p50, p90) of a list of numbers, or (None, None) when empty."""
    if not values:
        return None, None
    v = sorted(values)
    p90 = v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
    return statistics.median(v), p90


class PlaybackAssertions:
    """Mixin for unittest.TestCase: the checks every playback test makes."""

    def assert_supported(self, res):
        if res["stopReason"].startswith("unsupported"):
            self.fail(f"Chromium at {CHROMIUM} cannot play the test media ({res['stopReason']}; "
                      f"MediaSource.isTypeSupported results {res['support']}): Debian's chromium package "
                      "is expected to ship the H.264/AAC decoders")

    def assert_no_errors(self, res):
        fatal = [e for e in res["errors"] if e["fatal"]]
        recovered = [e for e in res["errors"] if not e["fatal"]]
        if recovered:
            counts = {}
            for e in recovered:
                key = f"{e['source']} {e['details']}"
                counts[key] = counts.get(key, 0) + 1
            print("\nnon-fatal player errors (recovered): " + "; ".join(f"{k} (x{n})" for k, n in counts.items()),
                  file=sys.stderr)
        self.assertEqual(fatal, [], "fatal player or <video> errors\n" + describe(res))
        self.assertEqual(res["pageErrors"], [], "uncaught exceptions in the page\n" + describe(res))

    def assert_frames_grow(self, res):
        first = res["firstPlaying"]
        self.assertIsNotNone(first, "playback never started\n" + describe(res))
        last = res["samples"][-1]
        self.assertIsNotNone(last["frames"], "getVideoPlaybackQuality unavailable")
        self.assertGreater(last["frames"], first["frames"], "decoded frames did not grow\n" + describe(res))
        return last["frames"] - first["frames"]

    def advance(self, res):
        first = res["firstPlaying"]
        if first is None:
            return 0.0
        return max(s["currentTime"] for s in res["samples"]) - first["currentTime"]


# --- producing media -------------------------------------------------------------------------
def kvs_put_cmd(server, stream, seconds, dump=None, realtime=False, audio=True):
    cmd = [kvs_put_binary(), "--endpoint", server.base_url(), "--stream", stream, "--pattern", str(seconds),
           "--retention-hours", "24", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--quiet"]
    if audio:
        cmd.append("--audio")
    if realtime:
        cmd.append("--realtime")
    if dump:
        cmd += ["--dump", dump]
    return cmd


def ingest(server, stream, seconds, work_dir, realtime=False):
    """Runs kvs-put to completion (test pattern with audio); returns the mkv_scan.Scan of the body it
    sent."""
    dump = os.path.join(work_dir, stream + ".mkv")
    p = subprocess.run(kvs_put_cmd(server, stream, seconds, dump, realtime), capture_output=True, text=True,
                       timeout=seconds * 3 + 60)
    if p.returncode != 0:
        raise AssertionError(f"kvs-put exited with {p.returncode}\n{p.stderr}\n--- kvsd log ---\n{server.log()}")
    return mkv_scan.scan(mkv_scan.load(dump))


def frame_counts(scan):
    """{track number: frames} over the complete fragments of an ingest."""
    out = {}
    for frag in scan.complete_fragments():
        for track, (frames, _) in frag.tracks().items():
            out[track] = out.get(track, 0) + frames
    return out


# --- AWS clients and sessions ----------------------------------------------------------------
def client(server, service):
    cfg = botocore.config.Config(retries={"max_attempts": 0}, read_timeout=60)
    return boto3.client(service, endpoint_url=server.base_url(), region_name=REGION, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, config=cfg)


def to_dt(seconds):
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


def producer_range(am, stream):
    """(start, end) datetimes covering every fragment of stream by producer timestamp. boto3 sends
    whole seconds, so start is floored and end is the next whole second after the last start."""
    frags = am.list_fragments(StreamName=stream)["Fragments"]
    if not frags:
        raise AssertionError(f"no fragments listed for {stream}")
    starts = sorted(f["ProducerTimestamp"].timestamp() for f in frags)
    return to_dt(int(starts[0])), to_dt(int(starts[-1]) + 1), len(frags)


def on_demand_selector(am, stream):
    start, end, _ = producer_range(am, stream)
    return {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {"StartTimestamp": start,
                                                                            "EndTimestamp": end}}


def http_get(url, timeout=30):
    """GET url without credentials; returns (status, headers, body) for any status."""
    req = urllib.request.Request(url, headers={"Origin": "http://127.0.0.1:1"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
