"""The kinesisvideo control plane through the AWS CLI (`aws kinesisvideo ...`) against a real kvsd.

Skipped when no `aws` command is installed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE2"
SECRET_KEY = "conformance-secret-key-awscli-0123456789"
AWS = shutil.which("aws")


@unittest.skipIf(AWS is None, "the AWS CLI is not installed")
class AwsCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
        cls.server = Server(binary=kvsd_binary(), https=False, env=env, extra_args=["--access-log", "false"])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.stop()
        cls.server.__exit__(None, None, None)
        assert rc == 0, f"kvsd exited with {rc}"

    def aws(self, *args, ok=True):
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                    "AWS_DEFAULT_REGION": "us-west-2", "AWS_CONFIG_FILE": "/dev/null",
                    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""})
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        cmd = [AWS, "--endpoint-url", self.server.base_url(), "--output", "json", "kinesisvideo"] + list(args)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if ok:
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout) if p.stdout.strip() else {}
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr

    def test_stream_lifecycle(self):
        arn = self.aws("create-stream", "--stream-name", "cli-1", "--media-type", "video/h264",
                       "--data-retention-in-hours", "2", "--tags", "a=1")["StreamARN"]
        self.assertRegex(arn, r"^arn:aws:kinesisvideo:us-west-2:\d{12}:stream/cli-1/\d+$")
        info = self.aws("describe-stream", "--stream-name", "cli-1")["StreamInfo"]
        self.assertEqual(info["MediaType"], "video/h264")
        self.assertEqual(info["Status"], "ACTIVE")
        names = [s["StreamName"] for s in self.aws("list-streams")["StreamInfoList"]]
        self.assertIn("cli-1", names)
        ep = self.aws("get-data-endpoint", "--stream-name", "cli-1", "--api-name", "PUT_MEDIA")["DataEndpoint"]
        self.assertEqual(ep, self.server.base_url())
        self.aws("tag-stream", "--stream-arn", arn, "--tags", "b=2")
        self.assertEqual(self.aws("list-tags-for-stream", "--stream-name", "cli-1")["Tags"], {"a": "1", "b": "2"})
        err = self.aws("create-stream", "--stream-name", "cli-1", ok=False)
        self.assertIn("ResourceInUseException", err)
        err = self.aws("delete-stream", "--stream-arn", arn, "--current-version", info["Version"], ok=False)
        self.assertIn("VersionMismatchException", err)  # the tag change made a new version
        version = self.aws("describe-stream", "--stream-arn", arn)["StreamInfo"]["Version"]
        self.aws("delete-stream", "--stream-arn", arn, "--current-version", version)
        err = self.aws("describe-stream", "--stream-name", "cli-1", ok=False)
        self.assertIn("ResourceNotFoundException", err)


if __name__ == "__main__":
    unittest.main()
