"""Control-plane benchmark: DescribeStream and GetDataEndpoint requests/s with SigV4 verification,
over HTTP/1.1 and HTTP/2 (h2load), and the same requests against a server started with
--auth none. The ratio auth/none is the cost of verification. Medians of REPEATS runs.

h2load replays one pre-signed header set (botocore SigV4Auth, dated now, so valid for the 15-minute
skew window): every request carries the same signature, which kvsd verifies in full each time.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from harness import Server, kvsd_binary  # noqa: E402
from frontend_bench import run_h2load  # noqa: E402

import boto3  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
N = 60000  # requests per run
AKID, SECRET, REGION = "AKIABENCH00000000001", "benchSecretKey/0123456789abcdefghijklmnop", "us-west-2"
STREAM = "bench-stream"


def signed_headers(url, path, body):
    req = AWSRequest(method="POST", url=url + path, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(AKID, SECRET), "kinesisvideo", REGION).add_auth(req)
    return {k: v for k, v in req.headers.items()}


def bench(srv, h1, path, body):
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        f.write(body)
    url = srv.base_url("http")
    args = ["-n", str(N), "-c", "20", "-t", "1", "-d", f.name]
    if h1:
        args.insert(0, "--h1")
    else:
        args += ["-m", "10"]
    # The signature covers Host exactly as h2load sends it (host:port).
    for k, v in signed_headers(url, path, body).items():
        if k.lower() not in ("content-length",):
            args += ["-H", f"{k}: {v}"]
    rps = []
    for _ in range(REPEATS):
        r, _, ok = run_h2load(args + [url + path])
        if ok != N:
            raise RuntimeError(f"{ok} of {N} requests got 2xx on {path}")
        rps.append(r)
    os.unlink(f.name)
    return statistics.median(rps)


def main():
    env = {"KVSD_ACCESS_KEY_ID": AKID, "KVSD_SECRET_ACCESS_KEY": SECRET}
    results = {}
    for mode, extra in (("sigv4", []), ("none", ["--auth", "none"])):
        with Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"] + extra) as srv:
            kv = boto3.client("kinesisvideo", endpoint_url=srv.base_url("http"), region_name=REGION,
                              aws_access_key_id=AKID, aws_secret_access_key=SECRET)
            kv.create_stream(StreamName=STREAM, DataRetentionInHours=24)
            for op, path, body in (("DescribeStream", "/describeStream", {"StreamName": STREAM}),
                                   ("GetDataEndpoint", "/getDataEndpoint",
                                    {"StreamName": STREAM, "APIName": "PUT_MEDIA"})):
                raw = json.dumps(body).encode()
                for proto, h1 in (("h1", True), ("h2", False)):
                    results[(op, proto, mode)] = bench(srv, h1, path, raw)
    print("\nkvsd control plane, requests/s, medians of %d runs (h2load and kvsd on the same %d cores)"
          % (REPEATS, os.cpu_count()))
    print("| operation | protocol | SigV4 on | --auth none | SigV4 / none |")
    print("|---|---|---:|---:|---:|")
    for op in ("DescribeStream", "GetDataEndpoint"):
        for proto in ("h1", "h2"):
            on, off = results[(op, proto, "sigv4")], results[(op, proto, "none")]
            print(f"| {op} | {proto} | {on:,.0f} | {off:,.0f} | {on / off:.2f} |")


if __name__ == "__main__":
    main()
