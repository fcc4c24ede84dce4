"""The kinesisvideo control plane through the AWS SDK for JavaScript v3 against a real kvsd.

Starts kvsd with a fixed key pair and runs `node --test control_plane.test.mjs` in
tests/conformance/js (the SDK version is pinned in its package-lock.json). The test fails, never
skips, when node or the installed SDK is missing: scripts/install-deps.sh (run by `make test`)
installs both.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from js_runner import run_node_tests  # noqa: E402
from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE3"
SECRET_KEY = "conformance-secret-key-js-sdk-0123456789"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
SDK_DIR = os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-kinesis-video")
TEST_FILE = "control_plane.test.mjs"


class JsSdkV3Test(unittest.TestCase):
    def test_control_plane(self):
        self.assertTrue(os.path.isdir(SDK_DIR),
                        f"{SDK_DIR} is missing: run scripts/install-deps.sh "
                        "(it runs npm ci --prefix tests/conformance/js)")

        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        with Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"]) as server:
            run_node_tests(self, server, TEST_FILE, ACCESS_KEY, SECRET_KEY)


if __name__ == "__main__":
    unittest.main()
