// The kinesisvideo control plane driven by the AWS SDK for JavaScript v3
// (@aws-sdk/client-kinesis-video, pinned in package-lock.json) against a real kvsd.
//
// Run by tests/conformance/test_control_plane_js.py, which starts kvsd and sets
//   KVSD_ENDPOINT          e.g. http://127.0.0.1:41234
//   AWS_ACCESS_KEY_ID      the key pair kvsd was started with
//   AWS_SECRET_ACCESS_KEY
// By hand: `node --test control_plane.test.mjs` with those three set.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  InvalidArgumentException,
  KinesisVideoClient,
  ListTagsForResourceCommand,
  ListTagsForStreamCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  TagStreamCommand,
  TagsPerResourceExceededLimitException,
  UntagResourceCommand,
  UntagStreamCommand,
  UpdateStreamCommand,
  VersionMismatchException,
  paginateListStreams,
} from "@aws-sdk/client-kinesis-video";

const REGION = "us-west-2";

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through tests/conformance/test_control_plane_js.py)`);
  return v;
}

const ENDPOINT = requiredEnv("KVSD_ENDPOINT");
const ACCESS_KEY = requiredEnv("AWS_ACCESS_KEY_ID");
const SECRET_KEY = requiredEnv("AWS_SECRET_ACCESS_KEY");
const SERVER_PORT = new URL(ENDPOINT).port;

function makeClient(secretAccessKey = SECRET_KEY) {
  return new KinesisVideoClient({
    endpoint: ENDPOINT,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey },
    maxAttempts: 1, // an error must be the server's answer, not the last of several retries
  });
}

const kv = makeClient();

// Runs `promise`, expects it to reject with an error named `name` and HTTP status `status`;
// returns the error. `cls`, when given, is the SDK's modeled exception class.
async function expectError(promise, name, status, cls) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${name}, the call succeeded`);
  assert.equal(err.name, name, `error: ${err.name}: ${err.message}`);
  assert.ok(err.$metadata, `error without $metadata: ${err}`);
  assert.equal(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
  if (cls) assert.ok(err instanceof cls, `${err.name} is not an instance of ${cls.name}`);
  return err;
}

async function describeStream(input) {
  return (await kv.send(new DescribeStreamCommand(input))).StreamInfo;
}

describe("streams", () => {
  test("CreateStream and DescribeStream", async () => {
    const before = Date.now();
    const out = await kv.send(new CreateStreamCommand({
      StreamName: "js-basic", DeviceName: "cam-js", MediaType: "video/h264", DataRetentionInHours: 24,
      Tags: { team: "video" },
    }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.StreamARN, /^arn:aws:kinesisvideo:us-west-2:\d{12}:stream\/js-basic\/\d{13}$/);

    const info = await describeStream({ StreamName: "js-basic" });
    assert.equal(info.StreamARN, out.StreamARN);
    assert.equal(info.StreamName, "js-basic");
    assert.equal(info.DeviceName, "cam-js");
    assert.equal(info.MediaType, "video/h264");
    assert.equal(info.Status, "ACTIVE");
    assert.equal(info.DataRetentionInHours, 24);
    assert.match(info.Version, /^[a-zA-Z0-9]{1,64}$/);
    // The SDK deserializes the epoch-seconds timestamp into a Date.
    assert.ok(info.CreationTime instanceof Date, `CreationTime is ${typeof info.CreationTime}`);
    assert.ok(!Number.isNaN(info.CreationTime.getTime()));
    const created = info.CreationTime.getTime();
    assert.ok(created >= before - 5000 && created <= Date.now() + 5000, `CreationTime ${info.CreationTime.toISOString()}`);
    const arnMs = Number(out.StreamARN.split("/").pop());
    assert.equal(Math.floor(created / 1000), Math.floor(arnMs / 1000));

    const byArn = await describeStream({ StreamARN: out.StreamARN });
    assert.equal(byArn.StreamName, "js-basic");
  });

  test("CreateStream twice -> ResourceInUseException", async () => {
    await kv.send(new CreateStreamCommand({ StreamName: "js-twice" }));
    await expectError(kv.send(new CreateStreamCommand({ StreamName: "js-twice" })),
      "ResourceInUseException", 400, ResourceInUseException);
  });

  test("invalid StreamName -> InvalidArgumentException", async () => {
    const err = await expectError(kv.send(new CreateStreamCommand({ StreamName: "bad name!" })),
      "InvalidArgumentException", 400, InvalidArgumentException);
    assert.match(err.message, /StreamName/);
  });

  test("DeleteStream, then DescribeStream -> ResourceNotFoundException", async () => {
    const { StreamARN } = await kv.send(new CreateStreamCommand({ StreamName: "js-delete" }));
    const info = await describeStream({ StreamARN });
    await expectError(kv.send(new DeleteStreamCommand({ StreamARN, CurrentVersion: "stale" })),
      "VersionMismatchException", 400, VersionMismatchException);
    const out = await kv.send(new DeleteStreamCommand({ StreamARN, CurrentVersion: info.Version }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    await expectError(kv.send(new DescribeStreamCommand({ StreamName: "js-delete" })),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
    await expectError(kv.send(new DescribeStreamCommand({ StreamARN })),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
  });

  test("UpdateStream with a wrong CurrentVersion -> VersionMismatchException", async () => {
    await kv.send(new CreateStreamCommand({ StreamName: "js-update", MediaType: "video/h264" }));
    const v1 = (await describeStream({ StreamName: "js-update" })).Version;
    await expectError(kv.send(new UpdateStreamCommand({
      StreamName: "js-update", CurrentVersion: "notTheVersion0", MediaType: "video/h265",
    })), "VersionMismatchException", 400, VersionMismatchException);
    assert.equal((await describeStream({ StreamName: "js-update" })).MediaType, "video/h264");

    await kv.send(new UpdateStreamCommand({
      StreamName: "js-update", CurrentVersion: v1, MediaType: "video/h265", DeviceName: "d2",
    }));
    const info = await describeStream({ StreamName: "js-update" });
    assert.equal(info.MediaType, "video/h265");
    assert.equal(info.DeviceName, "d2");
    assert.notEqual(info.Version, v1);
  });
});

describe("ListStreams", () => {
  test("paginateListStreams: 5 streams, MaxResults 2 -> 3 pages", async () => {
    const names = [0, 1, 2, 3, 4].map((i) => `js-page-${i}`);
    for (const StreamName of names) await kv.send(new CreateStreamCommand({ StreamName }));
    await kv.send(new CreateStreamCommand({ StreamName: "js-pagf" })); // outside the prefix

    const pages = [];
    const paginator = paginateListStreams({ client: kv, pageSize: 2 }, {
      MaxResults: 2,
      StreamNameCondition: { ComparisonOperator: "BEGINS_WITH", ComparisonValue: "js-page-" },
    });
    for await (const page of paginator) pages.push(page);

    assert.equal(pages.length, 3);
    assert.deepEqual(pages.map((p) => p.StreamInfoList.length), [2, 2, 1]);
    assert.ok(pages[0].NextToken, "first page has a NextToken");
    assert.ok(pages[1].NextToken, "second page has a NextToken");
    assert.equal(pages[2].NextToken, undefined);
    const got = pages.flatMap((p) => p.StreamInfoList.map((s) => s.StreamName));
    assert.deepEqual(got, names);
    for (const p of pages) {
      for (const s of p.StreamInfoList) {
        assert.ok(s.CreationTime instanceof Date);
        assert.equal(s.Status, "ACTIVE");
      }
    }
  });
});

describe("tags", () => {
  test("TagStream, ListTagsForStream, UntagStream", async () => {
    const { StreamARN } = await kv.send(new CreateStreamCommand({ StreamName: "js-tags", Tags: { a: "1" } }));
    await kv.send(new TagStreamCommand({ StreamName: "js-tags", Tags: { b: "2", a: "one" } }));
    let out = await kv.send(new ListTagsForStreamCommand({ StreamName: "js-tags" }));
    assert.deepEqual(out.Tags, { a: "one", b: "2" });
    await kv.send(new UntagStreamCommand({ StreamARN, TagKeyList: ["a", "missing"] }));
    out = await kv.send(new ListTagsForStreamCommand({ StreamARN }));
    assert.deepEqual(out.Tags, { b: "2" });
  });

  test("TagResource, ListTagsForResource, UntagResource with the stream ARN", async () => {
    const { StreamARN } = await kv.send(new CreateStreamCommand({ StreamName: "js-res-tags" }));
    await kv.send(new TagResourceCommand({
      ResourceARN: StreamARN, Tags: [{ Key: "c", Value: "3" }, { Key: "d", Value: "" }, { Key: "e", Value: "5" }],
    }));
    let out = await kv.send(new ListTagsForResourceCommand({ ResourceARN: StreamARN }));
    assert.deepEqual(out.Tags, { c: "3", d: "", e: "5" });
    await kv.send(new UntagResourceCommand({ ResourceARN: StreamARN, TagKeyList: ["c", "e"] }));
    out = await kv.send(new ListTagsForResourceCommand({ ResourceARN: StreamARN }));
    assert.deepEqual(out.Tags, { d: "" });
    // The same tags through the stream API.
    out = await kv.send(new ListTagsForStreamCommand({ StreamARN }));
    assert.deepEqual(out.Tags, { d: "" });
  });

  test("51 tags -> TagsPerResourceExceededLimitException", async () => {
    const { StreamARN } = await kv.send(new CreateStreamCommand({ StreamName: "js-many-tags" }));
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"]));
    await kv.send(new TagStreamCommand({ StreamARN, Tags: fifty }));
    await expectError(kv.send(new TagStreamCommand({ StreamARN, Tags: { k50: "v" } })),
      "TagsPerResourceExceededLimitException", 400, TagsPerResourceExceededLimitException);
    await expectError(kv.send(new TagResourceCommand({ ResourceARN: StreamARN, Tags: [{ Key: "k50", Value: "v" }] })),
      "TagsPerResourceExceededLimitException", 400, TagsPerResourceExceededLimitException);
    const out = await kv.send(new ListTagsForStreamCommand({ StreamARN }));
    assert.equal(Object.keys(out.Tags).length, 50);
    assert.equal(out.Tags.k50, undefined);
  });
});

describe("GetDataEndpoint", () => {
  for (const APIName of ["PUT_MEDIA", "GET_MEDIA", "GET_HLS_STREAMING_SESSION_URL"]) {
    test(`${APIName} returns the server's URL`, async () => {
      await kv.send(new CreateStreamCommand({ StreamName: `js-ep-${APIName.toLowerCase().replaceAll("_", "-")}` }));
      const out = await kv.send(new GetDataEndpointCommand({
        StreamName: `js-ep-${APIName.toLowerCase().replaceAll("_", "-")}`, APIName,
      }));
      const url = new URL(out.DataEndpoint);
      assert.equal(url.protocol, "http:");
      assert.equal(url.hostname, "127.0.0.1");
      assert.equal(url.port, SERVER_PORT);
      assert.equal(out.DataEndpoint, ENDPOINT.replace(/\/$/, ""));
    });
  }

  test("unknown stream -> ResourceNotFoundException", async () => {
    await expectError(kv.send(new GetDataEndpointCommand({ StreamName: "js-ep-missing", APIName: "PUT_MEDIA" })),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
  });
});

describe("front end", () => {
  test("a wrong secret -> 403 SignatureDoesNotMatch", async () => {
    const bad = makeClient("definitely-not-the-secret-key-0000000000");
    try {
      const err = await expectError(bad.send(new DescribeStreamCommand({ StreamName: "js-basic" })),
        "SignatureDoesNotMatch", 403);
      assert.ok(err.$metadata.requestId, "403 carries a request id");
    } finally {
      bad.destroy();
    }
  });

  test("CreateSignalingChannel -> NotSupportedException (400)", async () => {
    const err = await expectError(kv.send(new CreateSignalingChannelCommand({ ChannelName: "js-chan" })),
      "NotSupportedException", 400);
    assert.match(err.message, /signaling channels/i);
  });
});

after(() => kv.destroy());
