// SPDX-License-Identifier: GPL-3.0-or-later
// A video call whose network really drops: the server, the doctor's engine (wz-call-probe) and
// the patient page in chromium run in a private network namespace (tests/call/in-netns.sh), and
// the test takes its loopback down and up again. Another interface (one end of a veth pair)
// stays up, as a computer's own network usually does while the path to the other side is
// broken. A drop: both sides say "reconnecting", the engine makes a new connection (ICE restart
// with a new offer), its signaling socket is cut as well (the offer lost or late), frames flow
// both ways once the network is back, and it is still the one call (same id, same start, the page's timer running on). A drop longer than the give-up time:
// both sides end the call by themselves and say why, and nothing rings afterwards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import {
  haveServer, startServer, stopServer, login, fhirGet, visitLink,
} from '../browser/harness.mjs';
import {
  probeBinary, startProbe, launchCallBrowser, patientPage, diagnostics, waitDiag, shot,
} from './call-util.mjs';

/* Only ever inside the namespace in-netns.sh made: the machine's own loopback stays alone. */
const ownNamespace = (() => {
  try {
    return Boolean(process.env.WZ_HOST_NETNS) &&
      fs.readlinkSync('/proc/self/ns/net') !== process.env.WZ_HOST_NETNS;
  } catch (e) {
    return false;
  }
})();

const skip = !ownNamespace
  ? 'not in a private network namespace (run through tests/call/in-netns.sh)'
  : (!haveServer || !fs.existsSync(probeBinary) ? 'wenzhen-server or wz-call-probe is not built' : false);

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => fs.existsSync(p)) || 'ip';

function network (up) {
  execFileSync(IP, ['link', 'set', 'lo', up ? 'up' : 'down']);
}

/* An interface that stays up, with an address of its own, while loopback goes down. */
function otherInterface () {
  try {
    execFileSync(IP, ['link', 'add', 'wz0', 'type', 'veth', 'peer', 'name', 'wz1'], { stdio: 'pipe' });
    execFileSync(IP, ['addr', 'add', '10.97.0.1/24', 'dev', 'wz0']);
    execFileSync(IP, ['link', 'set', 'wz1', 'up']);
    execFileSync(IP, ['link', 'set', 'wz0', 'up']);
    return true;
  } catch (e) {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server = null;
let browser = null;
let token = null;
let noVeth = false;

before(async () => {
  if (skip)
    return;
  noVeth = !otherInterface();
  if (noVeth)
    return;
  server = await startServer('wz-call-netdrop');
  token = (await login(server, 'doctor')).access_token;
  browser = await launchCallBrowser();
});

after(async () => {
  if (!skip)
    network(true);
  if (browser)
    await browser.close();
  if (server)
    await stopServer(server);
});

test('a dropped network: reconnecting, back in the same call, and the end after the give-up time', { skip, timeout: 150000 }, async (t) => {
  if (noVeth)
    return t.skip('this kernel cannot make a veth pair (ip link add … type veth)');
  const bundle = await fhirGet(server, token, 'Encounter?_count=50', 'doctor');
  const encounter = bundle.entry.map((e) => e.resource).find((e) => e.status !== 'finished' && e.status !== 'cancelled');
  const encounterRef = 'Encounter/' + encounter.id;
  const probe = startProbe(server, token, encounterRef);
  const { context, page, problems } = await patientPage(browser, encounter.id);
  if (process.env.WZ_TEST_DEBUG)
    page.on('console', (m) => console.log('# page console:', m.text()));
  const t0 = Date.now();
  const log = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  try {
    await page.goto(visitLink(server, encounter.id));
    await page.waitForSelector('#panel-call[data-call-state="idle"]');
    if (!probe.events.some((e) => e.event === 'ready'))
      await probe.until((s) => s.event === 'ready', 'the probe\'s socket opens', 10000);
    probe.send('call');
    await page.click('#call-accept', { timeout: 15000 });
    await page.click('#call-consent-agree');
    await probe.until((s) => s.state === 'connected' && s.framesDecoded >= 30, 'the engine connects and decodes');
    const before = await waitDiag(page, (d) => d.state === 'connected' && d.framesDecoded >= 30, 'the page connects and decodes');
    const call = probe.last;
    log(`connected, call ${call.call}`);

    // A drop: both sides tell their user within a few seconds.
    await sleep(2000);
    network(false);
    const dropped = Date.now();
    await probe.until((s) => s.state === 'reconnecting', 'the engine says reconnecting', 10000);
    assert.match(probe.last.problem || '', /connection dropped/i);
    log(`engine reconnecting after ${Date.now() - dropped} ms`);
    await waitDiag(page, (d) => d.state === 'reconnecting', 'the page says reconnecting', 12000);
    log(`page reconnecting after ${Date.now() - dropped} ms`);
    assert.match(await page.textContent('#call-status'), /Reconnecting/);
    await shot(page, 'call-reconnecting-en.png');
    // The path does not heal within the grace time, so the engine offers a new connection.
    await probe.until((s) => s.offersSent > call.offersSent, 'the engine offers again', 12000);
    log(`engine offered again after ${Date.now() - dropped} ms`);
    // The doctor's socket breaks too, taking that offer with it (or leaving it to arrive late):
    // once the socket is back the engine offers anew, and an answer to the older offer is not
    // taken for one to the newest.
    const offersBeforeCut = probe.last.offersSent;
    probe.send('drop-socket');
    await probe.until((s) => s.socket === false, 'the doctor\'s socket is cut', 5000);
    await sleep(1000);
    network(true);
    const restored = Date.now();
    log('network back');

    // Back: media both ways again, in the same call.
    await probe.until((s) => s.state === 'connected', 'the engine reconnects', 30000);
    log(`engine connected ${Date.now() - restored} ms after the network came back`);
    await waitDiag(page, (d) => d.state === 'connected', 'the page reconnects', 30000);
    log(`page connected ${Date.now() - restored} ms after the network came back`);
    log(`offers: ${call.offersSent} before the drop, ${offersBeforeCut} before the socket was cut, ${probe.last.offersSent} now`);
    assert.ok(probe.last.socket, 'the doctor\'s socket is open again');
    const engineAt = probe.last.framesDecoded;
    const pageAt = (await diagnostics(page)).framesDecoded;
    await probe.until((s) => s.framesDecoded >= engineAt + 30, 'frames reach the engine again', 15000);
    const after = await waitDiag(page, (d) => d.framesDecoded >= pageAt + 30, 'frames reach the page again', 15000);
    assert.equal(probe.last.call, call.call, 'the engine is in the same call');
    assert.equal(probe.last.startedAt, call.startedAt, 'the engine\'s call start is unchanged');
    assert.deepEqual(probe.states.filter((s) => s === 'ended' || s === 'failed'), [],
      `the engine's call never ended: ${probe.states.join(' → ')}`);
    assert.equal(after.callId, before.callId, 'the page is in the same call');
    assert.equal(after.connectedAt, before.connectedAt, 'the page\'s call timer runs on');
    const elapsed = Math.floor((Date.now() - before.connectedAt) / 1000);
    const shown = (await page.textContent('#call-status')).match(/Duration (\d+):(\d+)/);
    assert.ok(shown, 'the page shows the call\'s duration');
    assert.ok(Math.abs(Number(shown[1]) * 60 + Number(shown[2]) - elapsed) <= 2,
      `the page's timer counts from the call's start: ${shown[0]}, ${elapsed} s since it connected`);
    assert.ok(probe.last.duration >= elapsed - 2, `the engine's duration runs on: ${probe.last.duration} s`);
    assert.equal(probe.last.problem, null, 'the engine\'s reconnecting message is gone');

    // A drop longer than the give-up time: each side ends the call by itself and says why.
    network(false);
    const lost = Date.now();
    log('network down for good');
    await probe.until((s) => s.state === 'reconnecting', 'the engine says reconnecting', 10000);
    const failed = await probe.until((s) => s.state === 'failed', 'the engine gives up', 60000);
    log(`engine gave up after ${Date.now() - lost} ms`);
    assert.match(failed.problem, /connection was lost/i);
    assert.equal(failed.call, call.call);
    await page.waitForSelector('#panel-call[data-call-state="ended"]', { timeout: 20000 });
    log(`page gave up after ${Date.now() - lost} ms`);
    assert.match(await page.textContent('#call-status'), /connection .* was lost/i);
    await shot(page, 'call-connection-lost-en.png');
    network(true);

    // Once the network is back nothing rings or restarts by itself.
    await sleep(3000);
    assert.equal(probe.last.state, 'failed');
    assert.equal((await diagnostics(page)).state, 'ended');
    assert.deepEqual(problems, []);
  } finally {
    network(true);
    await probe.stop();
    await context.close();
  }
});
