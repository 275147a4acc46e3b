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
const CSRF_KEY = 'relapsewatch.csrf';

// Two ways in: an API token pasted in the form below (kept for this tab only), or a session
// cookie set by signing in with a user name and password (login.html, POST /api/v1/session),
// whose CSRF token every write sends back in X-CSRF-Token.
function token() { return sessionStorage.getItem(TOKEN_KEY); }
function csrf() { return sessionStorage.getItem(CSRF_KEY); }
function signedIn() { return !!token() || csrf() !== null; }
function forget() { for (const k of [TOKEN_KEY, ROLE_KEY, CSRF_KEY]) sessionStorage.removeItem(k); }
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
  else if (csrf() && !['GET', 'HEAD'].includes((options.method || 'GET').toUpperCase())) headers['X-CSRF-Token'] = csrf();
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(options.json);
  }
  const res = await fetch(`/api/v1${path}`, { credentials: 'same-origin', ...options, headers });
  if (res.status === 401 && !options.noRedirect) {
    forget();
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
  document.getElementById('signout').hidden = !signedIn();
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
      forget();
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
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  h('p', { id: 'password-signin', class: 'hint', hidden: true }, 'People with an account: ',
    h('a', { href: 'login.html' }, 'sign in with your user name and password'), '.'));
  show(form);
  input.focus();
  // The user-name page is offered when this daemon serves it.
  fetch('login.html', { method: 'HEAD' }).then((r) => {
    if (r.ok) document.getElementById('password-signin').hidden = false;
  }).catch(() => {});
}

// A session cookie from login.html: learn its role and CSRF token once per tab.
async function resumeSession() {
  if (signedIn()) return;
  try {
    const s = await api('/session', { noRedirect: true });
    if (s.auth === 'session') {
      sessionStorage.setItem(CSRF_KEY, s.csrf_token || '');
      sessionStorage.setItem(ROLE_KEY, s.role || '');
    }
  } catch { /* not signed in: the sign-in page follows */ }
}

// ---------------------------------------------------------------- router

function route() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!signedIn() || parts[0] === 'signin') return renderSignIn(params.get('msg'));
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

document.getElementById('signout').addEventListener('click', async () => {
  if (!token() && csrf() !== null) await api('/session', { method: 'DELETE', noRedirect: true }).catch(() => {});
  forget();
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
// In-page links (#main, #draws-h) move focus to their target: the hash is the router's, so
// they must not change it.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest?.('a[href^="#"]:not([href^="#/"])');
  const target = a && document.getElementById(a.getAttribute('href').slice(1));
  if (!target) return;
  ev.preventDefault();
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
  target.scrollIntoView({ block: 'start' });
});
fetch('/api/v1/version').then((r) => r.json()).then((v) => {
  document.getElementById('version').textContent = `relapsewatch ${v.package} · core ${v.core}`;
  window.relapsewatchVersion = v;
}).catch(() => {});
resumeSession().then(route);
