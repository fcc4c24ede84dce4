#!/usr/bin/env python3
"""Generates the seed corpus of the control-plane JSON fuzz target (json_request_fuzz.cpp). Run
once; the output is committed (the fuzz campaign adds to it).

Each seed is a request body: one valid body per control-plane operation shape (CreateStream,
DescribeStream by name and by ARN, UpdateStream, ListStreams, the tag operations, the image
generation and notification configurations, GetDataEndpoint) and bodies that break one rule each
(types, lengths, patterns, ranges, counts, JSON syntax, UTF-8). Deterministic.

Usage: tests/fuzz/make_json_corpus.py  (from anywhere; paths are relative to this file)
"""
import json
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "json_request"

ARN = "arn:aws:kinesisvideo:us-west-2:123456789012:stream/my-stream/1714564800000"
IMAGE_CONFIG = {"Status": "ENABLED", "ImageSelectorType": "SERVER_TIMESTAMP",
                "DestinationConfig": {"Uri": "s3://bucket/prefix", "DestinationRegion": "us-west-2"},
                "SamplingInterval": 3000, "Format": "JPEG", "FormatConfig": {"JPEGQuality": "80"},
                "WidthPixels": 320, "HeightPixels": 240}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not re.fullmatch("[0-9a-f]{40}", old.name):  # inputs the fuzz campaign found stay
            old.unlink()
    objects = {
        "create-stream": {"StreamName": "my-stream", "DeviceName": "cam-1", "MediaType": "video/h264,audio/aac",
                          "DataRetentionInHours": 24, "KmsKeyId": "alias/aws/kinesisvideo",
                          "Tags": {"team": "video", "site": "b\u00fcro 1"}},
        "describe-by-name": {"StreamName": "my-stream"},
        "describe-by-arn": {"StreamARN": ARN},
        "describe-both": {"StreamName": "my-stream", "StreamARN": ARN},
        "update-stream": {"StreamName": "s", "CurrentVersion": "abc123", "DeviceName": "d", "MediaType": "video/h265"},
        "update-retention": {"StreamARN": ARN, "CurrentVersion": "1", "Operation": "INCREASE_DATA_RETENTION",
                             "DataRetentionChangeInHours": 87600},
        "list-streams": {"MaxResults": 10000, "NextToken": "bXktc3RyZWFt",
                         "StreamNameCondition": {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "my"}},
        "tag-stream": {"StreamName": "s", "Tags": {"k%d" % i: "v" for i in range(50)}},
        "tag-resource": {"ResourceARN": ARN, "Tags": [{"Key": "a", "Value": ""}, {"Key": "b:c/d=e+f-g@h", "Value": "x"}]},
        "untag-resource": {"ResourceARN": ARN, "TagKeyList": ["a", "b"]},
        "image-config": {"StreamName": "s", "ImageGenerationConfiguration": IMAGE_CONFIG},
        "image-config-null": {"StreamName": "s", "ImageGenerationConfiguration": None},
        "notification-config": {"StreamARN": ARN, "NotificationConfiguration": {
            "Status": "DISABLED", "DestinationConfig": {"Uri": "arn:aws:sns:us-west-2:1:topic"}}},
        "get-data-endpoint": {"StreamName": "s", "APIName": "PUT_MEDIA"},
        "bad-types": {"StreamName": 5, "MaxResults": "10", "Tags": ["a"], "DataRetentionInHours": 1.5},
        "bad-ranges": {"DataRetentionInHours": -1, "MaxResults": 0, "SamplingInterval": 20001, "WidthPixels": 18446744073709551615},
        "bad-names": {"StreamName": "has space", "DeviceName": "x" * 129, "MediaType": "video", "CurrentVersion": "v-1"},
        "bad-arns": {"StreamARN": "arn:aws:kinesisvideo:us-west-2:12a:stream/s/1", "ResourceARN": "arn:aws:s3:::b"},
        "bad-tags": {"Tags": {}, "TagKeyList": [], "x": {"k" * 129: "v"}},
        "too-many-tags": {"Tags": {"k%d" % i: "v" for i in range(51)}},
        "bad-tag-chars": {"Tags": {"tab\tkey": "v", "ctl": "\u0001"}},
        "bad-image-config": {"ImageGenerationConfiguration": dict(IMAGE_CONFIG, Format="GIF",
                                                                  FormatConfig={"JPEGQuality": "101", "X": "1"},
                                                                  DestinationConfig={"Uri": "no-colon"})},
        "bad-region": {"ImageGenerationConfiguration": dict(IMAGE_CONFIG, DestinationConfig={
            "Uri": "s3://b/*", "DestinationRegion": "US-WEST-2"})},
        "nested-deep": {"a": [[[[[[{"b": [[[]]]}]]]]]]},
        "numbers": {"i": -9223372036854775808, "u": 18446744073709551615, "big": 1e308, "neg0": -0.0, "f": 0.1},
    }
    raw = {
        "empty": b"",
        "not-object-array": b"[1,2,3]",
        "not-object-string": b'"StreamName"',
        "trailing-garbage": b'{"StreamName":"s"} x',
        "duplicate-keys": b'{"StreamName":"a","StreamName":"b"}',
        "escapes": b'{"StreamName":"\\u0073\\u0074","Tags":{"\\ud83d\\ude00":"\\u00e9"}}',
        "lone-surrogate": b'{"StreamName":"\\ud800"}',
        "invalid-utf8": b'{"StreamName":"\xff\xfe"}',
        "overflow-number": b'{"MaxResults":1e400}',
        "whitespace": b' \t\r\n{ "StreamName" : "s" } \n',
        "unterminated": b'{"StreamName":"s"',
        "bom": b'\xef\xbb\xbf{"StreamName":"s"}',
    }
    for name, obj in objects.items():
        (OUT / name).write_bytes(json.dumps(obj, ensure_ascii=False).encode())
    for name, data in raw.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(objects) + len(raw)} seeds to {OUT}")


if __name__ == "__main__":
    main()
