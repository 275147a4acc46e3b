// The lab administrator's screens: users, tokens, panels of normals (upload, compare, activate
// with the re-runs it implies), settings in force, the job queue (failures, retry), the audit
// trail (filters, CSV), webhook subscriptions with their deliveries, and the deliveries of every
// channel (a failed one, or all of a channel, sent again after an outage). Each screen reads the
// API of its own resource; a screen whose API this daemon does not have says so.
import { api, role } from './app.js';
import { h, loading, errorBox, empty, fmt, table, messageLine } from './dom.js';

export const ADMIN_PAGES = ['overview', 'users', 'tokens', 'panels', 'settings', 'jobs', 'audit', 'webhooks', 'deliveries'];
const TITLES = {
  overview: 'Administration', users: 'Users', tokens: 'API tokens', panels: 'Panels of normals',
  settings: 'Settings in force', jobs: 'Jobs', audit: 'Audit trail', webhooks: 'Webhooks',
  deliveries: 'Deliveries',
};

function adminNav(current) {
  return h('nav', { class: 'subnav no-print', 'aria-label': 'Administration' },
    ADMIN_PAGES.map((p) => h('a', { href: `#/admin/${p}`, 'aria-current': p === current ? 'page' : null }, TITLES[p])));
}

// The page frame: title, sub-navigation, then the screen's content (or its error).
async function frame(page, build) {
  const put = loading(TITLES[page].toLowerCase());
  let content;
  try {
    content = await build();
  } catch (err) {
    content = err.status === 404 && err.code === 'not_found'
      ? empty('This daemon has no API for this screen.')
      : errorBox(err, () => frame(page, build));
  }
  // The jobs list is open to clinicians too; the other screens are the administrator's.
  put(h('h1', {}, TITLES[page]), role() === 'admin' ? adminNav(page) : null, content);
}

export function renderAdmin(page, params, rest = []) {
  const screens = { overview, users, tokens, panels, settings, jobs, audit, webhooks, deliveries };
  return frame(page, () => screens[page](params, rest));
}

const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

// ---------------------------------------------------------------- overview

async function overview() {
  const [jobsFailed, pons] = await Promise.all([
    api('/jobs?state=failed&limit=1000').catch(() => ({ jobs: [] })),
    api('/pons').catch(() => ({ pons: [] }))]);
  const active = pons.pons.find((p) => p.active);
  const items = [
    ['users', 'People who sign in, their roles, locked and disabled accounts.'],
    ['tokens', 'Machine tokens (LIMS, scripts): issue and revoke.'],
    ['panels', active ? `Active panel: ${active.name || active.pon_key} (${active.n_normals} normals).` : 'No active panel: uploads cannot be analysed.'],
    ['settings', 'The analysis thresholds and rule switches every new result is made with.'],
    ['jobs', jobsFailed.jobs.length ? `${jobsFailed.jobs.length} failed job(s) to look at.` : 'No failed job.'],
    ['audit', 'Who did what and when; filter and export as CSV.'],
    ['webhooks', 'Where alerts and results are sent, and each delivery.'],
    ['deliveries', 'Webhook and HL7 messages that failed, sent again after a receiver\'s outage.'],
  ];
  return h('ul', { class: 'admin-list' }, items.map(([p, text]) => h('li', {}, h('a', { href: `#/admin/${p}` }, TITLES[p]), ` — ${text}`)));
}

// ---------------------------------------------------------------- users

async function users() {
  const { users: list } = await api('/users');
  const msg = messageLine();
  const secret = h('div', { class: 'secret', hidden: true, role: 'status', id: 'user-secret' });
  const rows = list.map((u) => h('tr', { dataset: { user: u.name } },
    h('td', {}, u.name), h('td', {}, u.role),
    h('td', {}, [u.disabled ? 'disabled' : 'active', u.locked ? ', locked' : '', u.must_change_password ? ', must change password' : ''].join('')),
    h('td', {}, fmt.time(u.last_signin_at)),
    h('td', {},
      h('button', { type: 'button', class: 'small', onclick: async () => {
        try { await api(`/users/${u.id}`, { method: 'PATCH', json: { disabled: !u.disabled } }); rerender(); } catch (err) { msg.set(err.message); }
      } }, u.disabled ? `Enable ${u.name}` : `Disable ${u.name}`), ' ',
      h('button', { type: 'button', class: 'small', onclick: async () => {
        if (!window.confirm(`Reset the password of ${u.name}? Their sessions end now.`)) return;
        try {
          const r = await api(`/users/${u.id}/password`, { method: 'POST', json: {} });
          secret.hidden = false;
          secret.textContent = `New password for ${u.name} (shown once; they must change it): ${r.initial_password}`;
        } catch (err) { msg.set(err.message); }
      } }, `Reset password of ${u.name}`))));
  const name = h('input', { id: 'user-name', required: true, autocomplete: 'off' });
  const r = h('select', { id: 'user-role' }, ['clinician', 'viewer', 'admin'].map((x) => h('option', { value: x }, x)));
  const form = h('form', { class: 'inline-form', id: 'user-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const u = await api('/users', { method: 'POST', json: { name: name.value.trim(), role: r.value } });
      sessionStorage.setItem('relapsewatch.flash', `User ${u.name} created. First password (shown once; to be changed at the first sign-in): ${u.initial_password}`);
      rerender();
    } catch (err) { msg.set(err.message); }
  } }, h('label', { for: 'user-name' }, 'Name'), name, h('label', { for: 'user-role' }, 'Role'), r,
  h('button', { type: 'submit', class: 'primary' }, 'Add user'));
  return h('div', {}, flash(), secret,
    list.length ? table('users-table', ['Name', 'Role', 'Account', 'Last sign-in', 'Actions'], rows) : empty('No user yet.'),
    h('h2', {}, 'Add a user'), form, msg);
}

// A one-time message left by the action before a re-render (e.g. a secret shown once).
function flash() {
  const text = sessionStorage.getItem('relapsewatch.flash');
  sessionStorage.removeItem('relapsewatch.flash');
  return text ? h('p', { class: 'secret', role: 'status', id: 'flash' }, text) : null;
}

// ---------------------------------------------------------------- tokens

async function tokens() {
  const { tokens: list } = await api('/tokens');
  const msg = messageLine();
  const rows = list.map((t) => [t.id, t.label, t.role, fmt.time(t.created_at),
    t.revoked_at ? `revoked ${fmt.time(t.revoked_at)}` : 'valid',
    t.revoked_at ? '' : h('button', { type: 'button', class: 'small', onclick: async () => {
      if (!window.confirm(`Revoke the token "${t.label}"? Whoever holds it is refused from now on.`)) return;
      try { await api(`/tokens/${t.id}`, { method: 'DELETE' }); rerender(); } catch (err) { msg.set(err.message); }
    } }, `Revoke ${t.label}`)]);
  const label = h('input', { id: 'token-label', required: true, maxlength: 63 });
  const r = h('select', { id: 'token-role' }, ['lims', 'clinician', 'viewer', 'admin'].map((x) => h('option', { value: x }, x)));
  const form = h('form', { class: 'inline-form', id: 'token-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const t = await api('/tokens', { method: 'POST', json: { role: r.value, label: label.value.trim() } });
      sessionStorage.setItem('relapsewatch.flash', `Token "${t.label}" (${t.role}), shown once: ${t.token}`);
      rerender();
    } catch (err) { msg.set(err.message); }
  } }, h('label', { for: 'token-label' }, 'Held by'), label, h('label', { for: 'token-role' }, 'Role'), r,
  h('button', { type: 'submit', class: 'primary' }, 'Issue token'));
  return h('div', {}, flash(),
    table('tokens-table', ['Id', 'Held by', 'Role', 'Issued', 'State', ''], rows, { num: [0] }),
    h('h2', {}, 'Issue a token'), form, msg);
}

// ---------------------------------------------------------------- panels of normals

const PANEL_FIELDS = [['Name', (p) => p.name || '—'], ['Panel key', (p) => p.pon_key], ['Build', (p) => p.build],
  ['Bin size', (p) => `${fmt.int(p.bin_size / 1000)} kb`], ['Normals', (p) => p.n_normals], ['Read filters', (p) => p.filters || '—'],
  ['Results made with it', (p) => fmt.int(p.n_results)], ['Uploaded', (p) => fmt.time(p.created_at)],
  ['Checksum (SHA-256)', (p) => `${String(p.checksum || '').slice(0, 16)}…`], ['Active', (p) => (p.active ? 'yes' : 'no')]];

async function panels(params) {
  const { pons } = await api('/pons');
  const msg = messageLine();
  // Every stored sWGS result re-runs from its counts under the new panel (ddPCR has no panel).
  const reruns = pons.reduce((n, p) => n + (p.n_results || 0), 0);
  const rows = pons.map((p) => h('tr', { class: p.active ? 'active-row' : null, dataset: { pon: String(p.id) } },
    h('td', { class: 'num' }, p.id), h('td', {}, p.name || p.pon_key), h('td', {}, p.build),
    h('td', { class: 'num' }, p.n_normals), h('td', { class: 'num' }, fmt.int(p.n_results)), h('td', {}, fmt.time(p.created_at)),
    h('td', {}, p.active ? h('strong', {}, 'active') : h('button', { type: 'button', class: 'small', dataset: { activate: String(p.id) },
      onclick: async () => {
        if (!window.confirm(`Activate panel ${p.name || p.pon_key}? About ${reruns} stored result(s) re-run ` +
          'with it as background jobs, and every patient\'s alerts are recomputed.')) return;
        try {
          const r = await api(`/pons/${p.id}/activate`, { method: 'POST' });
          sessionStorage.setItem('relapsewatch.flash', `Panel ${p.name || p.pon_key} is active: ${r.jobs_queued} job(s) queued to re-run.`);
          rerender();
        } catch (err) { msg.set(err.message); }
      } }, `Activate (re-runs about ${reruns})`))));
  // Compare: two panels side by side.
  const a = params.get('a') || String(pons.find((p) => p.active)?.id || pons[0]?.id || '');
  const b = params.get('b') || String(pons.find((p) => String(p.id) !== a)?.id || '');
  const pick = (id, v, label) => h('span', {}, h('label', { for: id }, label), h('select', { id, onchange: (ev) => {
    const n = new URLSearchParams({ a, b, [id === 'cmp-a' ? 'a' : 'b']: ev.target.value });
    location.hash = `#/admin/panels?${n}`;
  } }, pons.map((p) => h('option', { value: String(p.id), selected: String(p.id) === v }, `${p.id}: ${p.name || p.pon_key}`))));
  const pa = pons.find((p) => String(p.id) === a);
  const pb = pons.find((p) => String(p.id) === b);
  const compare = pons.length > 1 && pa && pb ? h('section', { 'aria-labelledby': 'cmp-h' }, h('h2', { id: 'cmp-h' }, 'Compare two panels'),
    h('div', { class: 'filters' }, pick('cmp-a', a, 'Panel A'), pick('cmp-b', b, 'Panel B')),
    table('compare-table', ['', `A: ${pa.id}`, `B: ${pb.id}`, ''], PANEL_FIELDS.map(([k, f]) => {
      const same = String(f(pa)) === String(f(pb));
      return [k, f(pa), f(pb), same ? '' : 'differs'];
    }))) : null;
  const file = h('input', { type: 'file', id: 'pon-file', required: true, accept: '.tsv,.txt,text/tab-separated-values' });
  const name = h('input', { id: 'pon-name', maxlength: 100 });
  const upload = h('form', { class: 'inline-form', id: 'pon-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) { msg.set('Choose a panel file.'); return; }
    try {
      const p = await api(`/pons${name.value.trim() ? `?name=${encodeURIComponent(name.value.trim())}` : ''}`,
        { method: 'POST', body: await f.text(), headers: { 'Content-Type': 'text/tab-separated-values' } });
      sessionStorage.setItem('relapsewatch.flash', `Panel ${p.pon_key} uploaded (${p.n_normals} normals), not active yet.`);
      rerender();
    } catch (err) { msg.set(err.message); }
  } }, h('label', { for: 'pon-file' }, 'Panel file (relapsewatch pon build)'), file,
  h('label', { for: 'pon-name' }, 'Name'), name, h('button', { type: 'submit', class: 'primary' }, 'Upload'));
  return h('div', {}, flash(),
    pons.length ? table('pons-table', ['Id', 'Name', 'Build', 'Normals', 'Results', 'Uploaded', ''], rows, { num: [0, 3, 4] })
      : empty('No panel yet: upload one below.'),
    h('p', { class: 'hint' }, 'Activating a panel re-runs every stored sWGS result from its bin counts with the new panel ',
      `(about ${fmt.int(reruns)} now) and recomputes every patient's alerts; the jobs show on the Jobs screen.`),
    compare, h('h2', {}, 'Upload a panel'), upload, msg);
}

// ---------------------------------------------------------------- settings

async function settings() {
  const s = await api('/settings');
  const values = s.settings || s;
  const rows = Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)]);
  return h('div', {},
    h('p', { class: 'hint' }, 'The analysis settings every new result is made with (config file and flags of the daemon; ',
      'docs/configuration.md explains each). A stored result keeps the settings it was made with until it is re-run.'),
    table('settings-table', ['Setting', 'Value'], rows));
}

// ---------------------------------------------------------------- jobs

async function jobs(params) {
  const state = params.get('state') || '';
  const { jobs: list } = await api(`/jobs?limit=200${state ? `&state=${state}` : ''}`);
  const msg = messageLine();
  const filter = h('form', { class: 'filters' }, h('label', { for: 'jstate' }, 'State'),
    h('select', { id: 'jstate', onchange: (e) => { location.hash = `#/admin/jobs${e.target.value ? `?state=${e.target.value}` : ''}`; } },
      ['', 'queued', 'running', 'done', 'failed'].map((v) => h('option', { value: v, selected: v === state }, v || 'All'))));
  const rows = list.map((j) => h('tr', { class: j.state === 'failed' ? 'has-alert' : null, dataset: { job: String(j.id) } },
    h('td', { class: 'num' }, j.id), h('td', {}, j.accession || '—'), h('td', {}, j.kind),
    h('td', {}, h('span', { class: `status status-${j.state}` }, j.state)),
    h('td', {}, h('progress', { max: 100, value: j.progress ?? 0, 'aria-label': `Job ${j.id} progress` }), ` ${j.progress ?? 0} %`),
    h('td', { class: 'num' }, j.attempts ?? '—'),
    h('td', {}, fmt.time(j.created_at)), h('td', {}, fmt.time(j.finished_at)),
    h('td', { class: 'err' }, j.error || ''),
    h('td', {}, j.state === 'failed' && role() === 'admin' ? h('button', { type: 'button', class: 'small', onclick: async () => {
      try { await api(`/jobs/${j.id}/retry`, { method: 'POST' }); rerender(); } catch (err) { msg.set(err.message); }
    } }, `Retry job ${j.id}`) : '')));
  const t = list.length ? h('table', { class: 'grid', id: 'jobs-table' },
    h('thead', {}, h('tr', {}, ['Job', 'Sample', 'Kind', 'State', 'Progress', 'Attempts', 'Created', 'Finished', 'Error', '']
      .map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, rows))
    : empty(state ? `No ${state} job.` : 'No job yet.');
  // Refresh while work is in progress, but only while this page stays open.
  if (list.some((j) => j.state === 'queued' || j.state === 'running')) {
    const here = location.hash;
    setTimeout(() => { if (location.hash === here) rerender(); }, 3000);
  }
  return h('div', {}, filter, t, msg);
}

// ---------------------------------------------------------------- audit trail

const AUDIT_FILTERS = [['actor', 'Who', 'text'], ['action', 'Action', 'text'], ['entity_type', 'Record type', 'text'],
  ['entity_id', 'Record id', 'number'], ['patient_id', 'Patient id', 'number'], ['from', 'From', 'date'], ['to', 'Before', 'date']];

async function audit(params) {
  const qs = new URLSearchParams();
  for (const [k] of AUDIT_FILTERS) if (params.get(k)) qs.set(k, params.get(k));
  if (params.get('cursor')) qs.set('cursor', params.get('cursor'));
  qs.set('limit', '100');
  const r = await api(`/admin/audit?${qs}`);
  const inputs = AUDIT_FILTERS.map(([k, label, type]) => h('span', {}, h('label', { for: `audit-${k}` }, label),
    h('input', { id: `audit-${k}`, name: k, type, value: params.get(k) || '' })));
  const form = h('form', { class: 'filters', id: 'audit-filters', role: 'search', 'aria-label': 'Filter the audit trail', onsubmit: (ev) => {
    ev.preventDefault();
    const n = new URLSearchParams();
    for (const el of form.querySelectorAll('input')) if (el.value.trim()) n.set(el.name, el.value.trim());
    location.hash = `#/admin/audit?${n}`;
  } }, inputs, h('button', { type: 'submit' }, 'Filter'));
  const msg = messageLine();
  const csv = h('button', { type: 'button', id: 'audit-csv', onclick: async () => {
    try {
      const c = new URLSearchParams(qs);
      c.delete('cursor');
      c.delete('limit');
      c.set('format', 'csv');
      const res = await api(`/admin/audit?${c}`, { raw: true, headers: { Accept: 'text/csv' } });
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: 'relapsewatch-audit.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { msg.set(err.message); }
  } }, 'Export these rows as CSV');
  const rows = (r.entries || []).map((e) => [e.id, fmt.time(e.at), e.actor, e.action, `${e.entity_type} ${e.entity_id ?? ''}`,
    h('code', {}, e.details === null || e.details === undefined ? '' : JSON.stringify(e.details).slice(0, 240))]);
  const next = r.next_cursor ? (() => { const n = new URLSearchParams(params); n.set('cursor', r.next_cursor); return n; })() : null;
  return h('div', {}, form, h('p', {}, csv), msg,
    rows.length ? table('audit-table', ['#', 'When', 'Who', 'Action', 'Record', 'Details'], rows, { num: [0] }) : empty('No audit row matches.'),
    next ? h('p', {}, h('a', { href: `#/admin/audit?${next}`, id: 'audit-next' }, 'Next rows →')) : null);
}

// ---------------------------------------------------------------- webhooks

const HOOK_EVENTS = ['alert.raised', 'alert.closed', 'alert.acknowledged', 'result.ready',
  'result.corrected', 'job.failed'];

async function webhooks(params, rest) {
  const { webhooks: list } = await api('/webhooks');
  const msg = messageLine();
  const shown = rest[0] || params.get('id');
  const rows = list.filter((w) => !w.deleted_at).map((w) => [w.id, w.url, (w.events || []).join(', '),
    `${w.delivered ?? 0} delivered, ${w.pending ?? 0} pending, ${w.failed ?? 0} failed`,
    h('a', { href: `#/admin/webhooks/${w.id}` }, `Deliveries of ${w.id}`),
    h('button', { type: 'button', class: 'small', onclick: async () => {
      if (!window.confirm(`Delete the subscription ${w.url}?`)) return;
      try { await api(`/webhooks/${w.id}`, { method: 'DELETE' }); rerender(); } catch (err) { msg.set(err.message); }
    } }, `Delete ${w.id}`)]);
  let deliveries = null;
  if (shown) {
    const d = await api(`/webhooks/${encodeURIComponent(shown)}/deliveries`);
    const items = d.deliveries || [];
    deliveries = h('section', {}, h('h2', {}, `Deliveries of subscription ${shown}`),
      items.length ? table('deliveries-table', ['#', 'Event', 'State', 'Attempts', 'HTTP status', 'Created', 'Delivered / next try', 'Error'],
        items.map((x) => [x.id, x.event_type || '—', x.state || '—', x.attempts ?? '—', x.last_status ?? '—',
          fmt.time(x.created_at), fmt.time(x.delivered_at || x.next_attempt_at), x.last_error || '']), { num: [0, 3] }) : empty('No delivery yet.'));
  }
  const url = h('input', { id: 'hook-url', type: 'url', required: true, placeholder: 'http://lims.example/hooks/relapsewatch' });
  const boxes = HOOK_EVENTS.map((e) => h('input', { type: 'checkbox', id: `hook-${e.replace('.', '-')}`, value: e, checked: true }));
  const form = h('form', { class: 'inline-form', id: 'hook-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const w = await api('/webhooks', { method: 'POST', json: { url: url.value.trim(), events } });
      sessionStorage.setItem('relapsewatch.flash', `Subscription ${w.id} added${w.secret ? `; its signing secret, shown once: ${w.secret}` : ''}.`);
      rerender();
    } catch (err) { msg.set(err.message); }
  } }, h('label', { for: 'hook-url' }, 'Address'), url,
  h('fieldset', { class: 'events' }, h('legend', {}, 'Events'),
    boxes.map((b) => h('span', { class: 'check' }, b, h('label', { for: b.id }, b.value)))),
  h('button', { type: 'submit', class: 'primary' }, 'Subscribe'));
  return h('div', {}, flash(),
    rows.length ? table('webhooks-table', ['Id', 'Address', 'Events', 'Deliveries', '', ''], rows, { num: [0] }) : empty('No subscription.'),
    deliveries, h('h2', {}, 'Add a subscription'), form, msg);
}

// ---------------------------------------------------------------- deliveries (both channels)

// Why a failed delivery cannot be sent again, or '' when it can.
function notRetryable(d) {
  if (d.message_gone) return 'message no longer kept';
  if (d.superseded) return 'superseded by a later message';
  return '';
}

async function deliveries(params) {
  const channel = params.get('channel') || '';
  const state = params.has('state') ? params.get('state') : 'failed';
  const qs = new URLSearchParams({ limit: '200' });
  if (channel) qs.set('channel', channel);
  if (state) qs.set('state', state);
  const { deliveries: list } = await api(`/deliveries?${qs}`);
  const msg = messageLine();
  const choose = () => {
    const n = new URLSearchParams({ channel: chan.value, state: st.value });
    location.hash = `#/admin/deliveries?${n}`;
  };
  const chan = h('select', { id: 'dchannel', onchange: choose },
    [['', 'Both'], ['hl7', 'HL7'], ['webhook', 'Webhooks']].map(([v, t]) => h('option', { value: v, selected: v === channel }, t)));
  const st = h('select', { id: 'dstate', onchange: choose },
    [['failed', 'Failed'], ['pending', 'Pending'], ['delivered', 'Delivered'], ['', 'All']].map(([v, t]) => h('option', { value: v, selected: v === state }, t)));
  const filter = h('form', { class: 'filters' }, h('label', { for: 'dchannel' }, 'Channel'), chan,
    h('label', { for: 'dstate' }, 'State'), st);
  const retry = async (path, json) => {
    try {
      const r = await api(path, { method: 'POST', json });
      sessionStorage.setItem('relapsewatch.flash', r.requeued !== undefined
        ? `${r.requeued} failed deliver${r.requeued === 1 ? 'y' : 'ies'} queued again.` : `Delivery ${r.id} queued again.`);
      rerender();
    } catch (err) { msg.set(err.message); }
  };
  const rows = list.map((d) => h('tr', { class: d.state === 'failed' ? 'has-alert' : null, dataset: { delivery: String(d.id) } },
    h('td', { class: 'num' }, d.id), h('td', {}, d.channel === 'hl7' ? 'HL7' : `webhook ${d.webhook_id}`),
    h('td', {}, d.event_type), h('td', {}, h('span', { class: `status status-${d.state}` }, d.state)),
    h('td', { class: 'num' }, d.attempts), h('td', {}, d.last_status ?? '—'), h('td', {}, fmt.time(d.created_at)),
    h('td', { class: 'err' }, d.last_error || ''),
    h('td', {}, d.state !== 'failed' ? '' : notRetryable(d) || h('button', { type: 'button', class: 'small',
      onclick: () => retry(`/deliveries/${d.id}/retry`) }, `Send ${d.id} again`))));
  const t = list.length ? h('table', { class: 'grid', id: 'deliveries-all' },
    h('thead', {}, h('tr', {}, ['#', 'Channel', 'Event', 'State', 'Attempts', 'Last answer', 'Created', 'Error', '']
      .map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, rows))
    : empty(state ? `No ${state} delivery.` : 'No delivery yet.');
  const bulk = state === 'failed' && list.some((d) => d.channel === 'hl7' && !notRetryable(d))
    ? h('p', {}, h('button', { type: 'button', id: 'retry-hl7', onclick: () => retry('/deliveries/retry', { channel: 'hl7' }) },
      'Send every failed HL7 message again')) : null;
  return h('div', {}, flash(),
    h('p', { class: 'hint' }, 'A receiver down longer than the retries last leaves its messages failed. Once it is back, ',
      'send them again: HL7 ones go to the receiver configured now. The messages themselves are not shown (they name patients).'),
    filter, bulk, t, msg);
}
