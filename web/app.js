// relapsewatch clinicians' pages: a small hash-routed app over the documented /api/v1.
// Pages: sign-in, cohort, patient (trend + alerts + samples), sample (genome plot), jobs.
import { trendChart, genomeChart, thresholdText, isNoCall, noCallText } from './charts.js';

const main = document.getElementById('main');
const TOKEN_KEY = 'relapsewatch.token';

const STATE_LABEL = {
  early_relapse: 'Early relapse',
  emerging_chemoresistance: 'Emerging chemoresistance',
  responding: 'Responding',
  stable: 'Stable',
  not_detected: 'Not detected',
};
const STATE_ORDER = ['early_relapse', 'emerging_chemoresistance', 'responding', 'stable',
  'not_detected'];

// ---------------------------------------------------------------- helpers

function token() { return sessionStorage.getItem(TOKEN_KEY); }

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(options.json);
  }
  const res = await fetch(`/api/v1${path}`, { ...options, headers });
  let body = null;
  try { body = await res.json(); } catch { /* empty or non-JSON body */ }
  if (res.status === 401 && !options.noRedirect) {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '#/signin';
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

// Builds an element: h('a', {href: '#'}, 'text', child...). Strings are text, never HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus({ preventScroll: true });
}
function loading(what) { show(h('p', { class: 'state-msg', role: 'status' }, `Loading ${what}…`)); }
function errorBox(err, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, 'Could not load this page. '),
    err.message || String(err),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}
function empty(text) { return h('p', { class: 'empty' }, text); }

const fmt = {
  num: (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(d)),
  pct: (v, d = 1) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(d)} %`),
  date: (v) => (v ? String(v).slice(0, 10) : '—'),
  time: (v) => (v ? String(v).replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '—'),
  days: (v) => (v === null || v === undefined ? '—' : `${v} days`),
};

function badge(state) {
  return h('span', { class: `badge state-${state || 'unknown'}` }, STATE_LABEL[state] || state || 'unknown');
}

function subtype(p) {
  const s = (v) => (v === 'positive' ? '+' : v === 'negative' ? '−' : '?');
  return `ER${s(p.er_status)} PR${s(p.pr_status)} HER2${s(p.her2_status)}`;
}

function setNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('signout').hidden = !token();
}

// ---------------------------------------------------------------- sign-in

function renderSignIn(message) {
  setNav('');
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true,
    placeholder: 'rw_…', 'aria-describedby': 'token-help' });
  const msg = h('p', { class: 'error', role: 'alert', hidden: !message }, message || '');
  const form = h('form', { class: 'card signin', onsubmit: async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await api('/patients?limit=1', { noRedirect: true });
      location.hash = '#/cohort';
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      msg.hidden = false;
      msg.textContent = err.status === 401 ? 'This token is not valid.' : err.message;
    }
  } },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { id: 'token-help', class: 'hint' },
    'Paste the token an administrator gave you (clinician or admin role). It is kept only for this browser tab.'),
  msg,
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  show(form);
  input.focus();
}

// ---------------------------------------------------------------- cohort

async function renderCohort(params) {
  setNav('cohort');
  loading('the cohort');
  const state = params.get('state') || '';
  const sort = params.get('sort') || 'alerts';
  const q = params.get('q') || '';
  let patients, summary;
  try {
    const qs = new URLSearchParams({ sort, limit: '500' });
    if (state) qs.set('state', state);
    if (q) qs.set('q', q);
    [{ patients }, summary] = await Promise.all([api(`/patients?${qs}`), api('/cohort/summary')]);
  } catch (err) {
    show(errorBox(err, () => renderCohort(params)));
    return;
  }
  const go = (changes) => {
    const next = new URLSearchParams({ state, sort, q, ...changes });
    for (const [k, v] of [...next]) if (!v) next.delete(k);
    location.hash = `#/cohort?${next}`;
  };
  const search = h('input', { type: 'search', id: 'q', value: q, placeholder: 'External id',
    'aria-label': 'Search by external id' });
  const filters = h('form', { class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    go({ q: search.value.trim() });
  } },
  h('label', { for: 'state' }, 'State'),
  h('select', { id: 'state', onchange: (ev) => go({ state: ev.target.value }) },
    h('option', { value: '' }, 'All states'),
    STATE_ORDER.map((s) => h('option', { value: s, selected: s === state }, STATE_LABEL[s]))),
  h('label', { for: 'sort' }, 'Sort'),
  h('select', { id: 'sort', onchange: (ev) => go({ sort: ev.target.value }) },
    [['alerts', 'Open alerts first'], ['external_id', 'External id'], ['last_sample', 'Last sample']]
      .map(([v, t]) => h('option', { value: v, selected: v === sort }, t))),
  search,
  h('button', { type: 'submit' }, 'Search'));

  const open = summary.open_alerts || {};
  const tiles = h('section', { class: 'tiles', 'aria-label': 'Cohort summary' },
    tile('Patients monitored', summary.patients_monitored),
    tile('Samples', summary.samples),
    tile('Open early-relapse alerts', open.early_relapse || 0, 'warn'),
    tile('Open chemoresistance alerts', open.emerging_chemoresistance || 0, 'warn'),
    tile('Median lead time', summary.median_lead_time_days === null ||
      summary.median_lead_time_days === undefined ? '—' : `${summary.median_lead_time_days} days`));

  const rows = patients.map((p) => h('tr', { class: p.open_alerts ? 'has-alert' : null },
    h('td', {}, h('a', { href: `#/patient/${p.id}` }, p.external_id)),
    h('td', {}, badge(p.state)),
    h('td', { class: 'num' }, p.open_alerts ? h('strong', { class: 'alert-count' }, p.open_alerts) : '0'),
    h('td', {}, fmt.date(p.last_sample_date)),
    h('td', { class: 'num' }, p.n_samples ?? '—'),
    h('td', {}, subtype(p)),
    h('td', {}, p.primary_1q213_status === 'amplified' ? 'amplified' :
      p.primary_1q213_status === 'not_amplified' ? 'not amplified' : 'unknown')));
  const table = patients.length
    ? h('table', { class: 'grid', id: 'cohort-table' },
      h('caption', {}, `${patients.length} patient${patients.length === 1 ? '' : 's'}`),
      h('thead', {}, h('tr', {}, ['External id', 'State', 'Open alerts', 'Last sample',
        'Samples', 'Subtype', 'Primary 1q21.3'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))
    : empty(state || q ? 'No patient matches these filters.' : 'No patient yet: the LIMS has not pushed any.');
  show(h('h1', {}, 'Cohort'), tiles, filters, table);
}

function tile(label, value, kind) {
  return h('div', { class: `tile ${kind && value ? kind : ''}` },
    h('span', { class: 'tile-value' }, value ?? '—'), h('span', { class: 'tile-label' }, label));
}

// ---------------------------------------------------------------- patient

async function renderPatient(id) {
  setNav('cohort');
  loading('the patient');
  let t;
  try {
    t = await api(`/patients/${encodeURIComponent(id)}/trend`);
  } catch (err) {
    show(h('p', {}, h('a', { href: '#/cohort' }, '← Cohort')), errorBox(err, () => renderPatient(id)));
    return;
  }
  const p = t.patient;
  const head = h('div', { class: 'page-head' },
    h('p', {}, h('a', { href: '#/cohort' }, '← Cohort')),
    h('h1', {}, `Patient ${p.external_id} `, badge(t.state)),
    h('dl', { class: 'facts' },
      fact('Subtype', subtype(p)),
      fact('Diagnosis', fmt.date(p.diagnosis_date)),
      fact('Primary tumour 1q21.3', p.primary_1q213_status +
        (p.primary_1q213_cn ? ` (CN ${fmt.num(p.primary_1q213_cn, 1)})` : '')),
      fact('Lead time', t.lead_time_days === null || t.lead_time_days === undefined ? '—'
        : `${t.lead_time_days} days before clinical relapse`)));

  const done = t.series.filter((s) => s.ratio !== null && s.ratio !== undefined);
  const chartBox = h('figure', { class: 'card chart', id: 'trend',
    dataset: { points: String(done.length), alerts: String(t.alerts.length) } });
  const canvas = h('canvas', { role: 'img',
    'aria-label': `1q21.3 copy ratio over time: ${done.length} results, ${t.alerts.length} alerts` });
  chartBox.append(h('div', { class: 'chart-wrap' }, canvas),
    h('figcaption', {}, '1q21.3 copy ratio (1.00 = diploid) with 95 % intervals. ',
      'Dashed lines: detection thresholds in force now; each point was called at the thresholds ',
      'of its own result (tooltip, and "Called at" below). Shaded bands: treatments. ',
      'Red triangles: alerts. Hollow grey circles: no call (sample quality too low; not a ',
      'negative, skipped by the monitoring rules). Vertical lines: clinical events.'));

  const alerts = h('section', { 'aria-labelledby': 'alerts-h' }, h('h2', { id: 'alerts-h' }, 'Alerts'),
    t.alerts.length ? t.alerts.map((a) => alertCard(a, () => renderPatient(id)))
      : empty('No alert for this patient.'));

  const samples = h('section', { 'aria-labelledby': 'samples-h' }, h('h2', { id: 'samples-h' }, 'Samples'),
    t.series.length ? h('table', { class: 'grid', id: 'samples-table' },
      h('thead', {}, h('tr', {}, ['Accession', 'Collected', 'Assay', 'Status', '1q21.3 ratio (95 % CI)',
        'z', 'Call', 'Called at', 'Tumour fraction'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, t.series.map((s) => h('tr', {},
        h('td', {}, s.status === 'done' ? h('a', { href: `#/sample/${encodeURIComponent(s.accession)}` }, s.accession) : s.accession),
        h('td', {}, fmt.date(s.date)),
        h('td', {}, s.assay),
        h('td', {}, h('span', { class: `status status-${s.status}` }, s.status)),
        h('td', { class: 'num' }, s.ratio === null || s.ratio === undefined ? '—'
          : `${fmt.num(s.ratio, 3)} (${fmt.num(s.ratio_low, 3)}–${fmt.num(s.ratio_high, 3)})`),
        h('td', { class: 'num' }, fmt.num(s.z, 1)),
        h('td', {}, callCell(s)),
        h('td', { class: 'thresholds' }, thresholdText(s.thresholds, s.assay) || '—'),
        // A no-call's fraction would read as a negative: none is shown.
        h('td', { class: 'num' }, isNoCall(s) ? '—' : fmt.pct(s.tumour_fraction)))))) : empty('No sample yet.'));

  show(head, chartBox, alerts, samples);
  trendChart(canvas, t);
}

function fact(k, v) { return h('div', {}, h('dt', {}, k), h('dd', {}, v)); }

// A draw's call; a no-call says so with its reason (never "not detected").
function callCell(s) {
  if (isNoCall(s)) return h('span', { class: 'call call-no-call' }, noCallText(s));
  if (!s.call) return '—';
  const zp = Number.isFinite(s.z_personal) ? ` · personal z ${fmt.num(s.z_personal, 1)}` : '';
  return h('span', {}, h('span', { class: `call call-${s.call}` }, s.call.replace('_', ' ')), zp);
}

function alertCard(a, refresh) {
  const acked = !!a.acknowledged_at;
  const ev = a.evidence || {};
  const comment = h('textarea', { id: `ack-comment-${a.id}`, rows: 2, required: true,
    placeholder: 'What was decided (e.g. imaging ordered)' });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = acked ? null : h('form', { class: 'ack', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api(`/alerts/${a.id}/acknowledge`, { method: 'POST', json: { comment: comment.value.trim() } });
      refresh();
    } catch (err) {
      msg.hidden = false;
      msg.textContent = err.status === 403 ? 'Only clinicians and administrators can acknowledge alerts.' : err.message;
    }
  } },
  h('label', { for: `ack-comment-${a.id}` }, 'Comment'), comment,
  h('button', { type: 'submit', class: 'primary' }, 'Acknowledge'), msg);
  return h('article', { class: `card alert kind-${a.kind} ${acked ? 'acked' : 'open'}`, dataset: { alertId: String(a.id) } },
    h('h3', {}, badge(a.kind), ` fired on ${fmt.date(a.fired_on)}`,
      acked ? h('span', { class: 'ack-note' }, ` — acknowledged by ${a.acknowledged_by} at ${fmt.time(a.acknowledged_at)}`) : ''),
    h('p', {}, h('strong', {}, 'Rule: '), (a.rule || '').replaceAll('_', ' ')),
    h('details', {}, h('summary', {}, 'Evidence'), h('pre', {}, JSON.stringify(ev, null, 2))),
    acked && a.comment ? h('p', { class: 'comment' }, h('strong', {}, 'Comment: '), a.comment) : null,
    form);
}

// ---------------------------------------------------------------- sample

async function renderSample(accession) {
  setNav('cohort');
  loading('the sample');
  let s;
  try {
    s = await api(`/samples/${encodeURIComponent(accession)}/profile`);
  } catch (err) {
    show(h('p', {}, h('a', { href: '#/cohort' }, '← Cohort')), errorBox(err, () => renderSample(accession)));
    return;
  }
  const back = h('p', {}, s.patient_id ? h('a', { href: `#/patient/${s.patient_id}` }, '← Patient')
    : h('a', { href: '#/cohort' }, '← Cohort'));
  const nb = s.bins?.log2?.length || 0;
  const plot = nb ? h('figure', { class: 'card chart genome', id: 'genome', dataset: { bins: String(nb),
    segments: String((s.segments || []).length) } },
  h('div', { class: 'chart-wrap tall' }, h('canvas', { role: 'img',
    'aria-label': `Genome-wide copy number: ${nb} bins, ${(s.segments || []).length} segments` })),
  h('figcaption', {}, 'log2 copy ratio per bin (points) and segments (lines); 1q21.3 shaded; masked bins omitted.'))
    : null;
  const regions = h('section', {}, h('h2', {}, 'Region scores'),
    (s.regions || []).length ? h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Region', 'Position', 'Mean log2', 'SE', 'z', 'Copy ratio', 'Call']
        .map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, s.regions.map((r) => h('tr', {},
        h('td', {}, r.name),
        h('td', {}, `${r.chrom}:${(r.start + 1).toLocaleString('en')}–${r.end.toLocaleString('en')}`),
        h('td', { class: 'num' }, fmt.num(r.mean_log2, 3)),
        h('td', { class: 'num' }, fmt.num(r.se, 3)),
        h('td', { class: 'num' }, fmt.num(r.z, 1)),
        h('td', { class: 'num' }, fmt.num(r.ratio, 3)),
        h('td', {}, r.call ? h('span', { class: `call call-${r.call}` }, r.call.replace('_', ' ')) : '—')))))
      : empty('No region score.'));
  const tf = s.tumour_fraction || {};
  const dd = s.ddpcr;
  const facts = h('dl', { class: 'facts' },
    fact('Build', s.build || '—'),
    fact('Bin size', s.bin_size ? `${(s.bin_size / 1000).toLocaleString('en')} kb` : '—'),
    fact('Tumour fraction', tf.estimate === undefined || tf.estimate === null ? '—'
      : `${fmt.pct(tf.estimate)} (${fmt.pct(tf.low)}–${fmt.pct(tf.high)})${tf.flag ? ` · ${tf.flag}` : ''}`),
    dd ? fact('ddPCR copy number', `${fmt.num(dd.cn)} (${fmt.num(dd.cn_low)}–${fmt.num(dd.cn_high)})`) : null,
    fact('Versions', `core ${s.versions?.core || '—'}, PoN ${s.versions?.pon || '—'}`));
  const qc = h('section', {}, h('h2', {}, 'Quality control'),
    h('table', { class: 'grid kv' }, h('tbody', {}, Object.entries(s.qc || {})
      .filter(([, v]) => typeof v !== 'object')
      .map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k.replaceAll('_', ' ')),
        h('td', { class: 'num' }, typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : fmt.num(v, 3)) : String(v)))))));
  show(back, h('h1', {}, `Sample ${s.accession}`), facts, plot, regions, qc);
  if (plot) genomeChart(plot.querySelector('canvas'), s);
}

// ---------------------------------------------------------------- jobs

async function renderJobs(params) {
  setNav('jobs');
  loading('the jobs');
  const state = params.get('state') || '';
  let jobs;
  try {
    ({ jobs } = await api(`/jobs?limit=200${state ? `&state=${state}` : ''}`));
  } catch (err) {
    show(h('h1', {}, 'Jobs'), errorBox(err, () => renderJobs(params)));
    return;
  }
  const filter = h('form', { class: 'filters' }, h('label', { for: 'jstate' }, 'State'),
    h('select', { id: 'jstate', onchange: (e) => { location.hash = `#/jobs${e.target.value ? `?state=${e.target.value}` : ''}`; } },
      ['', 'queued', 'running', 'done', 'failed'].map((v) => h('option', { value: v, selected: v === state }, v || 'All'))));
  const table = jobs.length ? h('table', { class: 'grid', id: 'jobs-table' },
    h('thead', {}, h('tr', {}, ['Job', 'Sample', 'Kind', 'State', 'Progress', 'Created', 'Finished', 'Error']
      .map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, jobs.map((j) => h('tr', { class: j.state === 'failed' ? 'has-alert' : null },
      h('td', { class: 'num' }, j.id),
      h('td', {}, j.accession || '—'),
      h('td', {}, j.kind),
      h('td', {}, h('span', { class: `status status-${j.state}` }, j.state)),
      h('td', {}, h('progress', { max: 100, value: j.progress ?? 0, 'aria-label': `Job ${j.id} progress` }), ` ${j.progress ?? 0} %`),
      h('td', {}, fmt.time(j.created_at)),
      h('td', {}, fmt.time(j.finished_at)),
      h('td', { class: 'err' }, j.error || '')))))
    : empty(state ? `No ${state} job.` : 'No job yet.');
  show(h('h1', {}, 'Jobs'), filter, table);
  // Refresh while work is in progress, but only while this page stays open.
  if (jobs.some((j) => j.state === 'queued' || j.state === 'running')) {
    const here = location.hash;
    setTimeout(() => { if (location.hash === here) renderJobs(params); }, 3000);
  }
}

// ---------------------------------------------------------------- router

function route() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  if (!token() || parts[0] === 'signin') return renderSignIn(params.get('msg'));
  switch (parts[0]) {
    case 'patient': return renderPatient(parts[1]);
    case 'sample': return renderSample(decodeURIComponent(parts[1] || ''));
    case 'jobs': return renderJobs(params);
    default: return renderCohort(params);
  }
}

document.getElementById('signout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
fetch('/api/v1/version').then((r) => r.json()).then((v) => {
  document.getElementById('version').textContent = `relapsewatch ${v.package} · core ${v.core}`;
}).catch(() => {});
route();
