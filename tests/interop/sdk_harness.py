"""Support for running the stock, unmodified Amazon KVS producer SDK binaries against a real kvsd.

Shared by every interop test (the sample matrix here, and restart/fault and many-producer tests
elsewhere). What it provides, and the contract of each piece:

SDK location -- find_sdk()
    The SDK is the OUT directory of kvs-sdk/build.sh (C samples in OUT/producer-c/build, their
    media in OUT/producer-c/samples, kvssink in OUT/cpp/build), named by the environment variable
    KVS_SDK_DIR. When it is unset, or a needed binary/plugin/GStreamer element is missing,
    find_sdk() raises unittest.SkipTest whose reason starts with SKIP_MARKER; tests/CMakeLists.txt
    turns that marker into a ctest "skipped" (never a pass).

kvsd -- Kvsd
    A real kvsd (build/bin/kvsd, or $KVSD_BIN) on fixed free ports chosen at construction and kept
    across restarts, with a temp data dir (or a given one) kept across restarts too, so a test can
    SIGKILL it (kill()) and start() it again on the same ports and data: the SDK caches its data
    endpoint for 40 minutes and reconnects straight to PutMedia. h2=False offers only http/1.1 in
    TLS ALPN (--tls-h2 false). Credentials are a fixed key pair given through KVSD_ACCESS_KEY_ID /
    KVSD_SECRET_ACCESS_KEY. It is a tests/integration/harness.Server, so log(), wait_for_log(),
    kill(), stop() and the context-manager protocol work as there.

Running SDK programs -- start_c_sample() / start_kvssink() -> SdkProcess; .wait() -> SdkRun
    Each run gets its own temp directory (working directory, log, dump dir). The program's stdout
    and stderr go to one log file; AWS_KVS_LOG_LEVEL (C) or a generated log4cplus config (kvssink)
    sets the SDK's log level (default 2 = DEBUG, which logs every ACK the SDK receives and the end
    status of each PutMedia). KVS_DEBUG_DUMP_DATA_FILE_DIR makes the SDK write every PutMedia body
    byte it hands to curl to <dump dir>/<stream>_<upload handle>.mkv, one file per PutMedia session
    (see read_dumps()). wait() enforces a timeout (then the program's process group, and nothing
    else, is SIGKILLed) and records the exit code and elapsed wall time.

Log checks -- sdk_log_problems(), sdk_acks(), sdk_put_media_statuses()
    sdk_log_problems() lists the lines that show something went wrong: SDK log lines at ERROR or
    FATAL, WARN lines not known to be benign, GStreamer ERROR/WARNING/CRITICAL lines, and specific
    symptoms (an ACK dropped as "already expired upload handle", an ACK the parser rejected,
    connection staleness, dropped frames/fragments, a stream error callback, a PutMedia that did not
    end with HTTP 200).

Reading back -- read_client(), ListFragments and GetMediaForFragmentList through kvs_read.py, and
    check_upload(), which applies the full acceptance test of one SDK run and returns an
    UploadCheck listing every failed criterion (exit status, time budget, log problems, PutMedia
    sessions, ListFragments against the dump's fragments, and GetMediaForFragmentList frames against
    the dump's frames, exactly: track, timecode, key flag and payload bytes).

InteropTestCase: a unittest base class with one kvsd per class and assert_upload_ok().

Modules: this one (SDK, kvsd, runs, the unittest base) re-exports what tests need from
sdk_output.py (the dump and the log), upload_check.py (check_upload), kvs_read.py (the signed read
client) and mkv_frames.py (frames of MKV bodies); `import sdk_harness` is enough.

What restart/fault tests should expect from the SDK (seen with kvsd SIGKILLed for ~1 s under the
realtime C sample): every failed PutMedia is a new session, and while the port refuses
connections the SDK retries PutMedia without back-off (about a hundred sessions a second, each
logging WARNs and "http status: 0"); once kvsd is back it replays from the last RECEIVED fragment.
Use check_upload(..., expect_sessions=None) there and judge the log with that in mind.

Environment knobs: KVS_SDK_DIR (required), KVSD_BIN (kvsd binary), KVS_INTEROP_KEEP=1 (keep the
run directories of passing runs too; failing runs are always kept and their path is printed),
KVS_INTEROP_RESULTS=<file> (append one JSON line per checked run: case, result, timings).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import mkv_frames  # noqa: E402,F401
from harness import Server, kvsd_binary  # noqa: E402
from kvs_read import ReadClient, ReadError, epoch_ms  # noqa: E402,F401
# Re-exported, so that tests need only `import sdk_harness`.
from sdk_output import (AckDelivery, DumpSet, dump_paths, log_records, read_dumps, sdk_acks,  # noqa: E402,F401
                        sdk_log_problems, sdk_put_media_statuses)
from upload_check import UploadCheck, check_upload, put_media_protocols, record_result  # noqa: E402,F401

SDK_ENV = "KVS_SDK_DIR"
SKIP_MARKER = "interop: KVS producer SDK unavailable"
ACCESS_KEY = "AKIAKVSDINTEROP00001"
SECRET_KEY = "interop-secret-key-0123456789abcdefABCD"
REGION = "us-west-2"

C_SAMPLES = ("kvsVideoOnlyRealtimeStreamingSample", "kvsVideoOnlyOfflineStreamingSample",
             "kvsAudioVideoStreamingSample", "kvsAudioOnlyStreamingSample")
GST_ELEMENTS = ("videotestsrc", "x264enc", "h264parse", "audiotestsrc", "voaacenc", "aacparse")


# --- the SDK --------------------------------------------------------------------------------------

@dataclass
class Sdk:
    """A built SDK tree (the OUT of kvs-sdk/build.sh)."""
    root: str

    @property
    def c_build(self):
        return os.path.join(self.root, "producer-c", "build")

    @property
    def samples_dir(self):
        """The C samples' media (h264SampleFrames, h265SampleFrames, aacSampleFrames, ...)."""
        return os.path.join(self.root, "producer-c", "samples")

    @property
    def cpp_build(self):
        """The folder holding libgstkvssink.so (use as GST_PLUGIN_PATH)."""
        return os.path.join(self.root, "cpp", "build")

    def c_sample(self, name):
        return os.path.join(self.c_build, name)


def _skip(why):
    raise unittest.SkipTest(
        f"{SKIP_MARKER}: {why}. Build the SDKs with kvs-sdk/build.sh OUT and set {SDK_ENV}=OUT "
        f"(then `make interop` runs these tests).")


def find_sdk(c_samples=True, kvssink=False):
    """The SDK named by $KVS_SDK_DIR; raises unittest.SkipTest (reason starting with SKIP_MARKER)
    when it is unset or lacks what the caller needs: the four C samples and their media
    (c_samples), or kvssink, gst-launch-1.0 and the GStreamer elements of the pipelines here
    (kvssink)."""
    root = os.environ.get(SDK_ENV, "").strip()
    if not root:
        _skip(f"{SDK_ENV} is not set")
    sdk = Sdk(os.path.abspath(root))
    if not os.path.isdir(sdk.root):
        _skip(f"{SDK_ENV}={root} is not a directory")
    if c_samples:
        for name in C_SAMPLES:
            if not os.access(sdk.c_sample(name), os.X_OK):
                _skip(f"{sdk.c_sample(name)} is missing")
        if not os.path.isdir(os.path.join(sdk.samples_dir, "h264SampleFrames")):
            _skip(f"the sample media {sdk.samples_dir} is missing")
    if kvssink:
        if not os.path.exists(os.path.join(sdk.cpp_build, "libgstkvssink.so")):
            _skip(f"{sdk.cpp_build}/libgstkvssink.so is missing")
        if not shutil.which("gst-launch-1.0") or not shutil.which("gst-inspect-1.0"):
            _skip("gst-launch-1.0 / gst-inspect-1.0 are not installed (gstreamer1.0-tools)")
        env = dict(os.environ, GST_PLUGIN_PATH=sdk.cpp_build)
        for el in ("kvssink",) + GST_ELEMENTS:
            p = subprocess.run(["gst-inspect-1.0", el], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
            if p.returncode != 0:
                _skip(f"GStreamer element {el} is not available")
    return sdk


# --- kvsd on fixed ports --------------------------------------------------------------------------

def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago (bound to port 0 and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Kvsd(Server):
    """A real kvsd on fixed ports (chosen at construction, kept across restarts) and a data dir
    kept across restarts (a fresh temp dir removed on __exit__, or the given data_dir, kept).

    start() may be called again after kill() or stop(): same ports, same data, same credentials.
    h2=False starts kvsd with --tls-h2 false (TLS offers only http/1.1). http/https: which
    listeners to open. The log of every start accumulates in log(); restarts are marked with a
    `---- kvsd start #N ----` line."""

    def __init__(self, h2=True, http=True, https=True, data_dir=None, extra_args=(), binary=None, env=None,
                 access_key=ACCESS_KEY, secret_key=SECRET_KEY, start_timeout=30):
        kenv = {"KVSD_ACCESS_KEY_ID": access_key, "KVSD_SECRET_ACCESS_KEY": secret_key}
        kenv.update(env or {})
        args = list(extra_args)
        if not h2:
            args = ["--tls-h2", "false"] + args
        super().__init__(binary=binary or kvsd_binary(), extra_args=args, env=kenv, http=http, https=https,
                         start_timeout=start_timeout, data_dir=data_dir,
                         http_port=free_port() if http else 0, https_port=free_port() if https else 0)
        self.h2 = h2
        self.access_key, self.secret_key = access_key, secret_key
        self.starts = 0

    @property
    def fixed_port(self):
        return self.http_port if self.want_http else None

    @property
    def fixed_tls_port(self):
        return self.https_port if self.want_https else None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)  # no half-started server or orphaned temp dir
            raise
        return self

    def start(self):
        """Starts kvsd and waits for its listeners; raises AssertionError (with the log) when it
        exits or does not listen in time. On the very first start a port taken in the meantime by
        someone else is replaced (up to 3 tries); later starts keep the ports."""
        for attempt in range(3):
            self.starts += 1
            with self._cond:
                self._lines.append(f"---- kvsd start #{self.starts} ----")
            try:
                super().start()
            except AssertionError as e:
                taken = re.search(r"in use|bind", str(e), re.I)
                if self.starts > 1 or not taken or attempt == 2:
                    raise
                self.http_port = free_port() if self.want_http else 0
                self.https_port = free_port() if self.want_https else 0
                self.starts = 0
                continue
            if self.want_https and not self.ca_path:
                guess = os.path.join(self.data_dir, "tls", "ca.pem")
                self.ca_path = guess if os.path.exists(guess) else None
            return

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def control_plane_url(self, scheme="https"):
        """The endpoint an SDK is pointed at: https://127.0.0.1:<tls port> or http://127.0.0.1:<port>."""
        return self.base_url(scheme)

    def log_tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def log_mark(self):
        """A position in the log: lines_since(mark) returns what was logged after it."""
        with self._cond:
            return len(self._lines)

    def lines_since(self, mark):
        with self._cond:
            return list(self._lines[mark:])

    def read_client(self, scheme=None):
        """A kvs_read.ReadClient on the cleartext listener when there is one, else on TLS."""
        scheme = scheme or ("http" if self.want_http else "https")
        return ReadClient(self.base_url(scheme), self.access_key, self.secret_key, REGION,
                          ca_path=self.ca_path if scheme == "https" else None)


# --- running SDK programs -------------------------------------------------------------------------

@dataclass
class SdkRun:
    """The outcome of one SDK program run. returncode is None only if it could not be reaped;
    timed_out means it was SIGKILLed at its timeout. budget_s is the wall time the run was allowed
    by the caller's acceptance test (stream time + slack); elapsed is measured from launch to exit."""
    label: str
    stream: str
    argv: list
    run_dir: str
    log_path: str
    dump_dir: str
    timeout: float
    budget_s: float
    returncode: object = None
    timed_out: bool = False
    elapsed: float = 0.0
    started_at: float = 0.0  # time.time() of the launch

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log().splitlines()[-lines:])

    def dump_paths(self):
        return dump_paths(self.dump_dir, self.stream)

    def dumps(self):
        return read_dumps(self.dump_dir, self.stream)


class SdkProcess:
    """One running SDK program (its own process group). wait() returns the SdkRun; kill() ends it
    at once (SIGKILL to its process group only)."""

    def __init__(self, run, argv, env, cwd):
        self.run = run
        self._log = open(run.log_path, "wb")
        run.started_at = time.time()
        self._t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def poll(self):
        return self.proc.poll()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def interrupt(self):
        """SIGINT to the program (gst-launch -e then sends EOS and stops the stream cleanly)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout=None):
        """Waits up to timeout (default: the run's timeout) seconds from launch; kills the program
        when it is still running then. Returns the SdkRun."""
        timeout = self.run.timeout if timeout is None else timeout
        left = max(0.0, timeout - (time.monotonic() - self._t0))
        try:
            self.run.returncode = self.proc.wait(left)
        except subprocess.TimeoutExpired:
            self.run.timed_out = True
            self.kill()
            self.run.returncode = self.proc.wait()
        self.run.elapsed = time.monotonic() - self._t0
        self._log.close()
        return self.run


def sdk_env(extra):
    """The caller's environment without AWS_*, KVS*, GST_DEBUG* and CONTROL_PLANE_URI variables (so
    nothing of the caller's leaks into the SDK's configuration), plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("AWS_") or k.startswith("KVS") or k == "CONTROL_PLANE_URI" or k.startswith("GST_DEBUG"))}
    env.update(extra)
    return env


def _run_dir(stream):
    d = tempfile.mkdtemp(prefix=f"kvs-interop-{stream}-")
    os.makedirs(os.path.join(d, "dump"))
    return d


def offline_h264_media(sdk, run_dir):
    """A media dir for kvsVideoOnlyOfflineStreamingSample h264. That sample (producer-c 1.6.4)
    initialises its frame-file codec name to "h265" and only ever switches it to "h265", so given
    "h264" it declares V_MPEG4/ISO/AVC but reads h265SampleFrames/frame-NNN.h265: HEVC payloads
    without CodecPrivate (it warns "Failed auto-extracting the CPD" at every key frame). To
    upload what a camera would, this dir's h265SampleFrames/frame-NNN.h265 are symlinks to the
    H.264 frames. Returns the dir (with a trailing slash)."""
    media = os.path.join(run_dir, "media")
    frames = os.path.join(media, "h265SampleFrames")
    os.makedirs(frames, exist_ok=True)
    src = os.path.join(sdk.samples_dir, "h264SampleFrames")
    for name in os.listdir(src):
        if name.endswith(".h264"):
            os.symlink(os.path.join(src, name), os.path.join(frames, name[:-len(".h264")] + ".h265"))
    return media + "/"


def c_sample_argv(sdk, sample, stream, seconds, codec="h264", media=None):
    """argv of a C sample: the realtime/offline video samples take STREAM CODEC SECONDS MEDIA_DIR,
    the audio-video and audio-only samples STREAM SECONDS MEDIA_DIR (media: default the SDK's
    samples dir)."""
    media = media or sdk.samples_dir + "/"
    if sample in ("kvsVideoOnlyRealtimeStreamingSample", "kvsVideoOnlyOfflineStreamingSample"):
        return [sdk.c_sample(sample), stream, codec, str(seconds), media]
    if sample in ("kvsAudioVideoStreamingSample", "kvsAudioOnlyStreamingSample"):
        return [sdk.c_sample(sample), stream, str(seconds), media]
    raise ValueError(f"unknown C sample {sample}")


def c_sample_budget(sample, seconds, slack=8.0):
    """Wall time a C sample may take: its real stream time + slack (the offline sample puts all
    its frames at once, so its stream time does not count)."""
    return (0 if "Offline" in sample else seconds) + slack


def start_c_sample(sdk, kvsd, sample, stream, seconds, codec="h264", log_level=2, budget_s=None, timeout=None,
                   env=None, real_h264_offline=True):
    """Starts a C sample against kvsd's TLS listener (the samples always use https): returns an
    SdkProcess. budget_s defaults to c_sample_budget(); timeout (the kill deadline) to budget + 5.
    real_h264_offline: give the offline sample with codec h264 real H.264 frames (see
    offline_h264_media); False runs it exactly as shipped (HEVC data labelled H.264)."""
    budget = c_sample_budget(sample, seconds) if budget_s is None else budget_s
    run_dir = _run_dir(stream)
    media = None
    if sample == "kvsVideoOnlyOfflineStreamingSample" and codec == "h264" and real_h264_offline:
        media = offline_h264_media(sdk, run_dir)
    run = SdkRun(label=f"{sample} {codec if 'Video' in sample and 'Audio' not in sample else ''}".strip(),
                 stream=stream, argv=c_sample_argv(sdk, sample, stream, seconds, codec, media), run_dir=run_dir,
                 log_path=os.path.join(run_dir, "sdk.log"), dump_dir=os.path.join(run_dir, "dump"),
                 timeout=budget + 5 if timeout is None else timeout, budget_s=budget)
    e = sdk_env({
        "CONTROL_PLANE_URI": kvsd.control_plane_url("https"),
        "AWS_KVS_CACERT_PATH": kvsd.ca_path or "",
        "AWS_ACCESS_KEY_ID": kvsd.access_key,
        "AWS_SECRET_ACCESS_KEY": kvsd.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_KVS_LOG_LEVEL": str(log_level),
        "KVS_DEBUG_DUMP_DATA_FILE_DIR": run.dump_dir,
    })
    e.update(env or {})
    return SdkProcess(run, run.argv, e, cwd=run_dir)


def run_c_sample(*args, **kwargs):
    """start_c_sample(...).wait(): runs a C sample to its end (or its timeout)."""
    return start_c_sample(*args, **kwargs).wait()


LOG4CPLUS_LEVELS = {1: "TRACE", 2: "DEBUG", 3: "INFO", 4: "WARN", 5: "ERROR", 6: "FATAL", 7: "OFF"}


def kvssink_pipeline(stream, seconds, audio=False, fps=None, sink_props=(), log_config=None):
    """gst-launch-1.0 arguments (without the program name, with -e) of an H.264 test pattern
    (640x480, baseline, GOP = fps frames, so 1 s fragments) into kvssink, and with audio=True an
    AAC test tone on a second pad. The video has num-buffers for `seconds` and ends the stream.

    The sources are not live but paced by `identity sync=true`, so buffers reach kvssink in real
    time while their timestamps stay on exact grids from 0. This matters for audio+video: kvssink
    orders frames across tracks by PTS with a 1 ms tolerance
    (FRAME_ORDERING_MODE_MULTI_TRACK_AV_COMPARE_PTS_ONE_MS_COMPENSATE_EOFR), and audio and video
    timestamps that come within 1 ms of each other make PIC reject frames
    (STATUS_CONTENT_VIEW_INVALID_TIMESTAMP 0x30000005, STATUS_MKV_INVALID_FRAME_TIMESTAMP 0x32000002).
    With live sources that happens at random (30 fps video against 48 kHz AAC comes within 0.67 ms
    every 0.53 s). Here video runs at 25 fps (40 ms) and the AAC frames (1024 samples at 32 kHz =
    32 ms) start 4 ms late, so every audio timestamp is at least 4 ms from every video one.

    The audio source has no num-buffers: kvssink posts an EOS message (and puts an end-of-fragment
    frame) at the first EOS on any pad, so gst-launch -e stops at the video's EOS; a second pad
    reaching EOS at the same moment would put a second EOFR (STATUS_MULTIPLE_CONSECUTIVE_EOFR)."""
    fps = fps or (25 if audio else 30)
    props = [f"stream-name={stream}", f"aws-region={REGION}"] + list(sink_props)
    if log_config:
        props.append(f"log-config={log_config}")
    video = ["videotestsrc", f"num-buffers={seconds * fps}", "pattern=ball", "!",
             f"video/x-raw,format=I420,width=640,height=480,framerate={fps}/1", "!", "identity", "sync=true", "!",
             "x264enc", "bframes=0", f"key-int-max={fps}", "bitrate=600", "tune=zerolatency", "speed-preset=ultrafast",
             "!", "video/x-h264,profile=baseline", "!", "h264parse", "!",
             "video/x-h264,stream-format=avc,alignment=au", "!"]
    if not audio:
        return ["-e"] + video + ["kvssink"] + props
    tone = ["audiotestsrc", "wave=sine", "samplesperbuffer=1024", "timestamp-offset=4000000", "!",
            "audio/x-raw,rate=32000,channels=2", "!", "identity", "sync=true", "!", "audioconvert", "!", "voaacenc",
            "!", "aacparse", "!", "audio/mpeg,stream-format=raw", "!", "sink."]
    return ["-e", "kvssink", "name=sink"] + props + video + ["sink."] + tone


def start_kvssink(sdk, kvsd, stream, seconds, audio=False, scheme="https", log_level=2, budget_s=None,
                  timeout=None, fps=None, sink_props=(), env=None):
    """Starts gst-launch-1.0 with kvssink against kvsd (scheme https: the TLS listener, h2 or not
    as kvsd offers; http: the cleartext listener, HTTP/1.1). Returns an SdkProcess; budget_s
    defaults to seconds + 8, timeout to budget + 5. The run directory holds the log4cplus config
    (log level from log_level, 1..7 as AWS_KVS_LOG_LEVEL), so kvssink logs to the run's log."""
    budget = seconds + 8.0 if budget_s is None else budget_s
    run_dir = _run_dir(stream)
    log_config = os.path.join(run_dir, "kvs_log_configuration")
    level = LOG4CPLUS_LEVELS.get(log_level, "DEBUG")
    with open(log_config, "w") as f:
        f.write(f"log4cplus.rootLogger={level}, Console\n"
                "log4cplus.appender.Console=log4cplus::ConsoleAppender\n"
                "log4cplus.appender.Console.layout=log4cplus::PatternLayout\n"
                "log4cplus.appender.Console.layout.ConversionPattern=[%-5p] [%d{%Y-%m-%d %H:%M:%S.%q}] %m%n\n")
    argv = ["gst-launch-1.0"] + kvssink_pipeline(stream, seconds, audio=audio, fps=fps, sink_props=sink_props,
                                                 log_config=log_config)
    run = SdkRun(label=f"kvssink {'h264+aac' if audio else 'h264'}", stream=stream, argv=argv, run_dir=run_dir,
                 log_path=os.path.join(run_dir, "sdk.log"), dump_dir=os.path.join(run_dir, "dump"),
                 timeout=budget + 5 if timeout is None else timeout, budget_s=budget)
    e = sdk_env({
        "GST_PLUGIN_PATH": sdk.cpp_build,
        "CONTROL_PLANE_URI": kvsd.control_plane_url(scheme),
        "KVSSINK_CA_CERT_PATH": kvsd.ca_path or "",
        "AWS_ACCESS_KEY_ID": kvsd.access_key,
        "AWS_SECRET_ACCESS_KEY": kvsd.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "KVS_DEBUG_DUMP_DATA_FILE_DIR": run.dump_dir,
    })
    e.update(env or {})
    return SdkProcess(run, argv, e, cwd=run_dir)


def run_kvssink(*args, **kwargs):
    """start_kvssink(...).wait()."""
    return start_kvssink(*args, **kwargs).wait()


# --- unittest glue ---------------------------------------------------------------------------------

class InteropTestCase(unittest.TestCase):
    """One kvsd per class (keyword arguments of Kvsd in KVSD_ARGS), the SDK located in setUpClass
    (skips the class when it is unavailable; NEEDS_KVSSINK / NEEDS_C_SAMPLES select what must be
    there). assert_upload_ok() runs check_upload() and fails with the full report."""

    KVSD_ARGS = {}
    NEEDS_C_SAMPLES = True
    NEEDS_KVSSINK = False

    @classmethod
    def setUpClass(cls):
        cls.sdk = find_sdk(c_samples=cls.NEEDS_C_SAMPLES, kvssink=cls.NEEDS_KVSSINK)
        cls.kvsd = Kvsd(**cls.KVSD_ARGS)
        try:
            cls.kvsd.start()
        except BaseException:
            cls.kvsd.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        kvsd = getattr(cls, "kvsd", None)
        if kvsd is None:
            return
        rc = kvsd.stop() if kvsd.running() else 0
        kvsd.__exit__(None, None, None)
        assert rc == 0, f"kvsd exited with {rc} on SIGTERM\n{kvsd.log_tail()}"

    def assert_upload_ok(self, run, expect_sessions=1, expect_protocol=None, kvsd_mark=None):
        """Fails the test unless check_upload() passes (expect_protocol: "h2" or "http/1.1", checked
        on kvsd's access-log lines since kvsd_mark, see check_upload); prints a one-line summary
        either way and removes the run directory of a passing run (unless KVS_INTEROP_KEEP=1)."""
        lines = None
        if kvsd_mark is not None:
            # kvsd logs a request when it has finished it, which may be just after the SDK exits.
            deadline = time.monotonic() + 3
            while True:
                lines = self.kvsd.lines_since(kvsd_mark)
                if put_media_protocols(lines) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        check = check_upload(run, self.kvsd, expect_sessions=expect_sessions, expect_protocol=expect_protocol,
                             kvsd_lines=lines)
        print(f"\ninterop: {self.id()}: {check.summary()}", file=sys.stderr, flush=True)
        record_result(self.id(), check)
        return self.settle(run, check)

    def settle(self, run, check):
        """Ends a checked run: a failing one fails the test (kvsd's log saved next to the SDK's in
        its kept run directory), a passing one has its run directory removed (unless
        KVS_INTEROP_KEEP=1). Returns the check."""
        if not check.ok:
            with open(os.path.join(run.run_dir, "kvsd.log"), "w") as f:
                f.write(self.kvsd.log())
            self.fail(check.report(self.kvsd))
        if os.environ.get("KVS_INTEROP_KEEP") != "1":
            shutil.rmtree(run.run_dir, ignore_errors=True)
        return check


def proc_cpu_s(pid):
    """utime + stime of a live process, in seconds (None once it is gone). Shared with the
    campaign (campaign/common.py)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
