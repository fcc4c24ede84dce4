"""GetImages through the AWS SDK for JavaScript v3 against a real kvsd.

Starts kvsd with a fixed key pair, ingests a 6 s test pattern (1 s fragments) with kvs-put, creates
a stream without retention, then runs `node --test get_images.test.mjs` in tests/conformance/js with
the Cluster timecodes that were sent. The SDK versions are pinned in js/package-lock.json. Fails,
never skips, when node or the installed SDK packages are missing: scripts/install-deps.sh (run by
`make test`) installs them.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import boto3  # noqa: E402
import botocore.config  # noqa: E402

import mkv_scan  # noqa: E402
from js_runner import run_node_tests  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE9"
SECRET_KEY = "conformance-secret-key-images-js-012345"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
SDK_DIR = os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-kinesis-video-archived-media")
TEST_FILE = "get_images.test.mjs"
STREAM = "js-gi"
NORET = "js-gi-noret"


def kvs_put_binary():
    return os.environ.get("KVS_PUT_BIN") or os.path.join(os.path.dirname(kvsd_binary()), "kvs-put")


class JsSdkV3GetImagesTest(unittest.TestCase):
    def test_get_images(self):
        self.assertTrue(os.path.isdir(SDK_DIR), f"{SDK_DIR} is missing: run scripts/install-deps.sh")

        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        work = tempfile.mkdtemp(prefix="kvsd-gi-js-")
        self.addCleanup(shutil.rmtree, work, True)
        with Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"]) as server:
            dump = os.path.join(work, "sent.mkv")
            p = subprocess.run([kvs_put_binary(), "--endpoint", server.base_url(), "--stream", STREAM, "--pattern", "6",
                                "--realtime", "--retention-hours", "24", "--access-key", ACCESS_KEY, "--secret-key",
                                SECRET_KEY, "--dump", dump, "--quiet"], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, f"kvs-put: {p.stderr}\n--- kvsd log ---\n{server.log()}")
            with open(dump, "rb") as f:
                frags = mkv_scan.scan(f.read()).complete_fragments()
            self.assertEqual(len(frags), 6)
            kv = boto3.client("kinesisvideo", endpoint_url=server.base_url(), region_name="us-west-2",
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                              config=botocore.config.Config(retries={"max_attempts": 0}))
            kv.create_stream(StreamName=NORET, DataRetentionInHours=0)
            kv.close()
            run_node_tests(self, server, TEST_FILE, ACCESS_KEY, SECRET_KEY, {
                "KVSD_STREAM": STREAM,
                "KVSD_NORET_STREAM": NORET,
                "KVSD_PRODUCER_MS": json.dumps([f.timecode for f in frags]),
            })


if __name__ == "__main__":
    unittest.main()
