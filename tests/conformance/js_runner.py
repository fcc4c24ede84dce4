"""Runs a node --test file of tests/conformance/js against a running kvsd, for the *_js.py tests.

The node process sees the server's endpoint and key pair and nothing of the caller's AWS setup
(profiles, tokens, config files). A run fails the calling test when node is missing, a test fails,
the file times out, or nothing ran at all (a file that loaded but ran nothing also exits 0).
"""

import os
import shutil
import subprocess
import sys

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def run_node_tests(testcase, server, test_file, access_key, secret_key, extra_env=None, timeout=300):
    """Runs `node --test test_file` in tests/conformance/js; returns its output."""
    node = shutil.which("node")
    testcase.assertIsNotNone(node, "node is not on PATH: run scripts/install-deps.sh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "KVSD_ENDPOINT": server.base_url(),
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_REGION": "us-west-2",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    })
    env.update(extra_env or {})
    try:
        p = subprocess.run([node, "--test", "--test-reporter=spec", test_file], cwd=JS_DIR, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        testcase.fail(f"node --test did not finish in {timeout} s\n{e.output or ''}\n--- kvsd log ---\n{server.log()}")
    if p.returncode != 0:
        testcase.fail(f"node --test {test_file} exited with {p.returncode}\n{p.stdout}\n"
                      f"--- kvsd log (last 100 lines) ---\n" + "\n".join(server.log().splitlines()[-100:]))
    testcase.assertRegex(p.stdout, r"(?m)^\S*\s*pass [1-9]\d*$", p.stdout)
    testcase.assertRegex(p.stdout, r"(?m)^\S*\s*fail 0$", p.stdout)
    print(p.stdout, file=sys.stderr)
    return p.stdout
