// Plays one kvsd session URL with hls.js or dash.js and records what the player and the <video>
// element report, for play.mjs to read through window.kvsdSnapshot(). Nothing here judges the
// result: the Python tests assert on the snapshots.
'use strict';

(function () {
  const state = {
    kind: null,
    url: null,
    startedAt: 0,
    events: [], // [{t, name}] video element events of interest, in order
    errors: [], // every error the player or the element reported: {t, source, fatal, type, details}
    ended: false,
    playingDates: 0, // snapshots in which hls.js knew the program date time of the playhead
  };
  let hls = null;
  let dash = null;

  function now() {
    return Date.now() - state.startedAt;
  }

  function record(name) {
    state.events.push({ t: now(), name });
  }

  function codecSupport() {
    const types = {
      h264: 'video/mp4; codecs="avc1.42E01E"',
      h264_high: 'video/mp4; codecs="avc1.640028"',
      aac: 'audio/mp4; codecs="mp4a.40.2"',
      h264_aac: 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"',
    };
    const out = { mse: typeof MediaSource !== 'undefined' };
    for (const [k, v] of Object.entries(types)) {
      out[k] = out.mse && MediaSource.isTypeSupported(v);
    }
    out.hlsjs = typeof Hls !== 'undefined' && Hls.isSupported();
    out.dashjs = typeof dashjs !== 'undefined';
    return out;
  }

  function watchVideo(video) {
    for (const name of ['loadedmetadata', 'canplay', 'playing', 'waiting', 'stalled', 'seeking', 'seeked', 'pause']) {
      video.addEventListener(name, () => record(name));
    }
    video.addEventListener('ended', () => {
      state.ended = true;
      record('ended');
    });
    video.addEventListener('error', () => {
      const e = video.error;
      state.errors.push({
        t: now(),
        source: 'video',
        fatal: true,
        type: 'MediaError',
        details: e ? `code ${e.code}: ${e.message}` : 'unknown',
      });
    });
  }

  function startHls(video, url, options) {
    hls = new Hls(Object.assign({ debug: false }, options || {}));
    hls.on(Hls.Events.ERROR, (_, data) => {
      state.errors.push({
        t: now(),
        source: 'hls.js',
        fatal: !!data.fatal,
        type: String(data.type),
        details: String(data.details) + (data.response ? ` (HTTP ${data.response.code})` : '') +
          (data.reason ? ` ${data.reason}` : '') + (data.error ? ` ${data.error}` : ''),
      });
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      record('manifest-parsed');
      video.play().catch((err) => {
        state.errors.push({ t: now(), source: 'play()', fatal: true, type: 'play', details: String(err) });
      });
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }

  function startDash(video, url) {
    dash = dashjs.MediaPlayer().create();
    dash.updateSettings({ debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING } });
    const ev = dashjs.MediaPlayer.events;
    // dash.js reports on ERROR what stops playback, except that it also reports a failed clock
    // synchronisation (code 16, TIME_SYNC_FAILED: no UTCTiming in a dynamic MPD and its default
    // time server out of reach), after which it goes on with the local clock.
    const kTimeSyncFailed = 16;
    dash.on(ev.ERROR, (e) => {
      const err = e.error || {};
      state.errors.push({
        t: now(),
        source: 'dash.js',
        fatal: err.code !== kTimeSyncFailed,
        type: 'error',
        details: `${err.code}: ${err.message}`,
      });
    });
    dash.on(ev.PLAYBACK_ERROR, (e) => {
      state.errors.push({ t: now(), source: 'dash.js', fatal: true, type: 'playbackError', details: String(e.error) });
    });
    dash.on(ev.MANIFEST_LOADED, () => record('manifest-loaded'));
    dash.initialize(video, url, true);
  }

  // kind: 'hls' | 'dash'. options: hls.js config overrides.
  window.kvsdStart = function (kind, url, options) {
    state.kind = kind;
    state.url = url;
    state.startedAt = Date.now();
    const video = document.getElementById('video');
    video.muted = true; // muted playback may start without a user gesture
    watchVideo(video);
    if (kind === 'hls') {
      startHls(video, url, options);
    } else if (kind === 'dash') {
      startDash(video, url);
    } else {
      throw new Error('unknown kind ' + kind);
    }
  };

  window.kvsdCodecSupport = codecSupport;

  // One sample of the playback state. latencyMs: wall clock minus the program date time of the
  // playhead (hls.js with EXT-X-PROGRAM-DATE-TIME); bufferedLatencyMs: the same for the end of
  // the buffered range that holds the playhead.
  window.kvsdSnapshot = function () {
    const video = document.getElementById('video');
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    let bufferedEnd = null;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime + 0.1 && video.buffered.end(i) >= video.currentTime) {
        bufferedEnd = video.buffered.end(i);
      }
    }
    const wall = Date.now();
    let latencyMs = null;
    let bufferedLatencyMs = null;
    if (hls && hls.playingDate) {
      const pd = hls.playingDate.getTime();
      latencyMs = wall - pd;
      if (bufferedEnd !== null) {
        bufferedLatencyMs = wall - (pd + (bufferedEnd - video.currentTime) * 1000);
      }
    }
    const snap = {
      t: wall - state.startedAt,
      currentTime: video.currentTime,
      duration: Number.isFinite(video.duration) ? video.duration : null,
      paused: video.paused,
      readyState: video.readyState,
      frames: q ? q.totalVideoFrames : null,
      dropped: q ? q.droppedVideoFrames : null,
      width: video.videoWidth,
      height: video.videoHeight,
      bufferedEnd,
      latencyMs,
      bufferedLatencyMs,
      ended: state.ended,
      errors: state.errors.length,
    };
    document.getElementById('status').textContent =
      `${state.kind} t=${video.currentTime.toFixed(2)} frames=${snap.frames}` +
      (latencyMs !== null ? ` latency=${latencyMs} ms` : '');
    return snap;
  };

  window.kvsdResult = function () {
    return { kind: state.kind, url: state.url, events: state.events, errors: state.errors, ended: state.ended };
  };
})();
