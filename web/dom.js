// DOM helpers shared by every page: element builder, page frame, formats and state badges.
// Strings are always text (never parsed as HTML), and no element gets a style attribute: the
// pages run under a Content-Security-Policy without 'unsafe-inline' (tests/e2e/web.mjs fails on any
// violation).

export const STATE_LABEL = {
  early_relapse: 'Early relapse',
  emerging_chemoresistance: 'Emerging chemoresistance',
  responding: 'Responding',
  stable: 'Stable',
  not_detected: 'Not detected',
};
export const STATE_ORDER = ['early_relapse', 'emerging_chemoresistance', 'responding', 'stable',
  'not_detected'];

// Builds an element: h('a', {href: '#'}, 'text', child...). Strings are text, never HTML.
// on* keys add listeners; class, dataset are set as such; false/null/undefined attributes are left out.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'style') throw new Error('no style attributes: the CSP refuses them');
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces the page's content and moves focus to it (screen readers announce the new page).
export function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
  main.focus({ preventScroll: true });
}
// Starts a page's render: shows "Loading…" and returns the render's own show(), which puts the
// page up only while the address is still the one it was started for (a slower, earlier render
// must not overwrite a newer page) and says whether it did.
export function loading(what) {
  const here = location.hash;
  show(h('p', { class: 'state-msg', role: 'status' }, `Loading ${what}…`));
  return (...nodes) => {
    if (location.hash !== here) return false;
    show(...nodes);
    return true;
  };
}
// Starts a page's render and waits for its data: { put, data }, or null once the error is shown
// under head (the page's way back) with a button that runs retry.
export async function loadPage(what, load, retry, head = back('#/cohort', 'Cohort')) {
  const put = loading(what);
  try {
    return { put, data: await load() };
  } catch (err) {
    put(head, errorBox(err, retry));
    return null;
  }
}
export function errorBox(err, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, 'Could not load this page. '),
    err.message || String(err),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);
}
export function empty(text) { return h('p', { class: 'empty' }, text); }
export function fact(k, v) { return h('div', {}, h('dt', {}, k), h('dd', {}, v)); }
export function back(href, text) { return h('p', { class: 'back no-print' }, h('a', { href }, `← ${text}`)); }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const nil = (v) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
export const fmt = {
  num: (v, d = 2) => (nil(v) ? '—' : Number(v).toFixed(d)),
  pct: (v, d = 1) => (nil(v) ? '—' : `${(100 * v).toFixed(d)} %`),
  date: (v) => (v ? String(v).slice(0, 10) : '—'),
  // "26 Dec 2023": the form the alert sentences use.
  day: (v) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(v || ''));
    return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : '—';
  },
  time: (v) => (v ? String(v).replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '—'),
  int: (v) => (nil(v) ? '—' : Number(v).toLocaleString('en')),
};
export { nil };

export function badge(state, label) {
  return h('span', { class: `badge state-${state || 'unknown'}` }, label || STATE_LABEL[state] || state || 'unknown');
}

export function subtype(p) {
  const s = (v) => (v === 'positive' ? '+' : v === 'negative' ? '−' : '?');
  return `ER${s(p.er_status)} PR${s(p.pr_status)} HER2${s(p.her2_status)}`;
}

// A table from column titles and row arrays of cells; numeric columns named in opts.num.
export function table(id, titles, rows, opts = {}) {
  const num = new Set(opts.num || []);
  return h('table', { class: `grid ${opts.class || ''}`, id },
    opts.caption ? h('caption', {}, opts.caption) : null,
    h('thead', {}, h('tr', {}, titles.map((t, i) => h('th', { scope: 'col', class: num.has(i) ? 'num' : null }, t)))),
    h('tbody', {}, rows.map((r) => (r instanceof Node ? r
      : h('tr', {}, r.map((c, i) => h('td', { class: num.has(i) ? 'num' : null }, c)))))));
}

// A message line under a form: set(text, kind) shows it, set('') hides it.
export function messageLine() {
  const p = h('p', { class: 'msg', role: 'status', hidden: true });
  p.set = (text, kind = 'error') => {
    p.hidden = !text;
    p.textContent = text || '';
    p.className = `msg msg-${kind}`;
  };
  return p;
}
