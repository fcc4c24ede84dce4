"""HLS playback benchmark, two targets:

1. Media playlist of a 24-hour ON_DEMAND window: one stream of 86,400 fragments of 1 s (tiny frames,
   ingested faster than real time), an ON_DEMAND session over the whole day with
   MaxMediaPlaylistFragmentResults 5000 (the cap), then the media playlist fetched repeatedly on one
   keep-alive connection: time per playlist p50/p99 (target: under 20 ms).
2. fMP4 media fragments served by kvsd (generated on every request from the stored cluster) against
   nginx serving the very same bytes as static files, side by side in one run: h2load (HTTP/1.1,
   16 connections) cycling over every fragment of a 2 Mbps stream; requests/s and MB/s of each and
   the ratio (target: kvsd at least 50% of nginx).

3. Live latency in a browser: kvs-put streams a test pattern in real time (1 s fragments), headless
   Chromium plays the LIVE session (PRODUCER_TIMESTAMP, DisplayFragmentTimestamp ALWAYS) with hls.js
   for 40 s; from each frame's capture time in kvs-put (its program date time) to the moment hls.js
   has it buffered (buffered end), and to the playhead: p50/p90 (target: buffered p50 under 2.5 s).

Figures are medians of REPEATS runs (BENCH_REPEATS, default 5). BENCH_QUICK=1 makes everything small.
"""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from test_read_media import kvs_put, percentile, sign_request, start_server  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "2" if QUICK else "5"))
DAY_FRAGMENTS = int(os.environ.get("BENCH_DAY_FRAGMENTS", "3600" if QUICK else "86400"))
SERVE_SECONDS = int(os.environ.get("BENCH_SERVE_SECONDS", "10" if QUICK else "30"))
REQUESTS = int(os.environ.get("BENCH_SERVE_REQUESTS", "2000" if QUICK else "20000"))
AKID, SECRET = "AKIABENCHPLAY0000001", "benchPlaySecretKey/0123456789abcdefghijkl"


def ffmpeg(args):
    subprocess.run(["ffmpeg", "-v", "error", "-y"] + args, check=True)


def call(port, path, payload):
    import json
    body, headers = sign_request(port, path, payload, AKID, SECRET)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"{path}: {resp.status} {data[:300]!r}")
    return json.loads(data)


def on_demand_url(port, stream, start, end, max_results=None):
    req = {"StreamName": stream, "PlaybackMode": "ON_DEMAND",
           "HLSFragmentSelector": {"FragmentSelectorType": "PRODUCER_TIMESTAMP",
                                   "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end}}}
    if max_results:
        req["MaxMediaPlaylistFragmentResults"] = max_results
    return call(port, "/getHLSStreamingSessionURL", req)["HLSStreamingSessionURL"]


def producer_range(port, stream):
    out, req = [], {"StreamName": stream}
    while True:
        page = call(port, "/listFragments", req)
        out += page["Fragments"]
        if not page.get("NextToken"):
            break
        req = {"StreamName": stream, "NextToken": page["NextToken"]}
    ts = [f["ProducerTimestamp"] for f in out]
    return len(out), min(ts), max(ts)


def playlist(tmp):
    src = os.path.join(tmp, "day.mkv")
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=16x16:rate=1", "-t", str(DAY_FRAGMENTS), "-c:v", "libx264", "-preset",
            "ultrafast", "-g", "1", "-crf", "40", "-pix_fmt", "yuv420p", "-f", "matroska", src])
    srv = start_server(data_dir=tempfile.mkdtemp(dir=tmp), access_key=AKID, secret_key=SECRET)
    try:
        kvs_put(srv, "day", ["--input", src], tmp, timeout=900, access_key=AKID, secret_key=SECRET)
        count, first, last = producer_range(srv.port, "day")
        url = on_demand_url(srv.port, "day", int(first), int(first) + 86400, 5000)
        media = url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist") + "&TrackNumber=1"
        parts = urllib.parse.urlsplit(media)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        times, segments, size = [], 0, 0
        for _ in range(10 * REPEATS):
            t0 = time.perf_counter()
            conn.request("GET", parts.path + "?" + parts.query)
            resp = conn.getresponse()
            body = resp.read()
            times.append(time.perf_counter() - t0)
            if resp.status != 200:
                raise SystemExit(f"media playlist: HTTP {resp.status} {body[:200]!r}")
            segments, size = body.count(b"#EXTINF:"), len(body)
    finally:
        srv.stop()
    expected = min(5000, count)
    if segments != expected:
        raise SystemExit(f"the playlist lists {segments} segments, expected {expected}")
    print(f"\n## HLS media playlist, ON_DEMAND over one day ({count:,} fragments stored, capped at 5000)")
    print("| measure | value |\n|---|---|")
    print(f"| segments listed / playlist size | {segments:,} / {size / 1024:,.0f} KiB |")
    print(f"| time per playlist p50 / p99 ({len(times)} requests) | {percentile(times, 50) * 1000:.1f} / "
          f"{percentile(times, 99) * 1000:.1f} ms (target < 20 ms) |")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def h2load(urls, requests):
    out = subprocess.run(["h2load", "--h1", "-n", str(requests), "-c", "16", "-t", "1"] + urls, capture_output=True,
                         text=True, timeout=600).stdout
    m = re.search(r"finished in ([0-9.]+)(m?s), ([0-9.]+) req/s, ([0-9.]+)([KMG]?B)/s", out)
    ok = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out)
    if not m or not ok or int(ok.group(1)) != requests:
        raise SystemExit("h2load failed:\n" + out)
    scale = {"B": 1e-6, "KB": 1e-3, "MB": 1, "GB": 1e3}[m.group(5)]
    return float(m.group(3)), float(m.group(4)) * scale


def serving(tmp):
    src = os.path.join(tmp, "2mbps.mkv")
    ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25", "-t", str(SERVE_SECONDS), "-c:v", "libx264",
            "-preset", "veryfast", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "1M", "-g", "25", "-keyint_min", "25",
            "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-f", "matroska", src])
    static = os.path.join(tmp, "static")
    os.makedirs(static)
    os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user

    srv = start_server(data_dir=tempfile.mkdtemp(dir=tmp), access_key=AKID, secret_key=SECRET)
    nginx = None
    try:
        kvs_put(srv, "serve", ["--input", src], tmp, timeout=300, access_key=AKID, secret_key=SECRET)
        _, first, last = producer_range(srv.port, "serve")
        url = on_demand_url(srv.port, "serve", int(first), int(last) + 1)
        media = url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist") + "&TrackNumber=1"
        text = urllib.request.urlopen(media).read().decode()
        base = url.rsplit("/", 1)[0] + "/"
        kvsd_urls = [base + line for line in text.splitlines() if line.startswith("getMP4MediaFragment")]
        nginx_port = free_port()
        nginx_urls = []
        total = 0
        for i, u in enumerate(kvsd_urls):
            body = urllib.request.urlopen(u).read()
            total += len(body)
            with open(os.path.join(static, f"f{i}.mp4"), "wb") as f:
                f.write(body)
            nginx_urls.append(f"http://127.0.0.1:{nginx_port}/f{i}.mp4")
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off; worker_processes 2;{' user root;' if os.geteuid() == 0 else ''} pid {tmp}/nginx.pid; error_log stderr error;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types {{ video/mp4 mp4; }}
  client_body_temp_path {tmp}/nb; proxy_temp_path {tmp}/np; fastcgi_temp_path {tmp}/nf;
  uwsgi_temp_path {tmp}/nu; scgi_temp_path {tmp}/ns;
  server {{ listen 127.0.0.1:{nginx_port}; root {static}; }} }}
""")
        nginx = subprocess.Popen(["nginx", "-p", tmp, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                if urllib.request.urlopen(nginx_urls[0], timeout=5).read() == open(
                        os.path.join(static, "f0.mp4"), "rb").read():
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("nginx did not serve the fragments")
        k_rps, k_mbs, n_rps, n_mbs = [], [], [], []
        for _ in range(REPEATS):
            r, m = h2load(kvsd_urls, REQUESTS)
            k_rps.append(r)
            k_mbs.append(m)
            r, m = h2load(nginx_urls, REQUESTS)
            n_rps.append(r)
            n_mbs.append(m)
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait()
        srv.stop()
    avg = total / len(kvsd_urls)
    print(f"\n## fMP4 media fragments: kvsd (generated per request) vs nginx (static files), "
          f"{len(kvsd_urls)} fragments of {avg / 1024:,.0f} KiB on average, h2load --h1 -c 16, medians of {REPEATS}")
    print("| server | requests/s | MB/s |\n|---|---|---|")
    print(f"| nginx (baseline) | {statistics.median(n_rps):,.0f} | {statistics.median(n_mbs):,.0f} |")
    print(f"| kvsd | {statistics.median(k_rps):,.0f} | {statistics.median(k_mbs):,.0f} |")
    print(f"| ratio kvsd / nginx | {statistics.median(k_rps) / statistics.median(n_rps):.2f} (target >= 0.5) | |")


def live_latency(tmp):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "browser"))
    import browser_support as bs  # noqa: E402
    bs.check_tools()
    srv = start_server(data_dir=tempfile.mkdtemp(dir=tmp), access_key=bs.SERVER_ENV["KVSD_ACCESS_KEY_ID"],
                       secret_key=bs.SERVER_ENV["KVSD_SECRET_ACCESS_KEY"])
    producer = None
    try:
        producer = subprocess.Popen(bs.kvs_put_cmd(srv, "live", 75, realtime=True), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        am = bs.client(srv, "kinesis-video-archived-media")
        deadline = time.monotonic() + 20
        while True:
            try:
                if len(am.list_fragments(StreamName="live")["Fragments"]) >= 2:
                    break
            except am.exceptions.ResourceNotFoundException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("kvs-put produced no fragments")
            time.sleep(0.5)
        url = am.get_hls_streaming_session_url(
            StreamName="live", PlaybackMode="LIVE", DisplayFragmentTimestamp="ALWAYS",
            HLSFragmentSelector={"FragmentSelectorType": "PRODUCER_TIMESTAMP"})["HLSStreamingSessionURL"]
        with bs.PageServer() as page:
            res = bs.play(page, "hls", url, {"advance": 30, "minWallMs": 40000}, 60000)
    finally:
        if producer:
            producer.terminate()
            producer.wait()
        srv.stop()
    played = [x["latencyMs"] for x in res["samples"] if x["latencyMs"] is not None and not x["paused"]]
    buffered = [x["bufferedLatencyMs"] for x in res["samples"] if x["bufferedLatencyMs"] is not None]
    if not played or not buffered:
        raise SystemExit("hls.js reported no program date time: " + bs.describe(res))
    print(f"\n## HLS LIVE latency in headless Chromium + hls.js, capture time in kvs-put -> browser, "
          f"{len(buffered)} samples over 40 s")
    print("| measure | p50 | p90 |\n|---|---|---|")
    print(f"| capture -> buffered in hls.js (target p50 < 2.5 s) | {percentile(buffered, 50):,.0f} ms | "
          f"{percentile(buffered, 90):,.0f} ms |")
    print(f"| capture -> playhead | {percentile(played, 50):,.0f} ms | {percentile(played, 90):,.0f} ms |")
    print(f"| first frame shown after page start | {res['firstPlaying']['t']:,.0f} ms | |")


def main():
    tmp = tempfile.mkdtemp(prefix="kvsd-bench-play-")
    try:
        serving(tmp)
        playlist(tmp)
        live_latency(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
