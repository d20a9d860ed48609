// SPDX-License-Identifier: GPL-3.0-or-later
// The patient landing page (data/web) in Debian's chromium: English and Chinese, a phone and a
// desktop viewport, the reading aids, and the service check against /fhir/metadata.
//
// Serves the page with the real wenzhen-server when it has been built (WZ_SERVER_BINARY), else
// with a small static server that answers /fhir/metadata with a CapabilityStatement. Screenshots
// go to $WZ_BUILD/screenshots/ for a person to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  PHONE, DESKTOP, sourceRoot, dataFiles, haveServer, buildDirFor, startServer, stopServer,
  launchBrowser,
} from './harness.mjs';

const webDir = path.join(sourceRoot, 'data', 'web');
const buildDir = buildDirFor('wz-landing');
const shotDir = path.join(buildDir, 'screenshots');

const FAKE_CAPABILITY = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: '2026-11-25',
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['application/fhir+json'],
  software: { name: 'wenzhen-server (landing test)', version: '0.1.0-test' },
  rest: [{ mode: 'server' }],
};

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

let server = null;         // { base, stop() }
let capability = null;     // what /fhir/metadata really answers, shown on the page
let browser = null;

function startFakeServer () {
  return new Promise((resolve) => {
    const httpServer = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/fhir/metadata') {
        res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
        res.end(JSON.stringify(FAKE_CAPABILITY));
        return;
      }
      const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
      const file = path.resolve(webDir, rel);
      if (!file.startsWith(webDir + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' });
      res.end(fs.readFileSync(file));
    });
    httpServer.listen(0, '127.0.0.1', () => {
      const { port } = httpServer.address();
      resolve({
        kind: 'fake',
        base: `http://127.0.0.1:${port}`,
        stop: () => new Promise((done) => httpServer.close(done)),
      });
    });
  });
}

async function startRealServer () {
  // An empty data folder: the landing page needs no demo data.
  const real = await startServer('wz-landing-data', {
    demo: false,
    env: { ...process.env, WZ_DATA_DIR: dataFiles },
  });
  return { kind: 'real', base: real.base, stop: () => stopServer(real) };
}

async function newPage (options, locale) {
  const context = await browser.newContext({ ...options, locale });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A blocked fetch in the "unreachable" scenario is expected; anything else (CSP violations,
    // script errors, missing files) is a defect of the page.
    if (msg.type() === 'error' && !page.expectNetworkErrors)
      problems.push(`console error: ${msg.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/fhir/metadata'))
      problems.push(`${response.status()} for ${response.url()}`);
  });
  return { context, page, problems };
}

async function statusSettled (page) {
  await page.waitForFunction(() => document.getElementById('status').dataset.state !== 'checking',
    null, { timeout: 15000 });
  return page.evaluate(() => ({
    state: document.getElementById('status').dataset.state,
    text: document.getElementById('status-text').textContent,
    detail: document.getElementById('status-detail').textContent,
    retryVisible: !document.getElementById('retry').hidden,
  }));
}

async function layoutFacts (page) {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll('button:not([hidden]), a.button')];
    return {
      lang: document.documentElement.lang,
      title: document.title,
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      smallestTarget: Math.min(...controls.map((el) => el.getBoundingClientRect().height)),
      stepFontPx: parseFloat(getComputedStyle(document.querySelector('.steps li')).fontSize),
    };
  });
}

function expectedSoftware () {
  const s = capability.software || {};
  return [s.name, s.version].filter(Boolean).join(' ');
}

async function shot (page, name) {
  fs.mkdirSync(shotDir, { recursive: true });
  const file = path.join(shotDir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

before(async () => {
  const useReal = haveServer;
  server = useReal ? await startRealServer() : await startFakeServer();
  const res = await fetch(`${server.base}/fhir/metadata`, { headers: { Accept: 'application/fhir+json' } });
  assert.equal(res.status, 200, 'GET /fhir/metadata must answer 200');
  capability = await res.json();
  assert.equal(capability.resourceType, 'CapabilityStatement');
  console.log(`# serving with the ${server.kind} server at ${server.base}`);

  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await server.stop();
});

test('English on a phone: landing text, service available, no sideways scrolling', async () => {
  const { context, page, problems } = await newPage(PHONE, 'en-US');
  await page.goto(server.base + '/');
  const status = await statusSettled(page);
  const facts = await layoutFacts(page);
  const text = await page.innerText('body');

  assert.equal(facts.lang, 'en');
  assert.match(facts.title, /Wenzhen/);
  assert.match(await page.innerText('h1'), /问诊\s+Wenzhen/);
  assert.match(text, /If you have chest pain, difficulty breathing, signs of stroke or heavy bleeding, call 120 now\./);
  assert.match(text, /visit link/);
  assert.match(text, /used only for your care/);
  assert.match(text, /audit log/);
  assert.equal(await page.getAttribute('a.button.danger', 'href'), 'tel:120');

  assert.equal(status.state, 'available', JSON.stringify(status));
  assert.equal(status.text, 'Service available');
  assert.ok(status.detail.includes(expectedSoftware()), `detail ${status.detail} names ${expectedSoftware()}`);
  assert.equal(status.retryVisible, false);

  assert.ok(facts.overflow <= 0, `page scrolls sideways by ${facts.overflow}px on a 390px phone`);
  assert.ok(facts.smallestTarget >= 44, `a button is only ${facts.smallestTarget}px tall`);
  assert.ok(facts.stepFontPx >= 17, `body text is ${facts.stepFontPx}px`);
  await shot(page, 'landing-phone-en.png');
  assert.deepEqual(problems, []);
  await context.close();
});

test('large text toggle enlarges the text, keeps the layout and is remembered', async () => {
  const { context, page, problems } = await newPage(PHONE, 'en-US');
  await page.goto(server.base + '/');
  await statusSettled(page);
  const before = await layoutFacts(page);
  assert.equal(await page.getAttribute('#large-text', 'aria-pressed'), 'false');

  await page.click('#large-text');
  const after = await layoutFacts(page);
  assert.equal(await page.getAttribute('#large-text', 'aria-pressed'), 'true');
  assert.ok(after.stepFontPx >= before.stepFontPx * 1.2,
    `large text ${after.stepFontPx}px is not clearly larger than ${before.stepFontPx}px`);
  assert.ok(after.overflow <= 0, `large text scrolls sideways by ${after.overflow}px`);
  await shot(page, 'landing-phone-en-large-text.png');

  await page.reload();
  await statusSettled(page);
  assert.equal(await page.getAttribute('#large-text', 'aria-pressed'), 'true', 'not remembered');
  assert.equal((await layoutFacts(page)).stepFontPx, after.stepFontPx);

  await page.click('#large-text');
  assert.equal((await layoutFacts(page)).stepFontPx, before.stepFontPx);
  assert.deepEqual(problems, []);
  await context.close();
});

test('high contrast makes the text black on white', async () => {
  const { context, page, problems } = await newPage({ ...PHONE, colorScheme: 'light' }, 'en-US');
  await page.goto(server.base + '/');
  await statusSettled(page);
  await page.click('#high-contrast');
  assert.equal(await page.getAttribute('#high-contrast', 'aria-pressed'), 'true');
  const colours = await page.evaluate(() => ({
    text: getComputedStyle(document.querySelector('.steps li')).color,
    background: getComputedStyle(document.documentElement).backgroundColor,
  }));
  assert.equal(colours.text, 'rgb(0, 0, 0)');
  assert.equal(colours.background, 'rgb(255, 255, 255)');
  await shot(page, 'landing-phone-en-high-contrast.png');
  assert.deepEqual(problems, []);
  await context.close();
});

test('Chinese on a desktop, and switching to English', async () => {
  const { context, page, problems } = await newPage(DESKTOP, 'zh-CN');
  await page.goto(server.base + '/');
  const status = await statusSettled(page);
  let facts = await layoutFacts(page);
  const text = await page.innerText('body');

  assert.equal(facts.lang, 'zh-CN');
  assert.match(facts.title, /问诊/);
  assert.match(text, /如有胸痛、呼吸困难、中风征兆或大量出血，请立即拨打 120。/);
  assert.match(text, /就诊链接/);
  assert.match(text, /只用于您的诊疗/);
  assert.match(text, /审计日志/);
  assert.equal(status.text, '服务可用');
  assert.ok(status.detail.startsWith('服务器：'), status.detail);
  assert.ok(facts.overflow <= 0);
  assert.equal(await page.innerText('#lang-switch'), 'English');
  await shot(page, 'landing-desktop-zh.png');

  await page.click('#lang-switch');
  facts = await layoutFacts(page);
  assert.equal(facts.lang, 'en');
  assert.equal(await page.innerText('#status-text'), 'Service available');
  assert.match(await page.innerText('body'), /call 120 now/);
  await shot(page, 'landing-desktop-en.png');

  await page.reload();
  await statusSettled(page);
  assert.equal((await layoutFacts(page)).lang, 'en', 'the chosen language is not remembered');
  assert.deepEqual(problems, []);
  await context.close();
});

test('unreachable service: a clear message and a retry that recovers', async () => {
  const { context, page, problems } = await newPage(PHONE, 'zh-CN');
  page.expectNetworkErrors = true;
  await page.route('**/fhir/metadata', (route) => route.abort('connectionrefused'));
  await page.goto(server.base + '/');
  let status = await statusSettled(page);
  assert.equal(status.state, 'unavailable');
  assert.equal(status.text, '无法连接到服务');
  assert.match(status.detail, /检查网络连接/);
  assert.equal(status.retryVisible, true);
  await shot(page, 'landing-phone-zh-unreachable.png');

  // Something answers, but it is not the FHIR service (a captive portal, a proxy error page).
  await page.unroute('**/fhir/metadata');
  await page.route('**/fhir/metadata', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<html>Wi-Fi login</html>' }));
  await page.click('#retry');
  status = await statusSettled(page);
  assert.equal(status.state, 'unavailable', 'a non-FHIR answer must not count as available');

  await page.unroute('**/fhir/metadata');
  await page.click('#retry');
  status = await statusSettled(page);
  assert.equal(status.state, 'available');
  assert.equal(status.text, '服务可用');
  assert.equal(status.retryVisible, false);
  assert.deepEqual(problems, []);
  await context.close();
});
