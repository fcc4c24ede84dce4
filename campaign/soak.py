"""Soak: a release kvsd under a real-time camera fleet for a long time, watched every 10 s.

kvs-put runs SOAK_STREAMS real-time streams (one process, --streams N --realtime, PutMedia over
cleartext HTTP/1.1 with ACKs) of SOAK_SECONDS each against one kvsd (build-release/bin/kvsd).
Every SOAK_INTERVAL seconds it samples kvsd's RSS, CPU% (/proc/<pid>/stat), open fds
(/proc/<pid>/fd), threads, open connections and PutMedia sessions (kvsd's /metrics), the
RECEIVED -> PERSISTED latency of the fragments completed in the interval (p50/p99 from kvsd's
kvsd_ingest_persist_seconds histogram), kvs-put's last byte -> RECEIVED p50 (its progress line)
and the fragments acknowledged so far (kvs-put's PERSISTED count).

At the end every stream is listed with ListFragments: for each stream kvs-put's summary counts the
fragments it got PERSISTED, and at least that many distinct fragments must be listed (kvs-put
reports counts per stream, not which fragments); for stream 0, whose body kvs-put dumps, exactly
the first PERSISTED-count fragments it sent (by Cluster timecode) must be listed (kvsd persists
an upload's fragments in order). kvsd is then stopped with SIGTERM and must exit 0; its log must
show no abort.

Writes campaign/out/soak-<UTC timestamp>/: report.md, report.png (RSS, CPU, fds and
connections, latency over time), samples.csv, kvsd.log, kvs-put.log, kvs-put-summary.json.
Exits 1 when an acknowledged fragment is not listed, kvsd died or exited non-zero, or its log
shows an abort; 2 when it cannot start (missing binary, not enough disk).

Knobs (environment): SOAK_SECONDS (3600), SOAK_STREAMS (500), SOAK_INTERVAL (10), SOAK_STAGGER
(seconds over which the streams start; default streams/50, at most 60), SOAK_KBPS (unset: kvs-put's
built-in pattern, about 270 kbit/s; set: an ffmpeg-made H.264 input of that bitrate, kvs-put
--input --preload), SOAK_DATA_DIR (kvsd's data dir; default a temp dir under /var/tmp, removed
afterwards unless SOAK_KEEP_DATA=1), SOAK_NICE_PRODUCERS (1: kvs-put's autogroup gets nice 10),
KVSD_BIN, KVS_PUT_BIN, CAMPAIGN_OUT.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import common
from common import env_float, env_int, fmt, median, percentile

SECONDS = env_int("SOAK_SECONDS", 3600)
STREAMS = env_int("SOAK_STREAMS", 500)
INTERVAL = env_float("SOAK_INTERVAL", 10.0)
STAGGER = env_float("SOAK_STAGGER", min(60.0, STREAMS / 50.0))
KBPS = env_int("SOAK_KBPS", 0)
PATTERN_BYTES_PER_S = 36_000  # kvs-put's built-in pattern, measured: about 34 KB/s per stream
STREAM_PREFIX = "soak"
INPUTS = "/var/tmp/kvsd-campaign"  # generated inputs (SOAK_KBPS), kept for the next run

import sdk_harness  # noqa: E402  (common put tests/interop on sys.path)
from kvs_read import ReadError, epoch_ms  # noqa: E402
import mkv_frames  # noqa: E402


def log(msg):
    print(f"soak: {msg}", flush=True)


class KvsPut:
    """kvs-put --streams N --realtime in its own session; a thread reads its stderr into
    kvs-put.log and keeps the latest progress line and the 1-s ACK p50 values."""

    def __init__(self, argv, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                     start_new_session=True)
        self.lock = threading.Lock()
        self.latest = None
        self.ack_p50s = []  # (time, ms) of each progress line with ACKs in its second
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stderr:
            self.log.write(line)
            p = common.parse_progress(line)
            if p:
                with self.lock:
                    self.latest = p
                    if p["ack_p50"] > 0:
                        self.ack_p50s.append((time.time(), p["ack_p50"]))
        self.log.flush()

    def take_ack_p50s(self):
        with self.lock:
            out, self.ack_p50s = self.ack_p50s, []
        return [ms for _, ms in out]

    def progress(self):
        with self.lock:
            return dict(self.latest) if self.latest else None

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.thread.join(5)
        self.log.close()


def preflight(data_dir):
    """Refuses to start when the data dir's file system cannot hold the run (exit 2)."""
    per_stream = (KBPS * 1000 / 8) if KBPS else PATTERN_BYTES_PER_S
    need = per_stream * STREAMS * SECONDS * 1.1 + 2e9
    st = os.statvfs(data_dir)
    free = st.f_bavail * st.f_frsize
    log(f"disk: the run stores about {per_stream * STREAMS * SECONDS / 1e9:.1f} GB ({STREAMS} streams x "
        f"{per_stream / 1e3:.0f} KB/s x {SECONDS} s); {free / 1e9:.1f} GB free under {data_dir}")
    if need > free:
        raise SystemExit(f"soak: not enough disk under {data_dir}: need about {need / 1e9:.1f} GB (with 10% and "
                         f"2 GB to spare), {free / 1e9:.1f} GB free. Give SOAK_DATA_DIR on a larger disk, fewer "
                         f"SOAK_STREAMS or SOAK_SECONDS, or a lower bitrate with SOAK_KBPS (e.g. 100).")


def sample(kvsd, meter, put, put_meter, machine, hist_before, t0):
    """One row of figures (a dict); also returns the persist histogram snapshot."""
    pid = kvsd.proc.pid
    m = common.fetch_metrics(kvsd.base_url())
    hist = common.histogram(m, "kvsd_ingest_persist_seconds")
    delta = common.histogram_delta(hist, hist_before)
    prog = put.progress() or {}
    acks = put.take_ack_p50s()
    row = {
        "t": round(time.time() - t0, 1),
        "rss_mb": (common.proc_rss_kb(pid) or 0) / 1024,
        "cpu_pct": meter.percent(),
        "fds": common.proc_fds(pid),
        "threads": common.proc_threads(pid),
        "connections": common.metric_sum(m, "kvsd_connections_open") if m else None,
        "put_media_sessions": common.metric_sum(m, "kvsd_put_media_sessions") if m else None,
        "persisted_server": common.metric_sum(m, "kvsd_ingest_fragments_total", result="persisted") if m else None,
        "fragments_sent": prog.get("sent"),
        "fragments_persisted": prog.get("persisted"),
        "error_acks": prog.get("errors"),
        "persist_p50_ms": None, "persist_p99_ms": None, "persist_n": 0, "persist_over_2_5s": 0,
        "ack_p50_ms": median(acks),
        "put_cpu_pct": put_meter.percent(),
        "put_rss_mb": (common.proc_rss_kb(put.proc.pid) or 0) / 1024,
        "machine_busy_pct": None,
    }
    busy = machine.busy()
    row["machine_busy_pct"] = None if busy is None else 100 * busy
    if delta and delta[-1][1] > 0:
        row["persist_n"] = int(delta[-1][1])
        row["persist_p50_ms"] = 1000 * common.histogram_quantile(delta, 0.5)
        row["persist_p99_ms"] = 1000 * common.histogram_quantile(delta, 0.99)
        row["persist_over_2_5s"] = int(common.histogram_over(delta))
    return row, (hist if hist else hist_before)


def check_listing(kvsd, summary, dump_path):
    """(lost, problems, notes): ListFragments of every stream against kvs-put's summary. A stream
    lost max(0, PERSISTED - distinct fragments listed); stream 0, whose body was dumped, at least
    as many as the first PERSISTED-count fragments it sent (by Cluster timecode) that are not
    listed by producer timestamp."""
    client = kvsd.read_client()
    streams = {s["stream"]: s for s in (summary or {}).get("streams", [])}
    lost, problems, listed_total = 0, [], 0
    names = [f"{STREAM_PREFIX}-{i}" for i in range(STREAMS)] if STREAMS > 1 else [STREAM_PREFIX]
    notes = []
    for name in names:
        s = streams.get(name)
        acked = s["persisted"] if s else 0
        try:
            listed = client.list_fragments(name, page_size=1000)
        except (ReadError, OSError) as e:
            problems.append(f"{name}: ListFragments failed: {e}")
            lost += acked
            continue
        numbers = {f["FragmentNumber"] for f in listed}
        listed_total += len(numbers)
        stream_lost = max(0, acked - len(numbers))
        if stream_lost:
            problems.append(f"{name}: {acked} fragments PERSISTED, {len(numbers)} listed")
        if name == names[0] and s and os.path.exists(dump_path):
            missing = first_acked_unlisted(dump_path, acked, {epoch_ms(f["ProducerTimestamp"]) for f in listed},
                                           problems, notes, name)
            stream_lost = max(stream_lost, missing)
        lost += stream_lost
        if s and not s["ok"]:
            problems.append(f"{name}: kvs-put: {s['error']} (fragments {s['fragments']}, RECEIVED {s['received']}, "
                            f"PERSISTED {s['persisted']}, ERROR ACKs {s['errors']})")
    notes.insert(0, f"{listed_total} fragments listed over {len(names)} streams")
    return lost, problems, notes


def first_acked_unlisted(dump_path, acked, listed_ms, problems, notes, name):
    """How many of the first `acked` fragments of the dumped body are not listed."""
    with open(dump_path, "rb") as f:
        body = f.read()
    try:
        sent = [fr.timecode for fr in mkv_frames.parse(body, source="dump").fragments if fr.timecode is not None]
    except (mkv_frames.FrameError, mkv_frames.mkv_scan.Invalid) as e:
        problems.append(f"{name}: the dumped body does not parse: {e}")
        return 0
    first = sent[:acked]
    missing = [tc for tc in first if tc not in listed_ms]
    notes.append(f"{name} (dumped body): {len(sent)} fragments sent, the first {len(first)} PERSISTED, "
                 f"{len(first) - len(missing)} of them listed by producer timestamp")
    if missing:
        problems.append(f"{name}: {len(missing)} PERSISTED fragments not listed, Cluster timecodes {missing[:10]}")
    return len(missing)


def windows(rows, n=None):
    """The run cut into n windows: (t from, t to, median of the samples' persist p50, largest
    sample persist p99, median ack p50, fragments completed, median CPU %, max RSS MB)."""
    if not rows:
        return []
    n = n or max(1, min(10, len(rows) // 2))
    span = rows[-1]["t"] or 1
    out = []
    for i in range(n):
        lo, hi = span * i / n, span * (i + 1) / n
        part = [r for r in rows if lo < r["t"] <= hi or (i == 0 and r["t"] <= hi)]
        if not part:
            continue
        p99s = [r["persist_p99_ms"] for r in part if r["persist_p99_ms"] is not None]
        out.append((lo, hi, median([r["persist_p50_ms"] for r in part]), max(p99s) if p99s else None,
                    median([r["ack_p50_ms"] for r in part]), sum(r["persist_n"] for r in part),
                    median([r["cpu_pct"] for r in part]), max(r["rss_mb"] for r in part)))
    return out


def slope_per_hour(rows, key):
    """Least-squares slope of rows[key] over the second half of the run, per hour (None: too few)."""
    half = [(r["t"], r[key]) for r in rows[len(rows) // 2:] if r[key] is not None]
    if len(half) < 3:
        return None
    mt = sum(t for t, _ in half) / len(half)
    mv = sum(v for _, v in half) / len(half)
    den = sum((t - mt) ** 2 for t, _ in half)
    return None if den == 0 else 3600 * sum((t - mt) * (v - mv) for t, v in half) / den


def plot(rows, path, title):
    """report.png: RSS, CPU, fds + connections, latency over time. Returns "" or why not."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return f"no plot: {e} (install python3-matplotlib: scripts/install-deps.sh)"
    t = [r["t"] / 60 for r in rows]
    fig, ax = plt.subplots(4, 1, figsize=(11, 13), sharex=True)
    ax[0].plot(t, [r["rss_mb"] for r in rows], label="kvsd RSS")
    ax[0].set_ylabel("MB")
    ax[0].legend(loc="upper left")
    ax[1].plot(t, [r["cpu_pct"] for r in rows], label="kvsd CPU")
    ax[1].plot(t, [r["put_cpu_pct"] for r in rows], label="kvs-put CPU", alpha=0.6)
    ax[1].set_ylabel("% of one core")
    ax[1].legend(loc="upper left")
    busy = ax[1].twinx()
    busy.plot(t, [r["machine_busy_pct"] for r in rows], color="grey", alpha=0.4, label="machine busy (right)")
    busy.set_ylim(0, 105)
    busy.set_ylabel("machine busy, % of all cores")
    busy.legend(loc="upper right")
    ax[2].plot(t, [r["fds"] for r in rows], label="kvsd open fds")
    ax[2].plot(t, [r["connections"] for r in rows], label="connections open (/metrics)")
    ax[2].plot(t, [r["threads"] for r in rows], label="kvsd threads")
    ax[2].set_ylabel("count")
    ax[2].legend(loc="upper left")
    ax[3].plot(t, [r["persist_p50_ms"] for r in rows], label="RECEIVED -> PERSISTED p50 (kvsd)")
    ax[3].plot(t, [r["persist_p99_ms"] for r in rows], label="RECEIVED -> PERSISTED p99 (kvsd)")
    ax[3].plot(t, [r["ack_p50_ms"] for r in rows], label="last byte -> RECEIVED p50 (kvs-put)", alpha=0.6)
    ax[3].set_ylabel("ms")
    ax[3].set_yscale("log")
    ax[3].legend(loc="upper left")
    ax[3].set_xlabel("minutes")
    for a in ax:
        a.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return ""


def main():
    out = common.out_dir("soak")
    kvsd_bin = common.release_binary("kvsd", "KVSD_BIN")
    put_bin = common.release_binary("kvs-put", "KVS_PUT_BIN")
    own_data = not os.environ.get("SOAK_DATA_DIR")
    data_dir = os.environ.get("SOAK_DATA_DIR") or tempfile.mkdtemp(prefix="kvsd-soak-", dir="/var/tmp")
    os.makedirs(data_dir, exist_ok=True)
    log(f"{STREAMS} real-time streams x {SECONDS} s against {kvsd_bin}; samples every {INTERVAL:.0f} s; "
        f"out {out}")
    kvsd = None
    try:
        preflight(data_dir)
        source = ["--pattern", str(SECONDS)]
        if KBPS:
            os.makedirs(INPUTS, exist_ok=True)
            path = common.make_input_file(os.path.join(INPUTS, f"input-{SECONDS}s-{KBPS}k.mkv"), SECONDS, KBPS, log)
            source = ["--input", path, "--preload"]
        kvsd = sdk_harness.Kvsd(binary=kvsd_bin, https=False, data_dir=data_dir, start_timeout=60)
        kvsd.start()
        return soak(out, kvsd, put_bin, source)
    finally:
        if kvsd is not None and kvsd.proc is not None and kvsd.proc.poll() is None:
            kvsd.proc.kill()  # only after an exception: soak() stops it
            kvsd.proc.wait()
        if own_data and os.environ.get("SOAK_KEEP_DATA") != "1":
            shutil.rmtree(data_dir, ignore_errors=True)


def soak(out, kvsd, put_bin, source):
    failures, notes = [], []
    pid = kvsd.proc.pid
    log(f"kvsd pid {pid} on {kvsd.base_url()}, data {kvsd.data_dir}")
    summary_path = os.path.join(out, "kvs-put-summary.json")
    dump_path = os.path.join(out, "stream0-body.mkv")
    argv = [put_bin, "--endpoint", kvsd.base_url(), "--access-key", kvsd.access_key, "--secret-key",
            kvsd.secret_key, "--stream", STREAM_PREFIX, "--streams", str(STREAMS), "--realtime",
            "--stagger", str(STAGGER), "--summary-json", summary_path, "--dump", dump_path] + source
    t0 = time.time()
    meter, machine = common.CpuMeter(pid), common.MachineMeter()
    put = KvsPut(argv, os.path.join(out, "kvs-put.log"))
    put_meter = common.CpuMeter(put.proc.pid)
    if os.environ.get("SOAK_NICE_PRODUCERS", "1") == "1":
        why = common.deprioritize(put.proc.pid)
        if why:
            notes.append(f"kvs-put not deprioritized: {why}")
    rows, hist = [], None
    row0 = {"rss_mb": (common.proc_rss_kb(pid) or 0) / 1024, "fds": common.proc_fds(pid)}
    deadline = t0 + SECONDS + STAGGER + 180  # kvs-put ends by itself; this only bounds a hang
    next_at = t0 + INTERVAL
    csv_path = os.path.join(out, "samples.csv")
    csv_file = open(csv_path, "w", newline="")
    writer = None
    try:
        while True:
            time.sleep(max(0.0, min(1.0, next_at - time.time())))
            if kvsd.proc.poll() is not None:
                failures.append(f"kvsd died during the run: exit {kvsd.proc.returncode} at +{time.time() - t0:.0f} s")
                break
            put_done = put.proc.poll() is not None
            if time.time() >= next_at or put_done:
                row, hist = sample(kvsd, meter, put, put_meter, machine, hist, t0)
                rows.append(row)
                if writer is None:
                    writer = csv.DictWriter(csv_file, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow(row)
                csv_file.flush()
                log(f"+{row['t']:6.0f} s  rss {row['rss_mb']:.0f} MB  cpu {fmt(row['cpu_pct'], '%')}  fds "
                    f"{row['fds']}  conns {fmt(row['connections'])}  acked {fmt(row['fragments_persisted'])}"
                    f"  persist p50/p99 {fmt(row['persist_p50_ms'], digits=1)}/{fmt(row['persist_p99_ms'], digits=1)}"
                    f" ms  ack p50 {fmt(row['ack_p50_ms'], digits=1)} ms")
                next_at += INTERVAL
            if put_done:
                break
            if time.time() > deadline:
                failures.append(f"kvs-put did not finish within {deadline - t0:.0f} s: killed")
                break
    finally:
        csv_file.close()
        put.stop()
    put_rc = put.proc.returncode
    wall = time.time() - t0
    summary = None
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            summary = json.load(f)
    else:
        failures.append("kvs-put wrote no summary: cannot tell what was acknowledged")

    lost, problems = 0, []
    if kvsd.proc.poll() is not None:
        # Restarted on the same data dir: what it had acknowledged must be there after its death too.
        try:
            kvsd.start()
            notes.append("kvsd was restarted on its data dir after its death for the listing")
        except AssertionError as e:
            problems.append(f"kvsd does not start again after its death: {str(e).splitlines()[0]}")
    if kvsd.proc.poll() is None:
        log("listing every stream (ListFragments)")
        lost, problems, list_notes = check_listing(kvsd, summary, dump_path)
        notes += list_notes
        try:
            rc = kvsd.stop(timeout=60)
        except AssertionError as e:
            rc = str(e).splitlines()[0]
        if rc != 0:
            failures.append(f"kvsd exited {rc} on SIGTERM")
    else:
        lost = (summary or {}).get("fragments_persisted", 0)
        problems.append("kvsd is dead: nothing could be listed; every PERSISTED fragment counts as lost")
    with open(os.path.join(out, "kvsd.log"), "w") as f:
        f.write(kvsd.log())
    aborts = common.kvsd_abort_lines(kvsd.log())
    if aborts:
        failures.append(f"kvsd's log shows an abort: {aborts[0]}")
    if lost:
        failures.append(f"{lost} acknowledged (PERSISTED) fragments are not listed")
    if os.path.exists(dump_path) and os.environ.get("SOAK_KEEP_DATA") != "1":
        os.remove(dump_path)

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t0))
    title = f"kvsd soak: {STREAMS} real-time streams x {SECONDS} s ({started})"
    plot_problem = plot(rows, os.path.join(out, "report.png"), title) if rows else "no samples"
    if plot_problem:
        notes.append(plot_problem)
    write_report(out, title, rows, row0, summary, put_rc, wall, lost, failures, problems, notes)
    log(f"report: {os.path.join(out, 'report.md')}")
    for f in failures:
        log(f"FAIL: {f}")
    log("PASS" if not failures else "FAILED")
    return 1 if failures else 0


def ms3(d, keys=("p50", "p99", "max")):
    """"a / b / c ms" of a kvs-put latency summary."""
    return " / ".join(fmt(d.get(k), " ms", 1) for k in keys)


def write_report(out, title, rows, row0, summary, put_rc, wall, lost, failures, problems, notes):
    s = summary or {}
    rss = [r["rss_mb"] for r in rows]
    fds = [r["fds"] for r in rows if r["fds"] is not None]
    cpus = [r["cpu_pct"] for r in rows if r["cpu_pct"] is not None]
    p99s = [r["persist_p99_ms"] for r in rows if r["persist_p99_ms"] is not None]
    # The first samples include the staggered start: the steady figure leaves out the first minute.
    steady = [r["cpu_pct"] for r in rows if r["t"] >= min(60.0, (rows[-1]["t"] if rows else 0) / 4)]
    source = (f"ffmpeg H.264 {KBPS} kbit/s" if KBPS
              else "kvs-put built-in pattern (H.264 640x360 25 fps, 1 s fragments)")
    lines = [f"# {title}", "", f"Result: **{'PASS' if not failures else 'FAIL'}**", ""]
    if failures:
        lines += ["Failures:", ""] + [f"- {f}" for f in failures] + [""]
    lines += ["## Figures", "", common.md_table(["figure", "value"], [
        ["streams x seconds", f"{STREAMS} x {SECONDS} s (stagger {STAGGER:.0f} s), wall {wall:.0f} s"],
        ["input", source],
        ["fragments sent", fmt(s.get("fragments"))],
        ["fragments acknowledged (PERSISTED)", fmt(s.get("fragments_persisted"))],
        ["fragments lost (PERSISTED, not listed)", str(lost)],
        ["ERROR ACKs", fmt(s.get("errors"))],
        ["kvs-put streams failed / exit", f"{s.get('streams_failed', 'n/a')} / {put_rc}"],
        ["kvsd RSS start / end / max", " / ".join(fmt(v, " MB") for v in
                                                  (row0["rss_mb"], rss[-1] if rss else None, max(rss, default=None)))],
        ["kvsd RSS trend over the second half (least squares; on short runs mostly warm-up)",
         fmt(slope_per_hour(rows, "rss_mb"), " MB/hour", 1)],
        ["kvsd open fds start / end / max",
         " / ".join(fmt(v) for v in (row0["fds"], fds[-1] if fds else None, max(fds, default=None)))],
        ["kvsd CPU median / p90 / max (% of a core)", " / ".join(fmt(v, "%") for v in
                                                                 (median(cpus), percentile(cpus, 0.9),
                                                                  max(cpus, default=None)))],
        ["kvsd CPU median after the start (first minute, or first quarter of a short run)",
         fmt(median(steady), "%")],
        ["RECEIVED -> PERSISTED (kvsd) p50 / p99, median of the samples",
         f"{fmt(median([r['persist_p50_ms'] for r in rows]), ' ms', 1)} / {fmt(median(p99s), ' ms', 1)}"],
        ["RECEIVED -> PERSISTED worst sample p99", fmt(max(p99s, default=None), " ms", 1)],
        ["fragments over 2.5 s RECEIVED -> PERSISTED", str(sum(r["persist_over_2_5s"] for r in rows))],
        ["kvs-put last byte -> RECEIVED p50 / p99 / max", ms3(s.get("received_latency_ms", {}))],
        ["kvs-put last byte -> PERSISTED p50 / p99 / max", ms3(s.get("persisted_latency_ms", {}))],
        ["kvs-put end of fragment written -> PERSISTED p50 / p99",
         ms3(s.get("persisted_after_end_latency_ms", {}), ("p50", "p99"))],
        ["machine busy median (all cores, anything running)", fmt(median([r["machine_busy_pct"] for r in rows]), "%")],
    ]), ""]
    lines += ["## Over time", "",
              "Per window of the run (tenths; fewer on short runs): RECEIVED -> PERSISTED from kvsd's histogram "
              "(median of the samples' p50, largest sample p99), kvs-put's last byte -> RECEIVED p50, fragments "
              "completed, kvsd CPU and RSS.", "",
              common.md_table(["minutes", "persist p50 ms", "persist p99 ms", "ack p50 ms", "fragments", "CPU %",
                               "RSS max MB"],
                              [[f"{lo / 60:.1f}-{hi / 60:.1f}", fmt(p50, digits=1), fmt(p99, digits=1),
                                fmt(ack, digits=1), n, fmt(cpu), fmt(rss_max)]
                               for lo, hi, p50, p99, ack, n, cpu, rss_max in windows(rows)]), ""]
    if problems or notes:
        lines += ["## Notes", ""] + [f"- {p}" for p in problems[:50]] + [f"- {n}" for n in notes] + [""]
    lines += ["Files: samples.csv (every sample), report.png, kvsd.log, kvs-put.log, kvs-put-summary.json.",
              "Latency sources: kvsd_ingest_persist_seconds (RECEIVED -> PERSISTED, bucketed: interpolated "
              "inside the bucket, 2.5 s is the last finite bound); kvs-put's progress line (ACK p50 = last byte "
              "-> RECEIVED over one second) and its summary.", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
