// The sample page: one draw's genome profile, its headline tumour fraction with the method
// named (the other estimate as a secondary line that explains itself), the 1q21.3 call or the
// reason it is a no-call, region scores and quality control in words.
import { api } from './app.js';
import { h, loadPage, empty, fact, back, fmt, table } from './dom.js';
import { genomeChart } from './charts.js';
import { tumourFractionSummary, qcRows, noCallWords } from './words.js';

function callSummary(s) {
  const c = s.call || {};
  if (c.call === 'insufficient_quality' || c.call === 'no_data') {
    const w = noCallWords(c.quality?.code || c.call, c.quality?.reason);
    return h('div', { class: 'card callbox no-call', id: 'call-summary' },
      h('p', { class: 'headline' }, h('strong', {}, 'No call'), ' — not a negative'),
      h('p', {}, w.plain), w.technical ? h('p', { class: 'hint' }, `Detail: ${w.technical}`) : null);
  }
  if (!c.call) return null;
  return h('div', { class: 'card callbox', id: 'call-summary' },
    h('p', { class: 'headline' }, '1q21.3 ', h('span', { class: `call call-${c.call}` },
      c.call === 'amplified' ? (c.strong ? 'amplified (strong)' : 'amplified') : 'not detected')),
    h('p', {}, `Copy ratio ${fmt.num(c.ratio, 3)} (95 % interval ${fmt.num(c.ratio_low, 3)}–${fmt.num(c.ratio_high, 3)})`,
      c.z === null || c.z === undefined ? '' : `, z ${fmt.num(c.z, 1)}`));
}

function tumourFractionBox(s) {
  const tf = tumourFractionSummary(s);
  return h('div', { class: 'card tfbox', id: 'tumour-fraction' },
    h('p', { class: 'headline' }, 'Tumour fraction ', h('strong', { class: 'tf-value' }, tf.value),
      tf.interval ? h('span', { class: 'tf-interval' }, ` (${tf.interval})`) : null),
    h('p', { class: 'tf-method' }, `Method: ${tf.method}.`),
    tf.secondary ? h('p', { class: 'tf-secondary hint' }, tf.secondary) : null);
}

export async function renderSample(accession) {
  const page = await loadPage('the sample', () => api(`/samples/${encodeURIComponent(accession)}/profile`),
    () => renderSample(accession));
  if (!page) return;
  const { put, data: s } = page;
  const nb = s.bins?.log2?.length || 0;
  const nseg = (s.segments || []).length;
  const plot = nb ? h('figure', { class: 'card chart genome', id: 'genome', dataset: { bins: String(nb), segments: String(nseg) } },
    h('div', { class: 'chart-wrap tall' }, h('canvas', { role: 'img',
      'aria-label': `Genome-wide copy number: ${nb} bins, ${nseg} segments. The segments are listed in the table below.` })),
    h('figcaption', {}, 'log2 copy ratio per bin (points) and segments (lines); 1q21.3 shaded; masked bins omitted.'))
    : null;
  const regions = h('section', {}, h('h2', {}, 'Region scores'),
    (s.regions || []).length ? table('regions-table', ['Region', 'Position', 'Mean log2', 'SE', 'z', 'Copy ratio', 'Call'],
      s.regions.map((r) => [r.name,
        `${r.chrom}:${(r.start + 1).toLocaleString('en')}–${r.end.toLocaleString('en')}`,
        fmt.num(r.mean_log2, 3), fmt.num(r.se, 3), fmt.num(r.z, 1), fmt.num(r.ratio, 3),
        r.call ? h('span', { class: `call call-${r.call}` }, r.call.replace('_', ' ')) : '—']), { num: [2, 3, 4, 5] })
      : empty('No region score.'));
  const dd = s.ddpcr;
  const facts = h('dl', { class: 'facts' },
    fact('Build', s.build || '—'),
    fact('Bin size', s.bin_size ? `${(s.bin_size / 1000).toLocaleString('en')} kb` : '—'),
    dd ? fact('ddPCR copy number', `${fmt.num(dd.cn)} (${fmt.num(dd.cn_low)}–${fmt.num(dd.cn_high)})`) : null,
    fact('Versions', `core ${s.versions?.core || '—'}, panel of normals ${s.versions?.pon || '—'}`),
    fact('Computed', fmt.time(s.computed_at)));
  const qc = h('section', {}, h('h2', {}, 'Quality control'),
    h('table', { class: 'grid kv', id: 'qc-table' }, h('tbody', {}, qcRows(s.qc).map((r) => h('tr', { dataset: { key: r.key } },
      h('th', { scope: 'row' }, r.label), h('td', {}, r.value), h('td', { class: 'hint' }, r.hint))))));
  const segs = nseg ? h('details', { class: 'card' }, h('summary', {}, `Segments (${nseg}): the plot's lines as a table`),
    table('segments-table', ['Chromosome', 'Start', 'End', 'Bins', 'Mean log2', 'Call'],
      s.segments.map((g) => [g.chrom, fmt.int(g.start + 1), fmt.int(g.end), g.n_bins, fmt.num(g.mean, 3), g.call || '—']),
      { num: [1, 2, 3, 4] })) : null;
  if (!put(back(s.patient_id ? `#/patient/${s.patient_id}` : '#/cohort', s.patient_id ? 'Patient' : 'Cohort'),
    h('h1', {}, `Sample ${s.accession}`),
    h('div', { class: 'summary-row' }, callSummary(s), s.assay === 'ddpcr' && !s.tumour_fraction ? null : tumourFractionBox(s)),
    facts, plot, segs, regions, qc)) return;
  if (plot) genomeChart(plot.querySelector('canvas'), s);
}
