// The cohort page: every patient, a page at a time (the API's keyset cursors), with filters.
// State and external-id prefix are server filters. "Open alerts only" and "last draw since"
// ride on the server's sort orders: with sort=alerts the patients with open alerts come first,
// with sort=last_sample the latest draws come first, so each filter is a cut of an ordered
// list and paging stops at the cut (no full scan in the browser, whatever the cohort's size).
import { api } from './app.js';
import { h, loadPage, errorBox, empty, fmt, badge, subtype, STATE_LABEL, STATE_ORDER } from './dom.js';

const PAGE = 50;

function tile(label, value, kind) {
  return h('div', { class: `tile ${kind && value ? kind : ''}` },
    h('span', { class: 'tile-value' }, value ?? '—'), h('span', { class: 'tile-label' }, label));
}

// The summary tiles load after the list (the list is the first paint); total(s) -> the count
// the list's caption can say "of N" about, or null.
async function summaryTiles(box, total) {
  try {
    const s = await api('/cohort/summary');
    const n = total(s);
    const cap = document.querySelector('#cohort-table caption');
    if (cap && n !== null && n !== undefined) cap.textContent = cap.textContent.replace(/^(Patients [^ ]+)/, `$1 of ${fmt.int(n)}`);
    const open = s.open_alerts || {};
    box.replaceChildren(
      tile('Patients monitored', fmt.int(s.patients_monitored)),
      tile('Samples', fmt.int(s.samples)),
      tile('Open early-relapse alerts', open.early_relapse || 0, 'warn'),
      tile('Open chemoresistance alerts', open.emerging_chemoresistance || 0, 'warn'),
      tile('Median lead time', s.median_lead_time_days === null || s.median_lead_time_days === undefined
        ? '—' : `${s.median_lead_time_days} days`));
    box.dataset.ready = '1';
  } catch (err) {
    box.replaceChildren(errorBox(err));
  }
}

export async function renderCohort(params) {
  const f = {
    state: params.get('state') || '',
    sort: params.get('sort') || 'alerts',
    q: params.get('q') || '',
    open: params.get('open') === '1',
    since: params.get('since') || '',
    cursor: params.get('cursor') || '',
    page: Number(params.get('page') || 1),
    prev: params.get('prev') || '', // the cursors of the earlier pages, '~'-separated
  };
  // The two cut filters choose their order: open alerts -> sort=alerts; since -> last_sample.
  const sort = f.open ? 'alerts' : f.since ? 'last_sample' : f.sort;
  const qs = new URLSearchParams({ sort, limit: String(PAGE) });
  if (f.state) qs.set('state', f.state);
  if (f.q) qs.set('q', f.q);
  if (f.cursor) qs.set('cursor', f.cursor);
  const page = await loadPage('the cohort', () => api(`/patients?${qs}`), () => renderCohort(params),
    h('h1', {}, 'Cohort'));
  if (!page) return;
  const { put, data: { patients } } = page;
  let next = page.data.next_cursor;
  let cut = false;
  const kept = patients.filter((p) => {
    const keep = (!f.open || p.open_alerts > 0) && (!f.since || (p.last_sample_date && p.last_sample_date >= f.since));
    if (!keep) cut = true;
    return keep;
  });
  if (cut) next = null; // ordered by the cut's key: nothing further can match

  const go = (changes) => {
    const n = new URLSearchParams({ state: f.state, sort: f.sort, q: f.q, open: f.open ? '1' : '', since: f.since, ...changes });
    for (const [k, v] of [...n]) if (!v) n.delete(k);
    location.hash = `#/cohort?${n}`;
  };
  const search = h('input', { type: 'search', id: 'q', value: f.q, placeholder: 'External id (prefix)' });
  const since = h('input', { type: 'date', id: 'since', value: f.since });
  const openBox = h('input', { type: 'checkbox', id: 'open', checked: f.open });
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the cohort', onsubmit: (ev) => {
    ev.preventDefault();
    go({ q: search.value.trim(), since: since.value, open: openBox.checked ? '1' : '' });
  } },
  h('label', { for: 'state' }, 'State'),
  h('select', { id: 'state', onchange: (ev) => go({ state: ev.target.value }) },
    h('option', { value: '' }, 'All states'),
    STATE_ORDER.map((s) => h('option', { value: s, selected: s === f.state }, STATE_LABEL[s]))),
  h('label', { for: 'sort' }, 'Sort'),
  h('select', { id: 'sort', disabled: f.open || !!f.since, onchange: (ev) => go({ sort: ev.target.value }) },
    [['alerts', 'Open alerts first'], ['external_id', 'External id'], ['last_sample', 'Last draw']]
      .map(([v, t]) => h('option', { value: v, selected: v === sort }, t))),
  h('span', { class: 'check' }, openBox, h('label', { for: 'open' }, 'Open alerts only')),
  h('label', { for: 'since' }, 'Last draw since'), since,
  h('label', { for: 'q', class: 'sr-only' }, 'Search by external id'), search,
  h('button', { type: 'submit' }, 'Apply'),
  f.state || f.q || f.open || f.since ? h('a', { href: '#/cohort', class: 'clear' }, 'Clear filters') : null);

  const first = (f.page - 1) * PAGE + 1;
  const rows = kept.map((p) => h('tr', { class: p.open_alerts ? 'has-alert' : null },
    h('td', {}, h('a', { href: `#/patient/${p.id}` }, p.external_id)),
    h('td', {}, badge(p.state)),
    h('td', { class: 'num' }, p.open_alerts ? h('strong', { class: 'alert-count' }, p.open_alerts) : '0'),
    h('td', {}, fmt.date(p.last_sample_date)),
    h('td', { class: 'num' }, p.n_samples ?? '—'),
    h('td', {}, subtype(p)),
    h('td', {}, p.primary_1q213_status === 'amplified' ? 'amplified' :
      p.primary_1q213_status === 'not_amplified' ? 'not amplified' : 'unknown')));
  const caption = kept.length ? `Patients ${fmt.int(first)}–${fmt.int(first + kept.length - 1)}` +
    `${next ? '' : ' (last page)'}` : '';
  const table = kept.length
    ? h('table', { class: 'grid', id: 'cohort-table' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ['External id', 'State', 'Open alerts', 'Last draw',
        'Draws', 'Subtype', 'Primary 1q21.3'].map((t, i) => h('th', { scope: 'col', class: i === 2 || i === 4 ? 'num' : null }, t)))),
      h('tbody', {}, rows))
    : empty(f.state || f.q || f.open || f.since ? 'No patient matches these filters.'
      : 'No patient yet: the LIMS has not pushed any.');
  const prevs = f.prev ? f.prev.split('~') : [];
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of the cohort' },
    f.page > 1 ? h('a', { href: pageHref(f, prevs.at(-1) === '-' ? '' : prevs.at(-1), f.page - 1, prevs.slice(0, -1)), id: 'prev-page', rel: 'prev' }, '← Previous page') : null,
    h('span', {}, `Page ${f.page}`),
    next ? h('a', { href: pageHref(f, next, f.page + 1, [...prevs, f.cursor || '-']), id: 'next-page', rel: 'next' }, 'Next page →') : null);
  const tiles = h('section', { class: 'tiles', id: 'tiles', 'aria-label': 'Cohort summary' }, tile('Patients monitored', '…'));
  if (!put(h('h1', {}, 'Cohort'), tiles, filters, table, kept.length ? pager : null)) return;
  // "of N": the whole cohort, or one state's count; the other filters have no count to show.
  summaryTiles(tiles, (s) => (f.q || f.open || f.since ? null : f.state ? s.states?.[f.state] : s.patients_monitored));
}

function pageHref(f, cursor, page, prevs) {
  const n = new URLSearchParams({ state: f.state, sort: f.sort, q: f.q, open: f.open ? '1' : '', since: f.since,
    cursor: cursor || '', page: page > 1 ? String(page) : '', prev: prevs.join('~') });
  for (const [k, v] of [...n]) if (!v) n.delete(k);
  return `#/cohort?${n}`;
}
