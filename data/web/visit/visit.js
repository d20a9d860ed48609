/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The patient's visit page: opens the visit link, asks consent to the online visit, then the
 * pre-consultation questions (预问诊), and sends them as a FHIR QuestionnaireResponse. Answers stay
 * on the device while they are being written, so a reload or a dropped connection loses nothing;
 * an answer that points to an emergency says so at once, on the whole screen. */
'use strict';

const QUESTIONNAIRE = 'https://wenzhen.example/fhir/Questionnaire/pre-consultation|1';
const SYMPTOM_SYSTEM = 'https://wenzhen.example/fhir/CodeSystem/preconsult-symptom';
const DURATION_SYSTEM = 'https://wenzhen.example/fhir/CodeSystem/preconsult-duration';
const CONSENT_SYSTEM = 'https://wenzhen.example/fhir/Consent/online-visit';
const SESSION_KEY = 'wz-visit-session';
/* The patient and the visit as last loaded, so the page can open without a connection. */
const KEPT_KEY = 'wz-visit-kept';
const MAX_TEXT = 2000;
const QUEUE_REFRESH_MS = 30000;
const STEPS = ['complaint', 'duration', 'symptoms', 'medicines', 'allergies', 'redflags', 'review'];

const STRINGS = {
  en: {
    pageTitle: 'Before your visit – Wenzhen',
    controls: 'Display settings',
    switchLanguage: '中文',
    switchLanguageLabel: '切换到中文 (switch to Chinese)',
    largeText: 'Large text',
    highContrast: 'High contrast',
    loading: 'Opening your visit…',
    footer: 'Your answers are used only for your care. Every time they are opened, it is written to an audit log.',
    problemTitle: 'This page cannot open your visit',
    noLink: 'Open the visit link your doctor or hospital sent you. This page alone does not start a visit.',
    linkUsed: 'This visit link was already used or has expired. Please ask your doctor or the hospital for a new link.',
    sessionEnded: 'Your visit session has ended. Please open the link again, or ask your doctor for a new one.',
    networkProblem: 'Cannot reach the service. Please check your internet connection and try again.',
    offlineNotice: 'You are offline. This page is a copy kept on this device: what you write is kept here and sent to your doctor when the connection is back.',
    tryAgain: 'Try again',
    visitWith: 'Your online visit with',
    doctorUnknown: 'your doctor',
    visitTime: 'Time',
    patientName: 'Patient',
    consentTitle: 'Before we start',
    consentText1: 'This is an online visit (互联网诊疗). The doctor will see your answers and talk with you by video or chat.',
    consentText2: 'An online visit cannot replace an examination in person. If the doctor thinks you need to be seen in hospital, they will tell you.',
    consentText3: 'What you tell us is used only for your care and is kept in your medical record. Every access is logged.',
    consentAgree: 'I agree, continue',
    consentDecline: 'I do not agree',
    consentDeclined: 'Without your consent the online visit cannot go ahead. Please contact your hospital to arrange another kind of visit. If you change your mind, you can agree below.',
    consentSaving: 'Saving your consent…',
    stepOf: 'Step {n} of {total}',
    back: 'Back',
    next: 'Next',
    complaintTitle: 'What is the main problem?',
    complaintHelp: 'In your own words: what would you like to see the doctor about?',
    complaintRequired: 'Please describe the main problem.',
    tooLong: 'Please keep this under {max} characters.',
    durationTitle: 'How long have you had it?',
    durationRequired: 'Please choose how long.',
    symptomsTitle: 'Which of these do you have?',
    symptomsHelp: 'Tick all that apply. You can also tick none.',
    pregnantQuestion: 'Are you pregnant?',
    yes: 'Yes',
    no: 'No',
    measurementsTitle: 'Measurements (only if you have them)',
    measurementRange: 'Please enter a number from {min} to {max}.',
    wholeNumber: 'Please enter a whole number.',
    medicinesTitle: 'Which medicines are you taking?',
    medicinesHelp: 'Include traditional Chinese medicine and supplements, with the dose if you know it.',
    medicinesNone: 'I am not taking any medicines',
    medicinesRequired: 'Please list your medicines, or tick that you take none.',
    allergiesTitle: 'Are you allergic to anything?',
    allergiesHelp: 'Medicines or foods, and what happened.',
    allergiesNone: 'I have no known allergies',
    allergiesRequired: 'Please list your allergies, or tick that you have none.',
    redFlagsTitle: 'Important safety questions',
    redFlagsHelp: 'Please answer each question. If any answer is yes, we will tell you what to do straight away.',
    redFlagRequired: 'Please answer yes or no.',
    reviewTitle: 'Check your answers',
    reviewHelp: 'You can go back to change anything. When it is right, send it to the doctor.',
    edit: 'Change',
    submit: 'Send to the doctor',
    sending: 'Sending…',
    sendFailed: 'Your answers could not be sent. They are kept on this phone; please try again.',
    sendRefused: 'The service could not accept these answers. Please check them and try again.',
    none: 'None',
    noneTicked: 'None ticked',
    allNo: 'No to every question',
    emergencyReminder: 'In an emergency, do not wait: call 120.',
    doneTitle: 'Thank you',
    doneText: 'The doctor has your answers and will see you soon.',
    queuePosition: 'You are number {n} in the queue.',
    queueStarted: 'Your consultation has started.',
    queueWaiting: 'Please keep this page open; the doctor will call you.',
    worseAdvice: 'If you feel worse while you wait, do not wait for the online visit: call 120 or go to an emergency department.',
    emergencyHeading: 'Go to the emergency department now',
    emergencyLead: 'Do not wait for the online visit. Call 120 now, or go to the nearest emergency department.',
    emergencyCall: 'Call 120',
    emergencyTold: 'Your doctor has been told.',
    emergencyNotSent: 'Your answers have not reached the doctor yet; do not wait for them.',
    emergencySend: 'Send my answers to the doctor',
  },
  zh: {
    pageTitle: '预问诊 – 问诊 Wenzhen',
    controls: '显示设置',
    switchLanguage: 'English',
    switchLanguageLabel: 'Switch to English (切换到英文)',
    largeText: '大字体',
    highContrast: '高对比度',
    loading: '正在打开您的就诊…',
    footer: '您的回答只用于您的诊疗，每一次查看都会记入审计日志。',
    problemTitle: '无法打开您的就诊',
    noLink: '请打开医生或医院发给您的就诊链接。只打开本页面不会开始问诊。',
    linkUsed: '这个就诊链接已经使用过或已过期。请联系您的医生或医院获取新的链接。',
    sessionEnded: '本次就诊的登录已结束。请重新打开链接，或请医生发送新的链接。',
    networkProblem: '无法连接到服务。请检查网络连接后重试。',
    offlineNotice: '当前没有网络。这是保存在本机上的页面：您写的内容会先保存在本机，网络恢复后自动发送给医生。',
    tryAgain: '重试',
    visitWith: '您预约的在线问诊医生',
    doctorUnknown: '您的医生',
    visitTime: '时间',
    patientName: '就诊人',
    consentTitle: '开始之前',
    consentText1: '这是一次互联网诊疗。医生会查看您的回答，并通过视频或文字与您交流。',
    consentText2: '在线问诊不能代替当面检查。如果医生认为您需要到医院就诊，会告诉您。',
    consentText3: '您提供的信息只用于您的诊疗，并保存在您的病历中。每一次查看都会被记录。',
    consentAgree: '我同意，继续',
    consentDecline: '我不同意',
    consentDeclined: '没有您的同意，无法进行在线问诊。请联系医院安排其他就诊方式。如果您改变主意，可以在下面点击同意。',
    consentSaving: '正在保存您的同意…',
    stepOf: '第 {n} 步，共 {total} 步',
    back: '上一步',
    next: '下一步',
    complaintTitle: '您这次主要哪里不舒服？',
    complaintHelp: '请用自己的话说说，您想请医生看什么问题。',
    complaintRequired: '请描述您主要的不舒服。',
    tooLong: '请不要超过 {max} 个字。',
    durationTitle: '这个问题持续多久了？',
    durationRequired: '请选择持续时间。',
    symptomsTitle: '您有以下哪些症状？',
    symptomsHelp: '有的都请勾选。也可以都不选。',
    pregnantQuestion: '您目前是否怀孕？',
    yes: '是',
    no: '否',
    measurementsTitle: '测量结果（有就填写）',
    measurementRange: '请输入 {min} 到 {max} 之间的数字。',
    wholeNumber: '请输入整数。',
    medicinesTitle: '您目前在用哪些药物？',
    medicinesHelp: '包括中药和保健品；知道剂量的请一并写上。',
    medicinesNone: '目前没有用药',
    medicinesRequired: '请填写您在用的药物，或勾选“目前没有用药”。',
    allergiesTitle: '您对什么过敏吗？',
    allergiesHelp: '药物或食物，以及过敏时的表现。',
    allergiesNone: '没有已知过敏',
    allergiesRequired: '请填写过敏情况，或勾选“没有已知过敏”。',
    redFlagsTitle: '重要的安全问题',
    redFlagsHelp: '请逐一回答。只要有一项回答“是”，我们会马上告诉您该怎么做。',
    redFlagRequired: '请回答“是”或“否”。',
    reviewTitle: '核对您的回答',
    reviewHelp: '可以返回修改任何一项。确认无误后，发送给医生。',
    edit: '修改',
    submit: '发送给医生',
    sending: '正在发送…',
    sendFailed: '您的回答未能发送。回答已保存在本机，请重试。',
    sendRefused: '服务无法接收这些回答。请检查后重试。',
    none: '无',
    noneTicked: '未勾选',
    allNo: '全部回答“否”',
    emergencyReminder: '如遇紧急情况，请勿等待，立即拨打 120。',
    doneTitle: '谢谢您',
    doneText: '医生已收到您的回答，很快就会为您看诊。',
    queuePosition: '您目前排在第 {n} 位。',
    queueStarted: '您的问诊已经开始。',
    queueWaiting: '请保持本页面打开，医生会呼叫您。',
    worseAdvice: '如果等待期间病情加重，请不要等待线上问诊，立即拨打 120 或前往急诊。',
    emergencyHeading: '请立即前往急诊',
    emergencyLead: '不要等待线上问诊。请立即拨打 120，或前往最近医院的急诊科。',
    emergencyCall: '拨打 120',
    emergencyTold: '您的医生已收到通知。',
    emergencyNotSent: '您的回答还没有送达医生，请不要等待。',
    emergencySend: '把我的回答发送给医生',
  },
};

/* ---- Small helpers ----------------------------------------------------------------------- */

let lang = 'zh';

function t (key, values) {
  let text = STRINGS[lang][key];
  for (const [name, value] of Object.entries(values || {}))
    text = text.replace('{' + name + '}', String(value));
  return text;
}

/* The rules file's {en, zh} texts. */
function tr (text) {
  if (!text)
    return '';
  return text[lang] || text.en || '';
}

function el (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false)
      continue;
    if (name === 'class')
      node.className = value;
    else if (name === 'text')
      node.textContent = value;
    else if (name.startsWith('on'))
      node.addEventListener(name.slice(2), value);
    else
      node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false)
      continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function storage (kind) {
  try {
    return kind === 'session' ? window.sessionStorage : window.localStorage;
  } catch (e) {
    return null;
  }
}

function readJson (kind, key) {
  try {
    const text = storage(kind) && storage(kind).getItem(key);
    return text ? JSON.parse(text) : null;
  } catch (e) {
    return null;
  }
}

function writeJson (kind, key, value) {
  try {
    if (value === null)
      storage(kind).removeItem(key);
    else
      storage(kind).setItem(key, JSON.stringify(value));
  } catch (e) {
    /* private mode: the answers live only as long as the page */
  }
}

function newUrnUuid () {
  if (window.crypto && typeof window.crypto.randomUUID === 'function')
    return 'urn:uuid:' + window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/* A FHIR dateTime in the device's time zone, e.g. 2024-05-01T09:30:00+08:00. */
function localDateTime (date) {
  const pad = (n) => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
         `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
         `${offset >= 0 ? '+' : '-'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/* ---- Reading aids, as on the landing page ------------------------------------------------- */

function storedPreference (key) {
  try {
    return window.localStorage.getItem(key);
  } catch (e) {
    return null;
  }
}

function storePreference (key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch (e) {
    /* applies now, not remembered */
  }
}

function preferredLanguage () {
  const stored = storedPreference('wz-lang');
  if (stored === 'en' || stored === 'zh')
    return stored;
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'zh-CN'];
  for (const tag of wanted) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (primary === 'zh' || primary === 'en')
      return primary;
  }
  return 'zh';
}

function applyToggle (className, on) {
  document.documentElement.classList.toggle(className, on);
  for (const button of document.querySelectorAll('.js-' + className))
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
}

/* ---- State ------------------------------------------------------------------------------- */

const state = {
  view: 'loading',      /* loading | problem | consent | declined | step | done */
  problem: null,        /* a STRINGS key */
  retry: null,          /* what the problem's "Try again" does */
  session: null,        /* { token, patient, encounter, expiresAt } */
  rules: null,
  patient: null,
  encounter: null,
  draft: null,          /* see newDraft() */
  result: null,         /* { redFlags: [ids], sent: bool, queue: {...} } */
  errors: {},           /* field → STRINGS key (+ values) shown under it */
  busy: false,
  sendError: null,
};

function newDraft () {
  return {
    identifier: newUrnUuid(),
    consented: false,
    consentStored: false,
    step: 0,
    answers: {
      complaint: '',
      duration: null,
      symptoms: [],
      pregnant: null,
      measurements: {},
      medications: '',
      medicationsNone: false,
      allergies: '',
      allergiesNone: false,
      redFlags: {},
    },
  };
}

function draftKey () {
  return 'wz-preconsult:' + state.session.encounter;
}

function saveDraft () {
  writeJson('local', draftKey(), { draft: state.draft, result: state.result });
}

/* ---- Talking to the server ---------------------------------------------------------------- */

class HttpError extends Error {
  constructor (status, body) {
    super('HTTP ' + status);
    this.status = status;
    this.body = body;
  }
}

async function api (method, path, body, headers) {
  const init = {
    method,
    cache: 'no-store',
    headers: { Accept: 'application/fhir+json', ...(headers || {}) },
  };
  if (state.session)
    init.headers.Authorization = 'Bearer ' + state.session.token;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/fhir+json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let json = null;
  try {
    json = await response.json();
  } catch (e) {
    json = null;
  }
  if (!response.ok)
    throw new HttpError(response.status, json);
  return json;
}

async function exchangeLink (linkToken) {
  const response = await fetch('/auth/visit', {
    method: 'POST',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ link_token: linkToken }),
  });
  const json = await response.json().catch(() => null);
  if (!response.ok)
    throw new HttpError(response.status, json);
  const session = {
    token: json.access_token,
    patient: String(json.patient || '').replace(/^Patient\//, ''),
    encounter: String(json.encounter || '').replace(/^Encounter\//, ''),
    expiresAt: Date.now() + (Number(json.expires_in) || 0) * 1000,
  };
  if (!session.token || !session.patient || !session.encounter)
    throw new HttpError(500, json);
  return session;
}

/* ---- Facts the rules need ---------------------------------------------------------------- */

function parseDate (text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
  return m ? { y: +m[1], m: +m[2], d: +m[3] } : null;
}

/* Calendar arithmetic as the server does it: adding a month to 31 January gives the last day
 * of February. */
function addToDate (date, value, unit) {
  let { y, m, d } = date;
  if (unit === 'day') {
    const js = new Date(Date.UTC(y, m - 1, d + value));
    return { y: js.getUTCFullYear(), m: js.getUTCMonth() + 1, d: js.getUTCDate() };
  }
  const months = unit === 'month' ? value : value * 12;
  const total = y * 12 + (m - 1) + months;
  y = Math.floor(total / 12);
  m = total % 12 + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { y, m, d: Math.min(d, last) };
}

function compareDates (a, b) {
  return (a.y - b.y) || (a.m - b.m) || (a.d - b.d);
}

function facts () {
  const answers = state.draft.answers;
  const birth = parseDate(state.patient && state.patient.birthDate);
  const now = new Date();
  const today = { y: now.getFullYear(), m: now.getMonth() + 1, d: now.getDate() };
  const durationOption = (state.rules.duration_options || []).find((o) => o.id === answers.duration);
  const values = {};
  for (const [id, text] of Object.entries(answers.measurements || {})) {
    const number = Number(text);
    if (text !== '' && text !== undefined && Number.isFinite(number))
      values[id] = number;
  }
  return {
    birth: birth && compareDates(birth, today) <= 0 ? birth : null,
    today,
    sex: state.patient && (state.patient.gender === 'male' || state.patient.gender === 'female') ? state.patient.gender : null,
    symptoms: new Set(answers.symptoms),
    durationHours: durationOption ? durationOption.from_hours : null,
    values,
    pregnant: answers.pregnant === true,
  };
}

const VALUE_KEYS = {
  temperature_min_c: ['temperature_c', 'min'],
  temperature_max_c: ['temperature_c', 'max'],
  sbp_min: ['sbp', 'min'],
  dbp_min: ['dbp', 'min'],
  glucose_min_mmol_l: ['glucose_mmol_l', 'min'],
  glucose_max_mmol_l: ['glucose_mmol_l', 'max'],
};

/* The same condition language the server applies (data/clinical/triage-rules.json). For
 * applies_to ("should we ask?") an unknown age or sex counts as a match: asking too much is
 * safe, asking too little is not. For triggers an unknown never matches. */
function conditionMatches (condition, f, unknownMatches) {
  if (condition.symptoms_any && !condition.symptoms_any.some((id) => f.symptoms.has(id)))
    return false;
  if (condition.symptoms_all && !condition.symptoms_all.every((id) => f.symptoms.has(id)))
    return false;
  if (condition.age) {
    if (!f.birth) {
      if (!unknownMatches)
        return false;
    } else {
      const { min, max } = condition.age;
      if (min && compareDates(f.today, addToDate(f.birth, min.value, min.unit)) < 0)
        return false;
      if (max && compareDates(f.today, addToDate(f.birth, max.value, max.unit)) >= 0)
        return false;
    }
  }
  if (condition.duration_min_hours !== undefined &&
      (f.durationHours === null || f.durationHours < condition.duration_min_hours))
    return false;
  if (condition.duration_max_hours !== undefined &&
      (f.durationHours === null || f.durationHours >= condition.duration_max_hours))
    return false;
  for (const [key, [id, kind]] of Object.entries(VALUE_KEYS)) {
    if (condition[key] === undefined)
      continue;
    const value = f.values[id];
    if (value === undefined)
      return false;
    if (kind === 'min' ? value < condition[key] : value >= condition[key])
      return false;
  }
  if (condition.pregnant === true && !f.pregnant)
    return false;
  if (condition.pregnant === false && f.pregnant)
    return false;
  if (condition.sex && (f.sex ? f.sex !== condition.sex : !unknownMatches))
    return false;
  return true;
}

function applicableRedFlags () {
  const f = facts();
  return state.rules.red_flags.filter((flag) => conditionMatches(flag.applies_to || {}, f, true));
}

function firedRedFlags () {
  const f = facts();
  const answers = state.draft.answers.redFlags;
  return state.rules.red_flags.filter((flag) =>
    answers[flag.id] === true ||
    (flag.also_triggered_by || []).some((condition) => conditionMatches(condition, f, false)));
}

function asksPregnancy () {
  const f = facts();
  if (f.sex === 'male')
    return false;
  if (!f.birth)
    return true;
  return compareDates(f.today, addToDate(f.birth, 12, 'year')) >= 0 &&
         compareDates(f.today, addToDate(f.birth, 56, 'year')) < 0;
}

/* ---- The answers as FHIR ----------------------------------------------------------------- */

function questionnaireResponse () {
  const a = state.draft.answers;
  const items = [];
  const add = (linkId, text, answer) => items.push({ linkId, text, answer: Array.isArray(answer) ? answer : [answer] });

  add('chief-complaint', t('complaintTitle'), { valueString: a.complaint.trim() });
  const duration = state.rules.duration_options.find((o) => o.id === a.duration);
  add('duration', t('durationTitle'), { valueCoding: { system: DURATION_SYSTEM, code: duration.id, display: tr(duration.label) } });
  if (a.symptoms.length) {
    add('symptoms', t('symptomsTitle'), a.symptoms.map((id) => {
      const symptom = state.rules.symptom_checklist.find((s) => s.id === id);
      return { valueCoding: { system: SYMPTOM_SYSTEM, code: id, display: tr(symptom.label) } };
    }));
  }
  if (asksPregnancy() && a.pregnant !== null)
    add('pregnant', t('pregnantQuestion'), { valueBoolean: a.pregnant });
  for (const measurement of state.rules.measurements) {
    const text = (a.measurements[measurement.id] || '').trim();
    if (text === '')
      continue;
    const integer = measurement.id === 'sbp' || measurement.id === 'dbp';
    add('measurement.' + measurement.id, tr(measurement.label),
      integer ? { valueInteger: parseInt(text, 10) } : { valueDecimal: Number(text) });
  }
  if (a.medicationsNone)
    add('medications-none', t('medicinesNone'), { valueBoolean: true });
  else
    add('medications', t('medicinesTitle'), { valueString: a.medications.trim() });
  if (a.allergiesNone)
    add('allergies-none', t('allergiesNone'), { valueBoolean: true });
  else
    add('allergies', t('allergiesTitle'), { valueString: a.allergies.trim() });
  for (const flag of applicableRedFlags()) {
    if (typeof a.redFlags[flag.id] === 'boolean')
      add('red-flag.' + flag.id, tr(flag.question), { valueBoolean: a.redFlags[flag.id] });
  }

  return {
    resourceType: 'QuestionnaireResponse',
    identifier: { system: 'urn:ietf:rfc:3986', value: state.draft.identifier },
    questionnaire: QUESTIONNAIRE,
    status: 'completed',
    subject: { reference: 'Patient/' + state.session.patient },
    encounter: { reference: 'Encounter/' + state.session.encounter },
    authored: localDateTime(new Date()),
    item: items,
  };
}

function consentResource () {
  const now = localDateTime(new Date());
  return {
    resourceType: 'Consent',
    identifier: [{ system: CONSENT_SYSTEM, value: state.session.encounter }],
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment', display: 'Treatment' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }],
                 text: '互联网诊疗知情同意 Consent to an online visit' }],
    patient: { reference: 'Patient/' + state.session.patient },
    dateTime: now,
    performer: [{ reference: 'Patient/' + state.session.patient }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: now },
      data: [{ meaning: 'related', reference: { reference: 'Encounter/' + state.session.encounter } }],
    },
  };
}

/* ---- Rendering ----------------------------------------------------------------------------- */

const view = () => document.getElementById('view');

/* Replaces what the view shows; NODES may nest arrays and hold nulls for parts left out. */
function show (...nodes) {
  view().replaceChildren(...nodes.flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false));
}

function heading (text) {
  return el('h2', { class: 'view-title', tabindex: '-1', text });
}

function fieldError (key) {
  const error = state.errors[key];
  return error ? el('p', { class: 'field-error', id: 'error-' + key, role: 'alert', text: t(error.key, error.values) }) : null;
}

function visitSummary () {
  const participant = (state.encounter.participant || []).find((p) => p.individual && /^Practitioner\//.test(p.individual.reference || ''));
  const doctor = participant && participant.individual.display ? participant.individual.display : t('doctorUnknown');
  const start = state.encounter.period && state.encounter.period.start;
  let when = '';
  if (start) {
    const date = new Date(start);
    if (!Number.isNaN(date.getTime()))
      when = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'long', timeStyle: 'short' }).format(date);
  }
  const name = state.patient && state.patient.name && state.patient.name[0] ? state.patient.name[0].text : '';
  return el('div', { class: 'visit-summary' },
    el('p', { class: 'visit-with', text: t('visitWith') }),
    el('p', { class: 'doctor-name', id: 'doctor-name', text: doctor }),
    el('dl', { class: 'visit-facts' },
      when ? [el('dt', { text: t('visitTime') }), el('dd', { id: 'visit-time', text: when })] : null,
      name ? [el('dt', { text: t('patientName') }), el('dd', { text: name })] : null));
}

function renderLoading () {
  show(el('p', { class: 'loading', text: t('loading') }));
}

function renderProblem () {
  show(
    heading(t('problemTitle')),
    el('p', { class: 'problem', id: 'problem', text: t(state.problem) }),
    el('p', { class: 'notice' }, t('emergencyReminder') + ' ', el('a', { href: 'tel:120', text: t('emergencyCall') })),
    state.retry ? el('button', { type: 'button', class: 'button', id: 'retry', onclick: state.retry, text: t('tryAgain') }) : null);
}

function renderConsent (declined) {
  show(
    visitSummary(),
    heading(t('consentTitle')),
    el('div', { class: 'consent-text' },
      el('p', { text: t('consentText1') }),
      el('p', { text: t('consentText2') }),
      el('p', { text: t('consentText3') })),
    declined ? el('p', { class: 'notice', id: 'declined', role: 'status', text: t('consentDeclined') }) : null,
    state.sendError ? el('p', { class: 'field-error', role: 'alert', text: t(state.sendError) }) : null,
    el('div', { class: 'actions stacked' },
      el('button', { type: 'button', class: 'button primary', id: 'consent-agree', disabled: state.busy, onclick: agree },
        state.busy ? t('consentSaving') : t('consentAgree')),
      declined ? null : el('button', { type: 'button', class: 'button secondary', id: 'consent-decline', onclick: decline, text: t('consentDecline') })));
}

function stepHeader (index) {
  const bar = el('div', { class: 'progress-bar' });
  /* CSSOM, not a style attribute: the page's CSP allows no inline styles. */
  bar.style.width = `${Math.round(((index + 1) / STEPS.length) * 100)}%`;
  return el('div', { class: 'step-header' },
    el('p', { class: 'step-count', id: 'step-count', text: t('stepOf', { n: index + 1, total: STEPS.length }) }),
    el('div', { class: 'progress', role: 'presentation' }, bar));
}

function navigation (index, nextLabel) {
  return el('div', { class: 'actions' },
    index > 0 ? el('button', { type: 'button', class: 'button secondary', id: 'back', onclick: back, text: t('back') }) : el('span'),
    el('button', { type: 'button', class: 'button primary', id: 'next', disabled: state.busy, onclick: next }, nextLabel || t('next')));
}

function textArea (id, value, onInput, describedBy) {
  const area = el('textarea', { id, rows: '4', maxlength: String(MAX_TEXT), 'aria-describedby': describedBy });
  area.value = value;
  area.addEventListener('input', () => onInput(area.value));
  return area;
}

function choice (type, name, id, label, checked, onChange) {
  const input = el('input', { type, name, id, checked: checked });
  input.addEventListener('change', () => onChange(input.checked));
  return el('label', { class: 'choice', for: id }, input, el('span', { class: 'choice-text', text: label }));
}

function yesNo (name, value, onChange, describedBy) {
  return el('div', { class: 'yes-no', role: 'radiogroup', 'aria-labelledby': name + '-label', 'aria-describedby': describedBy },
    choice('radio', name, name + '-yes', t('yes'), value === true, () => onChange(true)),
    choice('radio', name, name + '-no', t('no'), value === false, () => onChange(false)));
}

function renderComplaint () {
  const a = state.draft.answers;
  return [
    el('label', { class: 'question', for: 'complaint', text: t('complaintTitle') }),
    el('p', { class: 'help', id: 'complaint-help', text: t('complaintHelp') }),
    textArea('complaint', a.complaint, (value) => { a.complaint = value; saveDraft(); }, 'complaint-help'),
    fieldError('complaint'),
  ];
}

function renderDuration () {
  const a = state.draft.answers;
  return [
    el('fieldset', { class: 'choices' },
      el('legend', { class: 'question', text: t('durationTitle') }),
      state.rules.duration_options.map((option) =>
        choice('radio', 'duration', 'duration-' + option.id, tr(option.label), a.duration === option.id,
          () => { a.duration = option.id; saveDraft(); }))),
    fieldError('duration'),
  ];
}

const GROUP_LABELS = {
  general: { en: 'General', zh: '全身' },
  respiratory: { en: 'Breathing, nose and throat', zh: '呼吸道' },
  heart: { en: 'Heart and circulation', zh: '心脏与循环' },
  nervous: { en: 'Head and nerves', zh: '头部与神经' },
  digestive: { en: 'Stomach and bowels', zh: '消化' },
  urinary: { en: 'Urine', zh: '泌尿' },
  musculoskeletal: { en: 'Back, joints and muscles', zh: '腰背、关节与肌肉' },
  skin: { en: 'Skin', zh: '皮肤' },
  eyes_ears: { en: 'Eyes and ears', zh: '眼与耳' },
  mental: { en: 'Mood and sleep', zh: '情绪与睡眠' },
  women: { en: "Women's health", zh: '妇科' },
  follow_up: { en: 'Follow-up and prescriptions', zh: '复诊与续方' },
  other: { en: 'Anything else', zh: '其他' },
};

function renderSymptoms () {
  const a = state.draft.answers;
  const groups = new Map();
  /* "Something else" comes last, after every named symptom. */
  const ordered = state.rules.symptom_checklist.filter((s) => s.id !== 'other')
    .concat(state.rules.symptom_checklist.filter((s) => s.id === 'other'));
  for (const symptom of ordered) {
    const group = symptom.id === 'other' ? 'other' : symptom.group;
    if (!groups.has(group))
      groups.set(group, []);
    groups.get(group).push(symptom);
  }
  const toggle = (id, on) => {
    const set = new Set(a.symptoms);
    if (on)
      set.add(id);
    else
      set.delete(id);
    /* In checklist order, so the doctor reads them the same way every time. */
    a.symptoms = state.rules.symptom_checklist.map((s) => s.id).filter((s) => set.has(s));
    saveDraft();
  };

  return [
    el('p', { class: 'question', id: 'symptoms-label', text: t('symptomsTitle') }),
    el('p', { class: 'help', text: t('symptomsHelp') }),
    [...groups.entries()].map(([group, symptoms]) => el('fieldset', { class: 'choices symptom-group' },
      el('legend', { class: 'group-label', text: tr(GROUP_LABELS[group]) || group }),
      symptoms.map((symptom) => choice('checkbox', 'symptom', 'symptom-' + symptom.id, tr(symptom.label),
        a.symptoms.includes(symptom.id), (on) => toggle(symptom.id, on))))),
    asksPregnancy() ? el('fieldset', { class: 'choices question-block' },
      el('legend', { class: 'question', id: 'pregnant-label', text: t('pregnantQuestion') }),
      yesNo('pregnant', a.pregnant, (value) => { a.pregnant = value; saveDraft(); })) : null,
    el('fieldset', { class: 'measurements question-block' },
      el('legend', { class: 'question', text: t('measurementsTitle') }),
      state.rules.measurements.map((m) => {
        const input = el('input', { type: 'text', inputmode: 'decimal', id: 'measurement-' + m.id, autocomplete: 'off',
                                   'aria-describedby': state.errors['measurement-' + m.id] ? 'error-measurement-' + m.id : null });
        input.value = a.measurements[m.id] || '';
        input.addEventListener('input', () => { a.measurements[m.id] = input.value.trim(); saveDraft(); });
        return el('div', { class: 'measurement' },
          el('label', { for: 'measurement-' + m.id, text: tr(m.label) }), input, fieldError('measurement-' + m.id));
      })),
  ];
}

function renderFreeTextWithNone (key, noneKey, titleKey, helpKey, noneLabelKey, errorKey) {
  const a = state.draft.answers;
  const area = textArea(key, a[key], (value) => {
    a[key] = value;
    if (value.trim() !== '' && a[noneKey]) {
      a[noneKey] = false;
      document.getElementById(key + '-none').checked = false;
    }
    saveDraft();
  }, key + '-help');
  area.disabled = a[noneKey];
  return [
    el('label', { class: 'question', for: key, text: t(titleKey) }),
    el('p', { class: 'help', id: key + '-help', text: t(helpKey) }),
    area,
    el('div', { class: 'choices' },
      choice('checkbox', key + '-none', key + '-none', t(noneLabelKey), a[noneKey], (on) => {
        a[noneKey] = on;
        area.disabled = on;
        saveDraft();
      })),
    fieldError(errorKey),
  ];
}

function renderRedFlags () {
  const a = state.draft.answers;
  return [
    el('p', { class: 'help', text: t('redFlagsHelp') }),
    el('ol', { class: 'red-flags' }, applicableRedFlags().map((flag) => el('li', { class: 'red-flag', id: 'flag-' + flag.id },
      el('p', { class: 'question', id: 'red-flag-' + flag.id + '-label', text: tr(flag.question) }),
      flag.help ? el('p', { class: 'help', id: 'red-flag-' + flag.id + '-help', text: tr(flag.help) }) : null,
      yesNo('red-flag-' + flag.id, a.redFlags[flag.id], (value) => {
        a.redFlags[flag.id] = value;
        saveDraft();
        /* The next button says what happens next. */
        document.getElementById('next').textContent = firedRedFlags().length ? t('submit') : t('next');
      }, flag.help ? 'red-flag-' + flag.id + '-help' : null),
      fieldError('flag-' + flag.id)))),
  ];
}

function reviewRow (label, value, step) {
  return [
    el('dt', { text: label }),
    el('dd', {}, el('span', { class: 'review-value', text: value }),
      el('button', { type: 'button', class: 'link-button', onclick: () => goTo(STEPS.indexOf(step)), text: t('edit') })),
  ];
}

function renderReview () {
  const a = state.draft.answers;
  const duration = state.rules.duration_options.find((o) => o.id === a.duration);
  const symptoms = a.symptoms.map((id) => tr(state.rules.symptom_checklist.find((s) => s.id === id).label));
  const measurements = state.rules.measurements.filter((m) => (a.measurements[m.id] || '') !== '')
    .map((m) => `${tr(m.label)}: ${a.measurements[m.id]}`);
  return [
    el('p', { class: 'help', text: t('reviewHelp') }),
    el('dl', { class: 'review', id: 'review' },
      reviewRow(t('complaintTitle'), a.complaint.trim(), 'complaint'),
      reviewRow(t('durationTitle'), duration ? tr(duration.label) : '', 'duration'),
      reviewRow(t('symptomsTitle'), symptoms.length ? symptoms.join(lang === 'zh' ? '、' : ', ') : t('noneTicked'), 'symptoms'),
      measurements.length ? reviewRow(t('measurementsTitle'), measurements.join('; '), 'symptoms') : null,
      reviewRow(t('medicinesTitle'), a.medicationsNone ? t('none') : a.medications.trim(), 'medicines'),
      reviewRow(t('allergiesTitle'), a.allergiesNone ? t('none') : a.allergies.trim(), 'allergies'),
      reviewRow(t('redFlagsTitle'), t('allNo'), 'redflags')),
    state.sendError ? el('p', { class: 'field-error', id: 'send-error', role: 'alert', text: t(state.sendError) }) : null,
  ];
}

const STEP_TITLES = {
  complaint: null,
  duration: null,
  symptoms: null,
  medicines: null,
  allergies: null,
  redflags: 'redFlagsTitle',
  review: 'reviewTitle',
};

function renderStep () {
  const index = state.draft.step;
  const step = STEPS[index];
  let body;
  let nextLabel = null;
  switch (step) {
  case 'complaint': body = renderComplaint(); break;
  case 'duration': body = renderDuration(); break;
  case 'symptoms': body = renderSymptoms(); break;
  case 'medicines': body = renderFreeTextWithNone('medications', 'medicationsNone', 'medicinesTitle', 'medicinesHelp', 'medicinesNone', 'medications'); break;
  case 'allergies': body = renderFreeTextWithNone('allergies', 'allergiesNone', 'allergiesTitle', 'allergiesHelp', 'allergiesNone', 'allergies'); break;
  case 'redflags':
    body = renderRedFlags();
    nextLabel = firedRedFlags().length ? t('submit') : null;
    break;
  default:
    body = renderReview();
    nextLabel = state.busy ? t('sending') : t('submit');
  }
  const title = STEP_TITLES[step];
  show(
    stepHeader(index),
    title ? heading(t(title)) : null,
    el('div', { class: 'step step-' + step, 'data-step': step }, body),
    navigation(index, nextLabel));
}

function renderDone () {
  const queue = state.result.queue;
  let queueText = t('queueWaiting');
  if (queue && queue.status === 'in-progress')
    queueText = t('queueStarted');
  else if (queue && queue.position > 0)
    queueText = t('queuePosition', { n: queue.position });
  show(
    el('div', { class: 'done' },
      el('p', { class: 'done-icon', 'aria-hidden': 'true', text: '✓' }),
      heading(t('doneTitle')),
      el('p', { class: 'done-text', id: 'done-text', text: t('doneText') }),
      state.offline ? el('p', { class: 'notice offline', id: 'offline', role: 'status', text: t('offlineNotice') })
        : el('p', { class: 'queue', id: 'queue', role: 'status', text: queueText }),
      el('p', { class: 'notice', text: t('worseAdvice') })),
    visitSummary());
}

function renderEmergency () {
  const screen = document.getElementById('emergency');
  const fired = state.result ? state.result.redFlags : [];
  if (!fired.length) {
    screen.hidden = true;
    document.body.classList.remove('has-emergency');
    return;
  }
  const messages = fired.map((id) => state.rules.red_flags.find((flag) => flag.id === id)).filter(Boolean);
  document.getElementById('emergency-messages').replaceChildren(
    ...messages.map((flag) => el('li', { text: tr(flag.message) })));
  document.getElementById('emergency-told').textContent = state.result.sent ? t('emergencyTold')
    : [state.sendError ? t(state.sendError) : null, t('emergencyNotSent')].filter(Boolean).join(' ');
  const retry = document.getElementById('emergency-retry');
  retry.hidden = state.result.sent;
  retry.disabled = state.busy;
  retry.textContent = state.busy ? t('sending') : t('emergencySend');
  screen.hidden = false;
  document.body.classList.add('has-emergency');
}

function render (focus) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('pageTitle');
  for (const node of document.querySelectorAll('[data-i18n]'))
    node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-label]'))
    node.setAttribute('aria-label', t(node.dataset.i18nLabel));
  for (const button of document.querySelectorAll('.js-lang'))
    button.lang = lang === 'zh' ? 'en' : 'zh-CN';
  view().dataset.view = state.view;

  switch (state.view) {
  case 'loading': renderLoading(); break;
  case 'problem': renderProblem(); break;
  case 'consent': renderConsent(false); break;
  case 'declined': renderConsent(true); break;
  case 'step': renderStep(); break;
  case 'done': renderDone(); break;
  }
  if (state.result)
    renderEmergency();
  mountModules();

  if (focus) {
    const target = document.querySelector('#emergency:not([hidden]) h1') || view().querySelector('.field-error') ||
                   view().querySelector('.view-title') || view().querySelector('.question');
    if (target) {
      if (!target.hasAttribute('tabindex'))
        target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: false });
    }
    window.scrollTo(0, 0);
  }
}

/* ---- Visit home: feature modules (chat, call, records) ------------------------------------ */

/* Each feature file registers { id, order, mount(container, ctx) } on window.wzVisitModules; once
 * the pre-consultation is done they are mounted below it, once each, and told when the language
 * changes. They live outside #view so a re-render of the thank-you card never destroys them. */
const langListeners = [];
let modulesMounted = false;

function moduleContext () {
  return {
    session: state.session,
    api,
    HttpError,
    lang: () => lang,
    onLang: (callback) => langListeners.push(callback),
    el,
  };
}

function mountModules () {
  const host = document.getElementById('visit-panels');
  host.hidden = state.view !== 'done';
  if (modulesMounted || state.view !== 'done')
    return;
  modulesMounted = true;
  const modules = [...(window.wzVisitModules || [])].sort((a, b) => (a.order || 0) - (b.order || 0));
  for (const module of modules) {
    const section = el('section', { class: 'card panel', id: 'panel-' + module.id });
    host.append(section);
    try {
      module.mount(section, moduleContext());
    } catch (error) {
      /* One broken feature must not take the others (or the thank-you card) down with it. */
      console.error('module ' + module.id + ' failed to start', error);
      section.remove();
    }
  }
}

function notifyLanguage () {
  for (const callback of langListeners) {
    try {
      callback(lang);
    } catch (error) {
      console.error('language change failed in a module', error);
    }
  }
}

/* ---- Actions ------------------------------------------------------------------------------- */

function showProblem (key, retry) {
  state.view = 'problem';
  state.problem = key;
  state.retry = retry || null;
  render(true);
}

function problemFor (error) {
  if (error instanceof HttpError && error.status === 401)
    return 'sessionEnded';
  return 'networkProblem';
}

async function agree () {
  state.draft.consented = true;
  state.busy = true;
  state.sendError = null;
  saveDraft();
  render(false);
  try {
    const consent = consentResource();
    await api('POST', '/fhir/Consent', consent,
      { 'If-None-Exist': 'identifier=' + encodeURIComponent(CONSENT_SYSTEM + '|' + state.session.encounter) });
    state.draft.consentStored = true;
    state.view = 'step';
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      state.busy = false;
      showProblem('sessionEnded');
      return;
    }
    state.sendError = 'sendFailed';
  }
  state.busy = false;
  saveDraft();
  render(true);
}

function decline () {
  state.view = 'declined';
  render(true);
}

function validateStep (step) {
  const a = state.draft.answers;
  const errors = {};
  if (step === 'complaint') {
    const text = a.complaint.trim();
    if (!text)
      errors.complaint = { key: 'complaintRequired' };
    else if ([...text].length > MAX_TEXT)
      errors.complaint = { key: 'tooLong', values: { max: MAX_TEXT } };
  } else if (step === 'duration') {
    if (!a.duration)
      errors.duration = { key: 'durationRequired' };
  } else if (step === 'symptoms') {
    for (const m of state.rules.measurements) {
      const text = (a.measurements[m.id] || '').trim();
      if (text === '')
        continue;
      const number = Number(text);
      const integer = m.id === 'sbp' || m.id === 'dbp';
      if (!Number.isFinite(number) || number < m.min || number > m.max)
        errors['measurement-' + m.id] = { key: 'measurementRange', values: { min: m.min, max: m.max } };
      else if (integer && !/^\d+$/.test(text))
        errors['measurement-' + m.id] = { key: 'wholeNumber' };
    }
  } else if (step === 'medicines') {
    if (!a.medicationsNone && !a.medications.trim())
      errors.medications = { key: 'medicinesRequired' };
    else if ([...a.medications].length > MAX_TEXT)
      errors.medications = { key: 'tooLong', values: { max: MAX_TEXT } };
  } else if (step === 'allergies') {
    if (!a.allergiesNone && !a.allergies.trim())
      errors.allergies = { key: 'allergiesRequired' };
    else if ([...a.allergies].length > MAX_TEXT)
      errors.allergies = { key: 'tooLong', values: { max: MAX_TEXT } };
  } else if (step === 'redflags') {
    /* A "yes" is enough to act on; only without one must every question be answered. */
    if (!firedRedFlags().length) {
      for (const flag of applicableRedFlags()) {
        if (typeof a.redFlags[flag.id] !== 'boolean')
          errors['flag-' + flag.id] = { key: 'redFlagRequired' };
      }
    }
  }
  return errors;
}

function goTo (index) {
  state.draft.step = Math.max(0, Math.min(index, STEPS.length - 1));
  state.errors = {};
  state.sendError = null;
  saveDraft();
  render(true);
}

function back () {
  goTo(state.draft.step - 1);
}

function next () {
  const step = STEPS[state.draft.step];
  state.errors = validateStep(step);
  if (Object.keys(state.errors).length) {
    render(true);
    return;
  }
  if (step === 'review' || (step === 'redflags' && firedRedFlags().length)) {
    submit();
    return;
  }
  goTo(state.draft.step + 1);
}

async function submit () {
  /* Every earlier step must hold: the review may have been reached after a reload. */
  for (let i = 0; i < STEPS.length - 1; i++) {
    const errors = validateStep(STEPS[i]);
    if (Object.keys(errors).length) {
      state.draft.step = i;
      state.errors = errors;
      render(true);
      return;
    }
  }

  const fired = firedRedFlags().map((flag) => flag.id);
  if (fired.length) {
    /* The advice must not wait for the network. */
    state.result = { redFlags: fired, sent: false, queue: null };
    saveDraft();
    renderEmergency();
  }

  state.busy = true;
  state.sendError = null;
  render(false);
  try {
    const identifier = state.draft.identifier;
    await api('POST', '/fhir/QuestionnaireResponse', questionnaireResponse(),
      { 'If-None-Exist': 'identifier=' + encodeURIComponent('urn:ietf:rfc:3986|' + identifier) });
    state.result = { redFlags: fired, sent: true, queue: null };
    /* What was said now lives in the record; the device keeps only what the result screen needs. */
    state.draft.answers = newDraft().answers;
    state.view = 'done';
    state.busy = false;
    saveDraft();
    render(true);
    refreshQueue();
  } catch (error) {
    state.busy = false;
    if (error instanceof HttpError && error.status === 401) {
      showProblem('sessionEnded');
      return;
    }
    state.sendError = error instanceof HttpError && error.status >= 400 && error.status < 500 ? 'sendRefused' : 'sendFailed';
    render(true);
  }
}

let queueTimer = null;

async function refreshQueue () {
  clearTimeout(queueTimer);
  if (state.view !== 'done')
    return;
  try {
    const response = await fetch('/visit/queue', {
      cache: 'no-store',
      headers: { Authorization: 'Bearer ' + state.session.token, Accept: 'application/json' },
    });
    if (response.ok) {
      state.result.queue = await response.json();
      saveDraft();
      renderDone();
    }
  } catch (e) {
    /* the thank-you stands without the position */
  }
  queueTimer = setTimeout(refreshQueue, QUEUE_REFRESH_MS);
}

/* ---- Start ----------------------------------------------------------------------------------- */

function linkTokenFromFragment () {
  const fragment = window.location.hash.replace(/^#/, '');
  return /^[A-Za-z0-9_-]{16,128}$/.test(fragment) ? fragment : null;
}

async function loadRules () {
  const response = await fetch('/visit/triage-rules.json', { cache: 'no-cache' });
  if (!response.ok)
    throw new HttpError(response.status, null);
  return response.json();
}

async function loadVisit (rulesPromise) {
  const [rules, patient, encounter] = await Promise.all([
    rulesPromise,
    api('GET', '/fhir/Patient/' + encodeURIComponent(state.session.patient)),
    api('GET', '/fhir/Encounter/' + encodeURIComponent(state.session.encounter)),
  ]);
  state.rules = rules;
  state.patient = patient;
  state.encounter = encounter;
  writeJson('session', KEPT_KEY, { patient, encounter });
}

/* Back online after opening from the kept copy: the server's answers replace the copy. */
async function reconnect () {
  try {
    await loadVisit(loadRules());
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      showProblem('sessionEnded');
      return;
    }
    window.setTimeout(() => (navigator.onLine ? reconnect() : window.addEventListener('online', reconnect, { once: true })), 5000);
    return;
  }
  state.offline = false;
  render(false);
  if (state.view === 'done')
    refreshQueue();
}

async function open () {
  state.view = 'loading';
  render(false);

  const linkToken = linkTokenFromFragment();
  const stored = readJson('session', SESSION_KEY);
  const rulesPromise = loadRules();
  rulesPromise.catch(() => {});

  if (linkToken) {
    try {
      state.session = await exchangeLink(linkToken);
      writeJson('session', SESSION_KEY, state.session);
    } catch (error) {
      /* A reload before the fragment was cleared spends nothing: the session is already here. */
      if (stored && stored.expiresAt > Date.now()) {
        state.session = stored;
      } else if (error instanceof HttpError && (error.status === 401 || error.status === 400)) {
        showProblem('linkUsed');
        return;
      } else {
        showProblem('networkProblem', open);
        return;
      }
    }
    /* The link works once; keep it out of the address bar, history and bookmarks. */
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  } else if (stored && stored.expiresAt > Date.now()) {
    state.session = stored;
  } else {
    showProblem(stored ? 'sessionEnded' : 'noLink');
    return;
  }

  try {
    await loadVisit(rulesPromise);
  } catch (error) {
    /* No connection (not a refusal): open the copy kept from the last load, if it is this visit. */
    const kept = readJson('session', KEPT_KEY);
    let rules = null;
    if (!(error instanceof HttpError) && kept && kept.encounter && kept.encounter.id === state.session.encounter)
      rules = await rulesPromise.catch(() => null);
    if (!rules) {
      showProblem(problemFor(error), problemFor(error) === 'networkProblem' ? open : null);
      return;
    }
    state.rules = rules;
    state.patient = kept.patient;
    state.encounter = kept.encounter;
    state.offline = true;
    window.addEventListener('online', reconnect, { once: true });
  }

  const saved = readJson('local', draftKey());
  state.draft = saved && saved.draft ? { ...newDraft(), ...saved.draft } : newDraft();
  state.draft.answers = { ...newDraft().answers, ...state.draft.answers };
  state.result = saved && saved.result ? saved.result : null;

  if (state.result && state.result.sent)
    state.view = 'done';
  else if (state.draft.consentStored)
    state.view = 'step';
  else
    state.view = 'consent';
  render(true);
  if (state.view === 'done')
    refreshQueue();
}

function init () {
  lang = preferredLanguage();
  applyToggle('large-text', storedPreference('wz-large-text') === '1');
  applyToggle('high-contrast', storedPreference('wz-high-contrast') === '1');

  for (const button of document.querySelectorAll('.js-lang')) {
    button.addEventListener('click', () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      storePreference('wz-lang', lang);
      render(false);
      notifyLanguage();
    });
  }
  for (const [className, key] of [['large-text', 'wz-large-text'], ['high-contrast', 'wz-high-contrast']]) {
    for (const button of document.querySelectorAll('.js-' + className)) {
      button.addEventListener('click', () => {
        const on = !document.documentElement.classList.contains(className);
        storePreference(key, on ? '1' : '0');
        applyToggle(className, on);
      });
    }
  }

  document.getElementById('emergency-retry').addEventListener('click', submit);

  /* Keeps a copy of the page on the device so a reload without a connection still opens it.
   * Browsers allow this only over HTTPS or on this machine; elsewhere the page works as before. */
  if ('serviceWorker' in navigator)
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});

  open();
}

document.addEventListener('DOMContentLoaded', init);
