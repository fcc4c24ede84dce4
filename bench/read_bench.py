"""Read benchmark, three targets:

1. GetMediaForFragmentList throughput: one stream of ~200 MB of high-bitrate 1 s fragments
   (ffmpeg qp0 720p, ingested with kvs-put), read back with GMFFL in requests of up to 1,000
   fragments (SigV4-signed with botocore, read by curl into /dev/null). Compared with
   `cat` of the stream's blob files to /dev/null, measured in the same run; both warm (page cache).
2. ListFragments over a long stream (default 86,400 fragments of 1 s, one tiny frame each,
   ingested faster than real time): a full paginated listing (MaxResults 1000) and a 1-hour
   PRODUCER_TIMESTAMP range query; total time and per-page latency p50/p99.
3. GetMedia live tail: GetMedia NOW reads while a paced PutMedia sends 1 s fragments (default
   60 s); delay from the fragment's RECEIVED ack to its complete chunk at the reader, p50/p99/max.

Figures are medians of REPEATS runs (BENCH_REPEATS, default 5). BENCH_QUICK=1 makes everything
small (a check that the script works, not a measurement). KVSD_EXTRA adds kvsd arguments (e.g.
"--storage-direct-io false", to compare reads of blobs written buffered and directly).
"""

import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import mkv_scan  # noqa: E402
from test_read_media import (GetMediaReader, kvs_put, paced_put_media, percentile, sign_request,  # noqa: E402
                             start_server)

import http.client  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "2" if QUICK else "5"))
GMFFL_SECONDS = int(os.environ.get("BENCH_GMFFL_SECONDS", "20" if QUICK else "120"))  # ~1.7 MB per second
LIST_FRAGMENTS = int(os.environ.get("BENCH_LIST_FRAGMENTS", "3600" if QUICK else "86400"))
TAIL_SECONDS = int(os.environ.get("BENCH_TAIL_SECONDS", "8" if QUICK else "60"))
AKID, SECRET = "AKIABENCHREAD0000001", "benchReadSecretKey/0123456789abcdefghijkl"


def ffmpeg(args):
    subprocess.run(["ffmpeg", "-v", "error", "-y"] + args, check=True)


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server(data_dir):
    return start_server(extra_args=os.environ.get("KVSD_EXTRA", "").split(), data_dir=data_dir, access_key=AKID,
                        secret_key=SECRET)


def stop(srv):
    rc = srv.stop()
    if rc != 0:
        raise SystemExit(f"kvsd exited with {rc} on SIGTERM")


class Api:
    """Signed JSON calls on one keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, path, payload):
        """(seconds, decoded JSON) of one call; raises on a non-200 answer."""
        body, headers = sign_request(self.port, path, payload, AKID, SECRET)
        t0 = time.perf_counter()
        self.conn.request("POST", path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        dt = time.perf_counter() - t0
        if resp.status != 200:
            raise SystemExit(f"{path}: {resp.status} {data[:300]!r}")
        return dt, json.loads(data)

    def list_all(self, stream, selector=None, page=1000):
        """([page seconds], [fragments]) of a full paginated listing."""
        times, frags = [], []
        req = {"StreamName": stream, "MaxResults": page}
        if selector:
            req["FragmentSelector"] = selector
        while True:
            dt, out = self.call("/listFragments", req)
            times.append(dt)
            frags += out["Fragments"]
            token = out.get("NextToken")
            if not token:
                return times, frags
            req = {"StreamName": stream, "MaxResults": page, "NextToken": token}

    def read_media_raw(self, stream, numbers):
        """(seconds, bytes) of one GetMediaForFragmentList read on a raw socket into one reused 4 MiB
        buffer (no HTTP parsing: the bytes counted include the chunk framing, under 0.01% here), so
        the client costs next to nothing (curl is measured too, for comparison)."""
        import socket
        body, headers = sign_request(self.port, "/getMediaForFragmentList", {"StreamName": stream,
                                                                             "Fragments": numbers}, AKID, SECRET)
        head = f"POST /getMediaForFragmentList HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            t0 = time.perf_counter()
            sock.sendall(head.encode() + body)
            total = 0
            first = True
            while True:
                n = sock.recv_into(view)
                if n == 0:
                    break
                if first:
                    if not bytes(view[:12]).startswith(b"HTTP/1.1 200"):
                        raise SystemExit(f"GetMediaForFragmentList: {bytes(view[:200])!r}")
                    first = False
                total += n
            return time.perf_counter() - t0, total

    def read_media_splice(self, stream, numbers):
        """(seconds, bytes) of one GetMediaForFragmentList read whose body bytes the reader never
        copies: after the status line is checked, splice(2) moves them from the socket through a
        pipe into /dev/null. This measures what kvsd delivers, without the reader's copy."""
        import fcntl
        import socket
        body, headers = sign_request(self.port, "/getMediaForFragmentList", {"StreamName": stream,
                                                                             "Fragments": numbers}, AKID, SECRET)
        head = f"POST /getMediaForFragmentList HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        r, w = os.pipe()
        fcntl.fcntl(r, 1031, 1 << 20)  # F_SETPIPE_SZ
        null = os.open("/dev/null", os.O_WRONLY)
        try:
            with socket.create_connection(("127.0.0.1", self.port)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
                t0 = time.perf_counter()
                sock.sendall(head.encode() + body)
                first = sock.recv(4096)
                if not first.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"GetMediaForFragmentList: {first[:200]!r}")
                total = len(first)
                fd = sock.fileno()
                while True:
                    n = os.splice(fd, w, 1 << 20)
                    if n == 0:
                        break
                    total += n
                    while n > 0:
                        n -= os.splice(r, null, n)
                return time.perf_counter() - t0, total
        finally:
            os.close(r)
            os.close(w)
            os.close(null)

    def read_media(self, stream, numbers):
        """(seconds, bytes) of one GetMediaForFragmentList read by curl into /dev/null (curl's own
        transfer time: Python's http.client tops out below kvsd's rate on loopback)."""
        body, headers = sign_request(self.port, "/getMediaForFragmentList", {"StreamName": stream,
                                                                             "Fragments": numbers}, AKID, SECRET)
        args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download}",
                "--data-binary", "@-"]
        for k, v in headers.items():
            args += ["-H", f"{k}: {v}"]
        out = subprocess.run(args + [f"http://127.0.0.1:{self.port}/getMediaForFragmentList"], input=body,
                             capture_output=True, check=True).stdout.decode().split()
        if out[0] != "200":
            raise SystemExit(f"GetMediaForFragmentList: HTTP {out[0]}")
        return float(out[1]), int(out[2])


def gmffl_throughput(tmp):
    src = os.path.join(tmp, "fast.mkv")
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", str(GMFFL_SECONDS), "-c:v", "libx264",
            "-preset", "ultrafast", "-qp", "0", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt",
            "yuv420p", "-f", "matroska", src])
    data = tempfile.mkdtemp(dir=tmp)
    srv = server(data)
    try:
        kvs_put(srv, "gmffl", ["--input", src], tmp, access_key=AKID, secret_key=SECRET)
        api = Api(srv.port)
        _, frags = api.list_all("gmffl")
        numbers = [f["FragmentNumber"] for f in frags]
        blobs = [p for p in glob.glob(os.path.join(data, "blobs", "**", "*"), recursive=True) if os.path.isfile(p)]
        blob_bytes = sum(os.path.getsize(p) for p in blobs)

        def cat():
            t0 = time.perf_counter()
            subprocess.run(["cat"] + blobs, stdout=subprocess.DEVNULL, check=True)
            return blob_bytes / (time.perf_counter() - t0)

        def gmffl(read=api.read_media_raw):
            total_t, total_n = 0.0, 0
            for i in range(0, len(numbers), 1000):
                dt, n = read("gmffl", numbers[i:i + 1000])
                total_t += dt
                total_n += n
            return total_n / total_t, total_n

        cat()
        gmffl()  # warm both
        cats, reads, cpus, curls, splices = [], [], [], [], []
        body_bytes = 0
        for _ in range(REPEATS):
            cats.append(cat())
            curls.append(gmffl(api.read_media)[0])
            splices.append(gmffl(api.read_media_splice)[0])
            cpu0, t0 = proc_cpu_seconds(srv.proc.pid), time.perf_counter()
            rate, body_bytes = gmffl()
            cpus.append((proc_cpu_seconds(srv.proc.pid) - cpu0) / (time.perf_counter() - t0))
            reads.append(rate)
    finally:
        stop(srv)
    cat_rate, read_rate = statistics.median(cats), statistics.median(reads)
    print(f"\n## GetMediaForFragmentList throughput, one stream, medians of {REPEATS}")
    print("| measure | value |\n|---|---|")
    print(f"| stored | {len(numbers)} fragments, {blob_bytes / 1e6:,.0f} MB in {len(blobs)} blob files |")
    print(f"| cat blobs > /dev/null (baseline, warm) | {cat_rate / 1e6:,.0f} MB/s |")
    print(f"| GMFFL, {len(numbers)} fragments in requests of <= 1000, body {body_bytes / 1e6:,.0f} MB, raw socket "
          f"reader | {read_rate / 1e6:,.0f} MB/s |")
    print(f"| the same read by curl -o /dev/null | {statistics.median(curls) / 1e6:,.0f} MB/s |")
    print(f"| the same read spliced to /dev/null (no copy in the reader) | {statistics.median(splices) / 1e6:,.0f} MB/s "
          f"(ratio to cat {statistics.median(splices) / cat_rate:.2f}) |")
    print(f"| ratio GMFFL / cat (target >= 0.8) | {read_rate / cat_rate:.2f} |")
    print(f"| kvsd CPU (cores busy during GMFFL) | {statistics.median(cpus):.2f} |")


def list_fragments(tmp):
    src = os.path.join(tmp, "tiny.mkv")
    # One key frame per second: kvs-put cuts a fragment at every video key frame.
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=16x16:rate=1", "-t", str(LIST_FRAGMENTS), "-c:v", "libx264", "-preset",
            "ultrafast", "-g", "1", "-crf", "40", "-pix_fmt", "yuv420p", "-f", "matroska", src])
    data = tempfile.mkdtemp(dir=tmp)
    srv = server(data)
    try:
        t0 = time.monotonic()
        summary = kvs_put(srv, "long", ["--input", src], tmp, timeout=900, access_key=AKID, secret_key=SECRET)
        ingest = time.monotonic() - t0
        api = Api(srv.port)
        full_totals, full_pages = [], []
        frags = []
        for _ in range(REPEATS):
            times, frags = api.list_all("long")
            full_totals.append(sum(times))
            full_pages += times
        if len(frags) != summary["fragments"]:
            raise SystemExit(f"ListFragments listed {len(frags)} of {summary['fragments']} fragments")
        first = min(f["ProducerTimestamp"] for f in frags)
        span = max(f["ProducerTimestamp"] for f in frags) - first
        start = int(first + max(0.0, (span - 3600) / 2)) + 1
        selector = {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {"StartTimestamp": start, "EndTimestamp": start + 3600}}
        range_totals, range_pages = [], []
        ranged = []
        for _ in range(REPEATS):
            times, ranged = api.list_all("long", selector)
            range_totals.append(sum(times))
            range_pages += times
    finally:
        stop(srv)
    print(f"\n## ListFragments, one stream of {len(frags):,} fragments (1 s each), medians of {REPEATS}")
    print("| measure | value |\n|---|---|")
    print(f"| ingest with kvs-put (not paced) | {ingest:.1f} s ({len(frags) / ingest:,.0f} fragments/s) |")
    print(f"| full listing, {len(full_pages) // REPEATS} pages of 1000 | "
          f"{statistics.median(full_totals) * 1000:,.0f} ms |")
    print(f"| full listing, per page p50 / p99 | {percentile(full_pages, 50) * 1000:.1f} / "
          f"{percentile(full_pages, 99) * 1000:.1f} ms |")
    print(f"| 1-hour producer range ({len(ranged)} fragments, {len(range_pages) // REPEATS} pages) | "
          f"{statistics.median(range_totals) * 1000:,.1f} ms |")
    print(f"| 1-hour range, per page p50 / p99 | {percentile(range_pages, 50) * 1000:.1f} / "
          f"{percentile(range_pages, 99) * 1000:.1f} ms |")


def live_tail(tmp):
    src = os.path.join(tmp, "tail.mkv")
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", str(TAIL_SECONDS), "-c:v", "libx264", "-preset",
            "veryfast", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "1M", "-g", "25", "-keyint_min", "25",
            "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-f", "matroska", src])
    dump = os.path.join(tmp, "tail-body.mkv")
    data = tempfile.mkdtemp(dir=tmp)
    srv = server(data)
    try:
        # kvs-put makes the SDK-shaped body (into a scratch stream); the paced PutMedia sends it again.
        kvs_put(srv, "scratch", ["--input", src, "--dump", dump], tmp, access_key=AKID, secret_key=SECRET)
        body = mkv_scan.load(dump)
        api = Api(srv.port)
        api.call("/createStream", {"StreamName": "tail", "DataRetentionInHours": 2, "MediaType": "video/h264"})
        reader = GetMediaReader(srv.port, {"StreamName": "tail", "StartSelector": {"StartSelectorType": "NOW"}},
                                access_key=AKID, secret_key=SECRET)
        reader.start()
        time.sleep(0.5)  # the request is in; NOW counts fragments completing after it
        session = paced_put_media(srv.port, "tail", body, access_key=AKID, secret_key=SECRET)
        reader.join(30)
    finally:
        stop(srv)
    if reader.status != 200:
        raise SystemExit(f"GetMedia NOW: {reader.status} {reader.error_body[:300]!r} {reader.error}")
    received = {a.number: a.t for a in session.ack_events("RECEIVED")}
    got = {n: t for t, n, _ in reader.chunks}
    deltas = [(got[n] - t) * 1000 for n, t in received.items() if n in got]
    print(f"\n## GetMedia live tail, {len(received)} fragments of 1 s sent in real time")
    print("| measure | value |\n|---|---|")
    print(f"| chunks delivered / fragments RECEIVED | {len(got)} / {len(received)} |")
    print(f"| RECEIVED ack -> chunk complete at the reader p50 / p99 / max | {percentile(deltas, 50):.1f} / "
          f"{percentile(deltas, 99):.1f} / {max(deltas) if deltas else float('nan'):.1f} ms |")
    print(f"| GetMedia ended after the last RECEIVED | {reader.end_t - max(received.values()):.2f} s |")


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        gmffl_throughput(tmp)
        list_fragments(tmp)
        live_tail(tmp)


if __name__ == "__main__":
    main()
