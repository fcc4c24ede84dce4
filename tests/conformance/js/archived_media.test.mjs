// The read APIs driven by the AWS SDK for JavaScript v3 against a real kvsd:
// ListFragments, GetMediaForFragmentList and GetClip (@aws-sdk/client-kinesis-video-archived-media),
// GetMedia (@aws-sdk/client-kinesis-video-media); versions pinned in package-lock.json.
//
// Run by tests/conformance/test_archived_media_js.py, which starts kvsd, ingests with kvs-put and sets
//   KVSD_ENDPOINT           e.g. http://127.0.0.1:41234
//   AWS_ACCESS_KEY_ID       the key pair kvsd was started with
//   AWS_SECRET_ACCESS_KEY
//   KVSD_STREAM             a stream holding a 6 s test pattern with audio (1 s fragments, ingested in real time)
//   KVSD_OTHER_STREAM       another stream with 2 fragments
//   KVSD_PRODUCER_MS        JSON list: the Cluster timecodes (epoch ms) kvs-put sent to KVSD_STREAM
//   KVSD_CLUSTER_SHA256     JSON list: sha256 (hex) of each sent Cluster's children (the bytes after its size)
//   KVSD_INGEST_WINDOW_MS   JSON [before, after]: wall clock around the kvs-put run

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { CreateStreamCommand, DescribeStreamCommand, KinesisVideoClient } from "@aws-sdk/client-kinesis-video";
import {
  GetClipCommand,
  GetMediaForFragmentListCommand,
  InvalidArgumentException,
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
  NoDataRetentionException,
  ResourceNotFoundException,
  paginateListFragments,
} from "@aws-sdk/client-kinesis-video-archived-media";
import {
  ConnectionLimitExceededException,
  GetMediaCommand,
  InvalidArgumentException as MediaInvalidArgumentException,
  KinesisVideoMediaClient,
  ResourceNotFoundException as MediaResourceNotFoundException,
} from "@aws-sdk/client-kinesis-video-media";

const REGION = "us-west-2";

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through tests/conformance/test_archived_media_js.py)`);
  return v;
}

const ENDPOINT = requiredEnv("KVSD_ENDPOINT");
const ACCESS_KEY = requiredEnv("AWS_ACCESS_KEY_ID");
const SECRET_KEY = requiredEnv("AWS_SECRET_ACCESS_KEY");
const STREAM = requiredEnv("KVSD_STREAM");
const OTHER = requiredEnv("KVSD_OTHER_STREAM");
const PRODUCER_MS = JSON.parse(requiredEnv("KVSD_PRODUCER_MS"));
const CLUSTER_SHA256 = JSON.parse(requiredEnv("KVSD_CLUSTER_SHA256"));
const [INGEST_BEFORE, INGEST_AFTER] = JSON.parse(requiredEnv("KVSD_INGEST_WINDOW_MS"));
const NORET = "js-am-noret";
const AWS_TAGS = ["AWS_KINESISVIDEO_FRAGMENT_NUMBER", "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP",
  "AWS_KINESISVIDEO_SERVER_TIMESTAMP"];

function options(secretAccessKey = SECRET_KEY, accessKeyId = ACCESS_KEY) {
  return {
    endpoint: ENDPOINT,
    region: REGION,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1, // an error must be the server's answer, not the last of several retries
  };
}

const kv = new KinesisVideoClient(options());
const am = new KinesisVideoArchivedMediaClient(options());
const media = new KinesisVideoMediaClient(options());

// Runs `promise`, expects it to reject with an error named `name`, HTTP status `status` and (when
// given) an instance of the SDK's modeled exception class `cls`; returns the error.
async function expectError(promise, name, status, cls) {
  let err;
  try {
    const out = await promise;
    if (out && out.Payload) await out.Payload.transformToByteArray();
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

// --- a small EBML reader (independent of kvsd) -----------------------------------------------------
const EBML = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const TAGS = 0x1254c367;
const TAG = 0x7373;
const SIMPLE_TAG = 0x67c8;
const TAG_NAME = 0x45a3;
const TAG_STRING = 0x4487;
const LEVEL1 = new Set([CLUSTER, TAGS, INFO, TRACKS, 0x1c53bb6b, 0x114d9b74, 0x1043a770, 0x1941a469, EBML, SEGMENT]);

function readId(b, p) {
  let len = 1;
  let mask = 0x80;
  while (len <= 4 && !(b[p] & mask)) {
    mask >>= 1;
    len++;
  }
  if (len > 4 || p + len > b.length) throw new Error(`bad element ID at ${p}`);
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[p + i];
  return [v, len];
}

function readSize(b, p) {
  let len = 1;
  let mask = 0x80;
  while (len <= 8 && !(b[p] & mask)) {
    mask >>= 1;
    len++;
  }
  if (len > 8 || p + len > b.length) throw new Error(`bad element size at ${p}`);
  let v = b[p] & (mask - 1);
  let unknown = v === mask - 1;
  for (let i = 1; i < len; i++) {
    v = v * 256 + b[p + i];
    if (b[p + i] !== 0xff) unknown = false;
  }
  return [unknown ? null : v, len];
}

function* children(b, start, end) {
  let p = start;
  while (p < end) {
    const [id, il] = readId(b, p);
    const [size, sl] = readSize(b, p + il);
    if (size === null) throw new Error(`unknown-size child ${id.toString(16)} at ${p}`);
    yield { id, start: p + il + sl, end: p + il + sl + size };
    p += il + sl + size;
  }
  if (p !== end) throw new Error(`children overrun their parent at ${end}`);
}

function readUint(b, start, end) {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 256 + b[i];
  return v;
}

function text(b, start, end) {
  return Buffer.from(b.subarray(start, end)).toString("utf8").replace(/\0+$/, "");
}

// Splits a body of concatenated MKV documents; per document: its start offset, the top-level IDs in order, whether the
// Segment has an unknown size, the track numbers, the Tags ({at, items: {name: value}}) and the Clusters
// ({at, timecode, sha256 of its children}); `at` is the position in `ids`.
function parseDocuments(b) {
  const docs = [];
  let doc = null;
  let p = 0;
  while (p < b.length) {
    const [id, il] = readId(b, p);
    const [size, sl] = readSize(b, p + il);
    const ds = p + il + sl;
    if (id === EBML) {
      doc = { start: p, ids: [], segmentUnknownSize: null, tracks: [], tags: [], clusters: [] };
      docs.push(doc);
      p = ds + size;
      continue;
    }
    if (!doc) throw new Error(`the body does not start with an EBML header (${id.toString(16)})`);
    if (id === SEGMENT) {
      doc.segmentUnknownSize = size === null;
      p = ds;
      continue;
    }
    doc.ids.push(id);
    if (id === CLUSTER) {
      const end = size === null ? b.length : ds + size;
      let q = ds;
      let timecode = null;
      while (q < end) {
        const [cid, cil] = readId(b, q);
        if (size === null && LEVEL1.has(cid)) break;
        const [cs, csl] = readSize(b, q + cil);
        if (cs === null) throw new Error(`unknown-size cluster child at ${q}`);
        if (cid === TIMECODE) timecode = readUint(b, q + cil + csl, q + cil + csl + cs);
        q += cil + csl + cs;
      }
      if (q > b.length) throw new Error("truncated cluster");
      const sha256 = createHash("sha256").update(b.subarray(ds, q)).digest("hex");
      doc.clusters.push({ at: doc.ids.length - 1, timecode, sha256 });
      p = q;
      continue;
    }
    if (size === null) throw new Error(`unknown-size element ${id.toString(16)}`);
    if (ds + size > b.length) throw new Error(`truncated element ${id.toString(16)}`);
    if (id === TRACKS) {
      for (const te of children(b, ds, ds + size)) {
        if (te.id !== TRACK_ENTRY) continue;
        for (const c of children(b, te.start, te.end)) {
          if (c.id === TRACK_NUMBER) doc.tracks.push(readUint(b, c.start, c.end));
        }
      }
    } else if (id === TAGS) {
      const items = {};
      for (const tag of children(b, ds, ds + size)) {
        if (tag.id !== TAG) continue;
        for (const st of children(b, tag.start, tag.end)) {
          if (st.id !== SIMPLE_TAG) continue;
          let name = null;
          let value = "";
          for (const c of children(b, st.start, st.end)) {
            if (c.id === TAG_NAME) name = text(b, c.start, c.end);
            else if (c.id === TAG_STRING) value = text(b, c.start, c.end);
          }
          if (name !== null) items[name] = value;
        }
      }
      doc.tags.push({ at: doc.ids.length - 1, items });
    }
    p = ds + size;
  }
  return docs;
}

function seconds(ms) {
  return `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}`;
}

function awsTags(tags) {
  const out = {};
  for (const t of tags) {
    for (const [k, v] of Object.entries(t.items)) if (k.startsWith("AWS_KINESISVIDEO_")) out[k] = v;
  }
  return out;
}

// --- shared state -----------------------------------------------------------------------------------
let all; // ListFragments of STREAM, no selector
let numbers;
let serverMs;
let work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "kvsd-am-js-"));
  await kv.send(new CreateStreamCommand({ StreamName: NORET, DataRetentionInHours: 0 }));
  all = (await am.send(new ListFragmentsCommand({ StreamName: STREAM }))).Fragments;
  numbers = all.map((f) => f.FragmentNumber);
  serverMs = all.map((f) => f.ServerTimestamp.getTime());
});

after(() => {
  rmSync(work, { recursive: true, force: true });
  for (const c of [kv, am, media]) c.destroy();
});

// A FragmentSelector / ClipFragmentSelector for [start, end] (epoch ms, sent with ms precision).
function selector(type, start, end) {
  const TimestampRange = { StartTimestamp: new Date(start), EndTimestamp: new Date(end) };
  return { FragmentSelectorType: type, TimestampRange };
}

function listRange(type, start, end, extra = {}) {
  const FragmentSelector = selector(type, start, end);
  return am.send(new ListFragmentsCommand({ StreamName: STREAM, FragmentSelector, ...extra }));
}

function gmffl(StreamName, Fragments) {
  return new GetMediaForFragmentListCommand({ StreamName, Fragments });
}

function gm(StreamName, StartSelector) {
  return new GetMediaCommand({ StreamName, StartSelector });
}

const EARLIEST = { StartSelectorType: "EARLIEST" };

// Checks one document of GetMediaForFragmentList / GetMedia against fragment `index` of the ingest.
function checkChunk(doc, index, getMedia) {
  assert.equal(doc.segmentUnknownSize, true, "the Segment has an unknown size");
  assert.ok(doc.ids.includes(INFO), "no Info");
  assert.ok(doc.ids.includes(TRACKS), "no Tracks");
  assert.deepEqual(doc.tracks, [1, 2]);
  assert.equal(doc.clusters.length, 1, "one Cluster per document");
  const cluster = doc.clusters[0];
  assert.ok(doc.ids.indexOf(TRACKS) < cluster.at);
  assert.equal(cluster.timecode, PRODUCER_MS[index]);
  assert.equal(cluster.sha256, CLUSTER_SHA256[index], "Cluster content differs from what was sent");
  const pre = awsTags(doc.tags.filter((t) => t.at < cluster.at));
  assert.deepEqual(Object.keys(pre).sort(), AWS_TAGS);
  assert.equal(pre.AWS_KINESISVIDEO_FRAGMENT_NUMBER, numbers[index]);
  assert.equal(pre.AWS_KINESISVIDEO_PRODUCER_TIMESTAMP, seconds(PRODUCER_MS[index]));
  assert.equal(pre.AWS_KINESISVIDEO_SERVER_TIMESTAMP, seconds(serverMs[index]));
  const post = awsTags(doc.tags.filter((t) => t.at > cluster.at));
  if (getMedia) {
    assert.deepEqual(Object.keys(post).sort(),
      ["AWS_KINESISVIDEO_CONTINUATION_TOKEN", "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"]);
    assert.equal(post.AWS_KINESISVIDEO_CONTINUATION_TOKEN, numbers[index]);
    assert.match(post.AWS_KINESISVIDEO_MILLIS_BEHIND_NOW, /^[0-9]+$/);
  }
  return post;
}

function checkChunks(docs, first) {
  assert.equal(docs.length, numbers.length - first, `chunks: ${docs.map((d) => d.clusters[0]?.timecode)}`);
  docs.forEach((d, k) => checkChunk(d, first + k, true));
}

async function getMedia(StartSelector, StreamName = STREAM) {
  const t0 = Date.now();
  const out = await media.send(new GetMediaCommand({ StreamName, StartSelector }));
  const body = await out.Payload.transformToByteArray();
  return { contentType: out.ContentType, docs: parseDocuments(body), took: Date.now() - t0 };
}

function ffprobe(path, extra = []) {
  const args = ["-v", "error", ...extra, "-show_streams", "-of", "json", path];
  return JSON.parse(execFileSync("ffprobe", args, { encoding: "utf8" })).streams;
}

// --- ListFragments ----------------------------------------------------------------------------------
describe("ListFragments", () => {
  test("every fragment, with the ingested values", async () => {
    const out = await am.send(new ListFragmentsCommand({ StreamName: STREAM }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.NextToken, undefined);
    assert.equal(out.Fragments.length, PRODUCER_MS.length);
    for (const f of out.Fragments) {
      assert.equal(typeof f.FragmentNumber, "string");
      assert.match(f.FragmentNumber, /^[0-9]{1,128}$/);
      assert.equal(typeof f.FragmentSizeInBytes, "number");
      assert.ok(f.FragmentSizeInBytes > 0);
      const length = f.FragmentLengthInMilliseconds;
      assert.ok(length >= 900 && length <= 1100, `FragmentLengthInMilliseconds ${length}`);
      assert.ok(f.ProducerTimestamp instanceof Date, `ProducerTimestamp is ${typeof f.ProducerTimestamp}`);
      assert.ok(f.ServerTimestamp instanceof Date, `ServerTimestamp is ${typeof f.ServerTimestamp}`);
    }
    assert.deepEqual(out.Fragments.map((f) => f.ProducerTimestamp.getTime()), PRODUCER_MS);
    const server = out.Fragments.map((f) => f.ServerTimestamp.getTime());
    assert.deepEqual(server, [...server].sort((a, b) => a - b));
    assert.ok(server[0] >= INGEST_BEFORE - 1 && server.at(-1) <= INGEST_AFTER + 1,
      `${server} vs ${INGEST_BEFORE}..${INGEST_AFTER}`);
    const asBig = out.Fragments.map((f) => BigInt(f.FragmentNumber));
    for (let i = 1; i < asBig.length; i++) assert.ok(asBig[i] > asBig[i - 1], "fragment numbers rise");
    const { StreamInfo } = await kv.send(new DescribeStreamCommand({ StreamName: STREAM }));
    const byArn = await am.send(new ListFragmentsCommand({ StreamARN: StreamInfo.StreamARN }));
    assert.deepEqual(byArn.Fragments.map((f) => f.FragmentNumber), numbers);
  });

  test("PRODUCER_TIMESTAMP: both edges inclusive, a fragment straddling Start excluded", async () => {
    const ts = PRODUCER_MS;
    let out = await listRange("PRODUCER_TIMESTAMP", ts[1], ts[4]);
    assert.deepEqual(out.Fragments.map((f) => f.FragmentNumber), numbers.slice(1, 5));
    out = await listRange("PRODUCER_TIMESTAMP", ts[1] + 1, ts[4] - 1);
    assert.deepEqual(out.Fragments.map((f) => f.FragmentNumber), numbers.slice(2, 4));
    out = await listRange("PRODUCER_TIMESTAMP", ts[0] - 500, ts[0] + 500);
    assert.deepEqual(out.Fragments.map((f) => f.FragmentNumber), numbers.slice(0, 1));
  });

  test("SERVER_TIMESTAMP: the first and last fragments cut off", async () => {
    let out = await listRange("SERVER_TIMESTAMP", serverMs[1], serverMs[4]);
    assert.deepEqual(out.Fragments.map((f) => f.FragmentNumber), numbers.slice(1, 5));
    assert.deepEqual(out.Fragments.map((f) => f.ServerTimestamp.getTime()), serverMs.slice(1, 5));
    out = await listRange("SERVER_TIMESTAMP", serverMs[1] + 1, serverMs[4]);
    assert.deepEqual(out.Fragments.map((f) => f.FragmentNumber), numbers.slice(2, 5));
  });

  test("empty range -> 200 with no fragments", async () => {
    const out = await listRange("PRODUCER_TIMESTAMP", Date.UTC(2001, 0, 1), Date.UTC(2001, 0, 2));
    assert.deepEqual(out.Fragments, []);
    assert.equal(out.NextToken, undefined);
  });

  test("paginateListFragments, page size 2 -> 3 pages", async () => {
    const pages = [];
    const paginator = paginateListFragments({ client: am, pageSize: 2 }, { StreamName: STREAM });
    for await (const page of paginator) pages.push(page);
    assert.deepEqual(pages.map((p) => p.Fragments.length), [2, 2, 2]);
    assert.match(pages[0].NextToken, /^[a-zA-Z0-9+/]+={0,2}$/);
    assert.match(pages[1].NextToken, /^[a-zA-Z0-9+/]+={0,2}$/);
    assert.equal(pages[2].NextToken, undefined);
    assert.deepEqual(pages.flatMap((p) => p.Fragments.map((f) => f.FragmentNumber)), numbers);
  });

  test("errors", async () => {
    await expectError(am.send(new ListFragmentsCommand({ StreamName: "js-am-missing" })),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
    await expectError(am.send(new ListFragmentsCommand({})), "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(am.send(new ListFragmentsCommand({ StreamName: STREAM, MaxResults: 1001 })),
      "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(am.send(new ListFragmentsCommand({ StreamName: STREAM, NextToken: "!!notatoken" })),
      "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(listRange("PRODUCER_TIMESTAMP", PRODUCER_MS[3], PRODUCER_MS[1]),
      "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(listRange("CLIENT_TIMESTAMP", PRODUCER_MS[1], PRODUCER_MS[3]),
      "InvalidArgumentException", 400, InvalidArgumentException);
  });
});

// --- GetMediaForFragmentList ------------------------------------------------------------------------
describe("GetMediaForFragmentList", () => {
  test("one MKV document per number, in request order", async () => {
    const order = [5, 2, 0];
    const out = await am.send(gmffl(STREAM, order.map((i) => numbers[i])));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.ContentType, "video/webm");
    const body = await out.Payload.transformToByteArray();
    assert.ok(body instanceof Uint8Array);
    const docs = parseDocuments(body);
    assert.equal(docs.length, order.length);
    docs.forEach((d, k) => checkChunk(d, order[k], false));
    // Its first document, saved to a file, decodes with both tracks.
    const path = join(work, "gmffl.mkv");
    writeFileSync(path, body.subarray(0, docs[1].start));
    assert.deepEqual(ffprobe(path).map((s) => s.codec_name).sort(), ["aac", "h264"]);
  });

  test("errors", async () => {
    await expectError(am.send(gmffl("js-am-missing", [numbers[0]])),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
    await expectError(am.send(new GetMediaForFragmentListCommand({ Fragments: [numbers[0]] })),
      "InvalidArgumentException", 400, InvalidArgumentException);
    const unknown = (BigInt(numbers.at(-1)) + 1000000n).toString();
    let err = await expectError(am.send(gmffl(STREAM, [numbers[0], unknown])),
      "InvalidArgumentException", 400, InvalidArgumentException);
    assert.match(err.message, /^Fragment numbers are invalid/);
    const other = (await am.send(new ListFragmentsCommand({ StreamName: OTHER }))).Fragments[0].FragmentNumber;
    err = await expectError(am.send(gmffl(STREAM, [other])),
      "InvalidArgumentException", 400, InvalidArgumentException);
    assert.match(err.message, /^Fragment numbers are invalid/);
    await expectError(am.send(gmffl(STREAM, Array(1001).fill(numbers[0]))),
      "InvalidArgumentException", 400, InvalidArgumentException);
  });
});

// --- GetMedia -----------------------------------------------------------------------------------------
describe("GetMedia", () => {
  test("EARLIEST: every chunk, then the response ends; CONTINUATION_TOKEN resumes after a chunk", async () => {
    const { contentType, docs, took } = await getMedia({ StartSelectorType: "EARLIEST" });
    assert.equal(contentType, "video/webm");
    checkChunks(docs, 0);
    assert.ok(took >= 2000 && took < 10000, `the response took ${took} ms`);
    const token = checkChunk(docs[2], 2, true).AWS_KINESISVIDEO_CONTINUATION_TOKEN;
    const resumed = await getMedia({ StartSelectorType: "CONTINUATION_TOKEN", ContinuationToken: token });
    checkChunks(resumed.docs, 3);
  });

  test("FRAGMENT_NUMBER: the chunks after AfterFragmentNumber", async () => {
    const { docs } = await getMedia({ StartSelectorType: "FRAGMENT_NUMBER", AfterFragmentNumber: numbers[1] });
    checkChunks(docs, 2);
  });

  test("PRODUCER_TIMESTAMP: from the fragment containing the timestamp", async () => {
    const T = new Date(PRODUCER_MS[3] + 500);
    const { docs } = await getMedia({ StartSelectorType: "PRODUCER_TIMESTAMP", StartTimestamp: T });
    checkChunks(docs, 3);
  });

  test("a fourth concurrent GetMedia -> ConnectionLimitExceededException", async () => {
    const open = [];
    for (let i = 0; i < 3; i++) {
      open.push(await media.send(gm(OTHER, EARLIEST)));
    }
    await expectError(media.send(gm(OTHER, EARLIEST)),
      "ConnectionLimitExceededException", 400, ConnectionLimitExceededException);
    for (const o of open) assert.equal(parseDocuments(await o.Payload.transformToByteArray()).length, 2);
    const again = await getMedia({ StartSelectorType: "EARLIEST" }, OTHER);
    assert.equal(again.docs.length, 2);
  });

  test("errors", async () => {
    await expectError(media.send(gm("js-am-missing", EARLIEST)),
      "ResourceNotFoundException", 404, MediaResourceNotFoundException);
    await expectError(media.send(new GetMediaCommand({ StartSelector: { StartSelectorType: "EARLIEST" } })),
      "InvalidArgumentException", 400, MediaInvalidArgumentException);
    await expectError(media.send(gm(STREAM, { StartSelectorType: "LATEST" })),
      "InvalidArgumentException", 400, MediaInvalidArgumentException);
    await expectError(media.send(gm(STREAM, { StartSelectorType: "FRAGMENT_NUMBER" })),
      "InvalidArgumentException", 400, MediaInvalidArgumentException);
    await expectError(media.send(new GetMediaCommand({
      StreamName: STREAM, StartSelector: { StartSelectorType: "FRAGMENT_NUMBER", AfterFragmentNumber: "12345" },
    })), "InvalidArgumentException", 400, MediaInvalidArgumentException);
  });
});

// --- GetClip --------------------------------------------------------------------------------------------
describe("GetClip", () => {
  const clip = (start, end, type = "PRODUCER_TIMESTAMP", stream = STREAM) =>
    new GetClipCommand({ StreamName: stream, ClipFragmentSelector: selector(type, start, end) });

  test("an MP4 of the fragments starting in the range", async () => {
    const out = await am.send(clip(PRODUCER_MS[1], PRODUCER_MS[3]));
    assert.equal(out.ContentType, "video/mp4");
    const body = await out.Payload.transformToByteArray();
    assert.equal(Buffer.from(body.subarray(4, 8)).toString("latin1"), "ftyp");
    const path = join(work, "clip.mp4");
    writeFileSync(path, body);
    const streams = ffprobe(path, ["-count_frames"]);
    const byType = Object.fromEntries(streams.map((s) => [s.codec_type, s]));
    assert.deepEqual(Object.keys(byType).sort(), ["audio", "video"]);
    assert.equal(byType.video.codec_name, "h264");
    assert.equal(byType.audio.codec_name, "aac");
    assert.equal(Number(byType.video.nb_read_frames), 75); // fragments 1..3
  });

  test("errors", async () => {
    const ts = PRODUCER_MS;
    await expectError(am.send(clip(ts[0], ts.at(-1), "PRODUCER_TIMESTAMP", "js-am-missing")),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
    await expectError(am.send(clip(Date.UTC(2001, 0, 1), Date.UTC(2001, 0, 1, 1))),
      "ResourceNotFoundException", 404, ResourceNotFoundException);
    await expectError(am.send(clip(ts[3], ts[1])), "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(am.send(clip(ts[2], ts[2])), "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(am.send(clip(ts[0] - 86400000 - 1000, ts.at(-1))),
      "InvalidArgumentException", 400, InvalidArgumentException);
    await expectError(am.send(clip(ts[0], ts.at(-1), "PRODUCER_TIMESTAMP", NORET)),
      "NoDataRetentionException", 400, NoDataRetentionException);
  });
});

describe("authentication", () => {
  test("a wrong secret -> 403 SignatureDoesNotMatch, an unknown key -> 401 NotAuthorizedException", async () => {
    const badAm = new KinesisVideoArchivedMediaClient(options("definitely-not-the-secret-key-0000000000"));
    const badMedia = new KinesisVideoMediaClient(options("definitely-not-the-secret-key-0000000000"));
    const stranger = new KinesisVideoArchivedMediaClient(options(SECRET_KEY, "AKIANOSUCHKEY0000000"));
    try {
      await expectError(badAm.send(new ListFragmentsCommand({ StreamName: STREAM })), "SignatureDoesNotMatch", 403);
      await expectError(badAm.send(gmffl(STREAM, [numbers[0]])),
        "SignatureDoesNotMatch", 403);
      await expectError(badMedia.send(gm(STREAM, EARLIEST)),
        "SignatureDoesNotMatch", 403);
      await expectError(stranger.send(new ListFragmentsCommand({ StreamName: STREAM })), "NotAuthorizedException", 401);
    } finally {
      for (const c of [badAm, badMedia, stranger]) c.destroy();
    }
  });
});
