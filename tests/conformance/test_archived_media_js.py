"""The read APIs (ListFragments, GetMediaForFragmentList, GetMedia, GetClip) through the AWS SDK
for JavaScript v3 against a real kvsd.

Starts kvsd with a fixed key pair, ingests a 6 s test pattern with audio (real time, 1 s
fragments) and a 2 s one into a second stream with kvs-put, then runs
`node --test archived_media.test.mjs` in tests/conformance/js with what was sent (Cluster timecodes
and a hash of each Cluster's content, from kvs-put --dump). The SDK versions are pinned in
js/package-lock.json. Fails, never skips, when node or the installed SDK packages are missing:
scripts/install-deps.sh (run by `make test`) installs them.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import mkv_scan  # noqa: E402
from js_runner import run_node_tests  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE6"
SECRET_KEY = "conformance-secret-key-archived-js-01234"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
SDK_DIRS = [os.path.join(JS_DIR, "node_modules", "@aws-sdk", p)
            for p in ("client-kinesis-video", "client-kinesis-video-archived-media", "client-kinesis-video-media")]
TEST_FILE = "archived_media.test.mjs"
STREAM = "js-am"
OTHER = "js-am-other"


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


def cluster_sha256(body, frag):
    _, il = mkv_scan.read_id(body, frag.start)
    _, sl = mkv_scan.read_size(body, frag.start + il)
    return hashlib.sha256(body[frag.start + il + sl:frag.end]).hexdigest()


class JsSdkV3ArchivedMediaTest(unittest.TestCase):
    def ingest(self, server, stream, seconds, work, realtime):
        dump = os.path.join(work, stream + ".mkv")
        cmd = [kvs_put_binary(), "--endpoint", server.base_url(), "--stream", stream, "--pattern", str(seconds),
               "--audio", "--retention-hours", "24", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY,
               "--dump", dump, "--quiet"] + (["--realtime"] if realtime else [])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, f"kvs-put: {p.stderr}\n--- kvsd log ---\n{server.log()}")
        with open(dump, "rb") as f:
            body = f.read()
        frags = mkv_scan.scan(body).complete_fragments()
        self.assertEqual(len(frags), seconds)
        return body, frags

    def test_archived_media(self):
        for d in SDK_DIRS:
            self.assertTrue(os.path.isdir(d), f"{d} is missing: run scripts/install-deps.sh "
                                              "(it runs npm ci --prefix tests/conformance/js)")

        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        work = tempfile.mkdtemp(prefix="kvsd-am-js-")
        self.addCleanup(shutil.rmtree, work, True)
        with Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"]) as server:
            t_before = int(time.time() * 1000)
            body, frags = self.ingest(server, STREAM, 6, work, realtime=True)
            t_after = int(time.time() * 1000) + 1
            self.ingest(server, OTHER, 2, work, realtime=False)
            run_node_tests(self, server, TEST_FILE, ACCESS_KEY, SECRET_KEY, {
                "KVSD_STREAM": STREAM,
                "KVSD_OTHER_STREAM": OTHER,
                "KVSD_PRODUCER_MS": json.dumps([f.timecode for f in frags]),
                "KVSD_CLUSTER_SHA256": json.dumps([cluster_sha256(body, f) for f in frags]),
                "KVSD_INGEST_WINDOW_MS": json.dumps([t_before, t_after]),
            })


if __name__ == "__main__":
    unittest.main()
