// SPDX-License-Identifier: GPL-3.0-or-later
// A video call between the doctor's engine (wz-call-probe: WzCall without a window, on the real
// server's /ws) and the patient page in Debian's chromium with fake camera and microphone:
// ring, consent (a Consent the doctor can read), frames decoded on both sides, mute silences
// the patient's speaker side, a reload re-joins, stray signaling changes nothing, hangup ends
// both sides; and a refused camera reaches the doctor as "camera-refused".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  haveServer, serverEnv, startServer, stopServer, login as loginAs, fhirGet,
  visitLink as linkFor,
} from '../browser/harness.mjs';
import {
  buildDir, probeBinary, startProbe as startProbeFor, launchCallBrowser,
  patientPage as patientPageIn, diagnostics, waitDiag, shot,
} from './call-util.mjs';

const skip = !haveServer || !fs.existsSync(probeBinary)
  ? 'wenzhen-server or wz-call-probe is not built'
  : false;

let server = null;
let browser = null;
const tokens = {};

async function login (username) {
  return (await loginAs(server, username)).access_token;
}

async function fhir (username, pathAndQuery) {
  return fhirGet(server, tokens[username], pathAndQuery, username);
}

function visitLink (encounterId) {
  return linkFor(server, encounterId);
}

function startProbe (encounterRef) {
  return startProbeFor(server, tokens.doctor, encounterRef);
}

function patientPage (encounterId, options) {
  return patientPageIn(browser, encounterId, options);
}

before(async () => {
  if (skip)
    return;
  server = await startServer('wz-call-data', { args: ['--stun-server', 'stun:127.0.0.1:3478'] });
  for (const user of ['doctor', 'pharmacist'])
    tokens[user] = await login(user);
  browser = await launchCallBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await stopServer(server);
});

async function doctorsVisit (index) {
  const bundle = await fhir('doctor', 'Encounter?_count=50');
  const visits = bundle.entry.map((e) => e.resource).filter((e) => e.status !== 'finished' && e.status !== 'cancelled');
  assert.ok(visits.length > index, 'the doctor has enough open visits');
  return visits[index];
}

test('a call from the doctor\'s engine to the patient page', { skip, timeout: 240000 }, async () => {
  const encounter = await doctorsVisit(0);
  const encounterRef = 'Encounter/' + encounter.id;
  const probe = startProbe(encounterRef);
  const { context, page, problems } = await patientPage(encounter.id);
  try {
    await page.goto(visitLink(encounter.id));
    await page.waitForSelector('#panel-call[data-call-state="idle"]');
    if (!probe.events.some((e) => e.event === 'ready'))
      await probe.until((s) => s.event === 'ready', 'the probe\'s socket opens', 10000);

    // The doctor calls: the page rings; answering asks for consent before the camera starts.
    probe.send('call');
    await page.waitForSelector('#call-accept', { timeout: 15000 });
    await shot(page, 'call-ringing-en.png');
    await page.click('#call-accept');
    await page.waitForSelector('#call-consent-agree');
    assert.equal((await diagnostics(page)).state, 'consent', 'no camera before consent');
    await shot(page, 'call-consent-en.png');
    await page.click('#call-consent-agree');

    // Frames decoded on both sides.
    await probe.until((s) => s.state === 'connected', 'the doctor\'s side connects', 20000);
    await page.waitForSelector('#panel-call[data-call-state="connected"]', { timeout: 20000 });
    const seen = await waitDiag(page, (d) => d.framesDecoded >= 60 && d.audioPacketsReceived > 50,
      'the page decodes 60 frames and hears the doctor');
    await probe.until((s) => s.framesDecoded >= 60 && s.audioPackets > 50, 'the engine decodes 60 frames');
    assert.equal(seen.state, 'connected');
    await shot(page, 'call-connected-en.png');
    const remoteSize = await page.evaluate(() => {
      const v = document.getElementById('call-remote');
      return [v.videoWidth, v.videoHeight];
    });
    assert.deepEqual(remoteSize, [640, 480], 'the doctor\'s picture arrives at 640×480');

    // The consent is on record for the doctor.
    const consents = await fhir('doctor', `Consent?patient=${encounter.subject.reference.replace('Patient/', '')}`);
    assert.ok((consents.entry || []).some((e) => (e.resource.identifier || []).some(
      (i) => i.system === 'https://wenzhen.example/fhir/Consent/video-visit' && i.value === encounter.id)),
    'the doctor can read the video-visit consent');

    // The doctor mutes: the audio energy the page hears stops growing (packets keep coming).
    await new Promise((r) => setTimeout(r, 1000));
    probe.send('mute');
    await new Promise((r) => setTimeout(r, 1500));
    const m1 = await diagnostics(page);
    await new Promise((r) => setTimeout(r, 2000));
    const m2 = await diagnostics(page);
    assert.ok(m2.audioEnergy - m1.audioEnergy < 0.001,
      `muted audio still carries energy: ${m2.audioEnergy - m1.audioEnergy}`);
    probe.send('unmute');
    await new Promise((r) => setTimeout(r, 1500));
    const u1 = await diagnostics(page);
    await new Promise((r) => setTimeout(r, 1500));
    const u2 = await diagnostics(page);
    assert.ok(u2.audioEnergy - u1.audioEnergy > 0.01, 'unmuted audio is heard again');

    // The patient mutes: the engine's received level drops to silence.
    await page.click('#call-mute');
    await probe.until((s) => s.audioLevel < -70, 'the patient\'s mute silences the doctor\'s speaker', 8000);
    await page.click('#call-mute');
    await probe.until((s) => s.audioLevel > -60, 'the patient is heard again', 8000);

    // Stray signaling: a broken offer and a candidate for a call nobody has change nothing;
    // an offer from a practitioner outside the visit is refused by the server.
    probe.send('garbage-offer');
    probe.send('ice-unknown');
    const intruder = await page.evaluate(([base, token, ref]) => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?access_token=${token}`);
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'hello')
          ws.send(JSON.stringify({ type: 'offer', call: 'intruder', encounter: ref, sdp: 'v=0' }));
        else if (frame.type === 'error') {
          ws.close();
          resolve(frame.message);
        }
      };
      ws.onerror = () => reject(new Error('socket error'));
      setTimeout(() => reject(new Error('no answer to the intruder')), 5000);
    }), [server.base, tokens.pharmacist, encounterRef]);
    assert.match(intruder, /not a participant/);
    const before = await diagnostics(page);
    await new Promise((r) => setTimeout(r, 3000));
    const afterStray = await diagnostics(page);
    assert.equal(afterStray.state, 'connected', 'the page is still in the call');
    // Loose on purpose: a loaded CI machine decodes slowly, but a stopped call decodes nothing.
    assert.ok(afterStray.framesDecoded > before.framesDecoded + 10,
      `frames still flow to the page: ${JSON.stringify(before)} → ${JSON.stringify(afterStray)}; probe ${JSON.stringify(probe.last)}`);
    assert.equal(probe.last.state, 'connected', 'the engine is still in the call');

    // A reload re-joins the same call without ringing.
    const framesBefore = probe.last.framesDecoded;
    await page.reload();
    await page.waitForSelector('#panel-call[data-call-state="connected"]', { timeout: 25000 });
    await waitDiag(page, (d) => d.framesDecoded >= 30, 'the re-joined page decodes frames');
    await probe.until((s) => s.state === 'connected' && s.framesDecoded > framesBefore + 30,
      'the engine gets frames after the re-join');

    // The doctor hangs up: both sides end, the page says who ended it.
    probe.send('hangup');
    await probe.until((s) => s.state === 'ended' && s.endedBy === 'local', 'the engine ends');
    await page.waitForSelector('#panel-call[data-call-state="ended"]', { timeout: 10000 });
    assert.match(await page.textContent('#call-status'), /doctor ended/);
    await shot(page, 'call-ended-en.png');
    assert.deepEqual(problems, []);
  } finally {
    await probe.stop();
    await context.close();
  }
});

test('the patient hangs up, and a refused camera reaches the doctor', { skip, timeout: 120000 }, async () => {
  const encounter = await doctorsVisit(1);
  const encounterRef = 'Encounter/' + encounter.id;
  const probe = startProbe(encounterRef);
  const { context, page } = await patientPage(encounter.id);
  try {
    await page.goto(visitLink(encounter.id));
    await page.waitForSelector('#panel-call[data-call-state="idle"]');
    probe.send('call');
    await page.click('#call-accept', { timeout: 15000 });
    await page.click('#call-consent-agree');
    await probe.until((s) => s.state === 'connected' && s.framesDecoded > 10, 'connected');
    await page.click('#call-hangup');
    await probe.until((s) => s.state === 'ended' && s.endedBy === 'remote' && s.endReason === 'ended',
      'the patient\'s hangup ends the engine\'s call');
    assert.equal(await page.getAttribute('#panel-call', 'data-call-state'), 'ended');

    // Camera refused: the page says so and the doctor gets the reason (consent already given).
    await page.evaluate(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    probe.send('call');
    await page.click('#call-accept', { timeout: 15000 });
    await probe.until((s) => s.state === 'ended' && s.endReason === 'camera-refused',
      'the doctor learns the camera was refused');
    assert.match(probe.last.problem, /camera/);
    assert.match(await page.textContent('#call-status'), /not allowed/);
    await shot(page, 'call-camera-refused-en.png');
  } finally {
    await probe.stop();
    await context.close();
  }
});

test('the demo\'s simulated patient answers a call with a moving picture and a tone', { skip, timeout: 120000 }, async () => {
  const simBinary = process.env.WZ_SIM_PATIENT_BINARY || path.join(buildDir, 'src', 'sim', 'wenzhen-sim-patient');
  assert.ok(fs.existsSync(simBinary), 'wenzhen-sim-patient is built');
  const encounter = await doctorsVisit(2);
  const sim = spawn(simBinary, ['--server', server.base, '--link-token', visitLink(encounter.id)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: serverEnv });
  const probe = startProbe('Encounter/' + encounter.id);
  try {
    await new Promise((resolve, reject) => {
      sim.stdout.on('data', (chunk) => String(chunk).includes('sim patient ready') && resolve());
      sim.on('exit', (code) => reject(new Error(`wenzhen-sim-patient exited (${code})`)));
    });
    probe.send('call');
    await probe.until((s) => s.state === 'connected', 'the simulated patient answers', 30000);
    const first = await probe.until((s) => s.framesDecoded >= 30 && s.audioLevel > -40,
      'its picture and tone arrive', 30000);
    // A moving picture: the frames keep coming, not one still.
    await probe.until((s) => s.framesDecoded >= first.framesDecoded + 30, 'more frames', 30000);
    const consents = await fhir('doctor', `Consent?patient=${encounter.subject.reference.replace('Patient/', '')}`);
    assert.ok((consents.entry || []).some((e) => (e.resource.identifier || []).some(
      (i) => i.system === 'https://wenzhen.example/fhir/Consent/video-visit')), 'its consent is on record');
    probe.send('hangup');
    await probe.until((s) => s.state === 'ended', 'the call ends');
  } finally {
    await probe.stop();
    sim.kill('SIGTERM');
  }
});
