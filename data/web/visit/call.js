/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The patient's side of the video visit, a feature module of the visit page (visit.js mounts it
 * once the pre-consultation is done). The doctor calls; the page rings, asks for consent to the
 * video visit before the camera starts (a FHIR Consent the doctor can see), then joins with
 * getUserMedia and RTCPeerConnection. Signaling rides the visit's own WebSocket (/ws) as
 * offer / answer / ice / hangup frames of this encounter; ICE servers come from the server.
 *
 * A reload during a call re-joins it: the page remembers the call for a short while and offers
 * again under the same call id. The doctor's side replaces a broken connection by offering anew
 * (same call id, new session); the page answers on a fresh RTCPeerConnection. Text from the
 * server or the doctor is only ever set as text. */
(() => {
  'use strict';

  const CONSENT_SYSTEM = 'https://wenzhen.example/fhir/Consent/video-visit';
  const RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000];
  /* A reload within this time re-joins the call without ringing. */
  const REJOIN_MS = 2 * 60 * 1000;
  /* How long a re-join offer waits for the doctor's answer. */
  const REJOIN_WAIT_MS = 15000;
  const RING_MS = 60000;
  /* A dropped connection that has not come back by then ends the call on this side too, as the
   * doctor's app does after 30 s (whose hangup may not get through the same network). */
  const RECONNECT_GIVE_UP_MS = 30000;

  const STRINGS = {
    en: {
      title: 'Video visit',
      idle: 'When your doctor starts the video visit, it will ring here.',
      ringing: 'Your doctor is calling for the video visit',
      accept: 'Answer',
      decline: 'Decline',
      consentTitle: 'Before the camera starts',
      consentText1: 'The video visit is a live consultation with your doctor over the internet. ' +
        'Your camera and microphone are used only during the call.',
      consentText2: 'The call is not recorded. The time it started and ended is kept in your visit record.',
      consentText3: 'You can end the call at any time. If the picture or sound is too poor, your doctor may ask you to visit in person.',
      consentAgree: 'I agree, start the camera',
      consentDecline: 'I do not agree',
      consentFailed: 'Your consent could not be saved. Check your connection and try again.',
      starting: 'Starting your camera…',
      connecting: 'Connecting to your doctor…',
      connected: 'In the video visit',
      reconnecting: 'The connection dropped. Reconnecting…',
      rejoining: 'Rejoining the video visit…',
      ended: 'The video visit has ended.',
      endedByDoctor: 'Your doctor ended the video visit.',
      declined: 'You declined the call.',
      consentDeclined: 'You did not agree to the video visit, so the camera was not started. You can still message your doctor.',
      failed: 'The video visit could not be connected. Your doctor can call again.',
      connectionLost: 'The connection to your doctor was lost. When your connection is back, your doctor can call again.',
      cameraRefused: 'The camera and microphone were not allowed. Your doctor has been told. To join, allow them for this page in your browser settings, then ask your doctor to call again.',
      noCamera: 'No camera was found; your doctor can hear you but not see you.',
      unsupported: 'This browser cannot make video calls. Please open the link in a current browser.',
      mute: 'Mute',
      unmute: 'Unmute',
      cameraOff: 'Turn camera off',
      cameraOn: 'Turn camera on',
      hangUp: 'Hang up',
      remoteLabel: 'Your doctor',
      selfLabel: 'You',
      duration: 'Duration {time}',
    },
    zh: {
      title: '视频问诊',
      idle: '医生开始视频问诊时，这里会响铃。',
      ringing: '医生正在呼叫您进行视频问诊',
      accept: '接听',
      decline: '拒绝',
      consentTitle: '开启摄像头之前',
      consentText1: '视频问诊是您与医生通过互联网进行的实时问诊。摄像头和麦克风只在通话期间使用。',
      consentText2: '通话不会被录制。通话的开始和结束时间会记入您的就诊记录。',
      consentText3: '您可以随时结束通话。如果画面或声音太差，医生可能会请您到医院就诊。',
      consentAgree: '我同意，开启摄像头',
      consentDecline: '我不同意',
      consentFailed: '未能保存您的同意。请检查网络后重试。',
      starting: '正在开启摄像头…',
      connecting: '正在连接医生…',
      connected: '视频问诊中',
      reconnecting: '连接中断，正在重新连接…',
      rejoining: '正在重新加入视频问诊…',
      ended: '视频问诊已结束。',
      endedByDoctor: '医生已结束视频问诊。',
      declined: '您拒绝了通话。',
      consentDeclined: '您未同意视频问诊，因此没有开启摄像头。您仍可以给医生发消息。',
      failed: '视频问诊未能接通。医生可以再次呼叫。',
      connectionLost: '与医生的连接已中断。网络恢复后，医生可以再次呼叫您。',
      cameraRefused: '摄像头和麦克风未被允许使用，医生已收到通知。如需加入，请在浏览器设置中允许本页面使用它们，然后请医生再次呼叫。',
      noCamera: '未找到摄像头；医生能听到您的声音，但看不到画面。',
      unsupported: '此浏览器不支持视频通话。请用较新的浏览器打开链接。',
      mute: '静音',
      unmute: '取消静音',
      cameraOff: '关闭摄像头',
      cameraOn: '开启摄像头',
      hangUp: '挂断',
      remoteLabel: '您的医生',
      selfLabel: '您',
      duration: '通话时长 {time}',
    },
  };

  function newUuid () {
    if (window.crypto && crypto.randomUUID)
      return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function localDateTime (date) {
    const pad = (n) => String(n).padStart(2, '0');
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? '+' : '-';
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
      `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  }

  /* The o= session id of an SDP: the same over one connection's renegotiations. */
  function sdpSession (sdp) {
    const m = /^o=\S+ (\S+) /m.exec(sdp || '');
    return m ? m[1] : null;
  }

  function mount (container, ctx) {
    const session = ctx.session;
    const el = ctx.el;
    const encounterRef = 'Encounter/' + session.encounter;
    const patientRef = 'Patient/' + session.patient;
    const storeKey = 'wz-call:' + session.encounter;

    const state = {
      view: 'idle',          /* idle ringing consent starting connecting connected reconnecting ended */
      endKey: null,          /* STRINGS key shown when ended */
      notice: null,          /* STRINGS key of a side note (no camera) */
      callId: null,
      doctor: null,          /* "Practitioner/…" who called */
      offer: null,           /* pending offer frame while ringing / asking consent */
      pc: null,
      remoteSession: null,
      weOffered: false,
      queued: [],            /* ICE candidates before the remote description */
      stream: null,
      muted: false,
      cameraOff: false,
      consented: false,
      busy: false,
      connectedAt: 0,
      iceServers: null,
      ringTimer: null,
      rejoinTimer: null,
      lostTimer: null,
      tick: null,
      over: new Set(),       /* ids of calls that ended here: late frames of theirs never ring */
    };

    const t = (key, values) => {
      let text = STRINGS[ctx.lang()][key] || STRINGS.en[key] || key;
      for (const [k, v] of Object.entries(values || {}))
        text = text.replace('{' + k + '}', v);
      return text;
    };

    /* -- Remembering the call across a reload -- */

    function remember () {
      try {
        sessionStorage.setItem(storeKey, JSON.stringify({
          callId: state.callId, doctor: state.doctor, at: Date.now(), consented: state.consented,
        }));
      } catch (e) { /* private mode: no re-join, the doctor calls again */ }
    }

    function forget () {
      try {
        sessionStorage.removeItem(storeKey);
      } catch (e) { /* nothing stored */ }
    }

    function remembered () {
      try {
        const saved = JSON.parse(sessionStorage.getItem(storeKey) || 'null');
        if (saved && saved.callId && Date.now() - saved.at < REJOIN_MS)
          return saved;
      } catch (e) { /* unreadable: start afresh */ }
      return null;
    }

    /* -- Rendering -- */

    const remoteVideo = el('video', { id: 'call-remote', class: 'call-remote', autoplay: true, playsinline: true });
    const selfVideo = el('video', { id: 'call-self', class: 'call-self', autoplay: true, playsinline: true });
    selfVideo.muted = true;
    remoteVideo.setAttribute('playsinline', '');
    selfVideo.setAttribute('playsinline', '');

    function formatDuration (ms) {
      const s = Math.floor(ms / 1000);
      const pad = (n) => String(n).padStart(2, '0');
      return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
    }

    function render () {
      container.dataset.callState = state.view;
      container.classList.toggle('in-call', ['connecting', 'connected', 'reconnecting'].includes(state.view));
      const heading = el('h2', { class: 'panel-title', text: t('title') });
      const parts = [heading];

      if (state.view === 'idle') {
        parts.push(el('p', { class: 'call-status', id: 'call-status', text: t('idle') }));
      } else if (state.view === 'ringing') {
        parts.push(
          el('p', { class: 'call-status call-ringing', id: 'call-status', role: 'alert', text: t('ringing') }),
          el('div', { class: 'actions' },
            el('button', { type: 'button', class: 'button primary call-accept', id: 'call-accept', onclick: accept, text: t('accept') }),
            el('button', { type: 'button', class: 'button danger', id: 'call-decline', onclick: () => decline('declined'), text: t('decline') })));
      } else if (state.view === 'consent') {
        parts.push(
          el('h3', { class: 'call-consent-title', text: t('consentTitle') }),
          el('div', { class: 'consent-text' },
            el('p', { text: t('consentText1') }),
            el('p', { text: t('consentText2') }),
            el('p', { text: t('consentText3') })),
          state.notice === 'consentFailed' ? el('p', { class: 'field-error', role: 'alert', text: t('consentFailed') }) : null,
          el('div', { class: 'actions stacked' },
            el('button', { type: 'button', class: 'button primary', id: 'call-consent-agree', disabled: state.busy, onclick: agreeConsent, text: t('consentAgree') }),
            el('button', { type: 'button', class: 'button secondary', id: 'call-consent-decline', onclick: () => decline('declined', 'consentDeclined'), text: t('consentDecline') })));
      } else if (['starting', 'connecting', 'connected', 'reconnecting'].includes(state.view)) {
        const status = state.view === 'connected'
          ? t('connected') + ' · ' + t('duration', { time: formatDuration(Date.now() - state.connectedAt) })
          : t(state.weOffered && state.view === 'connecting' ? 'rejoining' : state.view);
        remoteVideo.setAttribute('aria-label', t('remoteLabel'));
        selfVideo.setAttribute('aria-label', t('selfLabel'));
        parts.push(
          el('p', { class: 'call-status', id: 'call-status', role: 'status', text: status }),
          el('div', { class: 'call-stage' }, remoteVideo, selfVideo),
          state.notice ? el('p', { class: 'notice', id: 'call-notice', text: t(state.notice) }) : null,
          el('div', { class: 'call-controls actions' },
            el('button', { type: 'button', class: 'button secondary', id: 'call-mute', 'aria-pressed': String(state.muted), onclick: toggleMute, text: t(state.muted ? 'unmute' : 'mute') }),
            el('button', { type: 'button', class: 'button secondary', id: 'call-camera', 'aria-pressed': String(state.cameraOff), onclick: toggleCamera, text: t(state.cameraOff ? 'cameraOn' : 'cameraOff') }),
            el('button', { type: 'button', class: 'button danger', id: 'call-hangup', onclick: () => hangUp('ended'), text: t('hangUp') })));
      } else if (state.view === 'ended') {
        parts.push(el('p', { class: 'call-status call-ended', id: 'call-status', role: 'status', text: t(state.endKey || 'ended') }));
      }

      /* The video elements are moved, not recreated, so playback never restarts on a re-render. */
      container.replaceChildren(...parts.filter(Boolean));
    }

    function setView (view) {
      state.view = view;
      render();
    }

    /* -- The WebSocket -- */

    let socket = null;
    let socketAttempt = 0;
    let socketTimer = null;
    let sessionEnded = false;

    function send (frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN)
        return false;
      socket.send(JSON.stringify({ ...frame, encounter: encounterRef }));
      return true;
    }

    function connectSocket () {
      clearTimeout(socketTimer);
      socketTimer = null;
      if (sessionEnded || (socket && socket.readyState <= WebSocket.OPEN))
        return;
      const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(`${scheme}//${window.location.host}/ws?access_token=${encodeURIComponent(session.token)}`);
      socket = ws;
      ws.addEventListener('open', () => {
        socketAttempt = 0;
      });
      ws.addEventListener('message', (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        if (frame && frame.type === 'hello')
          onHello();
        else
          onFrame(frame).catch((error) => console.error('call frame', error));
      });
      ws.addEventListener('close', (event) => {
        if (socket !== ws)
          return;
        socket = null;
        if (event.code === 1008) {
          sessionEnded = true;
          return;
        }
        const delay = RETRY_DELAYS[Math.min(socketAttempt++, RETRY_DELAYS.length - 1)];
        socketTimer = setTimeout(connectSocket, delay * (0.8 + Math.random() * 0.4));
      });
    }

    /* -- Media -- */

    async function iceServers () {
      if (state.iceServers)
        return state.iceServers;
      try {
        const json = await ctx.api('GET', '/visit/ice-servers');
        state.iceServers = Array.isArray(json && json.iceServers) ? json.iceServers : [];
      } catch (e) {
        /* Host candidates alone still connect on the same network. */
        state.iceServers = [];
      }
      return state.iceServers;
    }

    async function startMedia () {
      if (state.stream)
        return state.stream;
      if (!navigator.mediaDevices || !window.RTCPeerConnection)
        throw Object.assign(new Error('unsupported'), { name: 'Unsupported' });
      try {
        state.stream = await navigator.mediaDevices.getUserMedia({
          video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
          audio: { echoCancellation: true, noiseSuppression: true },
        });
      } catch (error) {
        if (error.name !== 'NotFoundError' && error.name !== 'OverconstrainedError')
          throw error;
        /* No camera: join with the microphone so the doctor can at least hear the patient. */
        state.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        state.notice = 'noCamera';
      }
      selfVideo.srcObject = state.stream;
      applyTrackStates();
      return state.stream;
    }

    function applyTrackStates () {
      if (!state.stream)
        return;
      for (const track of state.stream.getAudioTracks())
        track.enabled = !state.muted;
      for (const track of state.stream.getVideoTracks())
        track.enabled = !state.cameraOff;
    }

    function stopMedia () {
      if (state.stream)
        for (const track of state.stream.getTracks())
          track.stop();
      state.stream = null;
      selfVideo.srcObject = null;
      remoteVideo.srcObject = null;
    }

    function closePeer () {
      if (state.pc) {
        state.pc.onicecandidate = null;
        state.pc.ontrack = null;
        state.pc.onconnectionstatechange = null;
        state.pc.close();
      }
      state.pc = null;
      state.remoteSession = null;
      state.queued = [];
    }

    async function newPeer () {
      closePeer();
      const pc = new RTCPeerConnection({ iceServers: await iceServers(), bundlePolicy: 'max-bundle' });
      state.pc = pc;
      for (const track of state.stream.getTracks())
        pc.addTrack(track, state.stream);
      pc.onicecandidate = (event) => {
        if (event.candidate && event.candidate.candidate)
          send({ type: 'ice', call: state.callId, candidate: event.candidate.candidate,
                 sdpMLineIndex: event.candidate.sdpMLineIndex, sdpMid: event.candidate.sdpMid });
      };
      pc.ontrack = (event) => {
        const stream = event.streams[0] || new MediaStream([event.track]);
        if (remoteVideo.srcObject !== stream)
          remoteVideo.srcObject = stream;
      };
      pc.onconnectionstatechange = () => {
        if (state.pc !== pc)
          return;
        const s = pc.connectionState;
        if (s === 'connected') {
          clearTimeout(state.rejoinTimer);
          clearTimeout(state.lostTimer);
          state.lostTimer = null;
          if (!state.connectedAt)
            state.connectedAt = Date.now();
          state.weOffered = false;
          remember();
          setView('connected');
        } else if ((s === 'disconnected' || s === 'failed') && state.view === 'connected') {
          /* The doctor's side makes the new connection; the page waits for its offer. */
          setView('reconnecting');
          clearTimeout(state.lostTimer);
          state.lostTimer = setTimeout(() => {
            if (state.view === 'reconnecting')
              hangUp('failed', 'connectionLost');
          }, RECONNECT_GIVE_UP_MS);
        }
      };
      return pc;
    }

    async function flushCandidates () {
      const queued = state.queued;
      state.queued = [];
      for (const c of queued)
        await state.pc.addIceCandidate(c).catch(() => {});
    }

    async function answer (frame) {
      const sessionId = sdpSession(frame.sdp);
      if (!state.pc || sessionId !== state.remoteSession)
        await newPeer();
      const pc = state.pc;
      state.remoteSession = sessionId;
      await pc.setRemoteDescription({ type: 'offer', sdp: frame.sdp });
      await flushCandidates();
      const reply = await pc.createAnswer();
      await pc.setLocalDescription(reply);
      /* Names the offer it answers, so a late answer to an older one is told apart. */
      send({ type: 'answer', call: state.callId, sdp: pc.localDescription.sdp,
             ...(typeof frame.offerId === 'string' ? { offerId: frame.offerId } : {}) });
      if (state.view !== 'connected' && state.view !== 'reconnecting')
        setView('connecting');
    }

    /* -- The call's course -- */

    function clearTimers () {
      clearTimeout(state.ringTimer);
      clearTimeout(state.rejoinTimer);
      clearTimeout(state.lostTimer);
      clearInterval(state.tick);
      state.ringTimer = state.rejoinTimer = state.lostTimer = state.tick = null;
    }

    function finish (endKey) {
      if (state.callId)
        state.over.add(state.callId);
      clearTimers();
      closePeer();
      stopMedia();
      forget();
      state.callId = null;
      state.offer = null;
      state.weOffered = false;
      state.connectedAt = 0;
      state.muted = false;
      state.cameraOff = false;
      state.endKey = endKey;
      state.notice = null;
      setView('ended');
    }

    function hangUp (reason, endKey) {
      if (state.callId)
        send({ type: 'hangup', call: state.callId, reason });
      finish(endKey || 'ended');
    }

    function decline (reason, endKey) {
      hangUp(reason, endKey || 'declined');
    }

    async function hasConsent () {
      if (state.consented)
        return true;
      try {
        const bundle = await ctx.api('GET', '/fhir/Consent?identifier=' +
          encodeURIComponent(CONSENT_SYSTEM + '|' + session.encounter));
        state.consented = !!(bundle && bundle.entry && bundle.entry.some(
          (e) => e.resource && e.resource.status === 'active'));
      } catch (e) {
        state.consented = false;
      }
      return state.consented;
    }

    function consentResource () {
      const now = localDateTime(new Date());
      return {
        resourceType: 'Consent',
        identifier: [{ system: CONSENT_SYSTEM, value: session.encounter }],
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment', display: 'Treatment' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }],
                     text: '视频问诊知情同意 Consent to a video visit' }],
        patient: { reference: patientRef },
        dateTime: now,
        performer: [{ reference: patientRef }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        provision: {
          type: 'permit',
          period: { start: now },
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
          data: [{ meaning: 'related', reference: { reference: encounterRef } }],
        },
      };
    }

    async function agreeConsent () {
      state.busy = true;
      state.notice = null;
      render();
      try {
        await ctx.api('POST', '/fhir/Consent', consentResource(),
          { 'If-None-Exist': 'identifier=' + encodeURIComponent(CONSENT_SYSTEM + '|' + session.encounter) });
        state.consented = true;
      } catch (error) {
        state.busy = false;
        state.notice = 'consentFailed';
        render();
        return;
      }
      state.busy = false;
      await join();
    }

    async function accept () {
      clearTimeout(state.ringTimer);
      if (!(await hasConsent())) {
        setView('consent');
        return;
      }
      await join();
    }

    /* Camera on, then answer the waiting offer. */
    async function join () {
      const offer = state.offer;
      state.offer = null;
      setView('starting');
      try {
        await startMedia();
      } catch (error) {
        if (error.name === 'Unsupported') {
          hangUp('failed', 'unsupported');
        } else {
          /* NotAllowedError and the like: the doctor's app says the camera was refused. */
          hangUp('camera-refused', 'cameraRefused');
        }
        return;
      }
      if (!state.callId)
        return;  /* hung up while the camera started */
      state.tick = setInterval(() => {
        if (state.view === 'connected')
          render();
      }, 1000);
      remember();
      if (offer)
        await answer(offer).catch((error) => {
          console.error('answering the call failed', error);
          hangUp('failed', 'failed');
        });
    }

    /* After a reload: offer again under the remembered call id. */
    async function rejoin (saved) {
      state.callId = saved.callId;
      state.doctor = saved.doctor;
      state.consented = !!saved.consented;
      state.weOffered = true;
      setView('connecting');
      try {
        await startMedia();
      } catch (error) {
        hangUp(error.name === 'Unsupported' ? 'failed' : 'camera-refused',
               error.name === 'Unsupported' ? 'unsupported' : 'cameraRefused');
        return;
      }
      state.tick = setInterval(() => {
        if (state.view === 'connected')
          render();
      }, 1000);
      const pc = await newPeer();
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: 'offer', call: state.callId, sdp: pc.localDescription.sdp });
      state.rejoinTimer = setTimeout(() => {
        if (state.view !== 'connected')
          finish('failed');
      }, REJOIN_WAIT_MS);
    }

    let helloSeen = false;
    function onHello () {
      if (helloSeen)
        return;
      helloSeen = true;
      const saved = remembered();
      if (saved && state.view === 'idle')
        rejoin(saved).catch((error) => {
          console.error('rejoining failed', error);
          finish('failed');
        });
    }

    async function onFrame (frame) {
      if (!frame || typeof frame !== 'object' || frame.encounter !== encounterRef ||
          typeof frame.call !== 'string' || frame.from === patientRef)
        return;
      /* Only the doctor's side of this visit calls the patient. */
      if (typeof frame.from !== 'string' || !frame.from.startsWith('Practitioner/'))
        return;

      if (frame.type === 'offer' && typeof frame.sdp === 'string') {
        /* A description without media, DTLS fingerprint or ICE credentials cannot start a call:
         * it must neither ring nor replace the call in progress. */
        if (!/^m=/m.test(frame.sdp) || !/^a=fingerprint:/m.test(frame.sdp) || !/^a=ice-ufrag:/m.test(frame.sdp))
          return;
        if (state.over.has(frame.call))
          return;  /* sent before the call ended here, delivered after (a network that came back) */
        if (frame.call === state.callId) {
          /* The doctor's side reconnects (or answers our re-join with a counter-offer). */
          if (state.stream && ['connecting', 'connected', 'reconnecting', 'starting'].includes(state.view))
            await answer(frame);
          else
            state.offer = frame;
          return;
        }
        const live = state.callId && ['starting', 'connecting', 'connected', 'reconnecting'].includes(state.view);
        if (live && frame.from !== state.doctor) {
          send({ type: 'hangup', call: frame.call, reason: 'busy' });
          return;
        }
        const saved = remembered();
        const recent = (live || (saved && saved.doctor === frame.from)) && (state.consented || (saved && saved.consented));
        if (live) {
          /* The doctor's app restarted and calls again: carry on in the new call. */
          closePeer();
        }
        clearTimers();
        state.callId = frame.call;
        state.doctor = frame.from;
        state.offer = frame;
        state.connectedAt = 0;
        if (recent && state.stream) {
          state.offer = null;
          state.tick = setInterval(() => {
            if (state.view === 'connected')
              render();
          }, 1000);
          await answer(frame);
        } else if (recent) {
          state.consented = true;
          await join();
        } else {
          state.endKey = null;
          setView('ringing');
          if (navigator.vibrate)
            navigator.vibrate([400, 200, 400]);
          state.ringTimer = setTimeout(() => {
            if (state.view === 'ringing')
              finish('ended');
          }, RING_MS);
        }
        return;
      }

      if (frame.call !== state.callId)
        return;

      if (frame.type === 'answer' && typeof frame.sdp === 'string' && state.pc && state.weOffered) {
        state.remoteSession = sdpSession(frame.sdp);
        await state.pc.setRemoteDescription({ type: 'answer', sdp: frame.sdp });
        await flushCandidates();
      } else if (frame.type === 'ice' && typeof frame.candidate === 'string' && frame.candidate) {
        const candidate = { candidate: frame.candidate, sdpMLineIndex: Number(frame.sdpMLineIndex) || 0 };
        if (state.pc && state.pc.remoteDescription)
          await state.pc.addIceCandidate(candidate).catch(() => {});
        else
          state.queued.push(candidate);
      } else if (frame.type === 'hangup') {
        if (frame.reason === 'failed')
          finish('failed');
        else
          finish(state.connectedAt ? 'endedByDoctor' : 'ended');
      }
    }

    function toggleMute () {
      state.muted = !state.muted;
      applyTrackStates();
      render();
    }

    function toggleCamera () {
      state.cameraOff = !state.cameraOff;
      applyTrackStates();
      render();
    }

    /* Figures for diagnostics (and the browser tests): what this side has decoded and heard. */
    window.wzCallDiagnostics = async () => {
      const result = { state: state.view, callId: state.callId, connectedAt: state.connectedAt,
                       framesDecoded: 0, audioPacketsReceived: 0, audioEnergy: 0, framesSent: 0 };
      if (!state.pc)
        return result;
      const report = await state.pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          result.framesDecoded += s.framesDecoded || 0;
          result.video = { received: s.framesReceived, dropped: s.framesDropped, keyFrames: s.keyFramesDecoded,
                           lost: s.packetsLost, packets: s.packetsReceived, jbDelay: s.jitterBufferDelay, pli: s.pliCount, nack: s.nackCount, width: s.frameWidth };
        }
        else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          result.audioPacketsReceived += s.packetsReceived || 0;
          result.audioEnergy += s.totalAudioEnergy || 0;
        } else if (s.type === 'outbound-rtp' && s.kind === 'video')
          result.framesSent += s.framesEncoded || 0;
      });
      return result;
    };

    ctx.onLang(render);
    window.addEventListener('pagehide', () => {
      /* A reload keeps the call to re-join; only the media is let go. */
      closePeer();
      stopMedia();
    });
    render();
    connectSocket();
  }

  (window.wzVisitModules ||= []).push({ id: 'call', order: 5, mount });
})();
