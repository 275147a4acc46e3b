// The patient page (trend chart, alerts that explain themselves, draws with their tumour
// fraction, corrections of a draw, history) and its printable report (#/report/ID: the same
// parts laid out for paper; style.css's print rules; the browser prints it to PDF).
import { api, role } from './app.js';

// What the signed-in role may do here (the server decides; these only spare a useless button):
// clinicians acknowledge alerts, clinicians and admins correct draws (role '' = not known).
const mayAcknowledge = () => ['clinician', ''].includes(role());
const mayCorrect = () => ['clinician', 'admin', ''].includes(role());
import { h, loadPage, empty, fact, back, fmt, badge, subtype, table, messageLine } from './dom.js';
import { trendChart, highlightDraws, thresholdText, isNoCall, noCallText } from './charts.js';
import { explainAlert, seriesTumourFraction, noCallWords, RULE_LABEL, TF_DETECTION_LIMIT } from './words.js';
import { correctionPanel, historySection } from './corrections.js';

const KIND_LABEL = {
  early_relapse: 'Early relapse',
  emerging_chemoresistance: 'Emerging chemoresistance',
  responding: 'Responding',
};

// ---------------------------------------------------------------- shared parts

function patientFacts(t) {
  const p = t.patient;
  return h('dl', { class: 'facts' },
    fact('Subtype', subtype(p)),
    fact('Diagnosis', fmt.date(p.diagnosis_date)),
    fact('Primary tumour 1q21.3', p.primary_1q213_status.replaceAll('_', ' ') +
      (p.primary_1q213_cn ? ` (copy number ${fmt.num(p.primary_1q213_cn, 1)})` : '')),
    fact('Monitoring state', badge(t.state)),
    fact('Lead time', t.lead_time_days === null || t.lead_time_days === undefined ? '—'
      : `${t.lead_time_days} days before clinical relapse`));
}

function chartFigure(t, id) {
  const done = t.series.filter((s) => s.ratio !== null && s.ratio !== undefined);
  const fig = h('figure', { class: 'card chart', id,
    dataset: { points: String(done.length), alerts: String(t.alerts.length) } });
  const canvas = h('canvas', { role: 'img',
    'aria-label': `1q21.3 copy ratio over time: ${done.length} results, ${t.alerts.length} alerts. ` +
      'The same values are in the table of draws below.' });
  fig.append(h('div', { class: 'chart-wrap' }, canvas),
    h('figcaption', {}, '1q21.3 copy ratio (1.00 = diploid) with 95 % intervals. ',
      'Dashed lines: detection thresholds in force now; each point was called at the thresholds ',
      'of its own result (tooltip, and "Called at" in the table). Shaded bands: treatments. ',
      'Triangles: alerts; black rings: the draws behind the selected alert. Hollow grey circles: ',
      'no call (sample quality too low) or retracted: not a negative, skipped by the monitoring ',
      'rules. Vertical lines: clinical events. ',
      h('a', { href: '#draws-h', class: 'no-print' }, 'Table of the same values')));
  return { fig, canvas };
}

// A draw's call; a no-call says so with its reason (never "not detected").
function callCell(s) {
  if (isNoCall(s)) {
    if (s.retracted) return h('span', { class: 'call call-no-call' }, noCallText(s));
    const w = noCallWords(s.no_call_reason || s.quality?.code || s.call, s.quality?.reason || '');
    return h('span', { class: 'call call-no-call' }, h('strong', {}, 'No call: '), w.plain,
      w.technical ? h('span', { class: 'why' }, ` (${w.technical})`) : null);
  }
  if (!s.call) return '—';
  const zp = Number.isFinite(s.z_personal) ? ` · personal z ${fmt.num(s.z_personal, 1)}` : '';
  return h('span', {}, h('span', { class: `call call-${s.call}` }, s.call.replace('_', ' ')), zp);
}

function tfCell(s, patient) {
  if (isNoCall(s)) return '—';
  const v = seriesTumourFraction(s, patient);
  return h('span', {}, v.value, v.method ? h('span', { class: 'method' }, ` ${v.method}`) : null);
}

// The table of draws: the chart's values, readable without the chart (and on paper).
function drawsTable(t, opts = {}) {
  const titles = ['Accession', 'Collected', 'Assay', 'Status', '1q21.3 ratio (95 % CI)', 'z', 'Call',
    'Called at', 'Tumour fraction'];
  if (opts.actions) titles.push('Correct');
  const rows = t.series.map((s) => h('tr', { dataset: { sampleId: String(s.sample_id) },
    class: s.retracted ? 'retracted' : isNoCall(s) ? 'no-call' : null },
  h('td', { class: 'nowrap' }, s.status === 'done' && !opts.plain
    ? h('a', { href: `#/sample/${encodeURIComponent(s.accession)}` }, s.accession) : s.accession),
  h('td', { class: 'nowrap' }, fmt.date(s.date)),
  h('td', {}, s.assay),
  h('td', {}, h('span', { class: `status status-${s.status}` }, s.status)),
  h('td', { class: 'num' }, s.ratio === null || s.ratio === undefined ? '—'
    : `${fmt.num(s.ratio, 3)} (${fmt.num(s.ratio_low, 3)}–${fmt.num(s.ratio_high, 3)})`),
  h('td', { class: 'num' }, fmt.num(s.z, 1)),
  h('td', { class: 'call-cell' }, callCell(s)),
  h('td', { class: 'thresholds' }, thresholdText(s.thresholds, s.assay) || '—'),
  h('td', { class: 'num tf' }, tfCell(s, t.patient)),
  opts.actions ? h('td', {}, opts.actions(s)) : null));
  return t.series.length ? h('table', { class: 'grid', id: opts.id || 'samples-table' },
    h('caption', {}, 'Every draw, oldest first. Tumour fractions under the detection limit read ',
      `"< ${TF_DETECTION_LIMIT * 100} %"; "tumour-informed" is read from the 1q21.3 gain and the `,
      'primary tumour\'s copy number, "genome-wide" from the whole genome\'s segments.'),
    h('thead', {}, h('tr', {}, titles.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows)) : empty('No draw yet.');
}

// The alert's card: the kind, the one-sentence explanation, the rule, acknowledgement.
function alertCard(a, opts) {
  const acked = !!a.acknowledged_at;
  const { text, sampleIds } = explainAlert(a);
  const roles = new Map();
  for (const r of a.evidence?.rules || []) for (const d of r.draws || []) roles.set(d.sample_id, d.role);
  const card = h('article', { class: `card alert kind-${a.kind} ${acked ? 'acked' : 'open'}`,
    dataset: { alertId: String(a.id), samples: sampleIds.join(',') } },
  h('h3', {}, badge(a.kind, KIND_LABEL[a.kind]), ` fired on ${fmt.day(a.fired_on)}`,
    a.closed_by ? h('span', { class: 'ack-note' }, ` — closed ${fmt.day(a.closed_on)}`) : ''),
  h('p', { class: 'explain' }, text),
  h('p', { class: 'rule' }, h('strong', {}, 'Rule: '),
    (a.evidence?.rules || [{ rule: a.rule }]).map((r) => RULE_LABEL[r.rule] || r.rule).join('; ')),
  acked ? h('p', { class: 'ack-done' }, h('strong', {}, 'Acknowledged '),
    `by ${a.acknowledged_by} at ${fmt.time(a.acknowledged_at)}`,
    a.comment ? [h('br'), h('strong', {}, 'Comment: '), a.comment] : null)
    : h('p', { class: 'ack-done' }, h('strong', {}, 'Not acknowledged yet.')));
  if (opts.chart) {
    card.append(h('button', { type: 'button', class: 'show-draws no-print', 'aria-pressed': 'false',
      onclick: (ev) => {
        for (const b of document.querySelectorAll('.show-draws')) b.setAttribute('aria-pressed', 'false');
        ev.currentTarget.setAttribute('aria-pressed', 'true');
        const n = highlightDraws(opts.chart(), sampleIds, roles);
        opts.announce(`${n} draw${n === 1 ? '' : 's'} of this alert ringed on the chart.`);
      } }, 'Show its draws on the chart'));
  }
  if (opts.details) {
    card.append(h('details', { class: 'no-print' }, h('summary', {}, 'Evidence (raw)'),
      h('pre', {}, JSON.stringify(a.evidence || {}, null, 2))));
  }
  if (!acked && opts.refresh && mayAcknowledge()) card.append(ackForm(a, opts.refresh));
  return card;
}

function ackForm(a, refresh) {
  const comment = h('textarea', { id: `ack-comment-${a.id}`, rows: 2, required: true,
    placeholder: 'What was decided (e.g. imaging ordered)' });
  const msg = messageLine();
  return h('form', { class: 'ack no-print', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api(`/alerts/${a.id}/acknowledge`, { method: 'POST', json: { comment: comment.value.trim() } });
      refresh();
    } catch (err) {
      msg.set(err.status === 403 ? 'Only clinicians can acknowledge alerts.' : err.message);
    }
  } },
  h('label', { for: `ack-comment-${a.id}` }, 'Comment'), comment,
  h('button', { type: 'submit', class: 'primary' }, 'Acknowledge'), msg);
}

// ---------------------------------------------------------------- the patient page

export async function renderPatient(id) {
  const page = await loadPage('the patient', () => api(`/patients/${encodeURIComponent(id)}/trend`),
    () => renderPatient(id));
  if (!page) return;
  const { put, data: t } = page;
  const p = t.patient;
  const refresh = () => renderPatient(id);
  const head = h('div', { class: 'page-head' },
    back('#/cohort', 'Cohort'),
    h('h1', {}, `Patient ${p.external_id} `, badge(t.state)),
    patientFacts(t),
    h('p', { class: 'no-print' }, h('a', { href: `#/report/${p.id}`, class: 'button', id: 'report-link' }, 'Printable report')));
  const { fig, canvas } = chartFigure(t, 'trend');
  const live = h('p', { class: 'sr-only', role: 'status', id: 'chart-status' });
  let chart = null;
  const alertOpts = { chart: () => chart, announce: (m) => { live.textContent = m; }, refresh, details: true };
  const alerts = h('section', { 'aria-labelledby': 'alerts-h' }, h('h2', { id: 'alerts-h' }, 'Alerts'),
    t.alerts.length ? t.alerts.map((a) => alertCard(a, alertOpts)) : empty('No alert for this patient.'));
  const actions = (s) => correctionPanel(s, t, refresh);
  const draws = h('section', { 'aria-labelledby': 'draws-h' }, h('h2', { id: 'draws-h' }, 'Draws'),
    drawsTable(t, { actions: mayCorrect() ? actions : null }));
  const history = historySection(p.id, t.series.map((s) => s.sample_id), new Map(t.series.map((s) => [s.sample_id, s.accession])));
  if (!put(head, fig, live, alerts, draws, history)) return;
  chart = trendChart(canvas, t);
  // The newest open alert's draws are ringed from the start.
  const first = [...t.alerts].reverse().find((a) => !a.acknowledged_at) || t.alerts.at(-1);
  if (first) document.querySelector(`article[data-alert-id="${first.id}"] .show-draws`)?.click();
  live.textContent = '';
}

// ---------------------------------------------------------------- the printable report

const METHOD_TEXT = [
  'Cell-free DNA from plasma is sequenced at shallow depth (or its read counts per 500 kb bin are ',
  'uploaded). Each draw\'s bin counts are normalised against the active panel of normals; the ',
  '1q21.3 score is the mean log2 copy ratio of the region\'s bins and its z-score against the ',
  'panel. A draw is positive at z ≥ the threshold below (ddPCR: when the lower 95 % bound of the ',
  'copy number exceeds its threshold). A draw whose residual noise is too high to see a 10 % ',
  'tumour fraction is a no-call, never a negative. The monitoring rules compare each draw with ',
  'the patient\'s earlier ones (consecutive positives, rises over her baseline or the ',
  'on-treatment nadir beyond the reference change value) and raise the alerts listed here. ',
  'Tumour fractions: tumour-informed from the 1q21.3 gain when the primary tumour\'s copy number ',
  'is known, else the genome-wide fit of the copy-number segments.'].join('');

const THRESHOLD_WORDS = {
  z_amplified: 'sWGS positive at z ≥',
  z_strong: 'sWGS strong positive at z ≥',
  ddpcr_cn_lower: 'ddPCR positive when the copy number\'s lower 95 % bound >',
  ddpcr_cn_strong: 'ddPCR strong positive when the lower bound >',
  swgs_ratio_amplified: 'copy ratio at which the latest sWGS draw reaches the threshold',
  cv_within_person: 'within-person variation (CV) used in the reference change value',
  rcv_z: 'reference change value z (one-sided)',
};

export async function renderReport(id) {
  const page = await loadPage('the report', async () => {
    const trend = await api(`/patients/${encodeURIComponent(id)}/trend`);
    const last = [...trend.series].reverse().find((s) => s.status === 'done');
    const profile = last
      ? await api(`/samples/${encodeURIComponent(last.accession)}/profile`).catch(() => null) : null;
    return { trend, profile };
  }, () => renderReport(id));
  if (!page) return;
  const { put, data: { trend: t, profile: latest } } = page;
  const p = t.patient;
  const v = window.relapsewatchVersion || {};
  const now = new Date().toISOString().replace('T', ' ').slice(0, 16);
  const { fig, canvas } = chartFigure(t, 'report-trend');
  const versions = table('report-versions', ['Component', 'Version'], [
    ['relapsewatch', v.package || '—'], ['Analysis core', v.core || latest?.versions?.core || '—'],
    ['Database schema', v.schema ?? '—'],
    ['Panel of normals (latest draw)', latest?.versions?.pon || '—'],
    ['Latest result computed', fmt.time(latest?.computed_at)]]);
  const th = Object.entries(t.thresholds || {}).filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => [THRESHOLD_WORDS[k] || k.replaceAll('_', ' '), typeof x === 'number' ? fmt.num(x, k === 'swgs_ratio_amplified' ? 3 : 2) : String(x)]);
  if (!put(h('div', { class: 'report', id: 'report' },
    h('p', { class: 'no-print report-tools' }, h('a', { href: `#/patient/${p.id}` }, '← Patient'), ' ',
      h('button', { type: 'button', class: 'primary', id: 'print', onclick: () => window.print() }, 'Print or save as PDF')),
    h('h1', {}, `1q21.3 cfDNA monitoring report — patient ${p.external_id}`),
    h('p', { class: 'report-meta' }, `Generated ${now} UTC`),
    h('p', { class: 'research' }, h('strong', {}, 'Research use only. '),
      'This report is not a diagnosis: every alert must be confirmed clinically (imaging, ',
      'examination) before any decision.'),
    patientFacts(t),
    h('h2', {}, 'Series'), fig,
    h('h2', { id: 'draws-h' }, 'Draws'), drawsTable(t, { id: 'report-draws', plain: true }),
    h('h2', {}, 'Alerts'),
    t.alerts.length ? t.alerts.map((a) => alertCard(a, {})) : empty('No alert for this patient.'),
    h('h2', {}, 'Method'), h('p', { class: 'method-text' }, METHOD_TEXT),
    h('h2', {}, 'Thresholds in force'), table('report-thresholds', ['Setting', 'Value'], th, { num: [1] }),
    h('h2', {}, 'Versions'), versions))) return;
  canvas.width = 1000;
  canvas.height = 380;
  const chart = trendChart(canvas, t, { fixed: true });
  // On paper a picture of the chart: a canvas does not reflow with the page.
  const img = h('img', { src: chart.toBase64Image(), alt: canvas.getAttribute('aria-label'), class: 'chart-img' });
  canvas.parentElement.replaceWith(img);
  chart.destroy();
  document.getElementById('report').dataset.ready = '1';
}
