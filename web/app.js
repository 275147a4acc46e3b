// relapsewatch pages: a small hash-routed app over the documented /api/v1 (no framework).
// This file: the request function, sign-in, navigation and the router. The pages live in
// cohort.js, patient.js (patient, printable report, corrections), sample.js and admin.js;
// shared DOM helpers in dom.js, clinician-facing words in words.js, charts in charts.js.
import { h, show } from './dom.js';
import { renderCohort } from './cohort.js';
import { renderPatient, renderReport } from './patient.js';
import { renderSample } from './sample.js';
import { renderAdmin, ADMIN_PAGES } from './admin.js';

const TOKEN_KEY = 'relapsewatch.token';
const ROLE_KEY = 'relapsewatch.role';

function token() { return sessionStorage.getItem(TOKEN_KEY); }
// The signed-in role as far as the pages know it ('admin' shows the admin menu; the server
// decides what each role may do: a hidden button is convenience, not security).
export function role() { return sessionStorage.getItem(ROLE_KEY) || ''; }

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.field = body?.error?.field;
  }
}

// The one request function of the pages: JSON in and out, the caller's credentials, 401 back
// to sign-in. options: fetch options plus json (a body to send as JSON), raw (return the
// Response, e.g. for CSV), noRedirect.
export async function api(path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(options.json);
  }
  const res = await fetch(`/api/v1${path}`, { ...options, headers });
  if (res.status === 401 && !options.noRedirect) {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = '#/signin';
  }
  if (options.raw && res.ok) return res;
  let body = null;
  try { body = await res.json(); } catch { /* empty or non-JSON body */ }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function setNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('signout').hidden = !token();
  for (const el of document.querySelectorAll('.admin-only')) el.hidden = role() !== 'admin';
}

// ---------------------------------------------------------------- sign-in

// Which role the caller holds (GET /session answers every role with it).
async function learnRole() {
  try {
    return (await api('/session', { noRedirect: true })).role || '';
  } catch {
    return '';
  }
}

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
      sessionStorage.setItem(ROLE_KEY, await learnRole());
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

// ---------------------------------------------------------------- router

function route() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!token() || parts[0] === 'signin') return renderSignIn(params.get('msg'));
  document.body.classList.toggle('report-view', parts[0] === 'report');
  switch (parts[0]) {
    case 'patient': setNav('cohort'); return renderPatient(parts[1]);
    case 'report': setNav('cohort'); return renderReport(parts[1]);
    case 'sample': setNav('cohort'); return renderSample(parts[1] || '');
    case 'jobs': setNav('jobs'); return renderAdmin('jobs', params);
    case 'admin':
      setNav(parts[1] === 'jobs' ? 'jobs' : 'admin');
      return renderAdmin(ADMIN_PAGES.includes(parts[1]) ? parts[1] : 'overview', params, parts.slice(2));
    default: setNav('cohort'); return renderCohort(params);
  }
}

document.getElementById('signout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ROLE_KEY);
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
fetch('/api/v1/version').then((r) => r.json()).then((v) => {
  document.getElementById('version').textContent = `relapsewatch ${v.package} · core ${v.core}`;
  window.relapsewatchVersion = v;
}).catch(() => {});
route();
