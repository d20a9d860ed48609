/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The patient's own follow-up records, a feature module of the visit page (visit.js mounts it once
 * the pre-consultation is done): reminders of what is due, reporting blood pressure, glucose and
 * weight, medicine check-ins, approved prescriptions with a renewal request, the vaccination
 * record with the doses due, the screening questions before a vaccination, and reporting a
 * reaction after one.
 *
 * Everything comes from the server's /followup/me/… pages, which answer for the signed-in patient
 * only. Text from the server is only ever set as text. Each send carries a urn:uuid made before
 * the first attempt, so pressing again after a lost answer never records a value twice. */
(() => {
  'use strict';

  const STRINGS = {
    en: {
      title: 'My follow-up',
      loading: 'Loading…',
      loadFailed: 'This could not be loaded. Please check the connection and try again.',
      tryAgain: 'Try again',
      remindersTitle: 'Reminders',
      noReminders: 'Nothing is due at the moment.',
      overdue: 'Overdue',
      due: 'Due now',
      upcoming: 'Coming up',
      dueOn: 'Due {date}',
      confirmRevisit: 'I will come: put me in the doctor\'s queue',
      measureTitle: 'What to measure at home',
      measureHint: 'Report your readings below; your doctor sees them against your targets.',
      revisitQueued: 'You are in the doctor\'s queue for this visit.',
      checkinTitle: 'Medicine check-in',
      yes: 'Yes',
      no: 'No',
      days: 'days',
      sendAnswers: 'Send my answers',
      answerAll: 'Please answer every question.',
      thanks: 'Thank you. Your doctor can see your answers.',
      reportTitle: 'Report a measurement',
      bloodPressure: 'Blood pressure',
      glucose: 'Blood sugar',
      weight: 'Weight',
      systolic: 'Upper number (systolic), mmHg',
      diastolic: 'Lower number (diastolic), mmHg',
      pulse: 'Pulse per minute (if you have it)',
      glucoseValue: 'Blood sugar, mmol/L',
      fasting: 'Before eating (fasting)',
      afterMeal: 'About 2 hours after a meal',
      weightValue: 'Weight, kg',
      send: 'Send to my doctor',
      sending: 'Sending…',
      sent: 'Sent. Your doctor can see it.',
      sendFailed: 'This was not sent. Please try again.',
      checkNumbers: 'Please check the numbers: {why}',
      inRange: 'This value is within your target.',
      urgentAlert: 'This value needs attention today. Rest 5 minutes and measure again. If it stays this high, contact your doctor today. With chest pain, a severe headache, weakness or trouble speaking, call 120 at once.',
      outOfRange: 'This value is outside your target. Your doctor has been told.',
      medicinesTitle: 'My medicines',
      noMedicines: 'No approved prescriptions.',
      dose: 'Dose',
      frequency: 'How often',
      duration: 'For',
      doctor: 'Doctor',
      pharmacist: 'Checked by pharmacist',
      approvedOn: 'Approved',
      refillDue: 'Ask for more by {date}',
      refillNow: 'Time to ask for a renewal: your medicine runs out on {date}',
      refillOverdue: 'Your medicine ran out on {date}. Ask for a renewal now.',
      renew: 'Ask for a renewal',
      renewed: 'Your renewal request is in your doctor\'s queue.',
      vaccinesTitle: 'Vaccinations',
      record: 'Vaccination record',
      noRecord: 'No vaccinations recorded yet.',
      lot: 'batch',
      dueVaccines: 'Vaccines due',
      noDueVaccines: 'No vaccine is due now.',
      screeningTitle: 'Health questions before vaccination',
      startScreening: 'Answer the health questions',
      screeningSent: 'Thank you. The doctor will check your answers before the vaccination.',
      screeningConcern: 'Some answers need the doctor\'s advice before the vaccination. The doctor has been told.',
      reactionTitle: 'Report a reaction after a vaccination',
      whichVaccination: 'Which vaccination',
      whatHappened: 'What happened (for example fever 38.5 °C, rash, swelling)',
      whenStarted: 'When it started',
      serious: 'It is serious (high fever that does not come down, fits, trouble breathing, the child is very unwell)',
      reportReaction: 'Send the report',
      reactionSent: 'Your report was sent to the doctor.',
      reactionSerious: 'Your doctor has been alerted. If the child has trouble breathing or a fit, call 120 now.',
      required: 'Please fill in what happened.',
    },
    zh: {
      title: '我的随访',
      loading: '正在加载…',
      loadFailed: '未能加载。请检查网络后重试。',
      tryAgain: '重试',
      remindersTitle: '提醒',
      noReminders: '目前没有需要完成的事项。',
      overdue: '已逾期',
      due: '现在该做',
      upcoming: '即将到来',
      dueOn: '{date} 到期',
      confirmRevisit: '我会来复诊：请加入医生的候诊队列',
      measureTitle: '居家需要测量的项目',
      measureHint: '请在下方上报测量结果，医生会对照您的目标查看。',
      revisitQueued: '您已进入本次复诊的医生候诊队列。',
      checkinTitle: '用药随访',
      yes: '是',
      no: '否',
      days: '天',
      sendAnswers: '提交我的回答',
      answerAll: '请回答每一个问题。',
      thanks: '谢谢。医生可以看到您的回答。',
      reportTitle: '上报测量结果',
      bloodPressure: '血压',
      glucose: '血糖',
      weight: '体重',
      systolic: '高压（收缩压），mmHg',
      diastolic: '低压（舒张压），mmHg',
      pulse: '心率（次/分钟，如有）',
      glucoseValue: '血糖，mmol/L',
      fasting: '空腹（饭前）',
      afterMeal: '饭后约2小时',
      weightValue: '体重，公斤',
      send: '发送给医生',
      sending: '正在发送…',
      sent: '已发送，医生可以看到。',
      sendFailed: '未发送成功，请重试。',
      checkNumbers: '请检查数值：{why}',
      inRange: '这个数值在您的目标范围内。',
      urgentAlert: '这个数值今天需要处理。请休息5分钟后复测。如仍如此高，请当天联系医生；如伴胸痛、剧烈头痛、肢体无力或说话不清，请立即拨打120。',
      outOfRange: '这个数值超出了您的目标范围，已通知医生。',
      medicinesTitle: '我的用药',
      noMedicines: '没有已审核通过的处方。',
      dose: '剂量',
      frequency: '用法',
      duration: '疗程',
      doctor: '医生',
      pharmacist: '审核药师',
      approvedOn: '审核通过',
      refillDue: '请在 {date} 前申请续方',
      refillNow: '该申请续方了：您的药将在 {date} 用完',
      refillOverdue: '您的药已于 {date} 用完，请尽快申请续方。',
      renew: '申请续方',
      renewed: '您的续方申请已进入医生的候诊队列。',
      vaccinesTitle: '疫苗接种',
      record: '电子接种记录',
      noRecord: '尚无接种记录。',
      lot: '批号',
      dueVaccines: '应种疫苗',
      noDueVaccines: '目前没有应种的疫苗。',
      screeningTitle: '接种前健康问询',
      startScreening: '回答健康问询',
      screeningSent: '谢谢。接种前医生会查看您的回答。',
      screeningConcern: '有些回答需要医生评估后再接种，已通知医生。',
      reactionTitle: '上报接种后的不良反应',
      whichVaccination: '哪一次接种',
      whatHappened: '出现了什么情况（例如发热38.5°C、皮疹、红肿）',
      whenStarted: '开始时间',
      serious: '情况严重（高热不退、抽搐、呼吸困难、孩子精神很差）',
      reportReaction: '发送上报',
      reactionSent: '已发送给医生。',
      reactionSerious: '已提醒医生。如孩子呼吸困难或抽搐，请立即拨打120。',
      required: '请填写出现了什么情况。',
    },
  };

  function uuid () {
    if (window.crypto && crypto.randomUUID)
      return 'urn:uuid:' + crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    return 'urn:uuid:' + hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' +
      hex.slice(16, 20) + '-' + hex.slice(20);
  }

  function mount (container, ctx) {
    const el = ctx.el;
    const state = {
      reminders: null,
      prescriptions: null,
      vaccinations: null,
      problem: false,
      kind: 'blood-pressure',
      readingResult: null,     /* { alerts } after a send */
      readingError: null,
      pending: {},             /* identifiers of sends not yet answered, by what they send */
      notices: {},             /* task or request → text key shown after an action */
      checkins: {},            /* task → { question → value } */
      screening: null,         /* the Questionnaire when opened */
      screeningAnswers: {},
      screeningResult: null,
      reaction: { immunization: '', what: '', serious: false, when: '' },
      reactionResult: null,
      busy: false,
    };

    const t = (key, values) => {
      let text = (STRINGS[ctx.lang()] || STRINGS.en)[key] || STRINGS.en[key] || key;
      for (const [name, value] of Object.entries(values || {}))
        text = text.replace('{' + name + '}', value);
      return text;
    };
    const langParam = () => 'lang=' + ctx.lang();

    async function load () {
      state.problem = false;
      try {
        const [reminders, prescriptions, vaccinations] = await Promise.all([
          ctx.api('GET', '/followup/me/reminders?' + langParam()),
          ctx.api('GET', '/followup/me/prescriptions?' + langParam()),
          ctx.api('GET', '/followup/me/vaccinations?' + langParam()),
        ]);
        state.reminders = reminders;
        state.prescriptions = prescriptions.prescriptions || [];
        state.vaccinations = vaccinations;
      } catch (error) {
        state.problem = true;
      }
      render();
    }

    /* Sends BODY once: the identifier made for KEY is kept until an answer comes back. */
    async function send (key, path, body) {
      if (body.identifier === undefined && key) {
        state.pending[key] ||= uuid();
        body.identifier = state.pending[key];
      }
      const answer = await ctx.api('POST', path + '?' + langParam(), body);
      delete state.pending[key];
      return answer;
    }

    function problemText (error) {
      const issue = error && error.body && error.body.issue && error.body.issue[0];
      return issue && issue.diagnostics ? t('checkNumbers', { why: issue.diagnostics }) : t('sendFailed');
    }

    /* ImmunizationRecommendation.recommendation[].vaccineCode is a list (R4). */
    function vaccineName (entry) {
      const code = [].concat(entry.vaccineCode || [])[0] || {};
      return code.text || (code.coding && code.coding[0] && code.coding[0].display) || '';
    }

    /* ---- Reminders ---- */

    function timingLabel (timing) {
      return timing === 'overdue' ? t('overdue') : timing === 'due' ? t('due') : t('upcoming');
    }

    function checkinForm (reminder) {
      const answers = state.checkins[reminder.task] ||= {};
      const form = el('form', { class: 'records-form', onsubmit: (event) => {
        event.preventDefault();
        submitCheckin(reminder);
      } });
      for (const question of reminder.questions || []) {
        const name = 'q-' + reminder.task + '-' + question.id;
        if (question.kind === 'number') {
          const input = el('input', { type: 'number', inputmode: 'numeric', min: '0', max: '365',
            id: name, class: 'records-input', value: answers[question.id] ?? '',
            oninput: (event) => { answers[question.id] = event.target.value === '' ? undefined : Number(event.target.value); } });
          form.append(el('label', { class: 'records-field', for: name },
            el('span', { text: question.text }), el('span', { class: 'records-inline' }, input, el('span', { text: t('days') }))));
        } else {
          const group = el('fieldset', { class: 'records-choice' }, el('legend', { text: question.text }));
          for (const [value, label] of [[true, t('yes')], [false, t('no')]]) {
            const radio = el('input', { type: 'radio', name, value: String(value),
              checked: answers[question.id] === value,
              onchange: () => { answers[question.id] = value; } });
            group.append(el('label', { class: 'records-option' }, radio, el('span', { text: label })));
          }
          form.append(group);
        }
      }
      if (state.notices[reminder.task] === 'answerAll')
        form.append(el('p', { class: 'records-error', role: 'alert', text: t('answerAll') }));
      form.append(el('button', { type: 'submit', class: 'button records-button', disabled: state.busy, text: t('sendAnswers') }));
      return form;
    }

    async function submitCheckin (reminder) {
      const answers = state.checkins[reminder.task] || {};
      const complete = (reminder.questions || []).every((question) => answers[question.id] !== undefined &&
        !(typeof answers[question.id] === 'number' && Number.isNaN(answers[question.id])));
      if (!complete) {
        state.notices[reminder.task] = 'answerAll';
        render();
        return;
      }
      state.busy = true;
      render();
      try {
        await send('checkin:' + reminder.task, '/followup/me/checkin', { task: reminder.task, answers: { ...answers } });
        state.notices[reminder.task] = 'thanks';
        await load();
      } catch (error) {
        state.notices[reminder.task] = 'sendFailed';
      }
      state.busy = false;
      render();
    }

    async function confirmRevisit (reminder) {
      state.busy = true;
      render();
      try {
        await ctx.api('POST', '/followup/me/confirm?' + langParam(), { task: reminder.task });
        state.notices[reminder.task] = 'revisitQueued';
        await load();
      } catch (error) {
        state.notices[reminder.task] = 'sendFailed';
      }
      state.busy = false;
      render();
    }

    function remindersSection () {
      const section = el('section', { class: 'records-section', 'aria-labelledby': 'records-reminders' },
        el('h3', { id: 'records-reminders', text: t('remindersTitle') }));
      const all = state.reminders.reminders || [];
      const list = all.filter((reminder) => reminder.kind !== 'measurement');
      /* Measurements run for the whole plan: one card saying what to measure and how often. */
      const measuring = all.filter((reminder) => reminder.kind === 'measurement' && reminder.timing !== 'upcoming');
      const vaccines = state.reminders.vaccines || [];
      if (list.length === 0 && vaccines.length === 0 && measuring.length === 0) {
        section.append(el('p', { class: 'records-empty', text: t('noReminders') }));
        return section;
      }
      const items = el('ul', { class: 'records-list' });
      if (measuring.length) {
        const what = el('ul', { class: 'records-measuring' });
        for (const reminder of measuring)
          what.append(el('li', {}, el('span', { class: 'records-measure-name', text: reminder.title || reminder.measurement }),
            reminder.description ? el('span', { class: 'records-meta', text: reminder.description }) : null));
        items.append(el('li', { class: 'records-item timing-due' },
          el('p', { class: 'records-name', text: t('measureTitle') }), what,
          el('p', { class: 'records-meta', text: t('measureHint') })));
      }
      for (const reminder of list) {
        const item = el('li', { class: 'records-item timing-' + reminder.timing, 'data-task': reminder.task },
          el('p', { class: 'records-badge', text: timingLabel(reminder.timing) }),
          el('p', { class: 'records-name', text: reminder.title || reminder.description || reminder.kind }),
          reminder.description && reminder.description !== reminder.title
            ? el('p', { class: 'records-meta', text: reminder.description }) : null,
          el('p', { class: 'records-meta', text: t('dueOn', { date: formatDay(reminder.due) }) }));
        if (reminder.kind === 'revisit' && reminder.timing !== 'upcoming') {
          if (reminder.visit)
            item.append(el('p', { class: 'records-ok', text: t('revisitQueued') }));
          else
            item.append(el('button', { type: 'button', class: 'button records-button', disabled: state.busy,
              text: t('confirmRevisit'), onclick: () => confirmRevisit(reminder) }));
        }
        if (reminder.kind === 'adherence-checkin' && reminder.timing !== 'upcoming' && (reminder.questions || []).length)
          item.append(el('h4', { text: t('checkinTitle') }), checkinForm(reminder));
        const notice = state.notices[reminder.task];
        if (notice && notice !== 'answerAll')
          item.append(el('p', { class: notice === 'sendFailed' ? 'records-error' : 'records-ok', role: 'status', text: t(notice) }));
        items.append(item);
      }
      for (const vaccine of vaccines) {
        const status = vaccine.forecastStatus && vaccine.forecastStatus.coding && vaccine.forecastStatus.coding[0].code;
        const date = (vaccine.dateCriterion || [])[0];
        items.append(el('li', { class: 'records-item timing-' + (status === 'overdue' ? 'overdue' : 'due') },
          el('p', { class: 'records-badge', text: status === 'overdue' ? t('overdue') : t('due') }),
          el('p', { class: 'records-name', text: vaccineName(vaccine) }),
          date ? el('p', { class: 'records-meta', text: t('dueOn', { date: formatDay(String(date.value).slice(0, 10)) }) }) : null));
      }
      section.append(items);
      return section;
    }

    /* ---- Reporting a value ---- */

    function numberField (id, label, attrs) {
      return el('label', { class: 'records-field', for: id }, el('span', { text: label }),
        el('input', { id, class: 'records-input', type: 'number', inputmode: 'decimal', required: attrs.required, step: attrs.step || '1', min: attrs.min, max: attrs.max }));
    }

    async function submitReading (form) {
      const value = (id) => {
        const input = form.querySelector('#' + id);
        return input && input.value !== '' ? Number(input.value) : undefined;
      };
      const body = { kind: state.kind };
      if (state.kind === 'blood-pressure') {
        body.systolic = value('records-systolic');
        body.diastolic = value('records-diastolic');
        if (value('records-pulse') !== undefined)
          body.pulse = value('records-pulse');
      } else if (state.kind === 'glucose') {
        body.value = value('records-glucose');
        body.timing = form.querySelector('input[name="records-glucose-timing"]:checked')?.value || 'fasting';
      } else {
        body.value = value('records-weight');
      }
      state.busy = true;
      state.readingError = null;
      state.readingResult = null;
      render();
      try {
        state.readingResult = await send('reading:' + JSON.stringify(body), '/followup/me/readings', body);
        /* The form on screen now (re-rendered while sending), not the one that was submitted. */
        container.querySelector('#records-reading')?.reset();
      } catch (error) {
        state.readingError = problemText(error);
      }
      state.busy = false;
      render();
    }

    function reportSection () {
      const section = el('section', { class: 'records-section', 'aria-labelledby': 'records-report' },
        el('h3', { id: 'records-report', text: t('reportTitle') }));
      const tabs = el('div', { class: 'records-tabs', role: 'radiogroup', 'aria-labelledby': 'records-report' });
      for (const [kind, label] of [['blood-pressure', t('bloodPressure')], ['glucose', t('glucose')], ['weight', t('weight')]]) {
        tabs.append(el('button', { type: 'button', role: 'radio', class: 'records-tab', 'aria-checked': String(state.kind === kind),
          text: label, onclick: () => { state.kind = kind; state.readingResult = null; state.readingError = null; render(); } }));
      }
      const form = el('form', { class: 'records-form', id: 'records-reading', onsubmit: (event) => {
        event.preventDefault();
        submitReading(event.target);
      } });
      if (state.kind === 'blood-pressure') {
        form.append(numberField('records-systolic', t('systolic'), { required: true, min: '40', max: '300' }),
          numberField('records-diastolic', t('diastolic'), { required: true, min: '20', max: '200' }),
          numberField('records-pulse', t('pulse'), { min: '20', max: '250' }));
      } else if (state.kind === 'glucose') {
        form.append(numberField('records-glucose', t('glucoseValue'), { required: true, step: '0.1', min: '0.5', max: '50' }));
        const group = el('fieldset', { class: 'records-choice' });
        for (const [value, label] of [['fasting', t('fasting')], ['after-meal', t('afterMeal')]])
          group.append(el('label', { class: 'records-option' },
            el('input', { type: 'radio', name: 'records-glucose-timing', value, checked: value === 'fasting' }), el('span', { text: label })));
        form.append(group);
      } else {
        form.append(numberField('records-weight', t('weightValue'), { required: true, step: '0.1', min: '1', max: '400' }));
      }
      form.append(el('button', { type: 'submit', class: 'button records-button', disabled: state.busy,
        text: state.busy ? t('sending') : t('send') }));
      section.append(tabs, form);
      if (state.readingError)
        section.append(el('p', { class: 'records-error', role: 'alert', text: state.readingError }));
      if (state.readingResult) {
        const alerts = state.readingResult.alerts || [];
        const urgent = alerts.some((alert) => alert.level === 'urgent');
        const box = el('div', { class: 'records-result ' + (urgent ? 'urgent' : alerts.length ? 'flagged' : 'fine'), role: urgent ? 'alert' : 'status' },
          el('p', { class: 'records-result-head', text: urgent ? t('urgentAlert') : alerts.length ? t('outOfRange') : t('sent') }));
        if (!urgent && !alerts.length)
          box.append(el('p', { text: t('inRange') }));
        for (const alert of alerts)
          box.append(el('p', { class: 'records-meta', text: alert.text }));
        if (urgent)
          box.append(el('a', { class: 'button danger records-call', href: 'tel:120', text: ctx.lang() === 'zh' ? '拨打 120' : 'Call 120' }));
        section.append(box);
      }
      return section;
    }

    /* ---- Medicines ---- */

    async function renew (prescription) {
      state.busy = true;
      render();
      try {
        await send('renew:' + prescription.medicationRequest, '/followup/me/renewal', { medicationRequest: prescription.medicationRequest });
        state.notices[prescription.medicationRequest] = 'renewed';
      } catch (error) {
        state.notices[prescription.medicationRequest] = 'sendFailed';
      }
      state.busy = false;
      render();
    }

    /* A civil date (YYYY-MM-DD) as the reader writes dates, never shifted by a time zone. */
    function formatDay (text) {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || '');
      if (!m)
        return text || '';
      return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).toLocaleDateString(ctx.lang() === 'zh' ? 'zh-CN' : 'en-GB',
        { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
    }

    function formatDate (text) {
      if (!text)
        return '';
      const date = new Date(text);
      if (Number.isNaN(date.getTime()))
        return text;
      return date.toLocaleDateString(ctx.lang() === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric' });
    }

    function medicinesSection () {
      const section = el('section', { class: 'records-section', 'aria-labelledby': 'records-medicines' },
        el('h3', { id: 'records-medicines', text: t('medicinesTitle') }));
      if (state.prescriptions.length === 0) {
        section.append(el('p', { class: 'records-empty', text: t('noMedicines') }));
        return section;
      }
      const list = el('ul', { class: 'records-list' });
      for (const prescription of state.prescriptions) {
        const facts = el('dl', { class: 'records-facts' });
        const add = (label, value) => {
          if (value)
            facts.append(el('dt', { text: label }), el('dd', { text: value }));
        };
        add(t('dose'), prescription.dose);
        add(t('frequency'), prescription.frequency);
        add(t('duration'), prescription.days ? prescription.days + ' ' + t('days') : '');
        add(t('doctor'), prescription.doctor);
        add(t('pharmacist'), prescription.pharmacist);
        add(t('approvedOn'), formatDate(prescription.approved));
        const item = el('li', { class: 'records-item records-medicine', 'data-request': prescription.medicationRequest },
          el('p', { class: 'records-name', text: prescription.medication }),
          prescription.instruction ? el('p', { class: 'records-meta', text: prescription.instruction }) : null,
          facts);
        const refill = prescription.refill;
        if (refill)
          item.append(el('p', { class: refill.timing === 'upcoming' ? 'records-meta' : 'records-warning',
            text: refill.timing === 'overdue' ? t('refillOverdue', { date: formatDay(refill.runsOut) })
              : refill.timing === 'due' ? t('refillNow', { date: formatDay(refill.runsOut) })
                : t('refillDue', { date: formatDay(refill.due) }) }));
        const notice = state.notices[prescription.medicationRequest];
        if (notice)
          item.append(el('p', { class: notice === 'sendFailed' ? 'records-error' : 'records-ok', role: 'status', text: t(notice) }));
        else
          item.append(el('button', { type: 'button', class: 'button records-button', disabled: state.busy,
            text: t('renew'), onclick: () => renew(prescription) }));
        list.append(item);
      }
      section.append(list);
      return section;
    }

    /* ---- Vaccinations ---- */

    async function openScreening () {
      state.busy = true;
      render();
      try {
        state.screening = await ctx.api('GET', '/followup/screening-questionnaire?' + langParam());
        state.screeningAnswers = {};
      } catch (error) {
        state.screeningResult = { error: true };
      }
      state.busy = false;
      render();
    }

    async function submitScreening (due) {
      const items = [];
      const planned = due.map((vaccine) => {
        const code = [].concat(vaccine.vaccineCode || [])[0];
        return code && code.coding && code.coding[0];
      }).filter(Boolean);
      if (planned.length)
        items.push({ linkId: 'planned-vaccines', answer: planned.map((coding) => ({ valueCoding: { system: coding.system, code: coding.code } })) });
      for (const [linkId, value] of Object.entries(state.screeningAnswers))
        items.push({ linkId, answer: [typeof value === 'boolean' ? { valueBoolean: value } : { valueString: value }] });
      state.pending.screening ||= uuid();
      const response = {
        resourceType: 'QuestionnaireResponse',
        identifier: { system: 'urn:ietf:rfc:3986', value: state.pending.screening },
        questionnaire: state.screening.url,
        status: 'completed',
        authored: new Date().toISOString(),
        item: items,
      };
      state.busy = true;
      render();
      try {
        const result = await ctx.api('POST', '/followup/me/screening?' + langParam(), response);
        delete state.pending.screening;
        const concern = (result.vaccines || []).some((vaccine) => (vaccine.findings || []).length > 0);
        state.screeningResult = { concern };
        state.screening = null;
      } catch (error) {
        state.screeningResult = { error: true };
      }
      state.busy = false;
      render();
    }

    function screeningForm (due) {
      const form = el('form', { class: 'records-form', onsubmit: (event) => {
        event.preventDefault();
        submitScreening(due);
      } });
      for (const item of state.screening.item || []) {
        if (item.type === 'boolean') {
          const name = 'screen-' + item.linkId;
          const group = el('fieldset', { class: 'records-choice' }, el('legend', { text: item.text }));
          for (const [value, label] of [[true, t('yes')], [false, t('no')]])
            group.append(el('label', { class: 'records-option' },
              el('input', { type: 'radio', name, value: String(value), required: item.required ? true : undefined,
                checked: state.screeningAnswers[item.linkId] === value,
                onchange: () => { state.screeningAnswers[item.linkId] = value; render(); } }),
              el('span', { text: label })));
          form.append(group);
        } else if (item.type === 'string') {
          const shown = (item.enableWhen || []).every((condition) => state.screeningAnswers[condition.question] === condition.answerBoolean);
          if (!shown)
            continue;
          const id = 'screen-' + item.linkId;
          form.append(el('label', { class: 'records-field', for: id }, el('span', { text: item.text }),
            el('textarea', { id, class: 'records-input', rows: '2', maxlength: '500',
              oninput: (event) => { state.screeningAnswers[item.linkId] = event.target.value; } },
            state.screeningAnswers[item.linkId] || '')));
        }
      }
      form.append(el('button', { type: 'submit', class: 'button records-button', disabled: state.busy, text: t('sendAnswers') }));
      return form;
    }

    async function submitReaction (form) {
      const reaction = state.reaction;
      reaction.what = form.querySelector('#records-what').value.trim();
      reaction.when = form.querySelector('#records-when').value;
      reaction.serious = form.querySelector('#records-serious').checked;
      reaction.immunization = form.querySelector('#records-which').value;
      if (!reaction.what) {
        state.reactionResult = { error: t('required') };
        render();
        return;
      }
      const when = reaction.when ? new Date(reaction.when) : new Date();
      state.busy = true;
      render();
      try {
        const answer = await send('reaction', '/followup/me/reaction', {
          immunization: reaction.immunization,
          date: when.toISOString(),
          what: reaction.what,
          serious: reaction.serious,
        });
        state.reactionResult = { serious: answer.serious };
        state.reaction = { immunization: '', what: '', serious: false, when: '' };
      } catch (error) {
        state.reactionResult = { error: problemText(error) };
      }
      state.busy = false;
      render();
    }

    function vaccinesSection () {
      const vaccinations = state.vaccinations || {};
      const record = vaccinations.record || [];
      const recommendation = vaccinations.recommendation;
      if (!record.length && !recommendation)
        return null;
      const section = el('section', { class: 'records-section', 'aria-labelledby': 'records-vaccines' },
        el('h3', { id: 'records-vaccines', text: t('vaccinesTitle') }),
        el('h4', { text: t('record') }));
      if (record.length === 0)
        section.append(el('p', { class: 'records-empty', text: t('noRecord') }));
      else {
        const table = el('ul', { class: 'records-list records-vaccine-record' });
        for (const dose of record)
          table.append(el('li', { class: 'records-item', 'data-immunization': dose.immunization },
            el('p', { class: 'records-name', text: dose.name }),
            el('p', { class: 'records-meta', text: formatDate(dose.date) +
              (dose.lotNumber ? ' · ' + t('lot') + ' ' + dose.lotNumber : '') })));
        section.append(table);
      }
      const due = (recommendation && recommendation.recommendation || []).filter((entry) => {
        const code = entry.forecastStatus && entry.forecastStatus.coding && entry.forecastStatus.coding[0].code;
        return code === 'due' || code === 'overdue';
      });
      if (recommendation) {
        section.append(el('h4', { text: t('dueVaccines') }));
        if (!due.length)
          section.append(el('p', { class: 'records-empty', text: t('noDueVaccines') }));
        else {
          const list = el('ul', { class: 'records-list' });
          for (const entry of due) {
            const overdue = entry.forecastStatus.coding[0].code === 'overdue';
            const date = (entry.dateCriterion || [])[0];
            list.append(el('li', { class: 'records-item timing-' + (overdue ? 'overdue' : 'due') },
              el('p', { class: 'records-badge', text: overdue ? t('overdue') : t('due') }),
              el('p', { class: 'records-name', text: vaccineName(entry) }),
              date ? el('p', { class: 'records-meta', text: t('dueOn', { date: formatDay(String(date.value).slice(0, 10)) }) }) : null));
          }
          section.append(list);
        }
      }
      if (due.length) {
        section.append(el('h4', { text: t('screeningTitle') }));
        if (state.screeningResult && !state.screeningResult.error)
          section.append(el('p', { class: state.screeningResult.concern ? 'records-warning' : 'records-ok', role: 'status',
            text: state.screeningResult.concern ? t('screeningConcern') : t('screeningSent') }));
        else if (state.screening)
          section.append(screeningForm(due));
        else
          section.append(el('button', { type: 'button', class: 'button records-button', disabled: state.busy,
            text: t('startScreening'), onclick: openScreening }));
        if (state.screeningResult && state.screeningResult.error)
          section.append(el('p', { class: 'records-error', role: 'alert', text: t('sendFailed') }));
      }
      if (record.length) {
        section.append(el('h4', { text: t('reactionTitle') }));
        const select = el('select', { id: 'records-which', class: 'records-input' });
        for (const dose of [...record].reverse())
          select.append(el('option', { value: dose.immunization, text: dose.name + ' · ' + formatDate(dose.date) }));
        const form = el('form', { class: 'records-form', id: 'records-reaction', onsubmit: (event) => {
          event.preventDefault();
          submitReaction(event.target);
        } },
        el('label', { class: 'records-field', for: 'records-which' }, el('span', { text: t('whichVaccination') }), select),
        el('label', { class: 'records-field', for: 'records-what' }, el('span', { text: t('whatHappened') }),
          el('textarea', { id: 'records-what', class: 'records-input', rows: '2', maxlength: '1000' })),
        el('label', { class: 'records-field', for: 'records-when' }, el('span', { text: t('whenStarted') }),
          el('input', { id: 'records-when', class: 'records-input', type: 'datetime-local' })),
        el('label', { class: 'records-option records-serious' }, el('input', { id: 'records-serious', type: 'checkbox' }), el('span', { text: t('serious') })),
        el('button', { type: 'submit', class: 'button records-button', disabled: state.busy, text: t('reportReaction') }));
        section.append(form);
        if (state.reactionResult)
          section.append(el('p', { class: state.reactionResult.error ? 'records-error' : state.reactionResult.serious ? 'records-warning' : 'records-ok',
            role: state.reactionResult.error || state.reactionResult.serious ? 'alert' : 'status',
            text: state.reactionResult.error || (state.reactionResult.serious ? t('reactionSerious') : t('reactionSent')) }));
      }
      return section;
    }

    /* ---- Whole panel ---- */

    function render () {
      /* Keep what the patient is typing across re-renders of the reading form. */
      const typed = {};
      for (const input of container.querySelectorAll('#records-reading input[type=number], #records-reaction textarea, #records-reaction input, #records-reaction select'))
        typed[input.id] = input.type === 'checkbox' ? input.checked : input.value;
      container.replaceChildren(el('h2', { class: 'records-title', text: t('title') }));
      if (state.problem) {
        container.append(el('p', { class: 'records-error', role: 'alert', text: t('loadFailed') }),
          el('button', { type: 'button', class: 'button records-button', text: t('tryAgain'), onclick: load }));
        return;
      }
      if (!state.reminders) {
        container.append(el('p', { class: 'records-empty', text: t('loading') }));
        return;
      }
      container.append(remindersSection(), reportSection(), medicinesSection());
      const vaccines = vaccinesSection();
      if (vaccines)
        container.append(vaccines);
      for (const [id, value] of Object.entries(typed)) {
        const input = container.querySelector('#' + id);
        if (!input)
          continue;
        if (input.type === 'checkbox')
          input.checked = value;
        else
          input.value = value;
      }
    }

    ctx.onLang(() => load());
    /* Opened without a connection: load as soon as it is back, without asking the patient. */
    window.addEventListener('online', () => {
      if (state.problem)
        load();
    });
    render();
    load();
  }

  (window.wzVisitModules ||= []).push({ id: 'records', order: 30, mount });
})();
