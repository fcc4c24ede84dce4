"""GetImages benchmark.

Source: 1080p25 H.264 test pattern (testsrc2, libx264 veryfast, GOP 25 = 1 s fragments), ingested
with kvs-put --input. Measured in the same run:

1. kvsd: one GetImages request for 100 images at 200 ms sampling (20 s of media, 20 fragments),
   scaled to 640x360 JPEG (quality 80): wall time and kvsd's CPU time (/proc/<pid>/stat), so
   images per second per core = images / CPU seconds.
2. ffmpeg CLI: the same 100 instants, one `ffmpeg -ss T -i source -frames:v 1 -vf scale=640:360`
   per image (what a user without GetImages runs): wall time and the children's CPU time.
3. Latency of a single-image request (MaxResults 1, 640x360 JPEG), p50/p99: at a fragment's first
   (key) frame, and at its last frame (960 ms in, decoding the whole GOP; reached through the
   NextToken of a first call so the request asks for exactly one image).

Figures are medians of REPEATS runs (BENCH_REPEATS, default 3). BENCH_QUICK=1 makes everything
small (20 images, a check that the script works, not a measurement).
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import mkv_scan  # noqa: E402
from test_read_media import percentile, sign_request, start_server  # noqa: E402

import http.client  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("BENCH_REPEATS", "1" if QUICK else "3"))
IMAGES = 20 if QUICK else 100
INTERVAL_MS = 200
SECONDS = IMAGES * INTERVAL_MS // 1000 + 1
LATENCY_SAMPLES = 10 if QUICK else 60
AKID, SECRET = "AKIABENCHIMAGES00001", "benchImagesSecretKey/0123456789abcdefghij"


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Api:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def get_images(self, payload):
        body, headers = sign_request(self.port, "/getImages", payload, AKID, SECRET)
        t0 = time.perf_counter()
        try:
            self.conn.request("POST", "/getImages", body=body, headers=headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # kvsd closed the kept-alive connection after its idle timeout (while the ffmpeg
            # baseline ran): reconnect once.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            t0 = time.perf_counter()
            self.conn.request("POST", "/getImages", body=body, headers=headers)
            resp = self.conn.getresponse()
        data = resp.read()
        dt = time.perf_counter() - t0
        if resp.status != 200:
            raise SystemExit(f"getImages: {resp.status} {data[:300]!r}")
        return dt, json.loads(data)


def request(start_ms, end_ms, **extra):
    r = {"StreamName": "bench-images", "ImageSelectorType": "PRODUCER_TIMESTAMP", "Format": "JPEG",
         "StartTimestamp": start_ms / 1000, "EndTimestamp": end_ms / 1000, "WidthPixels": 640, "HeightPixels": 360}
    r.update(extra)
    return r


def main():
    tmp = tempfile.mkdtemp(prefix="kvsd-bench-images-")
    source = os.path.join(tmp, "source.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1920x1080:rate=25:duration={SECONDS}", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-pix_fmt", "yuv420p", source], check=True)
    srv = start_server(access_key=AKID, secret_key=SECRET)
    try:
        dump = os.path.join(tmp, "sent.mkv")
        subprocess.run([os.path.join(os.path.dirname(os.environ["KVSD_BIN"]), "kvs-put"), "--endpoint",
                        srv.base_url(), "--stream", "bench-images", "--input", source, "--retention-hours", "24",
                        "--access-key", AKID, "--secret-key", SECRET, "--dump", dump, "--quiet"], check=True,
                       timeout=600)
        with open(dump, "rb") as f:
            frags = mkv_scan.scan(f.read()).complete_fragments()
        t0 = frags[0].timecode
        api = Api(srv.port)
        api.get_images(request(t0, t0 + 1000))  # warm: page cache, code paths

        # 1. kvsd, one request for IMAGES images.
        kvsd_wall, kvsd_cpu = [], []
        for _ in range(REPEATS):
            cpu0 = proc_cpu_seconds(srv.proc.pid)
            dt, out = api.get_images(request(t0, t0 + IMAGES * INTERVAL_MS, SamplingInterval=INTERVAL_MS,
                                             MaxResults=IMAGES))
            cpu = proc_cpu_seconds(srv.proc.pid) - cpu0
            got = [i for i in out["Images"] if "ImageContent" in i]
            if len(got) != IMAGES:
                raise SystemExit(f"kvsd returned {len(got)} images of {IMAGES}: "
                                 f"{[i.get('Error') for i in out['Images']][:10]}")
            kvsd_wall.append(dt)
            kvsd_cpu.append(cpu)

        # 2. ffmpeg CLI, one process per image.
        ff_wall, ff_cpu = [], []
        first_pts = min(f.timecode + b.rel_timecode for f in frags for b in f.blocks if b.track == 1)
        for _ in range(REPEATS):
            c0 = children_cpu_seconds()
            w0 = time.perf_counter()
            for k in range(IMAGES):
                t = (t0 + k * INTERVAL_MS - first_pts) / 1000
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", f"{t:.3f}", "-i", source, "-frames:v", "1",
                                "-vf", "scale=640:360", "-q:v", "3", os.path.join(tmp, "ff.jpg")], check=True)
            ff_wall.append(time.perf_counter() - w0)
            ff_cpu.append(children_cpu_seconds() - c0)

        # 3. Single-image latency.
        key_lat, last_lat = [], []
        for n in range(LATENCY_SAMPLES):
            f = frags[n % (len(frags) - 1)]
            dt, out = api.get_images(request(f.timecode, f.timecode + 1000, SamplingInterval=960, MaxResults=1))
            if "ImageContent" not in out["Images"][0]:
                raise SystemExit(f"no image: {out['Images'][0]}")
            key_lat.append(dt)
            dt, out = api.get_images(request(f.timecode, f.timecode + 1000, SamplingInterval=960, MaxResults=1,
                                             NextToken=out["NextToken"]))
            if "ImageContent" not in out["Images"][0]:
                raise SystemExit(f"no image: {out['Images'][0]}")
            last_lat.append(dt)
    finally:
        rc = srv.stop()
        srv.__exit__(None, None, None)
        subprocess.run(["rm", "-rf", tmp])
    if rc != 0:
        raise SystemExit(f"kvsd exited with {rc}")

    kw, kc = statistics.median(kvsd_wall), statistics.median(kvsd_cpu)
    fw, fc = statistics.median(ff_wall), statistics.median(ff_cpu)
    print(f"GetImages: {IMAGES} images, 1080p H.264 GOP 1 s, {INTERVAL_MS} ms sampling, 640x360 JPEG "
          f"(median of {REPEATS})")
    print(f"  {'':28}{'wall s':>9}{'CPU s':>9}{'images/s':>10}{'images/s/core':>15}")
    print(f"  {'kvsd (one request)':28}{kw:9.2f}{kc:9.2f}{IMAGES / kw:10.1f}{IMAGES / kc:15.1f}")
    print(f"  {'ffmpeg -ss T (per image)':28}{fw:9.2f}{fc:9.2f}{IMAGES / fw:10.1f}{IMAGES / fc:15.1f}")
    print(f"  speed-up per core: {(IMAGES / kc) / (IMAGES / fc):.1f}x (target >= 5x); wall: {fw / kw:.1f}x")
    print(f"  single-image request latency ms ({LATENCY_SAMPLES} each): key frame p50 "
          f"{percentile(key_lat, 50) * 1000:.1f} p99 {percentile(key_lat, 99) * 1000:.1f}; "
          f"last frame of the GOP p50 {percentile(last_lat, 50) * 1000:.1f} p99 {percentile(last_lat, 99) * 1000:.1f}")


if __name__ == "__main__":
    main()
