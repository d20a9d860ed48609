/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The patient landing page: language, reading aids and whether the service can be reached. */
'use strict';

const STRINGS = {
  en: {
    pageTitle: 'Wenzhen – online consultation',
    controls: 'Display settings',
    switchLanguage: '中文',
    switchLanguageLabel: '切换到中文 (switch to Chinese)',
    largeText: 'Large text',
    highContrast: 'High contrast',
    tagline: 'See your doctor online',
    emergencyTitle: 'In an emergency, do not wait for an online visit',
    emergencyText: 'If you have chest pain, difficulty breathing, signs of stroke or heavy bleeding, call 120 now.',
    strokeSigns: 'Signs of stroke: a drooping face, weakness in an arm or leg on one side, slurred speech.',
    call120: 'Call 120',
    howTitle: 'How to start your visit',
    step1: 'Your doctor or the hospital sends you a visit link by text message or WeChat.',
    step2: 'At the time of your appointment, open that link on your phone or computer.',
    step3: 'When the browser asks, allow the camera and microphone so that the doctor can see and hear you.',
    noLink: 'Opening this page alone does not start a visit. If you have not received a link, please contact your hospital.',
    statusTitle: 'Service status',
    checking: 'Checking the service…',
    available: 'Service available',
    availableDetail: 'Server: {software}',
    unavailable: 'Cannot reach the service',
    unavailableDetail: 'Please check your internet connection and try again. If it still does not work, contact your hospital.',
    retry: 'Try again',
    privacyTitle: 'Your privacy',
    privacyText: 'What you share here is used only for your care.',
    auditText: 'Every time your record is opened or changed, it is written to an audit log, so it can be checked later who did what, and when.',
    footer: 'Wenzhen is free software (GPL-3.0-or-later).',
  },
  zh: {
    pageTitle: '问诊 Wenzhen – 在线问诊',
    controls: '显示设置',
    switchLanguage: 'English',
    switchLanguageLabel: 'Switch to English (切换到英文)',
    largeText: '大字体',
    highContrast: '高对比度',
    tagline: '与您的医生在线问诊',
    emergencyTitle: '紧急情况请勿等待在线问诊',
    emergencyText: '如有胸痛、呼吸困难、中风征兆或大量出血，请立即拨打 120。',
    strokeSigns: '中风征兆：口角歪斜、一侧手臂或腿无力、说话含糊不清。',
    call120: '拨打 120',
    howTitle: '如何开始问诊',
    step1: '医生或医院会通过短信或微信给您发送就诊链接。',
    step2: '到预约时间时，在手机或电脑上打开这个链接。',
    step3: '浏览器询问时，请允许使用摄像头和麦克风，这样医生才能看到、听到您。',
    noLink: '只打开本页面不会开始问诊。如果您没有收到链接，请联系您就诊的医院。',
    statusTitle: '服务状态',
    checking: '正在检查服务…',
    available: '服务可用',
    availableDetail: '服务器：{software}',
    unavailable: '无法连接到服务',
    unavailableDetail: '请检查网络连接后重试。如果仍然无法使用，请联系您的医院。',
    retry: '重试',
    privacyTitle: '您的隐私',
    privacyText: '您在这里提供的信息只用于您的诊疗。',
    auditText: '每一次查看或修改您的病历都会记入审计日志，日后可以核查是谁、在何时做了什么。',
    footer: '问诊 Wenzhen 是自由软件（GPL-3.0-or-later）。',
  },
};

const METADATA_TIMEOUT_MS = 8000;

let lang = 'zh';
/* The last result of the service check, re-rendered when the language changes. */
let serviceState = { state: 'checking', software: '' };

function storedPreference (key) {
  try {
    return window.localStorage.getItem(key);
  } catch (e) {
    return null; /* storage disabled (private mode): fall back to defaults */
  }
}

function storePreference (key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch (e) {
    /* not remembered across visits, but the setting still applies now */
  }
}

function preferredLanguage () {
  const stored = storedPreference('wz-lang');
  if (stored === 'en' || stored === 'zh')
    return stored;
  const wanted = navigator.languages && navigator.languages.length
    ? navigator.languages
    : [navigator.language || 'zh-CN'];
  for (const tag of wanted) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (primary === 'zh')
      return 'zh';
    if (primary === 'en')
      return 'en';
  }
  /* The page is for patients of Chinese hospitals: Chinese unless they asked for English. */
  return 'zh';
}

function t (key, values) {
  let text = STRINGS[lang][key];
  for (const [name, value] of Object.entries(values || {}))
    text = text.replace('{' + name + '}', value);
  return text;
}

function renderStatus () {
  const box = document.getElementById('status');
  const text = document.getElementById('status-text');
  const detail = document.getElementById('status-detail');
  const retry = document.getElementById('retry');

  box.dataset.state = serviceState.state;
  if (serviceState.state === 'available') {
    text.textContent = t('available');
    detail.textContent = serviceState.software ? t('availableDetail', { software: serviceState.software }) : '';
  } else if (serviceState.state === 'unavailable') {
    text.textContent = t('unavailable');
    detail.textContent = t('unavailableDetail');
  } else {
    text.textContent = t('checking');
    detail.textContent = '';
  }
  retry.hidden = serviceState.state !== 'unavailable';
}

function applyLanguage (next) {
  lang = next;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('pageTitle');
  for (const el of document.querySelectorAll('[data-i18n]'))
    el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]'))
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  /* The switch names the other language, in that language. */
  document.getElementById('lang-switch').lang = lang === 'zh' ? 'en' : 'zh-CN';
  renderStatus();
}

function applyToggle (id, className, on) {
  document.documentElement.classList.toggle(className, on);
  document.getElementById(id).setAttribute('aria-pressed', on ? 'true' : 'false');
}

function describeSoftware (capability) {
  const software = capability.software || {};
  const parts = [];
  if (typeof software.name === 'string' && software.name)
    parts.push(software.name);
  if (typeof software.version === 'string' && software.version)
    parts.push(software.version);
  if (typeof capability.fhirVersion === 'string' && capability.fhirVersion)
    parts.push('(FHIR ' + capability.fhirVersion + ')');
  return parts.join(' ');
}

async function checkService () {
  serviceState = { state: 'checking', software: '' };
  renderStatus();

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), METADATA_TIMEOUT_MS);
  try {
    const response = await fetch('/fhir/metadata', {
      headers: { Accept: 'application/fhir+json' },
      cache: 'no-store',
      signal: controller.signal,
    });
    if (!response.ok)
      throw new Error('HTTP ' + response.status);
    const capability = await response.json();
    if (!capability || capability.resourceType !== 'CapabilityStatement')
      throw new Error('not a CapabilityStatement');
    serviceState = { state: 'available', software: describeSoftware(capability) };
  } catch (e) {
    serviceState = { state: 'unavailable', software: '' };
  } finally {
    clearTimeout(timer);
  }
  renderStatus();
}

function init () {
  applyLanguage(preferredLanguage());
  applyToggle('large-text', 'large-text', storedPreference('wz-large-text') === '1');
  applyToggle('high-contrast', 'high-contrast', storedPreference('wz-high-contrast') === '1');

  document.getElementById('lang-switch').addEventListener('click', () => {
    const next = lang === 'zh' ? 'en' : 'zh';
    storePreference('wz-lang', next);
    applyLanguage(next);
  });
  for (const [id, className, key] of [['large-text', 'large-text', 'wz-large-text'],
                                      ['high-contrast', 'high-contrast', 'wz-high-contrast']]) {
    document.getElementById(id).addEventListener('click', () => {
      const on = !document.documentElement.classList.contains(className);
      storePreference(key, on ? '1' : '0');
      applyToggle(id, className, on);
    });
  }
  document.getElementById('retry').addEventListener('click', checkService);

  checkService();
}

document.addEventListener('DOMContentLoaded', init);
