// SPDX-License-Identifier: GPL-3.0-or-later
// bench/call-latency, the measuring part: one 640×480@30 call on loopback between the doctor's
// engine (bench/call/call-probe: WzCall without a window) and the patient page in Debian's
// chromium, through a real wenzhen-server. Each side draws a frame counter as 16 black/white
// blocks along the top of its picture and notes when it drew each number; the far side reads the
// blocks off every frame it shows and notes when. Same machine, same wall clock, so the
// difference is the one-way glass-to-glass latency. Also: the lowest frame rate either side
// showed in any second of the call, and the CPU the engine used against the CPU Chromium's
// processes used for the same call over the same interval.
//
// Environment: WZ_BUILD (build tree), WZ_SOURCE, WZ_CALL_SECONDS (default 60).

import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sourceRoot = process.env.WZ_SOURCE || path.resolve(here, '..', '..');
const build = process.env.WZ_BUILD || path.join(sourceRoot, 'build');
const require = createRequire(path.join(sourceRoot, 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const serverBinary = path.join(build, 'src', 'server', 'wenzhen-server');
const probeBinary = path.join(build, 'bench', 'call', 'call-probe');
const seconds = Number(process.env.WZ_CALL_SECONDS || 60);
const env = { ...process.env, WZ_DATA_DIR: path.join(sourceRoot, 'data'), WZ_PWHASH_FAST: '1' };
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

for (const binary of [serverBinary, probeBinary])
  if (!fs.existsSync(binary)) {
    console.error(`call-latency: ${binary} is missing; build first`);
    process.exit(1);
  }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuTicks (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);   // utime + stime
  } catch (e) {
    return 0;
  }
}

/* PID and every process below it. */
function tree (root) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry))
      continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid))
        children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch (e) { /* gone */ }
  }
  const all = [];
  const walk = (pid) => {
    all.push(pid);
    for (const c of children.get(pid) || [])
      walk(c);
  };
  walk(root);
  return all;
}

function percentile (values, p) {
  if (!values.length)
    return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

/* Lowest count of distinct frames shown in any whole second, leaving out the first and last. */
function minFps (times) {
  if (times.length < 2)
    return 0;
  times = [...times].sort((a, b) => a - b);
  const start = times[0];
  const buckets = new Map();
  for (const t of times) {
    const b = Math.floor((t - start) / 1000);
    buckets.set(b, (buckets.get(b) || 0) + 1);
  }
  const last = Math.floor((times[times.length - 1] - start) / 1000);
  let min = Infinity;
  for (let b = 2; b < last; b++)
    min = Math.min(min, buckets.get(b) || 0);
  if (process.env.WZ_CALL_VERBOSE)
    console.error('per-second:', [...Array(last + 1).keys()].map((b) => buckets.get(b) || 0).join(' '));
  return min === Infinity ? 0 : min;
}

function latencies (sent, seen) {
  const sentAt = new Map();
  for (const [value, t] of sent)
    if (!sentAt.has(value))
      sentAt.set(value, t);
  const out = [];
  for (const [value, t] of seen)
    if (sentAt.has(value))
      out.push(t - sentAt.get(value));
  return out;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wz-call-bench-'));
let server = null;
let probe = null;
let browser = null;

async function main () {
  execFileSync(serverBinary, ['demo-data', '--data-dir', tmp + '/data'], { env, stdio: 'ignore' });
  server = spawn(serverBinary, ['serve', '--data-dir', tmp + '/data', '--listen', '127.0.0.1:0'],
    { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (c) => {
      out += c;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m)
        resolve(m[1]);
    });
    setTimeout(() => reject(new Error('the server did not start')), 20000);
  });
  const login = await (await fetch(base + '/auth/login', { method: 'POST',
    body: JSON.stringify({ username: 'doctor', password: process.env.WZ_DEMO_PASSWORD || 'demo' }) })).json();
  const token = login.access_token;
  const bundle = await (await fetch(base + '/fhir/Encounter?_count=50',
    { headers: { Authorization: 'Bearer ' + token } })).json();
  const encounter = bundle.entry.map((e) => e.resource).find((e) => !['finished', 'cancelled'].includes(e.status));
  const link = execFileSync(serverBinary, ['visit-link', '--data-dir', tmp + '/data', '--encounter', encounter.id,
    '--base-url', base], { env, encoding: 'utf8' }).match(/(http:\/\/\S+\/visit\/#[A-Za-z0-9_-]+)/)[1];

  const logFile = path.join(tmp, 'probe-times.txt');
  probe = spawn(probeBinary, ['--server', base, '--token', token, '--encounter', 'Encounter/' + encounter.id,
    '--counter', '--latency-log', logFile], { stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, WZ_CALL_AUDIO_SINK: 'fakesink' } });
  let probeState = null;
  readline.createInterface({ input: probe.stdout }).on('line', (line) => {
    try {
      probeState = JSON.parse(line);
    } catch (e) { /* not status */ }
  });

  browser = await chromium.launch({
    executablePath: process.env.WZ_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-first-run', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
           '--autoplay-policy=no-user-gesture-required'],
  });
  const context = await browser.newContext({ viewport: { width: 800, height: 1000 }, locale: 'en-GB' });
  await context.addInitScript((enc) => {
    localStorage.setItem('wz-preconsult:' + enc, JSON.stringify({
      draft: { consented: true, consentStored: true }, result: { redFlags: [], sent: true, queue: null } }));
    const now = () => performance.timeOrigin + performance.now();
    window.__sent = [];
    window.__seen = [];
    /* Frames Chromium decoded, sampled each second, to tell decoding from showing. */
    window.__decoded = [];
    const NativePeerConnection = window.RTCPeerConnection;
    window.RTCPeerConnection = function (...args) {
      const pc = new NativePeerConnection(...args);
      setInterval(async () => {
        for (const report of (await pc.getStats()).values())
          if (report.type === 'inbound-rtp' && report.kind === 'video')
            window.__decoded.push([report.framesDecoded || 0, now()]);
      }, 1000);
      return pc;
    };
    window.RTCPeerConnection.prototype = NativePeerConnection.prototype;
    /* The patient's camera: a 640×480 picture with the counter on top, drawn 30 times a second,
     * and a tone for a microphone. */
    navigator.mediaDevices.getUserMedia = async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 480;
      const g = canvas.getContext('2d');
      let n = 0;
      const draw = () => {
        const value = n++ & 0xffff;
        g.fillStyle = '#3a6ea5';
        g.fillRect(0, 0, 640, 480);
        g.fillStyle = '#fff';
        g.fillRect(120 + (n * 7) % 400, 200, 80, 80);
        for (let bit = 0; bit < 16; bit++) {
          g.fillStyle = (value >> (15 - bit)) & 1 ? '#fff' : '#000';
          g.fillRect(bit * 40, 0, 40, 40);
        }
        window.__sent.push([value, now()]);
      };
      draw();
      setInterval(draw, 1000 / 30);
      const stream = canvas.captureStream(30);
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      gain.gain.value = 0.2;
      const out = audio.createMediaStreamDestination();
      tone.connect(gain).connect(out);
      tone.start();
      stream.addTrack(out.stream.getAudioTracks()[0]);
      return stream;
    };
    /* The doctor's picture as shown: read the counter off every frame presented. */
    window.__watch = () => {
      const video = document.getElementById('call-remote');
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 40;
      const g = canvas.getContext('2d', { willReadFrequently: true });
      let last = -1;
      const onFrame = (t, meta) => {
        if (video.videoWidth) {
          g.drawImage(video, 0, 0, video.videoWidth, video.videoHeight * 40 / 480, 0, 0, 640, 40);
          const px = g.getImageData(0, 0, 640, 40).data;
          let value = 0;
          for (let bit = 0; bit < 16; bit++) {
            const i = (20 * 640 + bit * 40 + 20) * 4;
            value = (value << 1) | ((px[i] * 3 + px[i + 1] * 6 + px[i + 2]) / 10 > 128 ? 1 : 0);
          }
          if (value !== last) {
            last = value;
            window.__seen.push([value, performance.timeOrigin + (meta.expectedDisplayTime || t)]);
          }
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    };
  }, encounter.id);
  const page = await context.newPage();
  await page.goto(link);
  await page.waitForSelector('#panel-call[data-call-state="idle"]');
  await sleep(1000);

  probe.stdin.write('call\n');
  await page.click('#call-accept', { timeout: 20000 });
  await page.click('#call-consent-agree', { timeout: 10000 });
  await page.waitForSelector('#panel-call[data-call-state="connected"]', { timeout: 30000 });
  await page.waitForFunction(() => document.getElementById('call-remote').videoWidth > 0, null, { timeout: 30000 });
  await page.evaluate(() => window.__watch());
  await sleep(2000);

  // The measured interval: CPU of the engine and of all of chromium's processes.
  // Chromium's processes: everything this script started but the engine and the server.
  const chromiumPids = () => {
    const others = new Set([process.pid, ...tree(probe.pid), ...tree(server.pid)]);
    return tree(process.pid).filter((p) => !others.has(p));
  };
  const cpu0 = { app: cpuTicks(probe.pid), chromium: chromiumPids().reduce((s, p) => s + cpuTicks(p), 0), t: Date.now() };
  const pageSentFrom = await page.evaluate(() => window.__sent.length);
  const pageSeenFrom = await page.evaluate(() => window.__seen.length);
  const logFrom = fs.readFileSync(logFile, 'utf8').split('\n').length;
  await sleep(seconds * 1000);
  const cpu1 = { app: cpuTicks(probe.pid), chromium: chromiumPids().reduce((s, p) => s + cpuTicks(p), 0), t: Date.now() };

  const pageSent = (await page.evaluate(() => window.__sent)).slice(pageSentFrom);
  const pageSeen = (await page.evaluate(() => window.__seen)).slice(pageSeenFrom);
  // The probe's log is written through stdio while it is read here: leave out a torn last line.
  const log = fs.readFileSync(logFile, 'utf8').split('\n').slice(logFrom)
    .filter((l) => /^[SR] \d+ \d{16}$/.test(l)).map((l) => l.split(' '));
  const appSent = log.filter((l) => l[0] === 'S').map((l) => [Number(l[1]), Number(l[2]) / 1000]);
  const appSeen = log.filter((l) => l[0] === 'R').map((l) => [Number(l[1]), Number(l[2]) / 1000]);
  // Everything the probe drew since the call began, so early numbers seen late still match.
  const allAppSent = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('S '))
    .map((l) => l.split(' ')).map((l) => [Number(l[1]), Number(l[2]) / 1000]);
  const allPageSent = await page.evaluate(() => window.__sent);

  const toBrowser = latencies(allAppSent, pageSeen).filter((x) => x >= 0 && x < 5000);
  const toApp = latencies(allPageSent, appSeen).filter((x) => x >= 0 && x < 5000);
  const wall = (cpu1.t - cpu0.t) / 1000;
  const appCpu = 100 * (cpu1.app - cpu0.app) / ticks / wall;
  const chromiumCpu = 100 * (cpu1.chromium - cpu0.chromium) / ticks / wall;
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

  console.log(`call: ${wall.toFixed(0)} s at 640x480@30 on loopback, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}; ` +
    `engine ${probeState ? probeState.state : '?'}; samples app→browser ${toBrowser.length}, browser→app ${toApp.length}; ` +
    `frames drawn app ${appSent.length}, page ${pageSent.length}`);
  console.log(`app_to_browser_latency_p50 ${fmt(percentile(toBrowser, 50))} ms`);
  console.log(`app_to_browser_latency_p95 ${fmt(percentile(toBrowser, 95))} ms`);
  console.log(`browser_to_app_latency_p50 ${fmt(percentile(toApp, 50))} ms`);
  console.log(`browser_to_app_latency_p95 ${fmt(percentile(toApp, 95))} ms`);
  console.log(`fps_min_shown_in_browser ${minFps(pageSeen.map((x) => x[1]))} fps`);
  console.log(`fps_min_shown_in_app ${minFps(appSeen.map((x) => x[1]))} fps`);
  const decoded = (await page.evaluate(() => window.__decoded)).filter((d) => d[1] >= pageSeen[0]?.[1]);
  let minDecoded = Infinity;
  for (let i = 2; i < decoded.length - 1; i++)
    minDecoded = Math.min(minDecoded, (decoded[i][0] - decoded[i - 1][0]) * 1000 / (decoded[i][1] - decoded[i - 1][1]));
  console.log(`fps_min_decoded_in_browser ${fmt(minDecoded)} fps (Chromium's own framesDecoded, per second)`);
  console.log(`baseline: chromium_call_cpu ${fmt(chromiumCpu)} % of one core (all chromium processes, same call, same interval)`);
  console.log(`app_call_cpu ${fmt(appCpu)} %`);

  probe.stdin.write('hangup\nquit\n');
  await sleep(500);
}

main().catch((error) => {
  console.error('call-latency:', error);
  process.exitCode = 1;
}).finally(async () => {
  if (browser)
    await browser.close().catch(() => {});
  if (probe)
    probe.kill('SIGTERM');
  if (server)
    server.kill('SIGTERM');
  await sleep(300);
  fs.rmSync(tmp, { recursive: true, force: true });
});
