"""The kinesisvideo control plane through the AWS SDK for JavaScript v3 against a real kvsd.

Starts kvsd with a fixed key pair and runs `node --test control_plane.test.mjs` in
tests/conformance/js (the SDK version is pinned in its package-lock.json). The test fails, never
skips, when node or the installed SDK is missing: scripts/install-deps.sh (run by `make test`)
installs both.
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE3"
SECRET_KEY = "conformance-secret-key-js-sdk-0123456789"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
SDK_DIR = os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-kinesis-video")
TEST_FILE = "control_plane.test.mjs"


class JsSdkV3Test(unittest.TestCase):
    def test_control_plane(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not on PATH: run scripts/install-deps.sh")
        self.assertTrue(os.path.isdir(SDK_DIR),
                        f"{SDK_DIR} is missing: run scripts/install-deps.sh "
                        "(it runs npm ci --prefix tests/conformance/js)")

        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        with Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"]) as server:
            node_env = dict(os.environ)
            for k in list(node_env):
                # Nothing from the caller's AWS setup (profiles, tokens, config files) may leak in.
                if k.startswith("AWS_"):
                    del node_env[k]
            node_env.update({
                "KVSD_ENDPOINT": server.base_url(),
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_REGION": "us-west-2",
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "NO_COLOR": "1",
            })
            try:
                p = subprocess.run([node, "--test", "--test-reporter=spec", TEST_FILE], cwd=JS_DIR, env=node_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                   timeout=300)
            except subprocess.TimeoutExpired as e:
                self.fail(f"node --test did not finish in 300 s\n{e.output or ''}\n--- kvsd log ---\n{server.log()}")
            if p.returncode != 0:
                self.fail(f"node --test {TEST_FILE} exited with {p.returncode}\n{p.stdout}\n"
                          f"--- kvsd log (last 100 lines) ---\n" + "\n".join(server.log().splitlines()[-100:]))
            # A file that loaded but ran nothing would also exit 0.
            self.assertRegex(p.stdout, r"(?m)^\S*\s*pass [1-9]\d*$", p.stdout)
            self.assertRegex(p.stdout, r"(?m)^\S*\s*fail 0$", p.stdout)
            print(p.stdout, file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
