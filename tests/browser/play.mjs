// Drives headless Chromium (Debian's /usr/bin/chromium through playwright-core) on the test page:
// starts hls.js or dash.js on one session URL, samples the playback state every 250 ms until the
// stop condition or the time limit, saves a screenshot, and prints one JSON object on stdout.
// It asserts nothing: the Python tests judge the JSON.
//
// usage: node play.mjs '<json>' with
//   {pageUrl, kind: "hls"|"dash", url, timeoutMs, screenshot,
//    stop: {advance: seconds of currentTime past the first playing sample, minWallMs}
//        | {ended: true}   (ended event, or currentTime within 0.5 s of the duration)
//    hlsConfig: {...}}     (hls.js config overrides, optional)
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function shouldStop(stop, first, snap) {
  if (stop.ended) {
    return snap.ended || (snap.duration !== null && snap.duration > 0 && snap.currentTime >= snap.duration - 0.5);
  }
  if (first === null) return false;
  return snap.currentTime - first.currentTime >= stop.advance && snap.t - first.t >= (stop.minWallMs || 0);
}

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const out = { samples: [], console: [], pageErrors: [], requestFailures: [], stopReason: 'timeout' };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 640, height: 400 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => out.pageErrors.push(String(e)));
    page.on('requestfailed', (r) => out.requestFailures.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) out.requestFailures.push(`${r.url()}: HTTP ${r.status()}`);
    });
    await page.goto(cfg.pageUrl, { waitUntil: 'load' });
    out.support = await page.evaluate(() => window.kvsdCodecSupport());
    out.browserVersion = browser.version();
    const needed = ['mse', 'h264', 'aac', 'h264_aac', cfg.kind === 'hls' ? 'hlsjs' : 'dashjs'];
    const missing = needed.filter((k) => !out.support[k]);
    if (missing.length > 0) {
      out.stopReason = 'unsupported: ' + missing.join(', ');
      return out;
    }
    await page.evaluate(([kind, url, hlsConfig]) => window.kvsdStart(kind, url, hlsConfig),
      [cfg.kind, cfg.url, cfg.hlsConfig || {}]);
    const deadline = Date.now() + cfg.timeoutMs;
    let first = null; // first sample that is playing (currentTime > 0 and not paused)
    while (Date.now() < deadline) {
      await sleep(250);
      const snap = await page.evaluate(() => window.kvsdSnapshot());
      out.samples.push(snap);
      if (first === null && snap.currentTime > 0 && !snap.paused) first = snap;
      const res = await page.evaluate(() => window.kvsdResult());
      if (res.errors.some((e) => e.fatal)) {
        out.stopReason = 'fatal error';
        break;
      }
      if (shouldStop(cfg.stop, first, snap)) {
        out.stopReason = 'done';
        break;
      }
    }
    out.firstPlaying = first;
    Object.assign(out, await page.evaluate(() => window.kvsdResult()));
    if (cfg.screenshot) {
      await page.screenshot({ path: cfg.screenshot });
      out.screenshot = cfg.screenshot;
    }
    return out;
  } finally {
    await browser.close();
  }
}

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
  },
  (err) => {
    process.stderr.write(`play.mjs: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  },
);
