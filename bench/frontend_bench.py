"""Front-end benchmark: h2load (HTTP/2 and, with --h1, HTTP/1.1) against /healthz and against the
streaming echo route of kvsd-testserver. Each case runs REPEATS times; the table shows medians.

Client and server share this machine's cores, so absolute figures are lower bounds; compare rows
of the same run.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import Server  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
FINISHED = re.compile(r"finished in [\d.]+m?s, ([\d.]+) req/s, ([\d.]+)([KMG]?B)/s")
STATUS = re.compile(r"status codes: (\d+) 2xx")


def run_h2load(args):
    out = subprocess.run(["h2load"] + args, capture_output=True, text=True, timeout=600).stdout
    m = FINISHED.search(out)
    s = STATUS.search(out)
    if not m or not s:
        raise RuntimeError("h2load output not understood:\n" + out)
    scale = {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[m.group(3)]
    return float(m.group(1)), float(m.group(2)) * scale, int(s.group(1))


def main():
    payload = tempfile.NamedTemporaryFile(delete=False)
    payload.write(os.urandom(1 << 20))
    payload.close()
    rows = []
    with Server(https=False, extra_args=["--access-log", "false"]) as srv:
        base = srv.base_url("http")
        cases = [
            ("h2 GET /healthz, 50 conn x 10 streams", ["-n", "200000", "-c", "50", "-m", "10", "-t", "1",
                                                        base + "/healthz"]),
            ("h1 GET /healthz, 50 conn keep-alive", ["--h1", "-n", "100000", "-c", "50", "-t", "1",
                                                     base + "/healthz"]),
            ("h2 POST 1 MiB /_test/echo, 8 conn x 4 streams", ["-n", "2000", "-c", "8", "-m", "4", "-t", "1",
                                                               "-d", payload.name, base + "/_test/echo"]),
            ("h1 POST 1 MiB /_test/echo, 8 conn", ["--h1", "-n", "2000", "-c", "8", "-t", "1",
                                                   "-d", payload.name, base + "/_test/echo"]),
        ]
        for name, args in cases:
            rps, mbs, ok = [], [], []
            for _ in range(REPEATS):
                r, m, good = run_h2load(args)
                rps.append(r)
                mbs.append(m)
                ok.append(good)
            n = int(args[args.index("-n") + 1])
            rows.append((name, statistics.median(rps), statistics.median(mbs), min(ok) == n))
    os.unlink(payload.name)
    print("\nkvsd front end, medians of %d runs (h2load and kvsd on the same %d cores)" % (REPEATS, os.cpu_count()))
    print("| case | requests/s | MB/s received by h2load | all 2xx |")
    print("|---|---:|---:|---|")
    for name, r, m, good in rows:
        print(f"| {name} | {r:,.0f} | {m:,.1f} | {'yes' if good else 'NO'} |")
    if not all(r[3] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
