"""The kinesisvideo control plane driven by boto3 (Debian's python3-boto3) against a real kvsd.

Every implemented operation, the documented errors, the ListStreams paginator across pages, and a
restart that keeps streams, tags and versions.
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import datetime  # noqa: E402
from unittest import mock  # noqa: E402

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from harness import Server, kvsd_binary  # noqa: E402

ACCESS_KEY = "AKIAKVSDCONFORMANCE1"
SECRET_KEY = "conformance-secret-key-0123456789abcdef"
REGION = "us-west-2"
ACCOUNT = "123456789012"


def start_server(data_dir, extra_args=()):
    env = {"KVSD_ACCESS_KEY_ID": ACCESS_KEY, "KVSD_SECRET_ACCESS_KEY": SECRET_KEY}
    server = Server(binary=kvsd_binary(), https=False, env=env,
                    extra_args=["--data-dir", data_dir, "--access-log", "false"] + list(extra_args))
    server.start()
    return server


def stop_server(server):
    """Stops the server and removes the data dir the harness made (ours is passed with --data-dir)."""
    rc = server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)
    return rc


def client_for(server):
    return boto3.client("kinesisvideo", endpoint_url=server.base_url(), region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=botocore.config.Config(retries={"max_attempts": 0}))


def error_code(ctx):
    return ctx.exception.response["Error"]["Code"]


IMAGE_CONFIG = {
    "Status": "ENABLED",
    "ImageSelectorType": "PRODUCER_TIMESTAMP",
    "DestinationConfig": {"Uri": "s3://kvsd-images/prefix", "DestinationRegion": "us-west-2"},
    "SamplingInterval": 3000,
    "Format": "JPEG",
    "FormatConfig": {"JPEGQuality": "80"},
    "WidthPixels": 640,
    "HeightPixels": 480,
}
NOTIFICATION_CONFIG = {"Status": "ENABLED",
                       "DestinationConfig": {"Uri": "arn:aws:sns:us-west-2:123456789012:kvsd-topic"}}


def unvalidated_client_for(server):
    """A client that skips botocore's own parameter checks, so that kvsd's are what answers."""
    return boto3.client("kinesisvideo", endpoint_url=server.base_url(), region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        config=botocore.config.Config(retries={"max_attempts": 0}, parameter_validation=False))


class ControlPlaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="kvsd-cp-")
        cls.server = start_server(cls.data_dir)
        cls.kv = client_for(cls.server)

    @classmethod
    def tearDownClass(cls):
        rc = stop_server(cls.server)
        shutil.rmtree(cls.data_dir, ignore_errors=True)
        assert rc == 0, f"kvsd exited with {rc}"

    def assert_error(self, code, status, fn, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            fn(**kwargs)
        self.assertEqual(error_code(ctx), code, ctx.exception.response)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        return ctx.exception

    def test_create_describe_delete(self):
        arn = self.kv.create_stream(StreamName="cp-basic", DeviceName="cam-1", MediaType="video/h264",
                                    DataRetentionInHours=24, Tags={"team": "video"})["StreamARN"]
        self.assertRegex(arn, rf"^arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/cp-basic/\d{{13}}$")
        info = self.kv.describe_stream(StreamName="cp-basic")["StreamInfo"]
        self.assertEqual(info["StreamARN"], arn)
        self.assertEqual(info["DeviceName"], "cam-1")
        self.assertEqual(info["MediaType"], "video/h264")
        self.assertEqual(info["Status"], "ACTIVE")
        self.assertEqual(info["DataRetentionInHours"], 24)
        self.assertRegex(info["Version"], r"^[a-zA-Z0-9]{1,64}$")
        self.assertEqual(int(info["CreationTime"].timestamp() * 1000) // 1000, int(arn.rsplit("/", 1)[1]) // 1000)
        self.assertEqual(self.kv.describe_stream(StreamARN=arn)["StreamInfo"]["StreamName"], "cp-basic")

        self.assert_error("ResourceInUseException", 400, self.kv.create_stream, StreamName="cp-basic")
        self.assert_error("VersionMismatchException", 400, self.kv.delete_stream, StreamARN=arn,
                          CurrentVersion="nope")
        self.kv.delete_stream(StreamARN=arn, CurrentVersion=info["Version"])
        self.assert_error("ResourceNotFoundException", 404, self.kv.describe_stream, StreamName="cp-basic")
        self.assert_error("ResourceNotFoundException", 404, self.kv.delete_stream, StreamARN=arn)
        names = [s["StreamName"] for s in self.kv.list_streams()["StreamInfoList"]]
        self.assertNotIn("cp-basic", names)
        # The name can be used again.
        self.kv.create_stream(StreamName="cp-basic")
        self.kv.delete_stream(StreamARN=self.kv.describe_stream(StreamName="cp-basic")["StreamInfo"]["StreamARN"])

    def test_not_found(self):
        self.assert_error("ResourceNotFoundException", 404, self.kv.describe_stream, StreamName="cp-missing")
        self.assert_error("ResourceNotFoundException", 404, self.kv.describe_stream,
                          StreamARN=f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/cp-missing/1")
        self.assert_error("ResourceNotFoundException", 404, self.kv.get_data_endpoint, StreamName="cp-missing",
                          APIName="PUT_MEDIA")
        self.assert_error("ResourceNotFoundException", 404, self.kv.list_tags_for_stream, StreamName="cp-missing")

    def test_signaling_channels_not_supported(self):
        self.assert_error("NotSupportedException", 400, self.kv.create_signaling_channel, ChannelName="chan")
        self.assert_error("NotSupportedException", 400, self.kv.list_signaling_channels)
        self.assert_error("NotSupportedException", 400, self.kv.get_signaling_channel_endpoint,
                          ChannelARN=f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:channel/chan/1")
        err = self.assert_error("NotSupportedException", 400, self.kv.describe_signaling_channel, ChannelName="chan")
        self.assertIn("signaling channels", err.response["Error"]["Message"])

    def test_invalid_arguments(self):
        e = self.assert_error("InvalidArgumentException", 400, self.kv.create_stream, StreamName="bad name!")
        self.assertIn("StreamName", e.response["Error"]["Message"])
        self.assert_error("InvalidArgumentException", 400, self.kv.create_stream, StreamName="x" * 257)
        self.assert_error("InvalidArgumentException", 400, self.kv.create_stream, StreamName="cp-inv",
                          MediaType="h264")
        self.assert_error("InvalidArgumentException", 400, self.kv.create_stream, StreamName="cp-inv",
                          DataRetentionInHours=87601)
        self.assert_error("InvalidArgumentException", 400, self.kv.create_stream, StreamName="cp-inv",
                          Tags={"bad\u0001key": "v"})
        self.assert_error("InvalidArgumentException", 400, self.kv.describe_stream)
        self.assert_error("InvalidArgumentException", 400, self.kv.describe_stream, StreamName="a",
                          StreamARN=f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/a/1")
        self.assert_error("InvalidArgumentException", 400, self.kv.describe_stream, StreamARN="arn:aws:s3:::bucket")
        self.assert_error("InvalidArgumentException", 400, self.kv.get_data_endpoint, StreamName="a",
                          APIName="NOT_AN_API")
        self.assert_error("InvalidArgumentException", 400, self.kv.list_streams, NextToken="!!")
        self.assert_error("InvalidArgumentException", 400, self.kv.list_streams,
                          StreamNameCondition={"ComparisonOperator": "ENDS_WITH", "ComparisonValue": "a"})
        self.assert_error("InvalidArgumentException", 400, self.kv.update_data_retention, StreamName="a",
                          CurrentVersion="v1", Operation="SOMETIMES", DataRetentionChangeInHours=1)
        self.assertNotIn("cp-inv", [s["StreamName"] for s in self.kv.list_streams()["StreamInfoList"]])

    def test_list_streams_paginator(self):
        names = [f"cp-page-{i:02d}" for i in range(7)]
        for n in names:
            self.kv.create_stream(StreamName=n)
        self.kv.create_stream(StreamName="cp-pagf")  # outside the prefix
        pages = list(self.kv.get_paginator("list_streams").paginate(
            StreamNameCondition={"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "cp-page-"},
            PaginationConfig={"PageSize": 3}))
        self.assertEqual(len(pages), 3)
        self.assertEqual([len(p["StreamInfoList"]) for p in pages], [3, 3, 1])
        self.assertIn("NextToken", pages[0])
        self.assertNotIn("NextToken", pages[2])
        got = [s["StreamName"] for p in pages for s in p["StreamInfoList"]]
        self.assertEqual(got, names)

    def test_update_stream_and_retention(self):
        self.kv.create_stream(StreamName="cp-upd", DataRetentionInHours=10)
        v1 = self.kv.describe_stream(StreamName="cp-upd")["StreamInfo"]["Version"]
        self.assert_error("VersionMismatchException", 400, self.kv.update_stream, StreamName="cp-upd",
                          CurrentVersion="stale", MediaType="video/h265")
        self.kv.update_stream(StreamName="cp-upd", CurrentVersion=v1, MediaType="video/h265", DeviceName="d2")
        info = self.kv.describe_stream(StreamName="cp-upd")["StreamInfo"]
        self.assertEqual((info["MediaType"], info["DeviceName"]), ("video/h265", "d2"))
        self.assertNotEqual(info["Version"], v1)
        self.kv.update_data_retention(StreamName="cp-upd", CurrentVersion=info["Version"],
                                      Operation="INCREASE_DATA_RETENTION", DataRetentionChangeInHours=5)
        info2 = self.kv.describe_stream(StreamName="cp-upd")["StreamInfo"]
        self.assertEqual(info2["DataRetentionInHours"], 15)
        self.assert_error("VersionMismatchException", 400, self.kv.update_data_retention, StreamName="cp-upd",
                          CurrentVersion=info["Version"], Operation="DECREASE_DATA_RETENTION",
                          DataRetentionChangeInHours=5)
        self.assert_error("InvalidArgumentException", 400, self.kv.update_data_retention, StreamName="cp-upd",
                          CurrentVersion=info2["Version"], Operation="DECREASE_DATA_RETENTION",
                          DataRetentionChangeInHours=16)
        self.kv.update_data_retention(StreamARN=info2["StreamARN"], CurrentVersion=info2["Version"],
                                      Operation="DECREASE_DATA_RETENTION", DataRetentionChangeInHours=15)
        self.assertEqual(self.kv.describe_stream(StreamName="cp-upd")["StreamInfo"]["DataRetentionInHours"], 0)
        self.assert_error("ResourceNotFoundException", 404, self.kv.update_stream, StreamName="cp-none",
                          CurrentVersion="abc")

    def test_get_data_endpoint(self):
        self.kv.create_stream(StreamName="cp-ep")
        for api in ("PUT_MEDIA", "GET_MEDIA", "LIST_FRAGMENTS", "GET_HLS_STREAMING_SESSION_URL", "GET_IMAGES"):
            ep = self.kv.get_data_endpoint(StreamName="cp-ep", APIName=api)["DataEndpoint"]
            self.assertEqual(ep, f"http://127.0.0.1:{self.server.port}")
        # Host given as a name: kept, with the listener's port.
        other = boto3.client("kinesisvideo", endpoint_url=f"http://localhost:{self.server.port}",
                             region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        ep = other.get_data_endpoint(StreamName="cp-ep", APIName="GET_MEDIA")["DataEndpoint"]
        self.assertEqual(ep, f"http://localhost:{self.server.port}")

    def test_tags(self):
        arn = self.kv.create_stream(StreamName="cp-tags", Tags={"a": "1"})["StreamARN"]
        self.kv.tag_stream(StreamName="cp-tags", Tags={"b": "2", "a": "one"})
        self.assertEqual(self.kv.list_tags_for_stream(StreamName="cp-tags")["Tags"], {"a": "one", "b": "2"})
        self.kv.untag_stream(StreamARN=arn, TagKeyList=["a", "missing"])
        self.assertEqual(self.kv.list_tags_for_stream(StreamARN=arn)["Tags"], {"b": "2"})
        self.kv.tag_resource(ResourceARN=arn, Tags=[{"Key": "c", "Value": "3"}, {"Key": "d", "Value": ""}])
        self.assertEqual(self.kv.list_tags_for_resource(ResourceARN=arn)["Tags"], {"b": "2", "c": "3", "d": ""})
        self.kv.untag_resource(ResourceARN=arn, TagKeyList=["b"])
        self.assertEqual(self.kv.list_tags_for_resource(ResourceARN=arn)["Tags"], {"c": "3", "d": ""})
        many = {f"k{i}": "v" for i in range(48)}
        self.kv.tag_stream(StreamName="cp-tags", Tags=many)  # 50 in all
        self.assert_error("TagsPerResourceExceededLimitException", 400, self.kv.tag_stream, StreamName="cp-tags",
                          Tags={"one-more": "x"})
        self.assert_error("TagsPerResourceExceededLimitException", 400, self.kv.tag_resource, ResourceARN=arn,
                          Tags=[{"Key": "one-more", "Value": "x"}])
        self.assertEqual(len(self.kv.list_tags_for_stream(StreamName="cp-tags")["Tags"]), 50)
        missing = f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/cp-none/1"
        self.assert_error("ResourceNotFoundException", 404, self.kv.tag_resource, ResourceARN=missing,
                          Tags=[{"Key": "a", "Value": "b"}])
        self.assert_error("ResourceNotFoundException", 404, self.kv.list_tags_for_resource, ResourceARN=missing)
        self.assert_error("ResourceNotFoundException", 404, self.kv.untag_stream, StreamName="cp-none",
                          TagKeyList=["a"])
        self.assert_error("InvalidArgumentException", 400, self.kv.tag_resource, ResourceARN="arn:aws:s3:::b",
                          Tags=[{"Key": "a", "Value": "b"}])

    def test_image_generation_configuration_round_trip(self):
        arn = self.kv.create_stream(StreamName="cp-img", DataRetentionInHours=1)["StreamARN"]
        before = self.kv.describe_stream(StreamName="cp-img")["StreamInfo"]
        out = self.kv.describe_image_generation_configuration(StreamName="cp-img")
        self.assertNotIn("ImageGenerationConfiguration", out)
        self.kv.update_image_generation_configuration(StreamName="cp-img", ImageGenerationConfiguration=IMAGE_CONFIG)
        got = self.kv.describe_image_generation_configuration(StreamARN=arn)["ImageGenerationConfiguration"]
        self.assertEqual(got, IMAGE_CONFIG)
        # Optional members stay absent when not given.
        minimal = {k: v for k, v in IMAGE_CONFIG.items() if k not in ("FormatConfig", "WidthPixels", "HeightPixels")}
        minimal["Format"] = "PNG"
        minimal["Status"] = "DISABLED"
        self.kv.update_image_generation_configuration(StreamARN=arn, ImageGenerationConfiguration=minimal)
        got = self.kv.describe_image_generation_configuration(StreamName="cp-img")["ImageGenerationConfiguration"]
        self.assertEqual(got, minimal)
        # Nothing else about the stream changes, the version included.
        self.assertEqual(self.kv.describe_stream(StreamName="cp-img")["StreamInfo"], before)
        # No configuration in the request removes it.
        self.kv.update_image_generation_configuration(StreamName="cp-img")
        self.assertNotIn("ImageGenerationConfiguration",
                         self.kv.describe_image_generation_configuration(StreamName="cp-img"))

    def test_notification_configuration_round_trip(self):
        arn = self.kv.create_stream(StreamName="cp-note", DataRetentionInHours=1)["StreamARN"]
        before = self.kv.describe_stream(StreamName="cp-note")["StreamInfo"]
        self.assertNotIn("NotificationConfiguration",
                         self.kv.describe_notification_configuration(StreamARN=arn))
        self.kv.update_notification_configuration(StreamARN=arn, NotificationConfiguration=NOTIFICATION_CONFIG)
        got = self.kv.describe_notification_configuration(StreamName="cp-note")["NotificationConfiguration"]
        self.assertEqual(got, NOTIFICATION_CONFIG)
        self.assertNotIn("ImageGenerationConfiguration",
                         self.kv.describe_image_generation_configuration(StreamName="cp-note"))
        self.assertEqual(self.kv.describe_stream(StreamName="cp-note")["StreamInfo"], before)
        self.kv.update_notification_configuration(StreamName="cp-note")
        self.assertNotIn("NotificationConfiguration",
                         self.kv.describe_notification_configuration(StreamName="cp-note"))

    def test_configuration_invalid_values(self):
        self.kv.create_stream(StreamName="cp-cfg-inv", DataRetentionInHours=1)
        raw = unvalidated_client_for(self.server)

        def image(**changes):
            cfg = dict(IMAGE_CONFIG)
            cfg["DestinationConfig"] = dict(IMAGE_CONFIG["DestinationConfig"])
            for k, v in changes.items():
                if k in ("Uri", "DestinationRegion"):
                    cfg["DestinationConfig"][k] = v
                elif v is None:
                    cfg.pop(k)
                else:
                    cfg[k] = v
            return cfg

        bad_images = [
            (image(Status="ON"), "Status"),
            (image(ImageSelectorType="CLIENT_TIMESTAMP"), "ImageSelectorType"),
            (image(Uri="no-scheme"), "DestinationConfig.Uri"),
            (image(Uri="s3://bucket/a*b"), "DestinationConfig.Uri"),
            (image(Uri="s3:/" + "x" * 255), "DestinationConfig.Uri"),
            (image(DestinationRegion="US-WEST-2"), "DestinationConfig.DestinationRegion"),
            (image(DestinationRegion="us-west"), "DestinationConfig.DestinationRegion"),
            (image(SamplingInterval=2999), "SamplingInterval"),
            (image(SamplingInterval=20001), "SamplingInterval"),
            (image(Format="GIF"), "Format"),
            (image(FormatConfig={"Quality": "80"}), "FormatConfig"),
            (image(FormatConfig={"JPEGQuality": "101"}), "FormatConfig"),
            (image(FormatConfig={"JPEGQuality": "0"}), "FormatConfig"),
            (image(FormatConfig={}), "FormatConfig"),
            (image(WidthPixels=0), "WidthPixels"),
            (image(WidthPixels=3841), "WidthPixels"),
            (image(HeightPixels=2161), "HeightPixels"),
            (image(SamplingInterval=None), "SamplingInterval"),
            (image(Format=None), "Format"),
        ]
        for cfg, field in bad_images:
            with self.subTest(field=field, cfg=cfg):
                e = self.assert_error("InvalidArgumentException", 400, raw.update_image_generation_configuration,
                                      StreamName="cp-cfg-inv", ImageGenerationConfiguration=cfg)
                self.assertIn("ImageGenerationConfiguration." + field, e.response["Error"]["Message"])
        bad_notes = [
            ({"Status": "MAYBE", "DestinationConfig": {"Uri": "arn:aws:sns:x"}}, "Status"),
            ({"Status": "ENABLED", "DestinationConfig": {"Uri": "//nothing"}}, "DestinationConfig.Uri"),
            ({"Status": "ENABLED", "DestinationConfig": {}}, "DestinationConfig.Uri"),
            ({"Status": "ENABLED"}, "DestinationConfig"),
        ]
        for cfg, field in bad_notes:
            with self.subTest(field=field, cfg=cfg):
                e = self.assert_error("InvalidArgumentException", 400, raw.update_notification_configuration,
                                      StreamName="cp-cfg-inv", NotificationConfiguration=cfg)
                self.assertIn("NotificationConfiguration." + field, e.response["Error"]["Message"])
        # Neither or both of StreamName and StreamARN.
        self.assert_error("InvalidArgumentException", 400, raw.describe_image_generation_configuration)
        arn = self.kv.describe_stream(StreamName="cp-cfg-inv")["StreamInfo"]["StreamARN"]
        self.assert_error("InvalidArgumentException", 400, raw.describe_notification_configuration,
                          StreamName="cp-cfg-inv", StreamARN=arn)
        # Nothing was stored.
        self.assertNotIn("ImageGenerationConfiguration",
                         self.kv.describe_image_generation_configuration(StreamName="cp-cfg-inv"))
        self.assertNotIn("NotificationConfiguration",
                         self.kv.describe_notification_configuration(StreamName="cp-cfg-inv"))

    def test_configuration_missing_stream_and_no_retention(self):
        missing = f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/cp-cfg-missing/1"
        self.assert_error("ResourceNotFoundException", 404, self.kv.describe_image_generation_configuration,
                          StreamName="cp-cfg-missing")
        self.assert_error("ResourceNotFoundException", 404, self.kv.describe_notification_configuration,
                          StreamARN=missing)
        self.assert_error("ResourceNotFoundException", 404, self.kv.update_image_generation_configuration,
                          StreamARN=missing, ImageGenerationConfiguration=IMAGE_CONFIG)
        self.assert_error("ResourceNotFoundException", 404, self.kv.update_notification_configuration,
                          StreamName="cp-cfg-missing", NotificationConfiguration=NOTIFICATION_CONFIG)
        self.kv.create_stream(StreamName="cp-cfg-noret")
        self.assert_error("NoDataRetentionException", 400, self.kv.update_image_generation_configuration,
                          StreamName="cp-cfg-noret", ImageGenerationConfiguration=IMAGE_CONFIG)
        self.assert_error("NoDataRetentionException", 400, self.kv.update_notification_configuration,
                          StreamName="cp-cfg-noret", NotificationConfiguration=NOTIFICATION_CONFIG)

    def test_unsigned_request_rejected(self):
        anon = boto3.client("kinesisvideo", endpoint_url=self.server.base_url(), region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key="wrong-secret")
        with self.assertRaises(ClientError) as ctx:
            anon.list_streams()
        self.assertEqual(error_code(ctx), "SignatureDoesNotMatch")


    def test_unknown_key_expired_date_and_tampered_body_rejected(self):
        self.kv.create_stream(StreamName="cp-auth")
        stranger = boto3.client("kinesisvideo", endpoint_url=self.server.base_url(), region_name=REGION,
                                aws_access_key_id="AKIANOSUCHKEY0000000", aws_secret_access_key=SECRET_KEY,
                                config=botocore.config.Config(retries={"max_attempts": 0}))
        self.assert_error("NotAuthorizedException", 401, stranger.describe_stream, StreamName="cp-auth")

        # Signed 20 minutes ago: outside the 15-minute window.
        past = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)

        class Past(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return past

        with mock.patch.object(botocore.auth.datetime, "datetime", Past):
            self.assert_error("RequestExpired", 403, self.kv.describe_stream, StreamName="cp-auth")

        # The body changed after signing (same length): the payload hash no longer matches.
        def tamper(request, **_):
            request.body = request.body.replace(b"cp-auth", b"cp-auTh")

        self.kv.meta.events.register("before-send.kinesis-video.DescribeStream", tamper)
        try:
            self.assert_error("SignatureDoesNotMatch", 403, self.kv.describe_stream, StreamName="cp-auth")
        finally:
            self.kv.meta.events.unregister("before-send.kinesis-video.DescribeStream", tamper)
        self.assertEqual(self.kv.describe_stream(StreamName="cp-auth")["StreamInfo"]["StreamName"], "cp-auth")


class PublicEndpointTest(unittest.TestCase):
    def test_configured_public_endpoint(self):
        data_dir = tempfile.mkdtemp(prefix="kvsd-cp-ep-")
        try:
            server = start_server(data_dir, ["--public-endpoint", "https://kvs.example.com:9443"])
            try:
                kv = client_for(server)
                kv.create_stream(StreamName="cp-public")
                ep = kv.get_data_endpoint(StreamName="cp-public", APIName="PUT_MEDIA")["DataEndpoint"]
                self.assertEqual(ep, "https://kvs.example.com:9443")
            finally:
                self.assertEqual(stop_server(server), 0)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


class RestartTest(unittest.TestCase):
    def test_restart_keeps_streams_tags_versions_configurations(self):
        data_dir = tempfile.mkdtemp(prefix="kvsd-cp-restart-")
        try:
            server = start_server(data_dir)
            try:
                kv = client_for(server)
                arn = kv.create_stream(StreamName="cp-durable", MediaType="video/h264", DataRetentionInHours=2,
                                       Tags={"k": "v"})["StreamARN"]
                kv.tag_stream(StreamARN=arn, Tags={"k2": "v2"})
                kv.update_image_generation_configuration(StreamARN=arn, ImageGenerationConfiguration=IMAGE_CONFIG)
                kv.update_notification_configuration(StreamName="cp-durable",
                                                     NotificationConfiguration=NOTIFICATION_CONFIG)
                kv.create_stream(StreamName="cp-deleted")
                kv.delete_stream(StreamARN=kv.describe_stream(StreamName="cp-deleted")["StreamInfo"]["StreamARN"])
                before = kv.describe_stream(StreamARN=arn)["StreamInfo"]
            finally:
                self.assertEqual(stop_server(server), 0)
            server = start_server(data_dir)
            try:
                kv = client_for(server)
                after = kv.describe_stream(StreamARN=arn)["StreamInfo"]
                self.assertEqual(after, before)
                self.assertEqual(kv.list_tags_for_stream(StreamName="cp-durable")["Tags"], {"k": "v", "k2": "v2"})
                self.assertEqual(kv.describe_image_generation_configuration(StreamName="cp-durable")
                                 ["ImageGenerationConfiguration"], IMAGE_CONFIG)
                self.assertEqual(kv.describe_notification_configuration(StreamARN=arn)["NotificationConfiguration"],
                                 NOTIFICATION_CONFIG)
                self.assertEqual([s["StreamName"] for s in kv.list_streams()["StreamInfoList"]], ["cp-durable"])
            finally:
                self.assertEqual(stop_server(server), 0)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
