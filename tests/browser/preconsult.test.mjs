// SPDX-License-Identifier: GPL-3.0-or-later
// The patient's pre-consultation page (data/web/visit) in Debian's chromium against a real
// wenzhen-server with demo data: a visit link from `wenzhen-server visit-link`, consent, the
// questions, and what the patient and the doctor then see. Phone first, English and Chinese.
// Screenshots go to $WZ_BUILD/screenshots/ for a person to look at.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PHONE, DESKTOP, haveServer, buildDirFor, startServer, stopServer,
  login as loginAs, fhirGet, visitLink as linkFor, launchBrowser,
} from './harness.mjs';

const buildDir = buildDirFor('wz-visit');
const shotDir = path.join(buildDir, 'screenshots');

let server = null;      // { base, dataDir, child }
let browser = null;
const tokens = {};      // username → access token
let rules = null;

const skip = !haveServer
  ? 'wenzhen-server is not built (WZ_SERVER_BINARY); the visit page needs the real server'
  : false;

async function login (username) {
  return (await loginAs(server, username)).access_token;
}

async function fhir (username, pathAndQuery) {
  return fhirGet(server, tokens[username], pathAndQuery, username);
}

/* The first of USERNAME's visits with STATUS, with its patient's name. */
async function visit (username, status) {
  const bundle = await fhir(username, `Encounter?status=${status}&_count=50`);
  assert.ok(bundle.entry && bundle.entry.length, `${username} has a visit that is ${status}`);
  const encounter = bundle.entry[0].resource;
  return { id: encounter.id, patient: encounter.subject.reference, name: encounter.subject.display };
}

/* A fresh link from the operator's command, as the doctor would send it. */
function visitLink (encounterId) {
  return linkFor(server, encounterId);
}

async function newPage (options, locale, allowed) {
  const context = await browser.newContext({ ...options, locale });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !(allowed && allowed.console && allowed.console.test(msg.text())))
      problems.push(`console error: ${msg.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !(allowed && allowed.status === response.status()))
      problems.push(`${response.status()} for ${response.url()}`);
  });
  return { context, page, problems };
}

async function shot (page, name) {
  fs.mkdirSync(shotDir, { recursive: true });
  // The emergency screen is fixed to the viewport: a full-page shot would show the form below it.
  const emergency = await page.isVisible('#emergency');
  await page.screenshot({ path: path.join(shotDir, name), fullPage: !emergency });
}

async function layoutFacts (page) {
  return page.evaluate(() => {
    const visible = (node) => {
      const box = node.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(node).visibility !== 'hidden';
    };
    const targets = [...document.querySelectorAll('button, a.button, label.choice, textarea, input[type="text"]')]
      .filter(visible);
    return {
      lang: document.documentElement.lang,
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      smallest: Math.min(...targets.map((node) => node.getBoundingClientRect().height)),
      smallestName: targets.sort((a, b) => a.getBoundingClientRect().height - b.getBoundingClientRect().height)
        .map((node) => node.id || node.textContent.trim().slice(0, 30))[0],
      questionFontPx: parseFloat(getComputedStyle(document.querySelector('.question, .view-title, p')).fontSize),
    };
  });
}

async function checkLayout (page, where) {
  const facts = await layoutFacts(page);
  assert.ok(facts.overflow <= 0, `${where}: the page scrolls sideways by ${facts.overflow}px`);
  assert.ok(facts.smallest >= 44, `${where}: “${facts.smallestName}” is only ${facts.smallest}px tall`);
  return facts;
}

async function currentStep (page) {
  return page.getAttribute('.step', 'data-step');
}

async function next (page) {
  await page.click('#next');
}

/* Consent, then the questions up to the red flags, as a patient on a phone would. */
async function answerUpToRedFlags (page, { complaint, duration, symptoms, medicines, noAllergies, shots }) {
  await page.click('#consent-agree');
  await page.waitForSelector('[data-step="complaint"]');
  await page.fill('#complaint', complaint);
  if (shots)
    await shot(page, `${shots}-complaint.png`);
  await next(page);

  await page.waitForSelector('[data-step="duration"]');
  await page.click(`label[for="duration-${duration}"]`);
  await next(page);

  await page.waitForSelector('[data-step="symptoms"]');
  for (const id of symptoms)
    await page.click(`label[for="symptom-${id}"]`);
  if (shots)
    await shot(page, `${shots}-symptoms.png`);
  await next(page);

  await page.waitForSelector('[data-step="medicines"]');
  if (medicines)
    await page.fill('#medications', medicines);
  else
    await page.click('label[for="medications-none"]');
  await next(page);

  await page.waitForSelector('[data-step="allergies"]');
  if (noAllergies)
    await page.click('label[for="allergies-none"]');
  else
    await page.fill('#allergies', 'Penicillin: hives');
  await next(page);
  await page.waitForSelector('[data-step="redflags"]');
}

async function answerAllRedFlags (page, yesTo) {
  const ids = await page.$$eval('.red-flag', (nodes) => nodes.map((node) => node.id.replace(/^flag-/, '')));
  assert.ok(ids.includes('chest_pain'), `the chest pain question is asked (${ids})`);
  assert.ok(ids.includes('stroke_signs'), 'the stroke question is asked');
  assert.ok(!ids.includes('infant_fever'), 'an adult is not asked about fever in a baby');
  for (const id of ids) {
    if (id !== yesTo)
      await page.click(`label[for="red-flag-${id}-no"]`);
  }
  if (yesTo)
    await page.click(`label[for="red-flag-${yesTo}-yes"]`);
  return ids;
}

before(async () => {
  if (skip)
    return;
  server = await startServer('wz-visit-data');
  tokens.doctor = await login('doctor');
  tokens.doctor2 = await login('doctor2');
  rules = await (await fetch(`${server.base}/visit/triage-rules.json`)).json();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await stopServer(server);
});

test('routine answers on a phone, in English: consent, questions, thank-you with the queue place', { skip }, async () => {
  const target = await visit('doctor2', 'arrived');
  const link = visitLink(target.id);
  const { context, page, problems } = await newPage(PHONE, 'en-US');

  await page.goto(link);
  await page.waitForSelector('#consent-agree');
  assert.equal(await page.innerText('#doctor-name'), '张敏 Zhang Min');
  assert.match(await page.innerText('#visit-time'), /\d{1,2}:\d{2}/);
  assert.match(await page.innerText('#view'), /online visit/);
  assert.equal(new URL(page.url()).hash, '', 'the spent link token is taken out of the address bar');
  await checkLayout(page, 'consent');
  await shot(page, 'visit-phone-en-consent.png');

  await answerUpToRedFlags(page, {
    complaint: 'Blood pressure check and a repeat prescription',
    duration: 'gt4w',
    symptoms: ['prescription_renewal', 'chronic_followup'],
    medicines: 'Amlodipine 5 mg once a day',
    noAllergies: true,
    shots: 'visit-phone-en',
  });
  assert.equal(await page.innerText('#step-count'), 'Step 6 of 7');

  // Skipping a safety question is not allowed.
  await next(page);
  assert.match(await page.innerText('.field-error'), /Please answer yes or no/);
  await answerAllRedFlags(page, null);
  await checkLayout(page, 'red flags');
  await shot(page, 'visit-phone-en-redflags.png');
  await next(page);

  await page.waitForSelector('[data-step="review"]');
  const review = await page.innerText('#review');
  assert.match(review, /Blood pressure check and a repeat prescription/);
  assert.match(review, /More than 4 weeks/);
  assert.match(review, /Renewal of a regular prescription/);
  assert.match(review, /Amlodipine 5 mg once a day/);
  await shot(page, 'visit-phone-en-review.png');
  await next(page);

  await page.waitForSelector('#done-text');
  assert.equal(await page.innerText('.done .view-title'), 'Thank you');
  await page.waitForFunction(() => /number \d+ in the queue/.test(document.getElementById('queue').textContent));
  assert.match(await page.innerText('#queue'), /You are number 1 in the queue\./);
  assert.equal(await page.isVisible('#emergency'), false);
  await checkLayout(page, 'done');
  await shot(page, 'visit-phone-en-done.png');

  // What the doctor sees: the visit triaged as routine, the answers and the consent on record.
  const encounter = await fhir('doctor2', `Encounter/${target.id}`);
  assert.equal(encounter.status, 'triaged');
  assert.equal(encounter.priority.coding[0].code, 'EL');
  assert.equal(encounter.priority.extension[0].valueString, 'renewal_followup');
  const answers = await fhir('doctor2', `QuestionnaireResponse?encounter=Encounter/${target.id}`);
  assert.equal(answers.total, 1);
  const items = Object.fromEntries(answers.entry[0].resource.item.map((item) => [item.linkId, item.answer[0]]));
  assert.equal(items['chief-complaint'].valueString, 'Blood pressure check and a repeat prescription');
  assert.equal(items['red-flag.chest_pain'].valueBoolean, false);
  const consents = await fhir('doctor2', `Consent?patient=${target.patient}`);
  assert.equal(consents.total, 1);
  assert.equal(consents.entry[0].resource.status, 'active');
  assert.equal(consents.entry[0].resource.scope.coding[0].code, 'treatment');
  const flags = await fhir('doctor2', `Flag?encounter=Encounter/${target.id}`);
  assert.equal(flags.total, 0);

  // Reloading shows the same result, not the form again.
  await page.reload();
  await page.waitForSelector('#done-text');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a red flag on a phone, in Chinese: the emergency screen at once, and the doctor alerted', { skip }, async () => {
  const target = await visit('doctor', 'arrived');
  const link = visitLink(target.id);
  const { context, page, problems } = await newPage(PHONE, 'zh-CN');

  await page.goto(link);
  await page.waitForSelector('#consent-agree');
  assert.equal(await page.innerText('#doctor-name'), '李伟 Li Wei');
  assert.match(await page.innerText('#view'), /互联网诊疗/);
  await shot(page, 'visit-phone-zh-consent.png');

  await answerUpToRedFlags(page, {
    complaint: '胸口压着疼，出汗',
    duration: 'lt24h',
    symptoms: ['shortness_of_breath'],
    medicines: null,
    noAllergies: true,
  });
  await answerAllRedFlags(page, 'chest_pain');
  assert.equal(await page.innerText('#next'), '发送给医生', 'a yes sends the answers straight away');
  await shot(page, 'visit-phone-zh-redflags.png');
  await next(page);

  await page.waitForSelector('#emergency:not([hidden])');
  const screen = await page.innerText('#emergency');
  assert.match(screen, /请立即前往急诊/);
  assert.match(screen, /拨打 120/);
  const chest = rules.red_flags.find((flag) => flag.id === 'chest_pain');
  assert.ok(screen.includes(chest.message.zh), 'the chest pain advice is shown');
  assert.equal(await page.getAttribute('.emergency-call', 'href'), 'tel:120');
  await page.waitForFunction(() => document.getElementById('emergency-told').textContent.includes('医生已收到通知'));
  const cover = await page.evaluate(() => {
    const box = document.getElementById('emergency').getBoundingClientRect();
    return { width: box.width, height: box.height, w: window.innerWidth, h: window.innerHeight,
             background: getComputedStyle(document.getElementById('emergency')).backgroundColor };
  });
  assert.equal(cover.width, cover.w, 'the emergency screen covers the whole width');
  assert.equal(cover.height, cover.h, 'the emergency screen covers the whole height');
  assert.equal(cover.background, 'rgb(165, 29, 45)');
  await shot(page, 'visit-phone-zh-emergency.png');

  const encounter = await fhir('doctor', `Encounter/${target.id}`);
  assert.equal(encounter.status, 'triaged');
  assert.equal(encounter.priority.coding[0].code, 'EM');
  assert.match(encounter.priority.extension[0].valueString, /^chest_pain/);
  const flags = await fhir('doctor', `Flag?encounter=Encounter/${target.id}`);
  assert.equal(flags.total, 1);
  assert.equal(flags.entry[0].resource.category[0].coding[0].code, 'safety');
  assert.match(flags.entry[0].resource.code.text, /胸痛/);
  assert.match(flags.entry[0].resource.code.text, /Red flag/);

  // The screen stays after a reload: the advice does not go away by accident.
  await page.reload();
  await page.waitForSelector('#emergency:not([hidden])');
  await page.click('#emergency-lang');
  assert.match(await page.innerText('#emergency'), /Go to the emergency department now/);
  assert.ok((await page.innerText('#emergency')).includes(chest.message.en));
  await shot(page, 'visit-phone-en-emergency.png');
  await page.click('#emergency-high-contrast');
  assert.equal(await page.getAttribute('#high-contrast', 'aria-pressed'), 'true');
  await shot(page, 'visit-phone-en-emergency-high-contrast.png');
  assert.deepEqual(problems, []);
  await context.close();
});

test('reloading half way keeps every answer; the link works only once', { skip }, async () => {
  const target = await visit('doctor2', 'planned');
  const link = visitLink(target.id);
  const { context, page, problems } = await newPage(PHONE, 'en-US');

  await page.goto(link);
  await page.click('#consent-agree');
  await page.waitForSelector('[data-step="complaint"]');
  await page.fill('#complaint', 'Cough and a sore throat');
  await next(page);
  await page.click('label[for="duration-d3_7"]');
  await next(page);
  await page.click('label[for="symptom-cough"]');
  await page.click('label[for="symptom-sore_throat"]');
  await page.fill('#measurement-temperature_c', '37.8');

  await page.reload();
  await page.waitForSelector('[data-step="symptoms"]');
  assert.equal(await page.isChecked('#symptom-cough'), true);
  assert.equal(await page.isChecked('#symptom-sore_throat'), true);
  assert.equal(await page.isChecked('#symptom-fever'), false);
  assert.equal(await page.inputValue('#measurement-temperature_c'), '37.8');
  await page.click('#back');
  assert.equal(await currentStep(page), 'duration');
  assert.equal(await page.isChecked('#duration-d3_7'), true);
  await page.click('#back');
  assert.equal(await page.inputValue('#complaint'), 'Cough and a sore throat');

  // A value outside what can be measured is caught before it is sent.
  await next(page);
  await next(page);
  await page.fill('#measurement-temperature_c', '83');
  await next(page);
  assert.match(await page.innerText('.field-error'), /from 34 to 43/);
  await page.fill('#measurement-temperature_c', '37.8');

  // Large text: bigger, and still no sideways scrolling on a phone.
  const before = await layoutFacts(page);
  await page.click('#large-text');
  const larger = await checkLayout(page, 'large text');
  assert.ok(larger.questionFontPx >= before.questionFontPx * 1.2,
    `large text ${larger.questionFontPx}px is not clearly larger than ${before.questionFontPx}px`);
  await shot(page, 'visit-phone-en-large-text-symptoms.png');
  await page.click('#large-text');
  assert.deepEqual(problems, []);
  await context.close();

  // The same link a second time, e.g. forwarded to someone else: refused, with what to do.
  const second = await newPage(PHONE, 'en-US', { status: 401, console: /401/ });
  await second.page.goto(link);
  await second.page.waitForSelector('#problem');
  assert.match(await second.page.innerText('#problem'), /already used or has expired.*ask your doctor/i);
  await shot(second.page, 'visit-phone-en-link-used.png');
  assert.deepEqual(second.problems, []);
  await second.context.close();

  // No link at all.
  const bare = await newPage(PHONE, 'zh-CN');
  await bare.page.goto(`${server.base}/visit/`);
  await bare.page.waitForSelector('#problem');
  assert.match(await bare.page.innerText('#problem'), /请打开医生或医院发给您的就诊链接/);
  assert.deepEqual(bare.problems, []);
  await bare.context.close();
});

test('desktop, Chinese and English', { skip }, async () => {
  const target = await visit('doctor2', 'planned');
  const { context, page, problems } = await newPage(DESKTOP, 'zh-CN');

  await page.goto(visitLink(target.id));
  await page.waitForSelector('#consent-agree');
  await checkLayout(page, 'desktop consent');
  await shot(page, 'visit-desktop-zh-consent.png');
  await page.click('#consent-agree');
  await page.waitForSelector('[data-step="complaint"]');
  await page.fill('#complaint', '咳嗽一周');
  await next(page);
  await page.click('label[for="duration-w1_4"]');
  await next(page);
  await page.click('label[for="symptom-cough"]');
  await shot(page, 'visit-desktop-zh-symptoms.png');
  await page.click('#lang-switch');
  assert.equal((await layoutFacts(page)).lang, 'en');
  assert.equal(await page.innerText('#step-count'), 'Step 3 of 7');
  assert.equal(await page.isChecked('#symptom-cough'), true, 'switching language keeps the answers');
  await shot(page, 'visit-desktop-en-symptoms.png');
  assert.deepEqual(problems, []);
  await context.close();
});
