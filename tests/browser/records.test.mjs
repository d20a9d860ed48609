// SPDX-License-Identifier: GPL-3.0-or-later
// The patient's follow-up records (data/web/visit/records.js) in Debian's chromium against a real
// wenzhen-server with demo data: the hypertensive demo patient sees the overdue revisit, her
// approved prescription (and not the draft one), reports a high blood pressure, which the doctor's
// API then shows as a Flag; the demo child's vaccination record and the dose due. Phone and
// desktop, Chinese and English; screenshots go to $WZ_BUILD/screenshots/ for a person to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PHONE, DESKTOP, haveServer, buildDirFor, startServer, stopServer, login,
  visitLink, launchBrowser,
} from './harness.mjs';

const buildDir = buildDirFor('wz-records');
const shotDir = path.join(buildDir, 'screenshots');
const ALERT_SYSTEM = 'https://wenzhen.example/fhir/CodeSystem/followup-alert';

let server = null;
let browser = null;
const tokens = {};

const skip = !haveServer
  ? 'wenzhen-server is not built (WZ_SERVER_BINARY); the records page needs the real server'
  : false;

async function fhir (username, method, pathAndQuery, body) {
  const res = await fetch(`${server.base}/fhir/${pathAndQuery}`, {
    method,
    headers: { Authorization: `Bearer ${tokens[username].access_token}`, Accept: 'application/fhir+json',
      'Content-Type': 'application/fhir+json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.status < 300, `${method} ${pathAndQuery} as ${username}: ${res.status}`);
  return res.json();
}

async function patientNamed (name) {
  const bundle = await fhir('doctor', 'GET', `Patient?name=${encodeURIComponent(name)}`);
  assert.ok(bundle.entry && bundle.entry.length, `the demo has ${name}`);
  return bundle.entry[0].resource.id;
}

/* A visit of PATIENT today with the demo doctor, and the link the doctor would send. */
async function visitFor (patient) {
  const encounter = await fhir('doctor', 'POST', 'Encounter', {
    resourceType: 'Encounter',
    status: 'arrived',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR' },
    subject: { reference: `Patient/${patient}` },
    participant: [{ individual: { reference: tokens.doctor.practitioner } }],
    period: { start: new Date().toISOString() },
  });
  return { link: visitLink(server, encounter.id), encounter: encounter.id };
}

/* The page with the pre-consultation already sent from this device earlier, so the visit home
 * (and the records panel) opens at once. */
async function openRecords (options, locale, visit) {
  const context = await browser.newContext({ ...options, locale });
  await context.addInitScript(([key, lang]) => {
    window.localStorage.setItem(key, JSON.stringify({
      draft: { consented: true, consentStored: true },
      result: { redFlags: [], sent: true, queue: null },
    }));
    window.localStorage.setItem('wz-lang', lang);
  }, [`wz-preconsult:${visit.encounter}`, locale.startsWith('zh') ? 'zh' : 'en']);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text()))
      problems.push(`console error: ${msg.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !/\/ws|\/visit\/queue|\/chat\/receipts/.test(response.url()))
      problems.push(`${response.status()} for ${response.url()}`);
  });
  await page.goto(visit.link);
  await page.waitForSelector('#panel-records .records-section');
  return { context, page, problems };
}

async function shot (page, name) {
  fs.mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, name), fullPage: true });
  await page.locator('#panel-records').screenshot({ path: path.join(shotDir, name.replace(/\.png$/, '-panel.png')) });
}

/* Nothing scrolls sideways and every control in the panel is large enough to hit. */
async function checkLayout (page, where) {
  const facts = await page.evaluate(() => {
    const panel = document.querySelector('#panel-records');
    const visible = (node) => {
      const box = node.getBoundingClientRect();
      return box.width > 0 && box.height > 0;
    };
    const targets = [...panel.querySelectorAll('button, .records-option, .records-input')].filter(visible);
    return {
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      smallest: Math.min(...targets.map((node) => node.getBoundingClientRect().height)),
      font: parseFloat(getComputedStyle(panel.querySelector('.records-name')).fontSize),
    };
  });
  assert.ok(facts.overflow <= 0, `${where}: the page scrolls sideways by ${facts.overflow}px`);
  assert.ok(facts.smallest >= 48, `${where}: a control is only ${facts.smallest}px tall`);
  assert.ok(facts.font >= 18, `${where}: names are ${facts.font}px`);
}

before(async () => {
  if (skip)
    return;
  server = await startServer('wz-records-data');
  tokens.doctor = await login(server, 'doctor');
  tokens.doctor2 = await login(server, 'doctor2');
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await stopServer(server);
});

test('hypertension on a phone, in Chinese: reminders, the approved prescription only, a high reading reaches the doctor', { skip }, async () => {
  const patient = await patientNamed('张秀英');
  const visit = await visitFor(patient);
  const { context, page, problems } = await openRecords(PHONE, 'zh-CN', visit);

  assert.equal(await page.innerText('#panel-records .records-title'), '我的随访');
  // The revisit the demo left undone is overdue, with a way to join the queue.
  const overdue = await page.$$eval('#panel-records .records-item.timing-overdue .records-name',
    (nodes) => nodes.map((node) => node.textContent));
  assert.ok(overdue.some((text) => /复诊/.test(text)), `an overdue revisit is shown: ${overdue}`);

  // Medicines: the pharmacist-approved amlodipine with its doctor and pharmacist; the draft is not there.
  const medicines = await page.innerText('#panel-records .records-medicine');
  assert.match(medicines, /氨氯地平/);
  assert.match(medicines, /王芳/, 'the approving pharmacist is named');
  assert.match(medicines, /李伟/, 'the prescribing doctor is named');
  const allText = await page.innerText('#panel-records');
  assert.doesNotMatch(allText, /左氨氯地平/, 'a draft that was never approved is not shown');
  await checkLayout(page, 'phone zh');
  await shot(page, 'records-phone-zh.png');

  // A blood pressure of 182/112, sent from the form.
  await page.click('#panel-records .records-tab[aria-checked="true"]');
  await page.fill('#records-systolic', '182');
  await page.fill('#records-diastolic', '112');
  await page.click('#records-reading button[type=submit]');
  await page.waitForSelector('#panel-records .records-result.urgent');
  assert.equal(await page.inputValue('#records-systolic'), '', 'the form is emptied once the reading is kept');
  assert.match(await page.innerText('#panel-records .records-result'), /120/);
  assert.match(await page.innerText('#panel-records .records-result'), /182/);
  await shot(page, 'records-phone-zh-urgent.png');

  // The doctor's API has the red flag; another doctor's does not.
  const code = encodeURIComponent(`${ALERT_SYSTEM}|urgent`);
  const flags = await fhir('doctor', 'GET', `Flag?patient=Patient/${patient}&status=active&code=${code}`);
  assert.equal(flags.total, 1, 'the urgent Flag is there for the doctor');
  assert.match(flags.entry[0].resource.code.text, /182/);
  const hidden = await fhir('doctor2', 'GET', `Flag?patient=Patient/${patient}`);
  assert.equal(hidden.total, 0, 'another doctor does not see it');
  const list = await (await fetch(`${server.base}/followup/worklist`, {
    headers: { Authorization: `Bearer ${tokens.doctor.access_token}` },
  })).json();
  const row = list.patients.find((entry) => entry.patient === `Patient/${patient}`);
  assert.ok(row, 'the patient is on the doctor’s worklist');
  assert.equal(row.alert, 'urgent');

  assert.deepEqual(problems, []);
  await context.close();
});

test('hypertension on a desktop, in English, with large text', { skip }, async () => {
  const patient = await patientNamed('张秀英');
  const visit = await visitFor(patient);
  const { context, page, problems } = await openRecords(DESKTOP, 'en-GB', visit);

  assert.equal(await page.innerText('#panel-records .records-title'), 'My follow-up');
  assert.match(await page.innerText('#panel-records .records-medicine'), /Pharmacist|pharmacist/);
  await checkLayout(page, 'desktop en');
  await shot(page, 'records-desktop-en.png');
  await page.click('#large-text');
  await checkLayout(page, 'desktop en large text');
  await shot(page, 'records-desktop-en-large-text.png');
  // The language follows the page's switch.
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.querySelector('#panel-records .records-title').textContent === '我的随访');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a child’s vaccination record and the dose due, desktop English and phone Chinese', { skip }, async () => {
  const child = await patientNamed('王浩然');
  for (const [options, locale, name] of [[DESKTOP, 'en-GB', 'records-child-desktop-en.png'],
    [PHONE, 'zh-CN', 'records-child-phone-zh.png']]) {
    const visit = await visitFor(child);
    const { context, page, problems } = await openRecords(options, locale, visit);

    await page.waitForSelector('#panel-records .records-vaccine-record .records-item');
    const doses = await page.$$eval('#panel-records .records-vaccine-record .records-item', (nodes) => nodes.length);
    assert.ok(doses >= 10, `the record lists the doses given (${doses})`);
    const record = await page.innerText('#panel-records .records-vaccine-record');
    assert.match(record, locale === 'zh-CN' ? /乙型肝炎疫苗/ : /Hepatitis B/);
    const due = await page.innerText('#records-vaccines ~ .records-list, #panel-records section[aria-labelledby="records-vaccines"]');
    assert.match(due, locale === 'zh-CN' ? /脊髓灰质炎/ : /poliomyelitis/i, 'the polio dose due at four is listed');
    // The screening questions open for the dose due.
    await page.click(`text=${locale === 'zh-CN' ? '回答健康问询' : 'Answer the health questions'}`);
    await page.waitForSelector('#panel-records fieldset.records-choice legend');
    await checkLayout(page, name);
    await shot(page, name);
    assert.deepEqual(problems, []);
    await context.close();
  }
});
