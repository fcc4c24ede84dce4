"""Disk full (docs/storage.md, "Disk full"): kvsd-testserver with its data dir on a small private tmpfs.

The tmpfs is mounted in a user + mount namespace held open by a helper process (so it survives a
SIGKILL of kvsd and a restart); kvsd runs inside that namespace through a wrapper script given
to the harness as its binary. Checked:
 - a restart on a full disk (after a SIGKILL) starts in degraded mode instead of aborting in
   RocksDB: reads are served, writes refused (CreateStream: an AWS error without a server path;
   PutMedia: ERROR 5001), a log line and kvsd_storage_degraded{reason="disk_full"} 1 say why, and
   writes resume by themselves once space is freed;
 - a disk that fills while kvsd runs turns into the same degraded mode (no abort);
 - the index does not preallocate a big write-ahead log (tens of MiB) at start.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

import mkv_scan as m
from harness import Server, testserver_binary
from putmedia_client import (ACCESS_KEY, REGION, SECRET_KEY, H1Session, control_client, create_stream,
                             put_media_headers, stored_fragment_bytes, stored_fragments, upload)

BASE = 1795700000000  # cluster timecodes of the crafted bodies (ABSOLUTE, ms)
DEGRADED_METRIC = 'kvsd_storage_degraded{reason="disk_full"}'


class PrivateTmpfs:
    """A tmpfs of `mib` MiB mounted at `path` inside a user + mount namespace that a helper process
    keeps alive until close() (or until this process dies: the helper waits on its stdin)."""

    def __init__(self, path, mib):
        self.path = path
        self.holder = subprocess.Popen(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
             'mount -t tmpfs -o size="$1"m tmpfs "$0" && echo ready && read _', path, str(mib)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline().strip()
        if line != "ready":
            err = self.holder.stderr.read()
            self.holder.wait()
            raise unittest.SkipTest(f"cannot mount a private tmpfs here: {err.strip()}")

    def command(self, *args):
        """The argv that runs `args` inside the namespace."""
        return ["nsenter", "-t", str(self.holder.pid), "-U", "-m", "--"] + list(args)

    def run(self, *args, check=True):
        return subprocess.run(self.command(*args), capture_output=True, text=True, check=check, timeout=60)

    def wrapper(self, binary, script_dir):
        """A script that execs `binary` with its arguments inside the namespace (for Server(binary=))."""
        script = os.path.join(script_dir, "kvsd-in-tmpfs")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(self.command(os.path.abspath(binary))) + ' "$@"\n')
        os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
        return script

    def free_bytes(self):
        out = self.run("stat", "-f", "-c", "%a %S", self.path).stdout.split()
        return int(out[0]) * int(out[1])

    def used_bytes(self):
        out = self.run("stat", "-f", "-c", "%b %a %S", self.path).stdout.split()
        return (int(out[0]) - int(out[1])) * int(out[2])

    def fill(self):
        """Writes a filler file until the file system is full (0 bytes free)."""
        filler = os.path.join(self.path, "filler")
        self.run("dd", "if=/dev/zero", f"of={filler}", "bs=1M", check=False)
        self.run("dd", "if=/dev/zero", f"of={filler}", "bs=4k", "oflag=append", "conv=notrunc", check=False)

    def free_filler(self):
        self.run("rm", "-f", os.path.join(self.path, "filler"))

    def close(self):
        """Ends the helper: the namespace and its tmpfs go with it."""
        if self.holder.poll() is None:
            self.holder.stdin.close()
            try:
                self.holder.wait(10)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait()
        for pipe in (self.holder.stdin, self.holder.stdout, self.holder.stderr):
            if pipe and not pipe.closed:
                pipe.close()


def fragments_body(count, start):
    """Header + `count` fragments each closed by an END_OF_FRAGMENT Tags element."""
    body = m.header()
    for i in range(count):
        body += m.cluster(start + i * 1000) + m.eof_tags()
    return body


def metrics(server):
    with urllib.request.urlopen(server.base_url() + "/metrics", timeout=10) as r:
        return r.read().decode()


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="kvsd-diskfull-")
        self.script_dir = tempfile.mkdtemp(prefix="kvsd-diskfull-bin-")
        self.fs = None
        self.server = None

    def tearDown(self):
        if self.server is not None and self.server.proc is not None and self.server.proc.poll() is None:
            self.server.kill()
        if self.fs is not None:
            self.fs.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.script_dir, ignore_errors=True)

    def start(self, mib=32, extra_args=()):
        self.fs = PrivateTmpfs(self.data_dir, mib)
        # The disk check interval through the environment (a server that does not know it ignores it).
        env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY,
               "KVSD_STORAGE_DISK_CHECK_SECONDS": "1"}
        args = ["--access-log", "false", "--storage-min-free-bytes", "0", "--read-get-media-idle-ms", "300"] + list(
            extra_args)
        self.server = Server(binary=self.fs.wrapper(testserver_binary(), self.script_dir), https=False, env=env,
                             data_dir=self.data_dir, extra_args=args)
        self.server.start()
        return self.server

    def restart(self):
        try:
            self.server.start()
        except AssertionError as e:
            rc = self.server.proc.returncode if self.server.proc else None
            self.fail(f"kvsd did not start on the full disk (exit {rc}); aborted in RocksDB?\n{e}")

    def client(self, service):
        return boto3.client(service, endpoint_url=self.server.base_url(), region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=botocore.config.Config(retries={"max_attempts": 0}))

    # --- checks ---------------------------------------------------------------------------------------------
    def assert_refused(self, fn, **kwargs):
        """`fn` fails with an AWS-shaped error naming no server path; returns (code, message)."""
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kwargs)
        err = cm.exception.response
        code = err["Error"]["Code"]
        message = err["Error"].get("Message", "")
        status = err["ResponseMetadata"]["HTTPStatusCode"]
        self.assertEqual((status, code), (503, "ServiceUnavailableException"), err)
        self.assertNotIn(self.data_dir, message)
        self.assertIsNone(re.search(r"/[\w.-]+/", message), f"a path in the message: {message!r}")
        return code, message

    def upload_error(self, stream, start):
        """PutMedia of two fragments: expects ERROR 5001 and no PERSISTED: one 5001 for each
        fragment that got RECEIVED (the end-of-session contract, docs/api-compat.md), so one or
        two depending on whether the second arrived before the first was refused."""
        s = H1Session(self.server.port, put_media_headers(stream, ACCESS_KEY, SECRET_KEY))
        try:
            s.wait_continue(2.0)
            s.send_body(fragments_body(2, start), 4096)
            self.assertTrue(s.wait_for(lambda x: x.has_ack("ERROR"), 20), f"no ERROR ACK\n{s.log()}")
            s.finish()
            s.wait_done(20)
        finally:
            s.close()
        errors = s.ack_events("ERROR")
        received = [a.timecode for a in s.ack_events("RECEIVED")]
        self.assertEqual([a.error_id for a in errors], [5001] * max(1, len(received)), s.log())
        self.assertEqual([a.timecode for a in errors][:len(received)], received, s.log())
        self.assertEqual(s.ack_events("PERSISTED"), [], s.log())

    def upload_ok(self, stream, start, count=3):
        body = fragments_body(count, start)
        s = upload(self.server, stream, body, pieces=4096, hold_for=start + (count - 1) * 1000)
        self.assertEqual(s.ack_events("ERROR"), [], s.log())
        self.assertEqual(len(s.ack_events("PERSISTED")), count, s.log())
        return s

    def assert_degraded_metric(self, value):
        deadline = time.monotonic() + 15
        while True:
            got = metric_value(metrics(self.server), DEGRADED_METRIC)
            if got == value or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(got, value, metrics(self.server))

    def assert_resumes(self, stream, start):
        """Frees the filler: writes resume without a restart."""
        self.fs.free_filler()
        self.server.wait_for_log(r"storage: writes resumed", timeout=20)
        self.assert_degraded_metric(0)
        create_stream(self.server, "after-disk-full")
        self.upload_ok(stream, start)

    # --- tests ----------------------------------------------------------------------------------------------
    def test_restart_on_full_disk_starts_degraded(self):
        srv = self.start()
        create_stream(srv, "kept")
        self.upload_ok("kept", BASE)
        before = stored_fragments(srv, "kept")
        self.assertEqual(len(before), 3)
        self.fs.fill()
        self.assertLess(self.fs.free_bytes(), 64 * 1024)
        srv.kill()
        self.restart()
        srv.wait_for_log(r"storage DEGRADED \(disk_full\).*bytes free.*every write is refused", timeout=10)
        self.assert_degraded_metric(1)

        # Reads are served.
        cp = control_client(srv)
        self.assertEqual([s["StreamName"] for s in cp.list_streams()["StreamInfoList"]], ["kept"])
        self.assertEqual(cp.describe_stream(StreamName="kept")["StreamInfo"]["Status"], "ACTIVE")
        after = stored_fragments(srv, "kept")
        self.assertEqual([f["FragmentNumber"] for f in after], [f["FragmentNumber"] for f in before])
        for f in after:
            self.assertGreater(len(stored_fragment_bytes(srv, "kept", f["FragmentNumber"])), 0)
        listed = self.client("kinesis-video-archived-media").list_fragments(StreamName="kept")["Fragments"]
        self.assertEqual(sorted(f["FragmentNumber"] for f in listed), sorted(f["FragmentNumber"] for f in before))
        resp = self.client("kinesis-video-media").get_media(StreamName="kept",
                                                            StartSelector={"StartSelectorType": "EARLIEST"})
        media = resp["Payload"].read()
        resp["Payload"].close()
        self.assertEqual(len(m.scan(media).complete_fragments()), 3)

        # Writes are refused, cleanly.
        self.assert_refused(cp.create_stream, StreamName="new-one", DataRetentionInHours=2)
        self.assert_refused(cp.tag_stream, StreamName="kept", Tags={"k": "v"})
        self.assert_refused(cp.delete_stream, StreamARN=cp.describe_stream(StreamName="kept")["StreamInfo"]["StreamARN"])
        self.upload_error("kept", BASE + 60000)
        self.assertEqual(len(stored_fragments(srv, "kept")), 3)

        # A degraded kvsd stops cleanly and starts degraded again.
        self.assertEqual(srv.stop(), 0, srv.log())
        self.restart()
        srv.wait_for_log(r"listening http", timeout=10)
        self.assert_degraded_metric(1)
        self.assertEqual(len(stored_fragments(srv, "kept")), 3)

        self.assert_resumes("kept", BASE + 120000)
        self.assertEqual(srv.stop(), 0, srv.log())

    def test_disk_fills_while_running(self):
        srv = self.start()
        create_stream(srv, "live")
        self.upload_ok("live", BASE)
        self.fs.fill()
        # A small index write may still fit in the log's last page: write until one is refused
        # (without the reserve, RocksDB aborted kvsd on the first one that needed a new page).
        cp = control_client(srv)
        refused = None
        for i in range(200):
            try:
                cp.create_stream(StreamName=f"while-full-{i}", DataRetentionInHours=2)
            except botocore.exceptions.ClientError:
                refused = i
                break
            except botocore.exceptions.BotoCoreError as e:
                self.fail(f"CreateStream {i} on the full disk: {e!r}; kvsd exit {srv.proc.poll()}\n{srv.log()}")
        self.assertIsNotNone(refused, "200 CreateStream on a full disk all succeeded")
        self.assert_refused(cp.create_stream, StreamName="while-full", DataRetentionInHours=2)
        self.assertIsNone(srv.proc.poll(), "kvsd died when the disk filled\n" + srv.log())
        self.upload_error("live", BASE + 60000)
        srv.wait_for_log(r"storage DEGRADED \(disk_full\)", timeout=10)
        self.assert_degraded_metric(1)
        self.assertEqual(len(stored_fragments(srv, "live")), 3)
        self.assert_resumes("live", BASE + 120000)
        self.assertEqual(srv.stop(), 0, srv.log())

    def test_index_does_not_preallocate_a_big_log(self):
        srv = self.start(mib=256)
        create_stream(srv, "small")  # the first index write: RocksDB preallocated its WAL here
        used = self.fs.used_bytes()
        self.assertLess(used, 4 << 20, f"{used} bytes used after start and one CreateStream")
        self.assertEqual(srv.stop(), 0, srv.log())


if __name__ == "__main__":
    unittest.main()
