"""Ingest benchmark (PutMedia with durable PERSISTED), two targets:

1. One stream as fast as possible over loopback: kvs-put uploads a high-bitrate MKV of about 1 GB
   (a 30 s lossless clip looped 20 times) without pacing, from memory (--preload: the demuxer is
   not measured), and waits for every PERSISTED. Compared with the raw sequential write rate of the same disk
   with fdatasync (dd bs=1M count=N conv=fdatasync into the same directory), measured in the same
   run. kvsd's CPU use (user+sys seconds / wall seconds, from /proc) is reported next to it, and
   per GB. The same upload is then sent at the dd rate (kvs-put --max-rate), and its rate and CPU
   are reported too: kvsd is faster than dd unpaced, so its cores-busy figure there counts the
   same work in less time.
2. N concurrent real-time 2 Mbps streams with 1 s fragments (default 1,000): kvs-put --streams N
   --realtime, once with the stream starts spread over one second (--stagger 1: cameras of a fleet
   are not phase-locked, so their fragments end at different instants) and once in lockstep (every
   fragment of every stream ends at the same instant: the worst case, reported alongside). Reports ERROR ACKs, PERSISTED latency after each fragment's last byte and after the write
   that ends it (p50/p99/max, from kvs-put's summary), the server's own view of it (from the
   kvsd_ingest_store_seconds and kvsd_ingest_persist_seconds histograms), and kvsd's CPU and peak
   RSS.

Figures are medians of REPEATS runs (BENCH_REPEATS, default 3). Inputs are made once with ffmpeg
into a temp dir. BENCH_STREAMS sets N for target 2. KVSD_EXTRA adds kvsd arguments (e.g.
"--storage-direct-io false" to measure buffered segment writes).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import Server, kvsd_binary  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
REALTIME_SECONDS = int(os.environ.get("BENCH_REALTIME_SECONDS", "20"))
AKID, SECRET = "AKIABENCH00000000001", "benchSecretKey/0123456789abcdefghijklmnop"


def kvs_put_binary():
    return os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def make_inputs(tmp):
    """A ~1 GB high-bitrate 720p clip (for throughput) and a 2 Mbps 1 s-GOP clip (for fan-in)."""
    fast = os.path.join(tmp, "fast.mkv")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", "30",
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "25", "-pix_fmt", "yuv420p",
                    "-f", "matroska", os.path.join(tmp, "fast30.mkv")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "19", "-i", os.path.join(tmp, "fast30.mkv"), "-c",
                    "copy", "-f", "matroska", fast], check=True)
    rt = os.path.join(tmp, "rt2mbps.mkv")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t",
                    str(REALTIME_SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M", "-maxrate", "2M",
                    "-bufsize", "1M", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-f", "matroska", rt], check=True)
    return fast, rt


def dd_rate(directory, mib=1024):
    path = os.path.join(directory, "dd.bin")
    out = subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}", "conv=fdatasync"],
                         capture_output=True, text=True, check=True).stderr
    os.unlink(path)
    m = re.search(r"copied, ([0-9.]+) s", out)
    return mib * 1048576 / float(m.group(1))


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def proc_peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_kvs_put(srv, args, summary_path, timeout):
    cmd = [kvs_put_binary(), "--endpoint", f"http://127.0.0.1:{srv.port}", "--access-key", AKID, "--secret-key",
           SECRET, "--summary-json", summary_path, "--quiet"] + args
    t0 = time.monotonic()
    cpu0 = proc_cpu_seconds(srv.proc.pid)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - t0
    cpu = proc_cpu_seconds(srv.proc.pid) - cpu0
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
    with open(summary_path) as f:
        summary = json.load(f)
    return p.returncode, summary, wall, cpu


def histogram(port, name):
    """Cumulative (upper bound, count) pairs of a /metrics histogram without labels."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out = []
    for m in re.finditer(rf'^{name}_bucket\{{le="([^"]+)"\}} (\S+)$', text, re.M):
        out.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), float(m.group(2))))
    return out


def histogram_line(buckets):
    """Share of observations <= 100 ms and <= 250 ms, and the bucket the p99 falls in."""
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return "none"
    share = {le: n / total for le, n in buckets}
    p99 = next(le for le, n in buckets if n >= 0.99 * total)
    return (f"{100 * share.get(0.1, 0):.1f}% <= 100 ms, {100 * share.get(0.25, 0):.1f}% <= 250 ms, "
            f"p99 <= {p99 * 1000:g} ms")


def server(data_dir):
    env = {"KVSD_ACCESS_KEY_ID": AKID, "KVSD_SECRET_ACCESS_KEY": SECRET}
    return Server(binary=kvsd_binary(), https=False, env=env, data_dir=data_dir,
                  extra_args=["--access-log", "false"] + os.environ.get("KVSD_EXTRA", "").split())


def single_stream(tmp, fast):
    """Unpaced, then sent at the dd rate of the same repeat (--max-rate): the second run answers
    the target as put (90% of the disk's rate on under one core) for a sender of exactly the
    disk's speed, while the first shows how far past it kvsd goes and what that costs."""
    rates, cpus, dds, paced_rates, paced_cpus = [], [], [], [], []
    for i in range(REPEATS):
        data = tempfile.mkdtemp(dir=tmp)
        os.sync()  # no writeback of earlier runs (or of the inputs) competes with this one
        dd = dd_rate(data)
        dds.append(dd)
        with server(data) as srv:
            for paced in (False, True):
                extra = ["--max-rate", f"{dd / 1e6:.1f}"] if paced else []
                name = f"fast-{i}-{'paced' if paced else 'free'}"
                rc, summary, wall, cpu = run_kvs_put(srv, ["--stream", name, "--input", fast, "--preload"] + extra,
                                                     os.path.join(tmp, f"{name}.json"), 600)
                if rc != 0:
                    raise SystemExit(f"kvs-put failed (exit {rc})")
                rate = summary["bytes"] / summary["duration_seconds"]
                (paced_rates if paced else rates).append(rate)
                (paced_cpus if paced else cpus).append(cpu / summary["duration_seconds"])
                os.sync()
    dd = statistics.median(dds)
    rate = statistics.median(rates)
    paced_rate = statistics.median(paced_rates)
    cpu_per_gb = statistics.median(c / r * 1e9 for c, r in zip(cpus, rates))
    print("\n## Ingest, one stream as fast as possible (durable PERSISTED), medians of", REPEATS)
    print("| measure | value |\n|---|---|")
    print(f"| dd bs=1M conv=fdatasync (baseline, same disk) | {dd / 1e6:,.0f} MB/s |")
    print(f"| kvsd PutMedia, upload to last PERSISTED | {rate / 1e6:,.0f} MB/s |")
    print(f"| ratio kvsd / dd | {rate / dd:.2f} |")
    print(f"| kvsd CPU (cores busy during the upload) | {statistics.median(cpus):.2f} |")
    print(f"| kvsd CPU per GB ingested | {cpu_per_gb:.2f} core-seconds |")
    print(f"| sent at the dd rate (--max-rate): kvsd rate, ratio / dd | {paced_rate / 1e6:,.0f} MB/s, "
          f"{paced_rate / dd:.2f} |")
    print(f"| sent at the dd rate: kvsd CPU (cores busy) | {statistics.median(paced_cpus):.2f} |")


def many_streams(tmp, rt, stagger):
    """stagger > 0: producer i starts i * stagger / N s late, so fragment ends are spread over the
    second as in a real fleet; 0: every stream in lockstep (all fragments end at the same instant)."""
    data = tempfile.mkdtemp(dir=tmp)
    os.sync()  # the inputs and earlier runs are written back before this one starts
    with server(data) as srv:
        rc, summary, wall, cpu = run_kvs_put(
            srv, ["--stream", "rt", "--streams", str(STREAMS), "--stagger", str(stagger), "--realtime", "--eofr",
                  "--input", rt],
            os.path.join(tmp, f"rt-{stagger}.json"), REALTIME_SECONDS * 10 + 300)
        rss = proc_peak_rss_mib(srv.proc.pid)
        store = histogram(srv.port, "kvsd_ingest_store_seconds")
        persist = histogram(srv.port, "kvsd_ingest_persist_seconds")
    lat = summary.get("persisted_latency_ms", {})
    end = summary.get("persisted_after_end_latency_ms", {})
    starts = f"starts spread over {stagger} s" if stagger > 0 else "all in lockstep"
    print(f"\n## Ingest, {STREAMS} concurrent real-time 2 Mbps streams, 1 s fragments, {REALTIME_SECONDS} s, {starts}")
    print("| measure | value |\n|---|---|")
    print(f"| kvs-put exit code | {rc} |")
    print(f"| fragments sent / PERSISTED | {summary.get('fragments_sent')} / {summary.get('fragments_persisted')} |")
    print(f"| ERROR ACKs | {summary.get('errors')} |")
    print(f"| PERSISTED after last byte p50 / p99 / max | {lat.get('p50')} / {lat.get('p99')} / {lat.get('max')} ms |")
    print(f"| PERSISTED after the write that ends the fragment (next key frame) p50 / p99 / max | "
          f"{end.get('p50')} / {end.get('p99')} / {end.get('max')} ms |")
    print(f"| server side, RECEIVED -> store's answer (kvsd_ingest_store_seconds) | {histogram_line(store)} |")
    print(f"| server side, RECEIVED -> PERSISTED queued (kvsd_ingest_persist_seconds) | {histogram_line(persist)} |")
    print(f"| kvsd CPU (cores busy) | {cpu / wall:.2f} |")
    print(f"| kvsd peak RSS | {rss:,.0f} MiB |")


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        fast, rt = make_inputs(tmp)
        single_stream(tmp, fast)
        many_streams(tmp, rt, 1)
        many_streams(tmp, rt, 0)


if __name__ == "__main__":
    main()
