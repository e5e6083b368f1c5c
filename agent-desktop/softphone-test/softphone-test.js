/*
 * 软电话测试页脚本 — test-only page script driven by Playwright (tests/helpers/jssip.ts, browser.ts).
 * Plain browser JavaScript (no build step), so what runs in Chromium is exactly this file plus the JsSIP
 * bundle. Everything is exposed on window.softphoneTest; every method returns JSON-serialisable values.
 *
 * Rules learnt on this machine (see /work/shared/research/webrtc-jssip-werift.md):
 * - remote audio is only decoded while an <audio> element plays it (stats and frames stay empty otherwise);
 * - raw microphone constraints keep the fake WAV tone at its real level (AGC/NS/EC would rescale it);
 * - no iceServers: in a loopback namespace any STUN lookup only delays gathering.
 */
/* global window, document, navigator, performance, setTimeout, clearTimeout, setInterval, clearInterval, btoa,
   RTCPeerConnection, MediaStream, MediaStreamTrackProcessor, JsSIP */
(function () {
  'use strict';
  const RAW_AUDIO = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  const st = {
    pc: null,
    ua: null,
    session: null,
    /** The call put on hold by holdCurrent(), to be transferred by referReplaces(). */
    held: null,
    incoming: [],
    remoteStream: null,
    capture: null,
    log: [],
    times: {},
  };

  function note(what, detail) {
    st.log.push({ t: Math.round(performance.now()), what, detail: detail === undefined ? null : String(detail) });
  }

  function audioConstraints(raw) {
    return raw === false ? true : RAW_AUDIO;
  }

  async function playRemote(stream) {
    st.remoteStream = stream;
    const el = document.getElementById('remote');
    el.srcObject = stream;
    el.muted = false; // a muted element decodes but reports audioLevel 0
    try {
      await el.play();
      note('audio-playing');
    } catch (e) {
      note('audio-play-failed', e);
    }
  }

  function waitGathering(pc, timeoutMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs || 5000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  async function newPc(raw) {
    if (st.pc) st.pc.close();
    const pc = new RTCPeerConnection({ iceServers: [] });
    st.pc = pc;
    pc.addEventListener('track', (e) => playRemote(e.streams[0] || new MediaStream([e.track])));
    pc.addEventListener('connectionstatechange', () => {
      note('pc-' + pc.connectionState);
      if (pc.connectionState === 'connected') st.times.pcConnected = performance.now();
    });
    const mic = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(raw), video: false });
    for (const t of mic.getAudioTracks()) pc.addTrack(t, mic);
    return pc;
  }

  function activePc() {
    if (st.session && st.session.connection) return st.session.connection;
    return st.pc;
  }

  async function stats() {
    const pc = activePc();
    const out = {
      connectionState: pc ? pc.connectionState : 'none',
      packetsReceived: 0,
      packetsLost: 0,
      audioLevel: 0,
      totalSamplesReceived: 0,
      packetsSent: 0,
      inboundCodec: null,
      outboundCodec: null,
    };
    if (!pc) return out;
    const report = await pc.getStats();
    const codecs = new Map();
    report.forEach((s) => {
      if (s.type === 'codec') codecs.set(s.id, s.mimeType + '/' + s.payloadType);
    });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.packetsReceived = s.packetsReceived || 0;
        out.packetsLost = s.packetsLost || 0;
        out.audioLevel = s.audioLevel || 0;
        out.totalSamplesReceived = s.totalSamplesReceived || 0;
        out.inboundCodec = codecs.get(s.codecId) || null;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.packetsSent = s.packetsSent || 0;
        out.outboundCodec = codecs.get(s.codecId) || null;
      }
    });
    return out;
  }

  /*
   * Captures the decoded remote audio with MediaStreamTrackProcessor (channel 0, as delivered: normally
   * 48 kHz). stopCapture() hands it back as base64 little-endian int16, which Node reads as an Int16Array.
   */
  function startCapture() {
    if (!st.remoteStream) throw new Error('no remote stream yet');
    const track = st.remoteStream.getAudioTracks()[0];
    const processor = new MediaStreamTrackProcessor({ track: track.clone() });
    const reader = processor.readable.getReader();
    const cap = { chunks: [], sampleRate: 0, frames: 0, stop: false, done: null };
    cap.done = (async () => {
      while (!cap.stop) {
        const { value, done } = await reader.read();
        if (done) break;
        cap.sampleRate = value.sampleRate;
        const n = value.numberOfFrames;
        const buf = new Float32Array(n);
        try {
          value.copyTo(buf, { planeIndex: 0, format: 'f32-planar' });
        } catch (e) {
          note('capture-copy-failed', e);
        }
        value.close();
        cap.chunks.push(buf);
        cap.frames += n;
      }
      reader.releaseLock();
    })();
    st.capture = cap;
    return true;
  }

  async function stopCapture() {
    const cap = st.capture;
    if (!cap) throw new Error('capture not started');
    cap.stop = true;
    await Promise.race([cap.done, new Promise((r) => setTimeout(r, 500))]);
    st.capture = null;
    const pcm = new Int16Array(cap.frames);
    let o = 0;
    for (const c of cap.chunks) {
      for (let i = 0; i < c.length; i++) {
        const v = Math.max(-1, Math.min(1, c[i]));
        pcm[o++] = Math.round(v * 32767);
      }
    }
    const bytes = new Uint8Array(pcm.buffer, 0, o * 2);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { sampleRate: cap.sampleRate, base64: btoa(bin) };
  }

  // ---- plain RTCPeerConnection --------------------------------------------------------------

  async function pcOffer(opts) {
    const pc = await newPc(opts && opts.raw);
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(pc);
    return pc.localDescription.sdp;
  }

  async function pcApplyAnswer(sdp) {
    st.times.remoteApplied = performance.now();
    await st.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  async function pcAnswer(offerSdp, opts) {
    const pc = await newPc(opts && opts.raw);
    await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    st.times.remoteApplied = performance.now();
    await pc.setLocalDescription(await pc.createAnswer());
    await waitGathering(pc);
    return pc.localDescription.sdp;
  }

  /** RFC 4733 events from the plain peer connection's audio sender (RTCDTMFSender). */
  function pcInsertDtmf(tones, duration, gap) {
    const sender = st.pc.getSenders().find((x) => x.track && x.track.kind === 'audio');
    if (!sender || !sender.dtmf || !sender.dtmf.canInsertDTMF) throw new Error('DTMF sender not available');
    sender.dtmf.insertDTMF(tones, duration || 100, gap || 70);
    return true;
  }

  function pcClose() {
    if (st.pc) st.pc.close();
    st.pc = null;
  }

  // ---- JsSIP ----------------------------------------------------------------------------------

  const watchedPcs = new WeakSet();
  function watchPc(pc) {
    if (!pc || watchedPcs.has(pc)) return;
    watchedPcs.add(pc);
    pc.addEventListener('track', (ev) => playRemote(ev.streams[0] || new MediaStream([ev.track])));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') st.times.pcConnected = performance.now();
    });
  }

  function watchSession(session) {
    // For outgoing calls JsSIP emits 'peerconnection' before 'newRTCSession', so the connection may exist
    // already; call() also watches it right after ua.call().
    watchPc(session.connection);
    session.on('peerconnection', (e) => watchPc(e.peerconnection));
    for (const ev of ['progress', 'accepted', 'confirmed', 'ended', 'failed', 'hold', 'unhold']) {
      session.on(ev, (e) => note('session-' + ev, e && e.cause));
    }
    session.on('newDTMF', (e) => note('dtmf-' + e.originator, e.dtmf.tone));
  }

  function uaStart(o) {
    if (typeof JsSIP === 'undefined') throw new Error('JsSIP bundle not loaded');
    if (o.debug) JsSIP.debug.enable('JsSIP:*');
    const socket = new JsSIP.WebSocketInterface(o.wsUrl);
    const ua = new JsSIP.UA({
      sockets: [socket],
      uri: o.uri,
      password: o.password,
      authorization_user: o.authorizationUser || undefined,
      display_name: o.displayName || undefined,
      register: o.register !== false,
      register_expires: o.registerExpires || 300,
      session_timers: o.sessionTimers !== false,
      user_agent: 'hotline12315-softphone-test JsSIP',
    });
    st.ua = ua;
    ua.on('newRTCSession', (e) => {
      note('new-session-' + e.originator);
      watchSession(e.session);
      if (e.originator === 'remote') st.incoming.push(e.session);
    });
    for (const ev of ['connected', 'disconnected', 'registered', 'unregistered']) ua.on(ev, () => note('ua-' + ev));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('JsSIP UA start timeout')), o.timeoutMs || 10000);
      const ok = () => {
        clearTimeout(t);
        resolve(true);
      };
      if (o.register === false) ua.on('connected', ok);
      else ua.on('registered', ok);
      ua.on('registrationFailed', (e) => {
        clearTimeout(t);
        reject(new Error('registration failed: ' + e.cause));
      });
      ua.start();
    });
  }

  function call(target, o) {
    o = o || {};
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const session = st.ua.call(target, {
        mediaConstraints: { audio: audioConstraints(o.raw), video: false },
        pcConfig: { iceServers: [] },
        extraHeaders: o.extraHeaders || [],
      });
      st.session = session;
      watchPc(session.connection);
      let sentAt = 0;
      let answeredAt = 0;
      session.on('sending', () => (sentAt = performance.now()));
      session.on('accepted', () => (answeredAt = performance.now()));
      session.on('confirmed', () =>
        resolve({
          setupMs: Math.round(performance.now() - t0),
          // getUserMedia + ICE gathering before the INVITE leaves; then the server's answer.
          inviteAfterMs: Math.round(sentAt - t0),
          answerAfterInviteMs: Math.round(answeredAt - sentAt),
        }),
      );
      session.on('failed', (e) => reject(new Error('call failed: ' + e.cause)));
    });
  }

  /** Answers the next incoming call (already arrived or within timeoutMs); resolves when confirmed. */
  function answer(o) {
    o = o || {};
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no incoming call')), o.timeoutMs || 10000);
      const go = () => {
        const session = st.incoming.shift();
        if (!session) return false;
        clearTimeout(t);
        st.session = session;
        const t0 = performance.now();
        session.on('confirmed', () => resolve({ setupMs: Math.round(performance.now() - t0) }));
        session.on('failed', (e) => reject(new Error('answer failed: ' + e.cause)));
        session.answer({
          mediaConstraints: { audio: audioConstraints(o.raw), video: false },
          pcConfig: { iceServers: [] },
        });
        return true;
      };
      if (go()) return;
      const iv = setInterval(() => {
        if (go()) clearInterval(iv);
      }, 20);
      setTimeout(() => clearInterval(iv), o.timeoutMs || 10000);
    });
  }

  function sendDtmf(digits, o) {
    o = o || {};
    st.session.sendDTMF(digits, {
      transportType: o.transport === 'RFC2833' ? 'RFC2833' : 'INFO',
      duration: o.duration || 100,
      interToneGap: o.gap || 70,
    });
    return true;
  }

  function hangup() {
    if (st.session && !st.session.isEnded()) st.session.terminate();
    st.session = null;
    return true;
  }

  /** Holds the current call (re-INVITE with a=sendonly) and keeps it as the call to transfer. */
  function holdCurrent() {
    const s = st.session;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('hold not confirmed')), 10000);
      s.hold({}, () => {
        clearTimeout(t);
        st.held = s;
        note('held');
        resolve(true);
      });
    });
  }

  /**
   * Attended transfer as a desk phone does it (RFC 3515 + RFC 3891): REFER on the held call, with a
   * Refer-To naming the current call in Replaces. Resolves with the outcome of the final NOTIFY.
   */
  function referReplaces(target) {
    const x = st.held;
    const y = st.session;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no final NOTIFY')), 15000);
      x.refer(target, {
        replaces: y,
        eventHandlers: {
          requestSucceeded: () => note('refer-202'),
          requestFailed: (e) => {
            clearTimeout(t);
            reject(new Error('REFER failed: ' + (e && e.cause)));
          },
          accepted: () => {
            clearTimeout(t);
            note('refer-accepted');
            resolve('accepted');
          },
          failed: (e) => {
            clearTimeout(t);
            resolve('failed ' + (e && e.status_line ? e.status_line.status_code : '?'));
          },
        },
      });
    });
  }

  function uaStop() {
    hangup();
    if (st.ua) st.ua.stop();
    st.ua = null;
    return true;
  }

  window.softphoneTest = {
    pcOffer,
    pcApplyAnswer,
    pcAnswer,
    pcClose,
    pcInsertDtmf,
    uaStart,
    call,
    answer,
    sendDtmf,
    hangup,
    holdCurrent,
    referReplaces,
    uaStop,
    stats,
    startCapture,
    stopCapture,
    log: () => st.log.slice(),
    /** ms from the remote description being applied (plain PC) to connectionState 'connected'. */
    times: () => ({ ...st.times }),
    sessionState: () =>
      st.session ? (st.session.isEnded() ? 'ended' : st.session.isEstablished() ? 'established' : 'progress') : 'none',
    heldState: () =>
      st.held ? (st.held.isEnded() ? 'ended' : st.held.isEstablished() ? 'established' : 'progress') : 'none',
  };
})();
