/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The patient's side of the consultation chat, a feature module of the visit page (visit.js mounts
 * it once the pre-consultation is done). Messages are FHIR Communications of this visit.
 *
 * Nothing the patient writes is lost or sent twice: every outgoing message goes into an IndexedDB
 * outbox (with its urn:uuid and any attachment) before it is shown, leaves it only when the server
 * has stored it (201, or 200 for a retry it already has), and is sent one at a time, oldest first,
 * with a conditional create. Incoming messages arrive over the visit's own WebSocket; after every
 * reconnect the page catches up with _lastUpdated=gt, and messages are kept by resource id, so a
 * message is shown once however it arrives. Text from the server is only ever set as text. */
(() => {
  'use strict';

  const URN_SYSTEM = 'urn:ietf:rfc:3986';
  const MAX_TEXT = 4000;
  const MAX_BYTES = 10 * 1024 * 1024;
  const PAGE = 50;
  const CATCH_UP_PAGE = 200;
  const TYPING_SEND_MS = 3000;
  const TYPING_SHOW_MS = 5000;
  const HOLD_MS = 600;
  const MAX_RECORDING_MS = 5 * 60 * 1000;
  const PHOTO_MAX_SIDE = 2048;
  const PHOTO_RESIZE_ABOVE = 3 * 1024 * 1024;
  const RETRY_DELAYS = [1000, 2000, 4000, 8000, 15000];
  const IMAGE_TYPES = ['image/jpeg', 'image/png'];

  const STRINGS = {
    en: {
      title: 'Messages with your doctor',
      empty: 'No messages yet. You can write to your doctor here.',
      loading: 'Loading messages…',
      loadFailed: 'Messages could not be loaded. They will appear when the connection is back.',
      earlier: 'Show earlier messages',
      today: 'Today',
      yesterday: 'Yesterday',
      you: 'You',
      doctor: 'Doctor',
      inputLabel: 'Your message',
      placeholder: 'Write a message…',
      send: 'Send',
      attach: 'Photo or file',
      camera: 'Take a photo',
      voice: 'Voice note',
      voiceHint: 'Tap to record, tap again to send. Or hold, speak, and let go to send.',
      stopAndSend: 'Stop and send',
      cancel: 'Cancel',
      recording: 'Recording {time}',
      micDenied: 'The microphone could not be used. Please allow it in your browser settings and try again.',
      micUnsupported: 'This browser cannot record voice notes.',
      waiting: 'Waiting to send',
      sent: 'Sent',
      delivered: 'Delivered',
      read: 'Read',
      failed: 'Not sent',
      retry: 'Try again',
      discard: 'Discard',
      refusedType: 'This file is not a photo (JPEG or PNG), a PDF or a voice note, so it cannot be sent.',
      refusedSize: 'This file is too large to send. Files can be at most 10 MB.',
      refusedOther: 'The service did not accept this message: {reason}',
      refusedUnknown: 'The service did not accept this message.',
      tooLong: 'A message can have at most {max} characters. Please split it into shorter messages.',
      offline: 'No connection. Your messages are kept on this device and will be sent when the connection is back.',
      sessionEnded: 'Your visit session has ended, so messages cannot be sent. Please open your visit link again.',
      noStorage: 'This browser cannot keep unsent messages. Please keep this page open until they are sent.',
      typing: 'The doctor is typing…',
      typingNamed: '{name} is typing…',
      photo: 'Photo',
      openPhoto: 'Photo – open full size',
      close: 'Close',
      download: 'Download {name}',
      voiceNote: 'Voice note',
      voiceTitle: 'Voice note {time}',
      attachmentFailed: 'This attachment could not be loaded.',
      preparing: 'Preparing…',
    },
    zh: {
      title: '与医生的消息',
      empty: '还没有消息。您可以在这里给医生留言。',
      loading: '正在加载消息…',
      loadFailed: '消息暂时无法加载，连接恢复后会自动显示。',
      earlier: '显示更早的消息',
      today: '今天',
      yesterday: '昨天',
      you: '我',
      doctor: '医生',
      inputLabel: '您的消息',
      placeholder: '请输入消息…',
      send: '发送',
      attach: '图片或文件',
      camera: '拍照',
      voice: '语音',
      voiceHint: '点一下开始录音，再点一下发送；也可以按住说话，松开发送。',
      stopAndSend: '停止并发送',
      cancel: '取消',
      recording: '正在录音 {time}',
      micDenied: '无法使用麦克风。请在浏览器设置中允许使用麦克风后重试。',
      micUnsupported: '此浏览器无法录制语音。',
      waiting: '等待发送',
      sent: '已发送',
      delivered: '已送达',
      read: '已读',
      failed: '未发送',
      retry: '重试',
      discard: '删除',
      refusedType: '这个文件不是照片（JPEG 或 PNG）、PDF 或语音，无法发送。',
      refusedSize: '文件太大，无法发送。文件最大为 10 MB。',
      refusedOther: '服务未接受这条消息：{reason}',
      refusedUnknown: '服务未接受这条消息。',
      tooLong: '每条消息最多 {max} 个字，请分成几条发送。',
      offline: '网络未连接。您的消息已保存在本机，连接恢复后会自动发送。',
      sessionEnded: '本次就诊的登录已结束，无法发送消息。请重新打开就诊链接。',
      noStorage: '此浏览器无法保存未发送的消息。请在消息发出前保持本页面打开。',
      typing: '医生正在输入…',
      typingNamed: '{name} 正在输入…',
      photo: '图片',
      openPhoto: '图片 – 点击查看大图',
      close: '关闭',
      download: '下载 {name}',
      voiceNote: '语音消息',
      voiceTitle: '语音 {time}',
      attachmentFailed: '附件无法加载。',
      preparing: '正在准备…',
    },
  };

  /* ---- Helpers without state ------------------------------------------------------------- */

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

  /* A FHIR dateTime with the device's offset, e.g. 2024-05-01T09:30:00+08:00. */
  function localDateTime (date) {
    const pad = (n) => String(Math.abs(n)).padStart(2, '0');
    const offset = -date.getTimezoneOffset();
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
           `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
           `${offset >= 0 ? '+' : '-'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }

  /* meta.lastUpdated values of one server share one format, so the text order is the time order
   * (and keeps sub-millisecond digits Date.parse would drop). */
  function compareInstants (a, b) {
    if (a === b)
      return 0;
    if (!a || !b)
      return a ? 1 : -1;
    if (a.length === b.length)
      return a < b ? -1 : 1;
    return (Date.parse(a) - Date.parse(b)) || (a < b ? -1 : 1);
  }

  function laterOf (a, b) {
    return compareInstants(a, b) >= 0 ? a : b;
  }

  function formatDuration (ms) {
    const seconds = Math.max(0, Math.floor(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }

  function formatSize (bytes, lang) {
    const locale = lang === 'zh' ? 'zh-CN' : 'en';
    if (bytes >= 1024 * 1024)
      return new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / 1024 / 1024) + ' MB';
    return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(Math.max(1, bytes / 1024)) + ' KB';
  }

  function identifierOf (resource) {
    const id = (resource.identifier || []).find((i) => i.system === URN_SYSTEM && /^urn:uuid:/.test(i.value || ''));
    return id ? id.value : null;
  }

  function binaryId (url) {
    const m = /(?:^|\/)Binary\/([A-Za-z0-9.-]{1,64})$/.exec(url || '');
    return m ? m[1] : null;
  }

  /* Links in message text: http(s) only, with trailing punctuation left out of the link. */
  const LINK = /\bhttps?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;

  function textWithLinks (text) {
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(LINK)) {
      let href = match[0];
      while (/[.,;:!?)\]}]$/.test(href) && !(href.endsWith(')') && href.includes('(')))
        href = href.slice(0, -1);
      let url = null;
      try {
        url = new URL(href);
      } catch (e) {
        url = null;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        continue;
      if (match.index > last)
        parts.push(document.createTextNode(text.slice(last, match.index)));
      const a = document.createElement('a');
      a.href = url.href;
      a.textContent = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      parts.push(a);
      last = match.index + href.length;
    }
    if (last < text.length)
      parts.push(document.createTextNode(text.slice(last)));
    return parts;
  }

  /* ---- Outbox in IndexedDB ------------------------------------------------------------- */

  /* Records: { seq, encounter, identifier, sent, text, file: {blob, type, name, size, title} | null,
   * binary: 'Binary/ID' once uploaded, state: 'pending' | 'failed', error: {status, reason} }. */
  class Outbox {
    constructor (encounter) {
      this.encounter = encounter;
      this.db = null;
      this.memory = [];
      this.nextSeq = 1;
    }

    async open () {
      if (!window.indexedDB)
        return false;
      try {
        this.db = await new Promise((resolve, reject) => {
          const request = window.indexedDB.open('wz-chat', 1);
          request.onupgradeneeded = () => {
            const store = request.result.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
            store.createIndex('encounter', 'encounter');
          };
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
          request.onblocked = () => reject(new Error('outbox blocked'));
        });
        return true;
      } catch (e) {
        this.db = null;
        return false;
      }
    }

    /* Resolves once the transaction is on disk (strict durability where the browser offers it). */
    transact (work) {
      return new Promise((resolve, reject) => {
        let tx;
        try {
          tx = this.db.transaction('outbox', 'readwrite', { durability: 'strict' });
        } catch (e) {
          tx = this.db.transaction('outbox', 'readwrite');
        }
        let result;
        tx.oncomplete = () => resolve(result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('outbox write aborted'));
        result = work(tx.objectStore('outbox'), (value) => { result = value; });
      });
    }

    async list () {
      if (!this.db)
        return this.memory.slice();
      const items = await new Promise((resolve, reject) => {
        const request = this.db.transaction('outbox', 'readonly').objectStore('outbox')
          .index('encounter').getAll(this.encounter);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return items.sort((a, b) => a.seq - b.seq);
    }

    async add (item) {
      if (!this.db) {
        item.seq = this.nextSeq++;
        this.memory.push(item);
        return item;
      }
      const record = { ...item };
      delete record.seq;
      await this.transact((store, set) => {
        store.add(record).onsuccess = (event) => set(event.target.result);
      }).then((seq) => { item.seq = seq; });
      return item;
    }

    async put (item) {
      if (!this.db)
        return;
      await this.transact((store) => { store.put(item); });
    }

    async remove (item) {
      if (!this.db) {
        this.memory = this.memory.filter((other) => other.seq !== item.seq);
        return;
      }
      await this.transact((store) => { store.delete(item.seq); });
    }

    /* A retried message goes to the back of the queue, behind what was written meanwhile. */
    async requeue (item) {
      if (!this.db) {
        this.memory = this.memory.filter((other) => other.seq !== item.seq);
        item.seq = this.nextSeq++;
        this.memory.push(item);
        return;
      }
      const record = { ...item };
      delete record.seq;
      await this.transact((store, set) => {
        store.delete(item.seq);
        store.add(record).onsuccess = (event) => set(event.target.result);
      }).then((seq) => { item.seq = seq; });
    }
  }

  /* ---- Photos made smaller before they are sent ------------------------------------------- */

  async function decodeImage (blob) {
    if (window.createImageBitmap) {
      try {
        return await window.createImageBitmap(blob, { imageOrientation: 'from-image' });
      } catch (e) {
        /* fall back to an <img> below */
      }
    }
    const url = URL.createObjectURL(blob);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function canvasBlob (canvas, quality) {
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
  }

  /* A large camera photo becomes a JPEG of at most PHOTO_MAX_SIDE pixels a side (which also
   * leaves its location data behind). Anything that does not decode is sent as it is, for the
   * server to judge. */
  async function preparePhoto (file) {
    const convert = !IMAGE_TYPES.includes(file.type);
    if (!convert && file.size <= PHOTO_RESIZE_ABOVE)
      return { blob: file, type: file.type };
    let image;
    try {
      image = await decodeImage(file);
    } catch (e) {
      return convert ? null : { blob: file, type: file.type };
    }
    const width = image.width || image.naturalWidth;
    const height = image.height || image.naturalHeight;
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
    if (image.close)
      image.close();
    for (const quality of [0.85, 0.7, 0.5]) {
      const blob = await canvasBlob(canvas, quality);
      if (blob && blob.size <= MAX_BYTES)
        return { blob, type: 'image/jpeg' };
    }
    return { blob: file, type: file.type };
  }

  /* ---- The chat panel --------------------------------------------------------------------- */

  function mount (container, ctx) {
    const session = ctx.session;
    const el = ctx.el;
    const encounterRef = 'Encounter/' + session.encounter;
    const patientRef = 'Patient/' + session.patient;
    const outbox = new Outbox(session.encounter);

    const state = {
      messages: new Map(),      /* resource id → Communication */
      idByIdentifier: new Map(),
      items: [],                /* outbox records, oldest first */
      cursor: null,             /* newest meta.lastUpdated known from a complete search */
      oldest: null,             /* oldest meta.lastUpdated loaded */
      hasEarlier: false,
      loaded: false,
      loadFailed: false,
      connected: false,
      sendFailing: false,       /* the last attempt to send did not reach the server */
      sessionEnded: false,
      storage: true,
      theirs: { delivered: null, read: null },
      receiptSent: { delivered: null, read: null },
      typingUntil: 0,
      typingFrom: null,
      names: new Map(),         /* 'Practitioner/ID' → display name from the encounter */
      notice: null,             /* a STRINGS key shown under the composer */
      noticeValues: null,
    };

    const t = (key, values) => {
      let text = STRINGS[ctx.lang()][key];
      for (const [name, value] of Object.entries(values || {}))
        text = text.replace('{' + name + '}', String(value));
      return text;
    };
    const locale = () => (ctx.lang() === 'zh' ? 'zh-CN' : 'en');

    /* -- The page's pieces -- */

    const title = el('h2', { class: 'chat-title', id: 'chat-title' });
    const connection = el('p', { class: 'chat-connection', id: 'chat-connection', role: 'status', hidden: true });
    const earlier = el('button', { type: 'button', class: 'chat-earlier link-button', id: 'chat-earlier', hidden: true });
    const empty = el('p', { class: 'chat-empty', id: 'chat-empty' });
    const log = el('div', {
      class: 'chat-log', id: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
      'aria-labelledby': 'chat-title', tabindex: '0',
    });
    const scroller = el('div', { class: 'chat-scroller', id: 'chat-scroller' }, earlier, empty, log);
    const typing = el('p', { class: 'chat-typing', id: 'chat-typing', hidden: true });

    const inputLabel = el('label', { for: 'chat-input', class: 'visually-hidden', id: 'chat-input-label' });
    const input = el('textarea', {
      /* No maxlength: it would cut a pasted text short without a word; the limit is explained instead. */
      id: 'chat-input', class: 'chat-input', rows: '2', autocomplete: 'off',
      'aria-describedby': 'chat-notice',
    });
    const sendButton = el('button', { type: 'submit', class: 'button primary chat-send', id: 'chat-send' });
    const fileInput = el('input', {
      type: 'file', id: 'chat-file', hidden: true, tabindex: '-1',
      accept: 'image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf',
    });
    const cameraInput = el('input', {
      type: 'file', id: 'chat-camera-file', hidden: true, tabindex: '-1',
      accept: 'image/*', capture: 'environment',
    });
    const attachButton = el('button', { type: 'button', class: 'chat-tool', id: 'chat-attach' },
      el('span', { class: 'chat-tool-icon', 'aria-hidden': 'true', text: '📎' }), el('span', { class: 'chat-tool-label' }));
    const cameraButton = el('button', { type: 'button', class: 'chat-tool', id: 'chat-camera' },
      el('span', { class: 'chat-tool-icon', 'aria-hidden': 'true', text: '📷' }), el('span', { class: 'chat-tool-label' }));
    const voiceButton = el('button', {
      type: 'button', class: 'chat-tool', id: 'chat-voice', 'aria-describedby': 'chat-voice-hint',
    },
      el('span', { class: 'chat-tool-icon', 'aria-hidden': 'true', text: '🎤' }), el('span', { class: 'chat-tool-label' }));
    const recordTime = el('span', { class: 'chat-record-time', id: 'chat-record-time' });
    const recordCancel = el('button', { type: 'button', class: 'chat-tool chat-record-cancel', id: 'chat-record-cancel' });
    /* Shown while recording; hidden, it still describes the button to a screen reader. */
    const voiceHint = el('p', { class: 'chat-hint', id: 'chat-voice-hint' });
    const recordBar = el('div', { class: 'chat-recording', id: 'chat-recording', hidden: true },
      el('div', { class: 'chat-record-line' },
        el('span', { class: 'chat-record-dot', 'aria-hidden': 'true' }), recordTime, recordCancel),
      voiceHint);
    const notice = el('p', { class: 'chat-notice', id: 'chat-notice', role: 'alert' });
    const form = el('form', { class: 'chat-compose', id: 'chat-compose', novalidate: true },
      inputLabel, input,
      el('div', { class: 'chat-tools' }, attachButton, cameraButton, voiceButton, sendButton),
      recordBar, notice, fileInput, cameraInput);

    const viewerImage = el('img', { class: 'chat-viewer-image', id: 'chat-viewer-image', alt: '' });
    const viewerClose = el('button', { type: 'button', class: 'button chat-viewer-close', id: 'chat-viewer-close' });
    const viewer = el('dialog', { class: 'chat-viewer', id: 'chat-viewer' }, viewerClose, viewerImage);

    container.classList.add('chat');
    container.setAttribute('aria-labelledby', 'chat-title');
    container.append(title, connection, scroller, typing, form, viewer);

    const coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
    cameraButton.hidden = !coarse;

    /* -- Attachments: fetched with the session's token, shown from blob: URLs -- */

    const blobUrls = new Map();     /* 'Binary/ID' or identifier → Promise<url> */

    function binaryUrl (ref, type) {
      if (!blobUrls.has(ref)) {
        const promise = fetch('/fhir/' + ref, {
          cache: 'no-store',
          headers: { Authorization: 'Bearer ' + session.token, Accept: type || 'application/octet-stream' },
        }).then((response) => {
          if (!response.ok)
            throw new Error('HTTP ' + response.status);
          return response.blob();
        }).then((blob) => URL.createObjectURL(blob));
        promise.catch(() => blobUrls.delete(ref));
        blobUrls.set(ref, promise);
      }
      return blobUrls.get(ref);
    }

    function localUrl (identifier, blob) {
      if (!blobUrls.has(identifier))
        blobUrls.set(identifier, Promise.resolve(URL.createObjectURL(blob)));
      return blobUrls.get(identifier);
    }

    function attachmentNode (attachment, source) {
      const type = (attachment.contentType || '').split(';')[0].trim().toLowerCase();
      const name = attachment.title || '';
      const urlPromise = () => source();
      const failed = () => el('span', { class: 'chat-attachment-failed', 'data-text': 'attachmentFailed', text: t('attachmentFailed') });

      if (IMAGE_TYPES.includes(type)) {
        const img = el('img', { class: 'chat-thumb-image', alt: '', 'data-alt': 'photo' });
        const button = el('button', { type: 'button', class: 'chat-thumb', 'data-label': 'openPhoto' }, img);
        button.setAttribute('aria-label', t('openPhoto'));
        img.addEventListener('error', () => button.replaceWith(el('span', { class: 'chat-file chat-file-plain' },
          el('span', { class: 'chat-file-icon', 'aria-hidden': 'true', text: '📄' }), el('span', { text: name || t('photo') }))));
        urlPromise().then((url) => { img.src = url; }, () => button.replaceWith(failed()));
        button.addEventListener('click', () => openViewer(urlPromise));
        return button;
      }
      if (type.startsWith('audio/')) {
        const audio = el('audio', { class: 'chat-audio', controls: true, preload: 'metadata' });
        const label = el('span', { class: 'chat-audio-label', text: name || t('voiceNote') });
        if (!name)
          label.dataset.text = 'voiceNote';
        const box = el('div', { class: 'chat-voice-note' }, label, audio);
        audio.setAttribute('aria-label', name || t('voiceNote'));
        urlPromise().then((url) => { audio.src = url; }, () => audio.replaceWith(failed()));
        return box;
      }
      const size = attachment.size ? ` (${formatSize(attachment.size, ctx.lang())})` : '';
      const button = el('button', { type: 'button', class: 'chat-file', 'data-name': (name || 'document.pdf') + size },
        el('span', { class: 'chat-file-icon', 'aria-hidden': 'true', text: '📄' }),
        el('span', { class: 'chat-file-label', text: t('download', { name: (name || 'document.pdf') + size }) }));
      button.addEventListener('click', () => {
        urlPromise().then((url) => {
          const a = el('a', { href: url, download: name || 'document.pdf', hidden: true });
          document.body.append(a);
          a.click();
          a.remove();
        }, () => button.replaceWith(failed()));
      });
      return button;
    }

    let viewerReturn = null;

    function openViewer (urlPromise) {
      viewerReturn = document.activeElement;
      viewerImage.removeAttribute('src');
      urlPromise().then((url) => { viewerImage.src = url; }, () => {});
      if (typeof viewer.showModal === 'function')
        viewer.showModal();
      else
        viewer.setAttribute('open', '');
      viewerClose.focus();
    }

    function closeViewer () {
      if (typeof viewer.close === 'function')
        viewer.close();
      else
        viewer.removeAttribute('open');
    }

    viewerClose.addEventListener('click', closeViewer);
    viewer.addEventListener('click', (event) => {
      if (event.target === viewer || event.target === viewerImage)
        closeViewer();
    });
    viewer.addEventListener('close', () => {
      if (viewerReturn && viewerReturn.focus)
        viewerReturn.focus();
    });

    /* -- The conversation -- */

    function entries () {
      const list = [...state.messages.values()]
        .sort((a, b) => compareInstants(a.meta && a.meta.lastUpdated, b.meta && b.meta.lastUpdated))
        .map((resource) => ({
          key: identifierOf(resource) || 'id:' + resource.id,
          resource,
          mine: resource.sender && resource.sender.reference === patientRef,
          date: new Date((resource.meta && resource.meta.lastUpdated) || resource.sent),
        }));
      const shown = new Set(list.map((entry) => entry.key));
      for (const item of state.items) {
        if (state.idByIdentifier.has(item.identifier) || shown.has(item.identifier))
          continue;
        shown.add(item.identifier);
        list.push({ key: item.identifier, item, mine: true, date: new Date(item.sent) });
      }
      return list;
    }

    function dayKey (date) {
      return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
    }

    function dayLabel (date) {
      const today = new Date();
      const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
      if (dayKey(date) === dayKey(today))
        return t('today');
      if (dayKey(date) === dayKey(yesterday))
        return t('yesterday');
      return new Intl.DateTimeFormat(locale(), {
        weekday: 'long', month: 'long', day: 'numeric',
        year: date.getFullYear() === today.getFullYear() ? undefined : 'numeric',
      }).format(date);
    }

    function payloadNodes (entry) {
      const nodes = [];
      if (entry.resource) {
        for (const part of entry.resource.payload || []) {
          if (typeof part.contentString === 'string') {
            nodes.push(el('p', { class: 'chat-text' }, textWithLinks(part.contentString)));
          } else if (part.contentAttachment) {
            const attachment = part.contentAttachment;
            const ref = attachment.url && binaryId(attachment.url) ? 'Binary/' + binaryId(attachment.url) : null;
            const local = blobUrls.has(entry.key) ? () => blobUrls.get(entry.key) : null;
            if (local || ref)
              nodes.push(attachmentNode(attachment, local || (() => binaryUrl(ref, attachment.contentType))));
          }
        }
      } else {
        const item = entry.item;
        if (item.text)
          nodes.push(el('p', { class: 'chat-text' }, textWithLinks(item.text)));
        if (item.file) {
          nodes.push(attachmentNode({ contentType: item.file.type, title: item.file.title, size: item.file.size },
            () => localUrl(item.identifier, item.file.blob)));
        }
      }
      return nodes;
    }

    function nameOf (reference) {
      if (!reference)
        return t('doctor');
      return reference.display || state.names.get(reference.reference) || t('doctor');
    }

    /* Who takes part, so a message says which doctor wrote it. */
    async function loadNames () {
      try {
        const encounter = await ctx.api('GET', '/fhir/Encounter/' + encodeURIComponent(session.encounter));
        for (const participant of encounter.participant || []) {
          const who = participant.individual;
          if (who && who.reference && who.display)
            state.names.set(who.reference, who.display);
        }
        render();
      } catch (e) {
        /* "Doctor" will do */
      }
    }

    function stateOf (entry) {
      if (!entry.mine)
        return null;
      if (entry.item)
        return entry.item.state === 'failed' ? 'failed' : 'waiting';
      const at = entry.resource.meta && entry.resource.meta.lastUpdated;
      if (state.theirs.read && compareInstants(state.theirs.read, at) >= 0)
        return 'read';
      if (state.theirs.delivered && compareInstants(state.theirs.delivered, at) >= 0)
        return 'delivered';
      return 'sent';
    }

    const STATE_ICONS = { waiting: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '⚠' };

    function failureText (error) {
      if (!error)
        return t('refusedUnknown');
      if (error.status === 415)
        return t('refusedType');
      if (error.status === 413)
        return t('refusedSize');
      if (error.status === 'length')
        return t('tooLong', { max: MAX_TEXT });
      return error.reason ? t('refusedOther', { reason: error.reason }) : t('refusedUnknown');
    }

    function buildMessage (entry) {
      const node = el('div', { class: 'chat-message ' + (entry.mine ? 'mine' : 'theirs') },
        el('div', { class: 'chat-bubble' },
          el('span', { class: 'chat-sender' }),
          el('div', { class: 'chat-body' }, payloadNodes(entry)),
          el('p', { class: 'chat-meta' },
            el('time', { class: 'chat-time' }),
            el('span', { class: 'chat-state' },
              el('span', { class: 'chat-state-icon', 'aria-hidden': 'true' }),
              el('span', { class: 'chat-state-text' })))));
      node.dataset.key = entry.key;
      if (entry.item)
        node.dataset.local = '1';
      return node;
    }

    function updateMessage (node, entry) {
      if (entry.resource && node.dataset.id !== entry.resource.id) {
        /* Built from the outbox, the bubble already shows what the server now holds: keeping it
         * keeps the screen reader from reading it out again. */
        if (!node.dataset.local)
          node.querySelector('.chat-body').replaceChildren(...payloadNodes(entry));
        node.dataset.id = entry.resource.id;
      }
      node.classList.toggle('pending', !!entry.item);
      const sender = node.querySelector('.chat-sender');
      sender.textContent = entry.mine ? t('you') : nameOf(entry.resource.sender);
      const time = node.querySelector('.chat-time');
      time.dateTime = entry.date.toISOString();
      time.textContent = new Intl.DateTimeFormat(locale(), { hour: 'numeric', minute: '2-digit' }).format(entry.date);
      time.title = new Intl.DateTimeFormat(locale(), { dateStyle: 'full', timeStyle: 'short' }).format(entry.date);

      for (const labelled of node.querySelectorAll('[data-text]'))
        labelled.textContent = t(labelled.dataset.text);
      for (const labelled of node.querySelectorAll('[data-label]'))
        labelled.setAttribute('aria-label', t(labelled.dataset.label));
      for (const named of node.querySelectorAll('[data-name]'))
        named.querySelector('.chat-file-label').textContent = t('download', { name: named.dataset.name });

      const status = stateOf(entry);
      const stateBox = node.querySelector('.chat-state');
      stateBox.hidden = !status;
      node.dataset.state = status || '';
      if (status) {
        stateBox.className = 'chat-state state-' + status;
        stateBox.querySelector('.chat-state-icon').textContent = STATE_ICONS[status];
        stateBox.querySelector('.chat-state-text').textContent = t(status);
      }

      let failure = node.querySelector('.chat-failure');
      if (status === 'failed') {
        if (!failure) {
          failure = el('div', { class: 'chat-failure' },
            el('p', { class: 'chat-failure-reason', role: 'alert' }),
            el('div', { class: 'chat-failure-actions' },
              el('button', { type: 'button', class: 'button secondary chat-retry', onclick: () => retry(node.dataset.key) }),
              el('button', { type: 'button', class: 'button secondary chat-discard', onclick: () => discard(node.dataset.key) })));
          node.append(failure);
        }
        failure.querySelector('.chat-failure-reason').textContent = failureText(entry.item.error);
        failure.querySelector('.chat-retry').textContent = t('retry');
        failure.querySelector('.chat-discard').textContent = t('discard');
      } else if (failure) {
        failure.remove();
      }
    }

    const nodes = new Map();    /* key → element in the log */

    function nearBottom () {
      return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    }

    /* Larger text, a turned phone or a photo that finished loading change the height: whoever
     * was reading the newest message stays there. */
    let stuckToEnd = true;
    scroller.addEventListener('scroll', () => { stuckToEnd = nearBottom(); }, { passive: true });
    if ('ResizeObserver' in window) {
      const observer = new ResizeObserver(() => {
        if (stuckToEnd)
          scroller.scrollTop = scroller.scrollHeight;
      });
      observer.observe(log);
      observer.observe(scroller);
    }

    function renderLog (options) {
      const stick = (options && options.scrollToEnd) || nearBottom();
      const heightBefore = scroller.scrollHeight;
      const wanted = [];
      let lastDay = null;
      for (const entry of entries()) {
        const day = dayKey(entry.date);
        if (day !== lastDay) {
          lastDay = day;
          const key = 'day:' + day;
          let node = nodes.get(key);
          if (!node) {
            node = el('div', { class: 'chat-day', role: 'separator' }, el('span', {}));
            node.dataset.key = key;
            nodes.set(key, node);
          }
          node.firstChild.textContent = dayLabel(entry.date);
          node.setAttribute('aria-label', dayLabel(entry.date));
          wanted.push(node);
        }
        let node = nodes.get(entry.key);
        if (!node) {
          node = buildMessage(entry);
          nodes.set(entry.key, node);
        }
        updateMessage(node, entry);
        wanted.push(node);
      }
      const keep = new Set(wanted);
      for (const [key, node] of nodes) {
        if (!keep.has(node)) {
          node.remove();
          nodes.delete(key);
        }
      }
      wanted.forEach((node, i) => {
        if (log.children[i] !== node)
          log.insertBefore(node, log.children[i] || null);
      });

      empty.hidden = wanted.length > 0;
      empty.textContent = !state.loaded ? (state.loadFailed ? t('loadFailed') : t('loading')) : t('empty');
      earlier.hidden = !state.hasEarlier;
      earlier.textContent = t('earlier');

      if (options && options.keepPosition)
        scroller.scrollTop += scroller.scrollHeight - heightBefore;
      else if (stick)
        scroller.scrollTop = scroller.scrollHeight;
      stuckToEnd = nearBottom();
    }

    function renderStatus () {
      let text = null;
      if (state.sessionEnded)
        text = t('sessionEnded');
      else if (navigator.onLine === false || state.sendFailing || (!state.connected && (state.loaded || state.loadFailed)))
        text = t('offline');
      else if (!state.storage)
        text = t('noStorage');
      connection.hidden = !text;
      connection.textContent = text || '';
      connection.classList.toggle('problem', !!text);

      const typingNow = Date.now() < state.typingUntil;
      typing.hidden = !typingNow;
      const typist = state.typingFrom && state.names.get(state.typingFrom);
      typing.textContent = typingNow ? (typist ? t('typingNamed', { name: typist }) : t('typing')) : '';
      notice.textContent = state.notice ? t(state.notice, state.noticeValues) : '';
      notice.hidden = !state.notice;
    }

    function renderChrome () {
      title.textContent = t('title');
      inputLabel.textContent = t('inputLabel');
      input.placeholder = t('placeholder');
      sendButton.textContent = t('send');
      attachButton.querySelector('.chat-tool-label').textContent = t('attach');
      cameraButton.querySelector('.chat-tool-label').textContent = t('camera');
      voiceButton.querySelector('.chat-tool-label').textContent = recorder ? t('stopAndSend') : t('voice');
      recordCancel.textContent = t('cancel');
      voiceHint.textContent = t('voiceHint');
      viewerClose.textContent = t('close');
      viewerImage.alt = t('photo');
      if (recorder)
        recordTime.textContent = t('recording', { time: formatDuration(Date.now() - recorder.started) });
    }

    function render (options) {
      renderChrome();
      renderLog(options);
      renderStatus();
    }

    function showNotice (key, values) {
      state.notice = key;
      state.noticeValues = values || null;
      renderStatus();
    }

    /* -- Loading and catching up -- */

    function remember (resource) {
      if (!resource || resource.resourceType !== 'Communication' || !resource.id)
        return false;
      if (resource.encounter && resource.encounter.reference !== encounterRef)
        return false;
      const known = state.messages.has(resource.id);
      state.messages.set(resource.id, resource);
      const identifier = identifierOf(resource);
      if (identifier)
        state.idByIdentifier.set(identifier, resource.id);
      const at = resource.meta && resource.meta.lastUpdated;
      if (at && (!state.oldest || compareInstants(at, state.oldest) < 0))
        state.oldest = at;
      return !known;
    }

    function pathOf (url) {
      const parsed = new URL(url, window.location.href);
      return parsed.pathname + parsed.search;
    }

    const base = `/fhir/Communication?encounter=${encodeURIComponent(encounterRef)}`;

    async function loadHistory () {
      const bundle = await ctx.api('GET', `${base}&_sort=-_lastUpdated&_count=${PAGE}`);
      const found = (bundle.entry || []).map((e) => e.resource);
      for (const resource of found)
        remember(resource);
      if (found.length && found[0].meta)
        state.cursor = laterOf(state.cursor, found[0].meta.lastUpdated);
      state.hasEarlier = (bundle.link || []).some((l) => l.relation === 'next');
      state.loaded = true;
      state.loadFailed = false;
    }

    async function loadEarlier () {
      if (!state.oldest)
        return;
      earlier.disabled = true;
      try {
        const bundle = await ctx.api('GET',
          `${base}&_sort=-_lastUpdated&_lastUpdated=${encodeURIComponent('lt' + state.oldest)}&_count=${PAGE}`);
        for (const e of bundle.entry || [])
          remember(e.resource);
        state.hasEarlier = (bundle.link || []).some((l) => l.relation === 'next');
        render({ keepPosition: true });
      } catch (error) {
        handleRequestError(error);
      } finally {
        earlier.disabled = false;
      }
    }

    let catchingUp = null;
    let catchUpAgain = false;
    let catchUpRetry = null;

    /* Everything stored after the cursor, oldest first, every page. Only complete searches move
     * the cursor: the answers to our own sends do not, so nothing in between is skipped. */
    async function catchUpOnce () {
      if (!state.loaded)
        await loadHistory();
      let path = state.cursor
        ? `${base}&_sort=_lastUpdated&_lastUpdated=${encodeURIComponent('gt' + state.cursor)}&_count=${CATCH_UP_PAGE}`
        : `${base}&_sort=_lastUpdated&_count=${CATCH_UP_PAGE}`;
      let newest = state.cursor;
      let fresh = false;
      while (path) {
        const bundle = await ctx.api('GET', path);
        for (const e of bundle.entry || []) {
          const resource = e.resource;
          if (remember(resource) && !(resource.sender && resource.sender.reference === patientRef))
            fresh = true;
          if (resource.meta && resource.meta.lastUpdated)
            newest = laterOf(newest, resource.meta.lastUpdated);
        }
        const next = (bundle.link || []).find((l) => l.relation === 'next');
        path = next && (bundle.entry || []).length ? pathOf(next.url) : null;
      }
      state.cursor = newest;
      if (fresh)
        state.typingUntil = 0;
    }

    function catchUp () {
      if (catchingUp) {
        catchUpAgain = true;
        return catchingUp;
      }
      catchingUp = (async () => {
        try {
          do {
            catchUpAgain = false;
            await catchUpOnce();
          } while (catchUpAgain);
          render();
          sendReceipts();
        } catch (error) {
          if (!state.loaded)
            state.loadFailed = true;
          handleRequestError(error);
          render();
          /* The event said there is something new: try again soon rather than at the next one. */
          if (!state.sessionEnded && !catchUpRetry)
            catchUpRetry = setTimeout(() => { catchUpRetry = null; catchUp(); }, 3000);
        } finally {
          catchingUp = null;
        }
      })();
      return catchingUp;
    }

    function handleRequestError (error) {
      if (error && error.status === 401) {
        state.sessionEnded = true;
        renderStatus();
      }
    }

    /* -- Receipts: ours to the doctor, the doctor's for our messages -- */

    function newestTheirs () {
      let newest = null;
      for (const resource of state.messages.values()) {
        if (resource.sender && resource.sender.reference === patientRef)
          continue;
        newest = laterOf(newest, resource.meta && resource.meta.lastUpdated);
      }
      return newest;
    }

    function sendReceipts () {
      const upTo = newestTheirs();
      if (!upTo)
        return;
      const states = ['delivered'];
      if (onScreen())
        states.push('read');
      for (const kind of states) {
        if (state.receiptSent[kind] && compareInstants(state.receiptSent[kind], upTo) >= 0)
          continue;
        if (wsSend({ type: 'receipt', encounter: encounterRef, state: kind, upTo }))
          state.receiptSent[kind] = upTo;
      }
    }

    function takeReceipt (delivered, read) {
      if (delivered)
        state.theirs.delivered = laterOf(state.theirs.delivered, delivered);
      if (read) {
        state.theirs.read = laterOf(state.theirs.read, read);
        state.theirs.delivered = laterOf(state.theirs.delivered, read);
      }
    }

    async function loadReceipts () {
      try {
        const response = await fetch('/chat/receipts?encounter=' + encodeURIComponent(encounterRef), {
          cache: 'no-store',
          headers: { Authorization: 'Bearer ' + session.token, Accept: 'application/json' },
        });
        if (!response.ok)
          return;
        const json = await response.json();
        for (const receipt of json.receipts || []) {
          if (receipt.reader !== patientRef)
            takeReceipt(receipt.delivered, receipt.read);
        }
        renderLog();
      } catch (e) {
        /* the ticks catch up with the next receipt */
      }
    }

    /* "Read" means the conversation is on the screen, not just that the page is open. */
    function onScreen () {
      if (document.visibilityState !== 'visible')
        return false;
      const box = scroller.getBoundingClientRect();
      const height = window.innerHeight || document.documentElement.clientHeight;
      return box.width > 0 && box.bottom > 48 && box.top < height - 48;
    }
    if ('IntersectionObserver' in window) {
      new IntersectionObserver(() => {
        if (onScreen())
          sendReceipts();
      }, { threshold: [0, 0.1, 0.5] }).observe(scroller);
    }
    document.addEventListener('visibilitychange', () => {
      if (onScreen())
        sendReceipts();
    });

    /* A phone that changed networks can keep a dead socket that looks open: now and then, while
     * the page is looked at, ask anyway. */
    setInterval(() => {
      if (document.visibilityState === 'visible' && state.loaded && !state.sessionEnded)
        catchUp();
    }, 30000);

    /* -- The visit's WebSocket -- */

    let socket = null;
    let socketAttempt = 0;
    let socketTimer = null;

    function wsSend (frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN)
        return false;
      try {
        socket.send(JSON.stringify(frame));
        return true;
      } catch (e) {
        return false;
      }
    }

    function connect () {
      clearTimeout(socketTimer);
      socketTimer = null;
      if (state.sessionEnded || (socket && socket.readyState <= WebSocket.OPEN))
        return;
      const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(`${scheme}//${window.location.host}/ws?access_token=${encodeURIComponent(session.token)}`);
      socket = ws;
      ws.addEventListener('open', () => {
        socketAttempt = 0;
        state.connected = true;
        state.receiptSent = { delivered: null, read: null };
        renderStatus();
        catchUp();
        loadReceipts();
        pump(true);
      });
      ws.addEventListener('message', (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        onFrame(frame);
      });
      ws.addEventListener('close', () => {
        if (socket !== ws)
          return;
        socket = null;
        state.connected = false;
        renderStatus();
        scheduleConnect();
      });
    }

    function scheduleConnect () {
      if (socketTimer || state.sessionEnded)
        return;
      const delay = RETRY_DELAYS[Math.min(socketAttempt, RETRY_DELAYS.length - 1)];
      socketAttempt++;
      socketTimer = setTimeout(connect, delay * (0.8 + Math.random() * 0.4));
    }

    function onFrame (frame) {
      if (frame && frame.type === 'error') {
        /* For whoever debugs the page; nothing the patient can act on. */
        console.warn('chat: the server refused a frame:', frame.message);
        return;
      }
      if (!frame || typeof frame !== 'object' || frame.encounter !== encounterRef)
        return;
      if (frame.type === 'resource' && frame.resourceType === 'Communication') {
        catchUp();
      } else if (frame.type === 'typing' && frame.from !== patientRef) {
        state.typingUntil = Date.now() + TYPING_SHOW_MS;
        state.typingFrom = frame.from || null;
        renderStatus();
        setTimeout(renderStatus, TYPING_SHOW_MS + 50);
      } else if (frame.type === 'receipt' && frame.from && frame.from !== patientRef) {
        if (frame.state === 'read')
          takeReceipt(null, frame.upTo);
        else if (frame.state === 'delivered')
          takeReceipt(frame.upTo, null);
        renderLog();
      }
    }

    window.addEventListener('online', () => {
      socketAttempt = 0;
      renderStatus();
      connect();
      pump(true);
    });
    /* A socket cut off by a lost network can stay "open" for minutes: start over, and catch up
     * once the network is back. */
    window.addEventListener('offline', () => {
      renderStatus();
      if (socket)
        socket.close();
    });

    /* -- Sending: the outbox, one message at a time, oldest first -- */

    let pumping = false;
    let pumpAgain = false;
    let pumpTimer = null;
    let pumpAttempt = 0;

    async function uploadBinary (item) {
      const response = await fetch('/fhir/Binary', {
        method: 'POST',
        cache: 'no-store',
        headers: {
          Authorization: 'Bearer ' + session.token,
          Accept: 'application/fhir+json',
          'Content-Type': item.file.type,
          'X-Security-Context': encounterRef,
        },
        body: item.file.blob,
      });
      const json = await response.json().catch(() => null);
      if (!response.ok)
        throw new ctx.HttpError(response.status, json);
      const id = (json && json.id) || binaryId((response.headers.get('Location') || '').replace(/\/_history\/.*$/, ''));
      if (!id)
        throw new ctx.HttpError(502, null);
      return 'Binary/' + id;
    }

    function communication (item) {
      const payload = [];
      if (item.text)
        payload.push({ contentString: item.text });
      if (item.file) {
        payload.push({
          contentAttachment: {
            contentType: item.file.type, url: item.binary, size: item.file.size, title: item.file.title,
          },
        });
      }
      return {
        resourceType: 'Communication',
        status: 'completed',
        identifier: [{ system: URN_SYSTEM, value: item.identifier }],
        encounter: { reference: encounterRef },
        subject: { reference: patientRef },
        sender: { reference: patientRef },
        sent: item.sent,
        payload,
      };
    }

    async function sendOne (item) {
      if (item.file && !item.binary) {
        item.binary = await uploadBinary(item);
        await outbox.put(item);
      }
      const stored = await ctx.api('POST', '/fhir/Communication', communication(item),
        { 'If-None-Exist': 'identifier=' + encodeURIComponent(URN_SYSTEM + '|' + item.identifier) });
      if (item.file)
        localUrl(item.identifier, item.file.blob);
      remember(stored);
      await outbox.remove(item);
      state.items = state.items.filter((other) => other.identifier !== item.identifier);
    }

    function reasonOf (error) {
      const issues = (error && error.body && error.body.issue) || [];
      return issues.map((issue) => issue.diagnostics || (issue.details && issue.details.text)).filter(Boolean).join(' ');
    }

    async function drain () {
      for (;;) {
        const item = state.items.find((candidate) => candidate.state === 'pending');
        if (!item || state.sessionEnded)
          return true;
        try {
          await sendOne(item);
          pumpAttempt = 0;
          if (state.sendFailing) {
            state.sendFailing = false;
            renderStatus();
          }
          renderLog();
        } catch (error) {
          const status = error && typeof error.status === 'number' ? error.status : 0;
          if (status === 401) {
            state.sessionEnded = true;
            render();
            return true;
          }
          if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
            item.state = 'failed';
            item.error = { status, reason: reasonOf(error) };
            await outbox.put(item).catch(() => {});
            renderLog();
            continue;
          }
          if (!state.sendFailing) {
            state.sendFailing = true;
            renderStatus();
          }
          return false;
        }
      }
    }

    /* Several tabs of the same visit share one outbox: a lock lets one of them send at a time. */
    function withOutboxLock (work) {
      if (navigator.locks && navigator.locks.request)
        return navigator.locks.request('wz-chat-outbox:' + session.encounter, work);
      return work();
    }

    async function pump (now) {
      if (now) {
        pumpAttempt = 0;
        clearTimeout(pumpTimer);
        pumpTimer = null;
      }
      if (pumping) {
        /* Whatever was added meanwhile is picked up by the pass under way, or by one more. */
        pumpAgain = true;
        return;
      }
      if (pumpTimer)
        return;
      pumping = true;
      let done = true;
      do {
        pumpAgain = false;
        try {
          done = await withOutboxLock(async () => {
            /* Another tab may have sent (or added) some meanwhile. */
            if (state.storage)
              setItems(await outbox.list());
            return drain();
          });
        } catch (e) {
          done = false;
        }
      } while (done && pumpAgain);
      pumping = false;
      if (!done) {
        const delay = RETRY_DELAYS[Math.min(pumpAttempt, RETRY_DELAYS.length - 1)];
        pumpAttempt++;
        pumpTimer = setTimeout(() => { pumpTimer = null; pump(); }, delay);
      }
      renderLog();
    }

    function setItems (list) {
      const seen = new Set();
      state.items = list.filter((item) => !seen.has(item.identifier) && seen.add(item.identifier));
    }

    async function enqueue (fields) {
      const item = {
        encounter: session.encounter,
        identifier: newUrnUuid(),
        sent: localDateTime(new Date()),
        text: fields.text || null,
        file: fields.file || null,
        binary: null,
        state: 'pending',
        error: null,
      };
      /* On disk first, shown second: what is on the screen survives a reload. */
      await outbox.add(item);
      if (!state.items.some((other) => other.identifier === item.identifier))
        state.items.push(item);
      renderLog({ scrollToEnd: true });
      pump(true);
    }

    function retry (key) {
      const item = state.items.find((candidate) => candidate.identifier === key);
      if (!item)
        return;
      item.state = 'pending';
      item.error = null;
      item.sent = localDateTime(new Date());
      outbox.requeue(item).catch(() => {}).then(() => {
        state.items = state.items.filter((other) => other.identifier !== item.identifier).concat([item]);
        renderLog({ scrollToEnd: true });
        pump(true);
      });
    }

    function discard (key) {
        const item = state.items.find((candidate) => candidate.identifier === key);
      if (!item)
        return;
      outbox.remove(item).catch(() => {}).then(() => {
        state.items = state.items.filter((other) => other.identifier !== item.identifier);
        renderLog();
        input.focus();
      });
    }

    /* -- Writing -- */

    let lastTypingSent = 0;

    input.addEventListener('input', () => {
      const tooLong = [...input.value].length > MAX_TEXT;
      if (tooLong && state.notice !== 'tooLong')
        showNotice('tooLong', { max: MAX_TEXT });
      else if (!tooLong && state.notice === 'tooLong')
        showNotice(null);
      if (input.value.trim() && Date.now() - lastTypingSent > TYPING_SEND_MS) {
        if (wsSend({ type: 'typing', encounter: encounterRef }))
          lastTypingSent = Date.now();
      }
    });

    input.addEventListener('keydown', (event) => {
      /* Enter sends on a keyboard; an input method's Enter (choosing 汉字) and Shift+Enter do not. */
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229 && !coarse) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : submitText();
      }
    });

    async function submitText () {
      const text = input.value.replace(/^\s*\n|\s+$/g, '');
      if (!text.trim())
        return;
      if ([...text].length > MAX_TEXT) {
        showNotice('tooLong', { max: MAX_TEXT });
        return;
      }
      showNotice(null);
      input.value = '';
      lastTypingSent = 0;
      try {
        await enqueue({ text });
      } catch (e) {
        input.value = text;
      }
      input.focus();
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      submitText();
    });

    async function sendFile (file) {
      if (!file)
        return;
      const type = (file.type || '').toLowerCase();
      let prepared = null;
      if (type.startsWith('image/')) {
        showNotice('preparing');
        prepared = await preparePhoto(file);
        showNotice(null);
      } else if (type === 'application/pdf' || /\.pdf$/i.test(file.name || '')) {
        prepared = { blob: file, type: 'application/pdf' };
      }
      if (!prepared) {
        showNotice('refusedType');
        return;
      }
      if (prepared.blob.size > MAX_BYTES) {
        showNotice('refusedSize');
        return;
      }
      let name = file.name || '';
      if (prepared.type === 'image/jpeg' && prepared.blob !== file)
        name = name.replace(/\.[^.]*$/, '') + '.jpg';
      await enqueue({ file: { blob: prepared.blob, type: prepared.type, size: prepared.blob.size, title: name || null } });
    }

    for (const picker of [fileInput, cameraInput]) {
      picker.addEventListener('change', () => {
        const files = [...picker.files];
        picker.value = '';
        (async () => {
          for (const file of files)
            await sendFile(file);
        })();
      });
    }
    attachButton.addEventListener('click', () => fileInput.click());
    cameraButton.addEventListener('click', () => cameraInput.click());

    /* -- Voice notes -- */

    let recorder = null;        /* { media, stream, chunks, started, timer, type, cancelled } */
    let holdStarted = 0;
    let ignoreClick = false;

    function recordingType () {
      if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
        return null;
      for (const type of ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'])
        if (window.MediaRecorder.isTypeSupported(type))
          return type;
      return null;
    }

    function setRecordingUi () {
      recordBar.hidden = !recorder;
      voiceButton.classList.toggle('recording', !!recorder);
      voiceButton.querySelector('.chat-tool-label').textContent = recorder ? t('stopAndSend') : t('voice');
      if (recorder)
        recordTime.textContent = t('recording', { time: formatDuration(Date.now() - recorder.started) });
    }

    async function startRecording () {
      const type = recordingType();
      if (!type) {
        showNotice('micUnsupported');
        return;
      }
      if (recorder)
        return;
      const pending = { media: null, stream: null, chunks: [], started: Date.now(), timer: null, type, cancelled: false };
      recorder = pending;
      setRecordingUi();
      try {
        pending.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e) {
        recorder = null;
        setRecordingUi();
        showNotice('micDenied');
        return;
      }
      if (recorder !== pending) {
        pending.stream.getTracks().forEach((track) => track.stop());
        return;
      }
      showNotice(null);
      pending.media = new MediaRecorder(pending.stream, { mimeType: type });
      pending.media.addEventListener('dataavailable', (event) => {
        if (event.data && event.data.size)
          pending.chunks.push(event.data);
      });
      pending.media.addEventListener('stop', () => {
        pending.stream.getTracks().forEach((track) => track.stop());
        if (pending.cancelled)
          return;
        const blobType = type.split(';')[0];
        const blob = new Blob(pending.chunks, { type: blobType });
        const duration = formatDuration(Date.now() - pending.started);
        if (blob.size > MAX_BYTES) {
          showNotice('refusedSize');
          return;
        }
        if (blob.size)
          enqueue({ file: { blob, type: blobType, size: blob.size, title: t('voiceTitle', { time: duration }) } });
      });
      pending.started = Date.now();
      pending.media.start(1000);
      pending.timer = setInterval(() => {
        setRecordingUi();
        if (Date.now() - pending.started >= MAX_RECORDING_MS)
          stopRecording(false);
      }, 250);
    }

    function stopRecording (cancel) {
      const current = recorder;
      if (!current)
        return;
      recorder = null;
      clearInterval(current.timer);
      current.cancelled = cancel;
      if (current.media && current.media.state !== 'inactive')
        current.media.stop();
      else if (current.stream)
        current.stream.getTracks().forEach((track) => track.stop());
      setRecordingUi();
      voiceButton.focus();
    }

    voiceButton.addEventListener('pointerdown', (event) => {
      if (event.button !== 0)
        return;
      ignoreClick = true;
      try {
        voiceButton.setPointerCapture(event.pointerId);
      } catch (e) {
        /* the release is still seen over the button */
      }
      if (recorder) {
        stopRecording(false);
        return;
      }
      holdStarted = Date.now();
      startRecording();
    });
    voiceButton.addEventListener('pointerup', () => {
      /* Held down long enough: letting go sends; a short tap leaves it recording until the next tap. */
      if (holdStarted && Date.now() - holdStarted >= HOLD_MS && recorder)
        stopRecording(false);
      holdStarted = 0;
    });
    voiceButton.addEventListener('click', () => {
      if (ignoreClick) {
        ignoreClick = false;
        return;
      }
      if (recorder)
        stopRecording(false);
      else
        startRecording();
    });
    voiceButton.addEventListener('contextmenu', (event) => event.preventDefault());
    recordCancel.addEventListener('click', () => stopRecording(true));

    earlier.addEventListener('click', loadEarlier);
    ctx.onLang(() => {
      render();
      setRecordingUi();
    });

    /* -- Start -- */

    render();
    (async () => {
      state.storage = await outbox.open();
      try {
        setItems(await outbox.list());
      } catch (e) {
        state.items = [];
      }
      render({ scrollToEnd: true });
      loadNames();
      await catchUp();
      render({ scrollToEnd: true });
      connect();
      pump(true);
    })();
  }

  (window.wzVisitModules ||= []).push({ id: 'chat', order: 10, mount });
})();
