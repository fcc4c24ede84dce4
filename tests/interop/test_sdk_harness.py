"""Self-checks of the interop harness's judgement, without the SDK or kvsd: the log checks must
flag the failure symptoms the interop cases exist to catch (a dropped ACK, several ACKs in one
write callback, an HTTP error other than the expected DescribeStream 404, GStreamer errors), and
the frame comparison must notice any changed frame. A harness that passes everything would make
the interop matrix meaningless."""

import os
import unittest

import mkv_frames
import sdk_output

CAPTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sdk-captures")

C_LOG = """\
2026-12-07 16:03:05.960 WARN    curlCompleteSync(): [s] HTTP Error 404 : Response: {"__type":"ResourceNotFoundException","Message":"no stream s"}
Request URL: https://127.0.0.1:52557/describeStream
Request Headers:
    Authorization: AWS4-HMAC-SHA256 ...
2026-12-07 16:03:06.117 WARN    notifyDataAvailable(): [s] Failed to un-pause curl with error: 43. Curl object 0x563e5a4bb5d0
2026-12-07 16:03:07.675 DEBUG   postWriteCallback(): Curl post body write function for stream with handle: s and upload handle: 0 returned: {"EventType":"BUFFERING","FragmentTimecode":1796659389705,"FragmentNumber":"1"}

2026-12-07 16:03:09.675 DEBUG   postWriteCallback(): Curl post body write function for stream with handle: s and upload handle: 0 returned: {"EventType":"RECEIVED","FragmentTimecode":1796659389705,"FragmentNumber":"1"}
{"EventType":"PERSISTED","FragmentTimecode":1796659389705,"FragmentNumber":"1"}

2026-12-07 16:03:09.676 WARN    streamFragmentAckEvent(): [s] An ACK is received for an already expired upload handle 18446744073709551615
2026-12-07 16:03:11.990 DEBUG   putStreamCurlHandler(): Network thread for Kinesis Video stream: s with upload handle: 0 exited. http status: 200
"""

CPP_LOG = """\
Setting pipeline to PAUSED ...
[INFO ] [2026-12-07 16:05:23.000] Logger config being used: /tmp/x/kvs_log_configuration
[WARN ] [2026-12-07 16:05:24.100] curlCompleteSync(): [g] HTTP Error 500 : Response: {"Message":"boom"}
Request URL: http://127.0.0.1:1/describeStream
[ERROR] [2026-12-07 16:05:24.200] Put frame for g failed with 0x30000005
WARNING: from element /GstPipeline:pipeline0/GstKvsSink:sink: Could not write to resource.
[WARN ] [2026-12-07 16:05:29.775] GStreamer buffer is invalid for g
[DEBUG] [2026-12-07 16:05:29.817] putStreamCurlHandler(): Network thread for Kinesis Video stream: g with upload handle: 0 exited. http status: 403
"""


class LogChecks(unittest.TestCase):
    def test_c_log(self):
        problems = sdk_output.sdk_log_problems(C_LOG)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("dropped ACK", problems[0])
        acks = sdk_output.sdk_acks(C_LOG)
        self.assertEqual([len(cb) for cb in acks.callbacks], [1, 2])
        self.assertEqual(acks.count("PERSISTED"), 1)
        self.assertEqual(len(acks.multi()), 1)
        self.assertEqual(sdk_output.sdk_put_media_statuses(C_LOG), [(0, 200)])

    def test_kvssink_log(self):
        problems = sdk_output.sdk_log_problems(CPP_LOG)
        kinds = [p.split(": ")[1] for p in problems]
        self.assertEqual(kinds, ["WARN", "ERROR", "GStreamer", "PutMedia ended with HTTP 403"], problems)


def capture(name):
    return os.path.join(CAPTURES, name, "04-putMedia-full.mkv")


class FrameChecks(unittest.TestCase):
    def test_identical_and_changed(self):
        path = capture("audio-video-relative")
        with open(path, "rb") as f:
            body = f.read()
        a = mkv_frames.parse(body).complete_fragments()
        self.assertGreater(len(a), 3)
        self.assertEqual({f.tracks()[0] for f in a}, {1})
        self.assertEqual(mkv_frames.diff_fragments(a, mkv_frames.parse(body).complete_fragments()), [])
        # Flip the last payload byte of one frame: the comparison must see it.
        frame = a[1].frames[3]
        at = body.index(frame.payload)
        changed = body[:at + len(frame.payload) - 1] + bytes([body[at + len(frame.payload) - 1] ^ 1]) + \
            body[at + len(frame.payload):]
        diffs = mkv_frames.diff_fragments(a, mkv_frames.parse(changed).complete_fragments())
        self.assertEqual(len(diffs), 1, diffs)
        self.assertIn("payload differs", diffs[0])
        # A missing fragment is reported.
        self.assertIn("fragments instead of", mkv_frames.diff_fragments(a, a[:-1])[0])


if __name__ == "__main__":
    unittest.main()
