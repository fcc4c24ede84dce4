// GetImages driven by the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis-video-archived-media, the
// newer model: SamplingInterval optional) against a real kvsd; versions pinned in package-lock.json.
//
// Run by tests/conformance/test_get_images_js.py, which starts kvsd, ingests with kvs-put and sets
//   KVSD_ENDPOINT           e.g. http://127.0.0.1:41234
//   AWS_ACCESS_KEY_ID       the key pair kvsd was started with
//   AWS_SECRET_ACCESS_KEY
//   KVSD_STREAM             a stream holding a 6 s 640x360 test pattern (1 s fragments)
//   KVSD_NORET_STREAM       a stream with DataRetentionInHours 0
//   KVSD_PRODUCER_MS        JSON list: the Cluster timecodes (epoch ms) kvs-put sent to KVSD_STREAM
//
// The JS SDK sends millisecond timestamps, so Start can be a fragment's exact start.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  GetImagesCommand,
  InvalidArgumentException,
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
  NoDataRetentionException,
  ResourceNotFoundException,
  paginateGetImages,
} from "@aws-sdk/client-kinesis-video-archived-media";

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through tests/conformance/test_get_images_js.py)`);
  return v;
}

const STREAM = requiredEnv("KVSD_STREAM");
const NORET = requiredEnv("KVSD_NORET_STREAM");
const PRODUCER_MS = JSON.parse(requiredEnv("KVSD_PRODUCER_MS"));
const am = new KinesisVideoArchivedMediaClient({
  endpoint: requiredEnv("KVSD_ENDPOINT"),
  region: "us-west-2",
  credentials: { accessKeyId: requiredEnv("AWS_ACCESS_KEY_ID"), secretAccessKey: requiredEnv("AWS_SECRET_ACCESS_KEY") },
  maxAttempts: 1,
});

const NEXT_TOKEN_RE = /^[a-zA-Z0-9+/]+={0,2}$/;

function request(start, end, extra = {}) {
  return {
    StreamName: STREAM,
    ImageSelectorType: "PRODUCER_TIMESTAMP",
    Format: "JPEG",
    StartTimestamp: new Date(start),
    EndTimestamp: new Date(end),
    ...extra,
  };
}

// Format and size of a JPEG/PNG from its bytes.
function imageInfo(b64) {
  const b = Buffer.from(b64, "base64");
  assert.equal(b.toString("base64"), b64, "ImageContent is standard base64");
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return ["PNG", b.readUInt32BE(16), b.readUInt32BE(20)];
  assert.equal(b[0], 0xff);
  assert.equal(b[1], 0xd8);
  let p = 2;
  while (p + 4 <= b.length) {
    const marker = b[p + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xc3) return ["JPEG", b.readUInt16BE(p + 7), b.readUInt16BE(p + 5)];
    p += 2 + b.readUInt16BE(p + 2);
  }
  throw new Error("JPEG without SOF");
}

async function expectError(promise, name, status, cls) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${name}, the call succeeded`);
  assert.equal(err.name, name, `error: ${err.name}: ${err.message}`);
  assert.equal(err.$metadata.httpStatusCode, status);
  assert.ok(err.message);
  if (cls) assert.ok(err instanceof cls, `${err.name} is not an instance of ${cls.name}`);
  return err;
}

describe("GetImages", () => {
  test("JPEG every interval from a fragment start; TimeStamp is a Date", async () => {
    const t = PRODUCER_MS[1];
    const out = await am.send(new GetImagesCommand(request(t, t + 1000, { SamplingInterval: 250 })));
    assert.equal(out.NextToken, undefined);
    assert.deepEqual(
      out.Images.map((i) => i.TimeStamp.getTime()),
      [t, t + 250, t + 500, t + 750],
    );
    for (const img of out.Images) {
      assert.ok(img.TimeStamp instanceof Date);
      assert.equal(img.Error, undefined);
      assert.deepEqual(imageInfo(img.ImageContent), ["JPEG", 640, 360]);
    }
  });

  test("a Start inside a fragment skips that fragment (NO_MEDIA)", async () => {
    const t = PRODUCER_MS[2];
    const out = await am.send(new GetImagesCommand(request(t - 300, t + 500, { SamplingInterval: 300 })));
    assert.deepEqual(
      out.Images.map((i) => i.Error ?? "img"),
      ["NO_MEDIA", "img", "img"],
    );
    assert.equal(out.Images[0].ImageContent, undefined);
  });

  test("default SamplingInterval is 3000 ms", async () => {
    const t = PRODUCER_MS[0];
    const out = await am.send(new GetImagesCommand(request(t, t + 5000)));
    assert.deepEqual(
      out.Images.map((i) => i.TimeStamp.getTime()),
      [t, t + 3000],
    );
  });

  test("PNG, stretched and aspect-kept sizes, JPEGQuality", async () => {
    const t = PRODUCER_MS[3];
    const png = await am.send(new GetImagesCommand(request(t, t + 100, { Format: "PNG" })));
    assert.deepEqual(imageInfo(png.Images[0].ImageContent), ["PNG", 640, 360]);
    const both = await am.send(new GetImagesCommand(request(t, t + 100, { WidthPixels: 99, HeightPixels: 77 })));
    assert.deepEqual(imageInfo(both.Images[0].ImageContent), ["JPEG", 99, 77]);
    const h = await am.send(new GetImagesCommand(request(t, t + 100, { Format: "PNG", HeightPixels: 72 })));
    assert.deepEqual(imageInfo(h.Images[0].ImageContent), ["PNG", 128, 72]);
    const sizes = [];
    for (const q of ["3", "97"]) {
      const out = await am.send(new GetImagesCommand(request(t, t + 100, { FormatConfig: { JPEGQuality: q } })));
      sizes.push(Buffer.from(out.Images[0].ImageContent, "base64").length);
    }
    assert.ok(sizes[0] < sizes[1], `${sizes}`);
  });

  test("MaxResults pages with NextToken, and the paginator", async () => {
    const t = PRODUCER_MS[1];
    const first = await am.send(
      new GetImagesCommand(request(t, t + 2000, { SamplingInterval: 200, MaxResults: 3, HeightPixels: 36 })),
    );
    assert.equal(first.Images.length, 3);
    assert.match(first.NextToken, NEXT_TOKEN_RE);
    const seen = [];
    for await (const page of paginateGetImages(
      { client: am, pageSize: 4 },
      request(t, t + 2000, { SamplingInterval: 200, HeightPixels: 36 }),
    )) {
      assert.ok(page.Images.length <= 4);
      seen.push(...page.Images.map((i) => i.TimeStamp.getTime()));
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, k) => t + 200 * k),
    );
  });

  test("SERVER_TIMESTAMP selects on the arrival timeline", async () => {
    const frags = (await am.send(new ListFragmentsCommand({ StreamName: STREAM }))).Fragments;
    const sv = frags.map((f) => f.ServerTimestamp.getTime()).sort((a, b) => a - b);
    const out = await am.send(
      new GetImagesCommand(request(sv[2], sv[2] + 400, { ImageSelectorType: "SERVER_TIMESTAMP", SamplingInterval: 200 })),
    );
    assert.equal(out.Images.length, 2);
    for (const img of out.Images) assert.deepEqual(imageInfo(img.ImageContent), ["JPEG", 640, 360]);
  });

  test("errors", async () => {
    const t = PRODUCER_MS[1];
    await expectError(
      am.send(new GetImagesCommand(request(t, t + 1000, { StreamName: "js-gi-missing" }))),
      "ResourceNotFoundException",
      404,
      ResourceNotFoundException,
    );
    await expectError(
      am.send(new GetImagesCommand(request(t, t + 1000, { StreamName: NORET }))),
      "NoDataRetentionException",
      400,
      NoDataRetentionException,
    );
    const bad = [
      request(t, t + 300001),
      request(t, t - 1),
      request(t, t + 1000, { SamplingInterval: 199 }),
      request(t, t + 1000, { MaxResults: 101 }),
      request(t, t + 1000, { WidthPixels: 100 }),
      request(t, t + 1000, { WidthPixels: 3841, HeightPixels: 100 }),
      request(t, t + 1000, { HeightPixels: 2161 }),
      request(t, t + 1000, { Format: "BMP" }),
      request(t, t + 1000, { ImageSelectorType: "NOW" }),
      request(t, t + 1000, { FormatConfig: { JPEGQuality: "0" } }),
      request(t, t + 1000, { NextToken: "not a token" }),
    ];
    for (const input of bad)
      await expectError(am.send(new GetImagesCommand(input)), "InvalidArgumentException", 400, InvalidArgumentException);
  });
});
