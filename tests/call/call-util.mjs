// SPDX-License-Identifier: GPL-3.0-or-later
// What the call tests in Chromium share: the doctor's engine as a child process (wz-call-probe,
// commands in, one JSON status per line out), the patient page in a browser context that has
// already done its pre-consultation, the page's call diagnostics, and screenshots.

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { buildDirFor, launchBrowser } from '../browser/harness.mjs';

export const buildDir = buildDirFor('wz-call');
export const shotDir = path.join(buildDir, 'screenshots');
export const probeBinary = process.env.WZ_CALL_PROBE || path.join(buildDir, 'tests', 'call', 'wz-call-probe');

let lastProbe = null;

/* wz-call-probe signed in with TOKEN on SERVER's /ws for ENCOUNTERREF. probe.last is the latest
 * status; probe.events the other lines (ready, refused, …); probe.until(check, what, ms) waits
 * for a status line CHECK accepts. */
export function startProbe (server, token, encounterRef, { args = [] } = {}) {
  const child = spawn(probeBinary, ['--server', server.base, '--token', token,
    '--encounter', encounterRef, ...args], { stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, WZ_CALL_AUDIO_SINK: 'fakesink' } });
  const probe = { child, last: null, events: [], waiters: [], states: [] };
  lastProbe = probe;
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let status;
    try {
      status = JSON.parse(line);
    } catch (e) {
      return;
    }
    if (status.event === 'status' || status.event === 'state' || status.event === 'command') {
      probe.last = status;
      if (status.state && probe.states[probe.states.length - 1] !== status.state)
        probe.states.push(status.state);
    } else
      probe.events.push(status);
    for (const w of [...probe.waiters])
      if (w.check(status)) {
        probe.waiters.splice(probe.waiters.indexOf(w), 1);
        w.resolve(status);
      }
  });
  probe.send = (command) => child.stdin.write(command + '\n');
  probe.until = (check, what, ms = 20000) => new Promise((resolve, reject) => {
    if (probe.last && check(probe.last))
      return resolve(probe.last);
    const w = { check, resolve };
    probe.waiters.push(w);
    setTimeout(() => {
      if (probe.waiters.includes(w)) {
        probe.waiters.splice(probe.waiters.indexOf(w), 1);
        reject(new Error(`probe: ${what} did not happen; last ${JSON.stringify(probe.last)}`));
      }
    }, ms);
  });
  probe.stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve();
    child.on('exit', resolve);
    probe.send('quit');
    setTimeout(() => child.kill('SIGKILL'), 5000);
  });
  return probe;
}

/* Debian's chromium with a fake camera and microphone, allowed without asking, and ICE over
 * loopback (the test's only network). */
export function launchCallBrowser () {
  return launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
                        '--allow-loopback-in-peer-connection',
                        '--autoplay-policy=no-user-gesture-required']);
}

/* A browser context for the patient of ENCOUNTERID whose pre-consultation is done on this
 * device, so the visit link opens on the visit home. */
export async function patientPage (browser, encounterId, { fakeDevices = true } = {}) {
  const context = await browser.newContext({ viewport: { width: 800, height: 1000 }, locale: 'en-GB',
    permissions: fakeDevices ? ['camera', 'microphone'] : [] });
  await context.addInitScript((enc) => {
    if (!localStorage.getItem('wz-preconsult:' + enc))
      localStorage.setItem('wz-preconsult:' + enc, JSON.stringify({
        draft: { consented: true, consentStored: true }, result: { redFlags: [], sent: true, queue: null } }));
  }, encounterId);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems };
}

export async function diagnostics (page) {
  return page.evaluate(() => window.wzCallDiagnostics());
}

/* Polls the page's call diagnostics until CHECK accepts them. */
export async function waitDiag (page, check, what, ms = 20000) {
  const deadline = Date.now() + ms;
  let last = null;
  while (Date.now() < deadline) {
    last = await diagnostics(page);
    if (check(last))
      return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`page: ${what} did not happen; last ${JSON.stringify(last)}; engine ${JSON.stringify(lastProbe && lastProbe.last)}`);
}

export async function shot (page, name) {
  fs.mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, name), fullPage: true });
}
