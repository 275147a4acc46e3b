// relapsewatch sign-in with a user name and password (POST /api/v1/session). The daemon answers
// with an HttpOnly session cookie and the session's CSRF token; a first password set by an admin
// must be changed here (POST /api/v1/session/password) before anything else is allowed. Then
// the app (index.html) takes over: it reads the role and the CSRF token from GET
// /api/v1/session, and sends the token back in X-CSRF-Token on every write.
const CSRF_KEY = 'relapsewatch.csrf';
const ROLE_KEY = 'relapsewatch.role';
const TOKEN_KEY = 'relapsewatch.token';

const $ = (id) => document.getElementById(id);
let currentPassword = '';
let csrf = '';

// One JSON request; resolves to {status, body, retryAfter}.
async function post(path, json) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(`/api/v1${path}`, {
    method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(json),
  });
  let body = null;
  try { body = await res.json(); } catch { /* empty or non-JSON body */ }
  return { status: res.status, body, retryAfter: res.headers.get('Retry-After') };
}

function say(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

// Into the app, signed in with the cookie (a token pasted earlier in this tab would win).
function enter(role) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.setItem(CSRF_KEY, csrf);
  sessionStorage.setItem(ROLE_KEY, role || '');
  location.href = './#/cohort';
}

function signinMessage(r) {
  switch (r.status) {
    case 401: return 'Wrong user name or password.';
    case 403: return r.body?.error?.message || 'This account may not sign in.';
    case 423: return 'Too many failed sign-ins: this account is locked. Ask an administrator to reset your password.';
    case 429: return `Too many failed sign-ins: wait ${r.retryAfter || 'a few'} seconds and try again.`;
    default: return r.body?.error?.message || `The sign-in failed (HTTP ${r.status}).`;
  }
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('name').value.trim();
  const password = $('password').value;
  if (!name || !password) return say('signin-msg', 'Enter your user name and password.');
  $('signin-submit').disabled = true;
  say('signin-msg', '');
  try {
    const r = await post('/session', { name, password });
    if (r.status !== 201) return say('signin-msg', signinMessage(r));
    csrf = r.body.csrf_token || '';
    if (!r.body.must_change_password) return enter(r.body.role);
    currentPassword = password;
    $('signin-form').hidden = true;
    $('change-form').hidden = false;
    $('change-form').dataset.role = r.body.role || '';
    $('new-password').focus();
  } catch {
    say('signin-msg', 'The server does not answer.');
  } finally {
    $('signin-submit').disabled = false;
    $('password').value = '';
  }
});

$('change-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fresh = $('new-password').value;
  if (fresh.length < 12) return say('change-msg', 'At least 12 characters.');
  if (fresh !== $('new-password-2').value) return say('change-msg', 'The two passwords differ.');
  $('change-submit').disabled = true;
  try {
    const r = await post('/session/password', { current_password: currentPassword, new_password: fresh });
    if (r.status === 200) {
      currentPassword = '';
      return enter($('change-form').dataset.role);
    }
    if (r.status === 401) {
      $('change-form').hidden = true;
      $('signin-form').hidden = false;
      return say('signin-msg', 'Your session ended: sign in again.');
    }
    say('change-msg', r.body?.error?.message || `The change failed (HTTP ${r.status}).`);
  } catch {
    say('change-msg', 'The server does not answer.');
  } finally {
    $('change-submit').disabled = false;
  }
});

$('name').focus();
