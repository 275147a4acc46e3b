// Correcting a draw from the patient page (the "corrections" API, docs/api.md): fix its date,
// retract its result with a reason (or restore it), move it to the right patient (admin). Each
// change is reviewed in a confirmation step before it is sent, and shows in the history below
// (the audit trail: GET /admin/audit, for the roles that may read it).
import { api, role } from './app.js';
import { h, fmt, table, messageLine } from './dom.js';

// The panel under the table of draws where one draw's corrections are made.
function panel() {
  let p = document.getElementById('correct-panel');
  if (!p) {
    p = h('section', { id: 'correct-panel', class: 'card correct no-print', 'aria-labelledby': 'correct-h', hidden: true });
    document.getElementById('samples-table')?.after(p);
  }
  return p;
}

// A form whose submit first shows what will change and asks to confirm.
// describe() -> the sentence to confirm, or throws an Error whose message is shown;
// send() -> a promise of the change.
function confirmedForm(id, fields, submitText, describe, send, done) {
  const msg = messageLine();
  const confirmBox = h('div', { class: 'confirm', role: 'alertdialog', 'aria-labelledby': `${id}-q`, hidden: true });
  const form = h('form', { id, class: 'correct-form', onsubmit: async (ev) => {
    ev.preventDefault();
    msg.set('');
    let sentence;
    try { sentence = await describe(); } catch (err) { msg.set(err.message); return; }
    const yes = h('button', { type: 'button', class: 'primary', id: `${id}-confirm`, onclick: async () => {
      yes.disabled = true;
      try {
        await send();
        done();
      } catch (err) {
        confirmBox.hidden = true;
        msg.set(err.status === 403 ? 'Your role may not make this change.' : err.message);
      }
    } }, 'Confirm');
    confirmBox.replaceChildren(h('p', { id: `${id}-q` }, sentence), yes,
      h('button', { type: 'button', onclick: () => { confirmBox.hidden = true; form.querySelector('button[type=submit]').focus(); } }, 'Cancel'));
    confirmBox.hidden = false;
    yes.focus();
  } }, fields, h('button', { type: 'submit' }, submitText), confirmBox, msg);
  return form;
}

function openFor(s, t, refresh) {
  const p = panel();
  const acc = encodeURIComponent(s.accession);
  const forms = [];
  const date = h('input', { type: 'date', id: 'fix-date', value: fmt.date(s.date), required: true });
  if (role() === 'admin') {
    forms.push(h('h3', {}, 'Fix the collection date'), confirmedForm('fix-date-form',
      [h('label', { for: 'fix-date' }, 'Collected on'), date], 'Review the change',
      () => {
        if (date.value === fmt.date(s.date)) throw new Error('The date is unchanged.');
        return `Change the collection date of ${s.accession} from ${fmt.day(s.date)} to ${fmt.day(date.value)}? ` +
          'The patient\'s alerts are recomputed with the draws in their new order.';
      },
      () => api(`/samples/${acc}`, { method: 'PATCH', json: { collected_at: date.value } }), refresh));
  }
  const reason = h('textarea', { id: 'retract-reason', rows: 2, required: true, placeholder: 'e.g. sample swap confirmed by the lab' });
  if (s.retracted) {
    forms.push(h('h3', {}, 'Restore the result'), confirmedForm('unretract-form', [], 'Review the restore',
      () => `Restore the result of ${s.accession} (retracted: ${s.retraction_reason || 'no reason given'})? ` +
        'It takes part in the monitoring rules again.',
      () => api(`/samples/${acc}/retract`, { method: 'DELETE' }), refresh));
  } else {
    forms.push(h('h3', {}, 'Retract the result'), confirmedForm('retract-form',
      [h('label', { for: 'retract-reason' }, 'Reason'), reason], 'Review the retraction',
      () => {
        if (!reason.value.trim()) throw new Error('Give the reason for the retraction.');
        return `Retract the result of ${s.accession} (${fmt.day(s.date)})? It stays in the record, ` +
          'drawn hollow with your reason, and the monitoring rules skip it.';
      },
      () => api(`/samples/${acc}/retract`, { method: 'POST', json: { reason: reason.value.trim() } }), refresh));
  }
  if (role() === 'admin') {
    const target = h('input', { id: 'move-to', required: true, placeholder: 'External id of the right patient' });
    const why = h('textarea', { id: 'move-reason', rows: 2, required: true });
    let to = null;
    forms.push(h('h3', {}, 'Move the draw to another patient'), confirmedForm('move-form',
      [h('label', { for: 'move-to' }, 'Right patient (external id)'), target,
        h('label', { for: 'move-reason' }, 'Reason'), why], 'Review the move',
      async () => {
        if (!why.value.trim()) throw new Error('Give the reason for the move.');
        const { patients } = await api(`/patients?external_id=${encodeURIComponent(target.value.trim())}`);
        to = patients[0];
        if (!to) throw new Error(`No patient has the external id ${target.value.trim()}.`);
        if (to.id === t.patient.id) throw new Error('The draw is already this patient\'s.');
        return `Move ${s.accession} (${fmt.day(s.date)}) from patient ${t.patient.external_id} to ` +
          `patient ${to.external_id}? Both patients' alerts are recomputed.`;
      },
      () => api(`/samples/${acc}/move`, { method: 'POST', json: { patient_id: to.id, reason: why.value.trim() } }),
      () => { location.hash = `#/patient/${to.id}`; }));
  }
  p.replaceChildren(h('h2', { id: 'correct-h', tabindex: '-1' }, `Correct draw ${s.accession}`),
    ...forms, h('button', { type: 'button', class: 'link-dark', onclick: () => { p.hidden = true; } }, 'Close'));
  p.hidden = false;
  p.querySelector('#correct-h').focus();
}

// The table cell's button that opens the correction panel for draw s.
export function correctionPanel(s, t, refresh) {
  return h('button', { type: 'button', class: 'small', 'aria-label': `Correct draw ${s.accession}`,
    dataset: { correct: s.accession }, onclick: () => openFor(s, t, refresh) }, 'Correct…');
}

// ---------------------------------------------------------------- history

const ACTION_WORDS = {
  create: 'created', update: 'changed', delete: 'deleted', retract: 'retracted', unretract: 'restored',
  move: 'moved', acknowledge: 'acknowledged', fire: 'raised', replace_input: 'input replaced',
  result: 'result stored', upload: 'input uploaded',
};

function detailText(d) {
  if (!d || typeof d !== 'object') return '';
  const parts = [];
  if (d.before && d.after) {
    for (const k of Object.keys(d.after)) {
      if (['updated_at'].includes(k)) continue;
      parts.push(`${k.replaceAll('_', ' ')}: ${d.before[k] ?? '—'} → ${d.after[k] ?? '—'}`);
    }
  }
  if (d.reason) parts.push(`reason: ${d.reason}`);
  if (d.comment) parts.push(`comment: ${d.comment}`);
  return parts.join('; ');
}

// The patient's and her draws' audit rows, newest first (admin and viewer roles); for other
// roles the section says where the history is kept.
// accessions: sample id -> accession, to name the draws.
export function historySection(patientId, sampleIds, accessions = new Map()) {
  const body = h('div', {}, h('p', { class: 'state-msg' }, 'Loading the history…'));
  const sec = h('section', { 'aria-labelledby': 'history-h', id: 'history' }, h('h2', { id: 'history-h' }, 'History'), body);
  if (!['admin', 'viewer'].includes(role())) {
    body.replaceChildren(h('p', { class: 'hint' }, 'The change history (audit trail) is shown to administrators and auditors.'));
    return sec;
  }
  (async () => {
    try {
      const asks = [api(`/admin/audit?patient_id=${patientId}&limit=200`)]
        .concat(sampleIds.map((id) => api(`/admin/audit?entity_type=sample&entity_id=${id}&limit=200`)));
      const seen = new Map();
      for (const r of await Promise.all(asks)) for (const e of r.entries || []) seen.set(e.id, e);
      const rows = [...seen.values()].filter((e) => e.action !== 'read' && !String(e.action).startsWith('read'))
        .sort((a, b) => b.id - a.id)
        .map((e) => [fmt.time(e.at), e.actor,
          e.entity_type === 'sample' && accessions.has(e.entity_id) ? `draw ${accessions.get(e.entity_id)}` : `${e.entity_type} ${e.entity_id}`,
          ACTION_WORDS[e.action] || e.action, detailText(e.details)]);
      body.replaceChildren(rows.length ? table('history-table', ['When', 'Who', 'What', 'Change', 'Details'], rows)
        : h('p', { class: 'empty' }, 'No change recorded.'));
    } catch (err) {
      body.replaceChildren(h('p', { class: 'hint' }, err.status === 403 || err.status === 404
        ? 'The change history (audit trail) is shown to administrators and auditors.'
        : `The history could not be loaded: ${err.message}`));
    }
  })();
  return sec;
}
