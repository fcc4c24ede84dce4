"""Shared pieces of the hardening campaign (soak.py, chaos.py): where the binaries are, process
figures from /proc, kvsd's /metrics, kvs-put's progress lines, a generated input file, and small
report helpers.

The campaign reuses the test harnesses as they are: tests/integration/harness.py (a kvsd process),
tests/interop/sdk_harness.py (kvsd on fixed ports, the stock SDK samples) and the checks next to
them. Importing this module puts both folders on sys.path.
"""

import math
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

CAMPAIGN = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(CAMPAIGN)
sys.path.insert(0, os.path.join(REPO, "tests", "interop"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from sdk_harness import proc_cpu_s  # noqa: E402  (re-exported for the campaign scripts)

PAGE = os.sysconf("SC_PAGE_SIZE")
# The lines kvsd (or its runtime) prints when it dies of a bug rather than of our SIGKILL.
ABORT_RE = re.compile(r"Assertion|AddressSanitizer|LeakSanitizer|runtime error:|terminate called|"
                      r"std::terminate|Segmentation fault|stack smashing|double free|corrupted size")


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(v) if v else default


def env_float(name, default):
    v = os.environ.get(name, "").strip()
    return float(v) if v else default


def release_binary(name, env_name):
    """$env_name, else build-release/bin/<name> (the Makefile targets build it first)."""
    path = os.environ.get(env_name) or os.path.join(REPO, "build-release", "bin", name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"campaign: {path} is missing: build the release preset first "
                         f"(`make soak` / `make chaos` do), or set {env_name}")
    return path


def out_dir(kind):
    """campaign/out/<kind>-<UTC timestamp>/ (or under $CAMPAIGN_OUT), created."""
    base = os.environ.get("CAMPAIGN_OUT") or os.path.join(CAMPAIGN, "out")
    path = os.path.join(base, f"{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}")
    os.makedirs(path, exist_ok=True)
    return path


# --- /proc -------------------------------------------------------------------------------------

def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE // 1024
    except (OSError, IndexError, ValueError):
        return None


def proc_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def proc_threads(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return None


class CpuMeter:
    """CPU% of one process between successive calls (100 = one core), from /proc/<pid>/stat."""

    def __init__(self, pid):
        self.pid = pid
        self.last = (time.monotonic(), proc_cpu_s(pid))

    def percent(self):
        now, cpu = time.monotonic(), proc_cpu_s(self.pid)
        t0, c0 = self.last
        self.last = (now, cpu)
        if cpu is None or c0 is None or now <= t0:
            return None
        return 100.0 * (cpu - c0) / (now - t0)


class MachineMeter:
    """Busy share of the whole machine between successive calls (0..1, all cores), from /proc/stat."""

    def __init__(self):
        self.last = self._ticks()

    @staticmethod
    def _ticks():
        with open("/proc/stat") as f:
            vals = [int(x) for x in f.readline().split()[1:]]
        total = sum(vals[:8])
        return total - vals[3] - vals[4], total

    def busy(self):
        cur = self._ticks()
        b0, t0 = self.last
        self.last = cur
        return (cur[0] - b0) / (cur[1] - t0) if cur[1] > t0 else None


# --- /metrics ----------------------------------------------------------------------------------

METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def fetch_metrics(base_url, timeout=5.0):
    """kvsd's /metrics as {(name, ((label, value), ...)): float}; None when it does not answer."""
    try:
        with urllib.request.urlopen(base_url + "/metrics", timeout=timeout) as r:
            text = r.read().decode("utf-8", "replace")
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        m = METRIC_RE.match(line)
        if not m:
            continue
        labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
        try:
            out[(m.group(1), labels)] = float(m.group(3))
        except ValueError:
            pass
    return out


def metric_sum(metrics, name, **labels):
    """The sum of every series of `name` whose labels include the given ones (0 when none)."""
    if not metrics:
        return 0.0
    want = set(labels.items())
    return sum(v for (n, ls), v in metrics.items() if n == name and want <= set(ls))


def histogram(metrics, name):
    """[(upper bound, cumulative count)] of a histogram, +Inf last; [] when absent."""
    if not metrics:
        return []
    out = []
    for (n, ls), v in metrics.items():
        if n == name + "_bucket":
            le = dict(ls).get("le")
            out.append((math.inf if le == "+Inf" else float(le), v))
    return sorted(out)


def histogram_delta(now, before):
    """The observations between two snapshots of one histogram."""
    if not before:
        return now
    prev = dict(before)
    return [(le, c - prev.get(le, 0.0)) for le, c in now]


def histogram_quantile(buckets, q):
    """The q-quantile of a bucketed histogram, interpolated linearly inside its bucket (as
    Prometheus does); in the +Inf bucket the last finite bound (a lower bound: see
    histogram_over). None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside > 0 else 1.0)
        lower, below = le, count
    return lower


def histogram_over(buckets):
    """How many observations fell past the last finite bound."""
    if len(buckets) < 2:
        return 0
    return buckets[-1][1] - buckets[-2][1]


# --- kvs-put -----------------------------------------------------------------------------------

PROGRESS_RE = re.compile(
    r"kvs-put:\s+(?P<t>[\d.]+) s\s+fragments sent (?P<sent>\d+) / RECEIVED (?P<received>\d+) / "
    r"PERSISTED (?P<persisted>\d+)\s+errors (?P<errors>\d+)\s+(?P<mbps>[\d.]+) Mbit/s\s+ACK p50 (?P<ack_p50>[\d.]+) ms")


def parse_progress(line):
    """kvs-put's once-a-second progress line as a dict of numbers, or None."""
    m = PROGRESS_RE.search(line)
    if not m:
        return None
    d = {k: float(v) for k, v in m.groupdict().items()}
    for k in ("sent", "received", "persisted", "errors"):
        d[k] = int(d[k])
    return d


def make_input_file(path, seconds, kbps, log=print):
    """An H.264 test pattern (640x360, 25 fps, a key frame every second, no B-frames) of `seconds`
    at about `kbps` kbit/s in Matroska, made with ffmpeg (niced): the input of kvs-put --input
    for a bitrate other than its built-in pattern's. Kept when it already exists."""
    if os.path.exists(path) and os.path.getsize(path) > 0:
        return path
    log(f"campaign: making a {seconds} s {kbps} kbit/s H.264 input with ffmpeg: {path}")
    tmp = path + ".part"
    argv = ["nice", "-n", "10", "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            "testsrc2=size=640x360:rate=25", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
            "-tune", "zerolatency", "-profile:v", "baseline", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
            "-bf", "0", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k", "-pix_fmt", "yuv420p",
            "-threads", "1", "-f", "matroska", tmp]
    subprocess.run(argv, check=True)
    os.replace(tmp, path)
    return path


# --- reporting ---------------------------------------------------------------------------------

def percentile(xs, q):
    """The q-quantile (0..1) of a list by nearest rank; None when empty."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))]


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, unit="", digits=0, none="n/a"):
    if v is None:
        return none
    return f"{v:,.{digits}f}{unit}"


def md_table(header, rows):
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def kvsd_abort_lines(log_text, limit=20):
    """Lines of a kvsd log that show it died of a bug (assertion, sanitizer, std::terminate, ...)."""
    return [line for line in log_text.splitlines() if ABORT_RE.search(line)][:limit]


def deprioritize(pid):
    """Lowers a producer's CPU priority below kvsd's (its autogroup's nice; see
    tests/interop/test_many_producers.deprioritize): the producers stand for cameras, which do not
    share kvsd's CPU. Returns "" or what failed."""
    try:
        import test_many_producers
    except Exception as e:  # noqa: BLE001 - an optional nicety
        return f"test_many_producers: {e}"
    return test_many_producers.deprioritize(pid)
