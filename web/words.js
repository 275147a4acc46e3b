// Words a clinician reads: the pipeline's flags, codes and evidence objects turned into
// sentences. Pure functions of the API's JSON (docs/api-monitoring.md); no DOM here.
import { fmt, nil } from './dom.js';

// The genome-wide fit's detection limit when the result does not carry its own settings
// (core/purity.h RW_PURITY detection_limit, analysis setting tf_detection_limit).
export const TF_DETECTION_LIMIT = 0.03;

const pct0 = (v) => `${(100 * v).toFixed(v < 0.1 ? 1 : 0).replace(/\.0$/, '')} %`;
const ratio = (v) => fmt.num(v, 2);
const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
const list = (xs) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

// ---------------------------------------------------------------- tumour fraction

// "< 3 %" for an estimate below what the method can see: never "0.0 %".
export function belowText(limit, high) {
  return `< ${pct0(Math.max(limit, nil(high) ? 0 : high))}`;
}

// The one tumour fraction of a draw's genome profile, with its method named, and the other
// estimate as a secondary line that explains itself. profile: GET /samples/{acc}/profile.
// -> {value, interval, method, secondary, below} (strings; below: true when under the limit).
export function tumourFractionSummary(profile) {
  const gw = profile.tumour_fraction || null;
  const region = (profile.regions || []).find((r) => r.name === '1q21.3');
  const informed = gw?.tumour_informed || region?.tumour_fraction || null;
  const limit = profile.settings?.tf_detection_limit ?? TF_DETECTION_LIMIT;
  const interval = (t) => `95 % interval ${fmt.pct(t.low)}–${fmt.pct(t.high)}`;
  const gwLine = genomeWideWords(gw, limit);
  if (informed && !nil(informed.estimate)) {
    const below = informed.estimate < limit && region?.call !== 'amplified';
    return {
      value: below ? belowText(limit, null) : fmt.pct(informed.estimate),
      interval: below ? `1q21.3 not amplified in this draw` : interval(informed),
      method: `tumour-informed: from the 1q21.3 gain and the primary tumour's copy number ${fmt.num(informed.primary_cn, 1)}`,
      secondary: gwLine ? `Genome-wide estimate: ${gwLine} The genome-wide fit looks for broad ` +
        'copy-number changes across the genome; a focal gain such as 1q21.3 is invisible to it, ' +
        'so it can read lower than the tumour-informed estimate.' : '',
      below,
    };
  }
  if (!gw) return { value: '—', interval: '', method: 'no estimate', secondary: '', below: false };
  const below = gw.flag === 'below_detection' || gw.flag === 'no_data';
  return {
    value: gw.flag === 'no_data' ? 'not estimable' : below ? belowText(limit, gw.high) : fmt.pct(gw.estimate),
    interval: below ? '' : interval(gw),
    method: 'genome-wide fit of the copy-number segments',
    secondary: `${gwLine} No tumour-informed estimate: the primary tumour's 1q21.3 copy number ` +
      'is not recorded above 2 for this patient.',
    below,
  };
}

// The genome-wide fit in words, its flag explained.
export function genomeWideWords(gw, limit = TF_DETECTION_LIMIT) {
  if (!gw) return '';
  switch (gw.flag) {
    case 'below_detection':
      return `below detection (${belowText(limit, gw.high)}): the fit found no tumour signal it ` +
        `can tell from this sample's own noise.`;
    case 'low_fraction':
      return `${fmt.pct(gw.estimate)} (95 % interval ${fmt.pct(gw.low)}–${fmt.pct(gw.high)}), ` +
        'low: just above the detection limit, read with caution.';
    case 'no_data':
      return 'not estimable: too few usable segments.';
    default:
      return `${fmt.pct(gw.estimate)} (95 % interval ${fmt.pct(gw.low)}–${fmt.pct(gw.high)}).`;
  }
}

// A draw's tumour fraction in the trend table: the trend's value is the tumour-informed
// estimate when the pipeline made one (primary CN > 2), else the genome-wide fit.
export function seriesTumourFraction(s, patient) {
  if (nil(s.tumour_fraction)) return { value: '—', method: '' };
  const informed = (patient.primary_1q213_cn ?? 0) > 2;
  const method = s.assay === 'ddpcr' ? 'from ddPCR copy number' : informed ? 'tumour-informed' : 'genome-wide';
  const below = s.tumour_fraction < TF_DETECTION_LIMIT && s.call !== 'amplified';
  return { value: below ? belowText(TF_DETECTION_LIMIT, null) : fmt.pct(s.tumour_fraction), method };
}

// ---------------------------------------------------------------- quality

const NO_CALL_PLAIN = {
  genomic_waves: 'The library\'s coverage is too uneven along the genome (smooth waves) to see a ' +
    '10 % tumour fraction in 1q21.3.',
  low_depth: 'Too few reads were sequenced to see a 10 % tumour fraction in 1q21.3.',
  no_data: 'No usable 1q21.3 measurement came out of this sample.',
};
// A no-call in plain words: what it means, then the pipeline's own sentence.
export function noCallWords(code, reason) {
  const plain = NO_CALL_PLAIN[code] || 'The sample\'s quality is too low to make a call.';
  return {
    plain: `${plain} This draw is neither positive nor negative and the monitoring rules skip it; consider a new draw.`,
    technical: reason || '',
  };
}

// The QC object's keys, each with a label and how to read it; values formatted by kind.
const QC = {
  format: ['Input', (v) => ({ bins: 'bin counts', reads: 'aligned reads (BAM/CRAM)' }[v] || v)],
  reads_seen: ['Reads read', 'int'],
  reads_kept: ['Reads counted', 'int'],
  duplicate_rate: ['Duplicate reads', 'pct'],
  frag_median: ['Median fragment length', (v) => (nil(v) ? 'not measured' : `${v} bp`)],
  median_reads_per_bin: ['Median reads per bin', 'int', 'depth of coverage; fewer reads make every estimate noisier'],
  mad_log2: ['Bin-to-bin spread', 'num3', 'MAD of the bins\' log2 ratios: lower is a cleaner sample'],
  noise_sd: ['Bin noise', 'num3', 'from differences between neighbouring bins'],
  n_bins: ['Bins', 'int'],
  n_masked: ['Bins left out', 'int', 'masked by the panel of normals (unreliable regions)'],
  n_used: ['Bins used', 'int'],
  gc_corrected: ['GC correction', (v) => (v ? 'applied' : 'not applied (bin counts as given)')],
  n_components: ['Panel components removed', 'int'],
  pon_n_normals: ['Normals in the panel', 'int'],
  pon_low_normals: ['Panel size', (v) => (v ? 'fewer normals than recommended: calls are less certain'
    : 'the recommended number of normals or more')],
};
// Bin counts uploaded as such have no reads: their read counters are left out.
const READ_KEYS = new Set(['reads_seen', 'reads_kept', 'duplicate_rate', 'frag_median']);
export function qcRows(qc) {
  const out = [];
  for (const [k, v] of Object.entries(qc || {})) {
    if (v !== null && typeof v === 'object') continue;
    if (qc.format === 'bins' && READ_KEYS.has(k)) continue;
    const [label, kind, hint] = QC[k] || [k.replaceAll('_', ' '), typeof v === 'number' ? 'num3' : String];
    const value = typeof kind === 'function' ? kind(v)
      : kind === 'int' ? fmt.int(v) : kind === 'pct' ? fmt.pct(v) : kind === 'num3' ? fmt.num(v, 3) : String(v);
    out.push({ key: k, label, value, hint: hint || '' });
  }
  return out;
}

// ---------------------------------------------------------------- alerts

export const RULE_LABEL = {
  strong_positive: 'Strong positive',
  two_consecutive_positive: 'Two consecutive positives',
  rise_over_baseline: 'Rise over baseline',
  cusum: 'Cumulative sum (CUSUM)',
  personal_baseline: 'Against her own baseline',
  rise_from_nadir: 'Rise from the on-treatment nadir',
  positive_after_negative: 'Positive after a negative on treatment',
  fall_below_pretreatment: 'Fall below the pre-treatment value',
};
const CLOSE_WORDS = {
  clear_draws: 'it closed after consecutive clear draws',
  new_surgery: 'it closed when a new surgery began a new follow-up period',
  new_course: 'it closed when a new chemotherapy course began',
  course_end: 'it closed when the treatment course ended',
};

// A draw as "1.10 on 26 Dec 2023" (ddPCR: the ratio is CN/2 as well).
const at = (d) => `${ratio(d.ratio)} on ${fmt.day(d.date)}`;
const zOf = (d) => (nil(d.z) ? '' : ` (z ${fmt.num(d.z, 1)})`);
// "each beyond the 14 % reference change value" from the triggers' rcv.
function rcvText(triggers, each = true) {
  const r = [...new Set(triggers.map((d) => d.rcv).filter((v) => !nil(v)).map((v) => pct0(Math.abs(v))))];
  if (!r.length) return '';
  return `${each && triggers.length > 1 ? 'each ' : ''}beyond the ${list(r)} reference change value`;
}

// One sentence per rule met; built from evidence.rules[] (json/trend.c).
export function ruleSentence(ev) {
  const draws = ev.draws || [];
  const trig = draws.filter((d) => d.role === 'trigger');
  const base = draws.filter((d) => d.role === 'baseline');
  const th = ev.thresholds || {};
  const ref = ratio(ev.reference);
  switch (ev.rule) {
    case 'strong_positive':
      return `a strong positive draw: ${trig.map(at).join(', ')}${trig.map(zOf).join('')}` +
        (nil(th.z_strong) || nil(trig[0]?.z) ? '' : `, at or above the strong threshold z ${th.z_strong}`);
    case 'two_consecutive_positive':
      return `two positive draws in a row: ${list(trig.map((d) => at(d) + zOf(d)))}` +
        (nil(th.z_amplified) ? '' : `, each at or above z ${th.z_amplified}`);
    case 'rise_over_baseline':
      return `two rises over the baseline of ${ref}` +
        (base.length ? ` (mean of ${base.length} earlier negative draw${base.length > 1 ? 's' : ''}, ${list(base.map((d) => fmt.day(d.date)))})` : '') +
        `: ${list(trig.map(at))}, ${rcvText(trig)}`;
    case 'rise_from_nadir':
      return `two rises over the on-chemotherapy nadir of ${ref}: ${list(trig.map(at))}, ${rcvText(trig)}`;
    case 'positive_after_negative': {
      const prev = draws.find((d) => d.role === 'previous');
      return `a positive draw on treatment, ${trig.map((d) => at(d) + zOf(d)).join('')}, after a negative one` +
        (prev ? `, ${at(prev)}${zOf(prev)}` : '');
    }
    case 'fall_below_pretreatment': {
      const pre = draws.find((d) => d.role === 'pretreatment');
      return `a fall below the pre-treatment value of ${ref}${pre ? ` (${fmt.day(pre.date)})` : ''}: ` +
        `${list(trig.map(at))}, ${rcvText(trig, false).replace('beyond', 'more than')}`;
    }
    case 'cusum': {
      const last = trig.at(-1);
      return `the running sum of z-scores over ${trig.length} draw${trig.length > 1 ? 's' : ''} ` +
        `(${list(trig.map((d) => fmt.day(d.date)))}) reached ${fmt.num(last?.cusum, 1)}, above its limit ${th.cusum_h}`;
    }
    case 'personal_baseline': {
      const limit = trig.length > 1 ? th.personal_z : th.personal_z_single;
      return `against her own baseline of ${ref}` +
        (base.length ? ` (${base.length} earlier negative draw${base.length > 1 ? 's' : ''})` : '') +
        `: ${list(trig.map((d) => `${at(d)} (personal z ${fmt.num(d.z_personal, 1)})`))}` +
        (nil(limit) ? '' : `, at or above personal z ${limit}`);
    }
    default:
      return `rule ${String(ev.rule).replaceAll('_', ' ')} met at ${list(trig.map(at))}`;
  }
}

// The alert in one or two sentences: every rule met at its draw, then how it ended if it did.
// -> {text, sampleIds} (sampleIds: every draw the evidence cites, to highlight on the chart).
export function explainAlert(a) {
  const rules = a.evidence?.rules || [];
  const parts = rules.map(ruleSentence);
  let text = parts.length ? `${cap(parts.join('; and '))}.` : `${cap(RULE_LABEL[a.rule] || a.rule)}.`;
  if (a.closed_by && CLOSE_WORDS[a.closed_by]) {
    text += ` Since then ${CLOSE_WORDS[a.closed_by]}${a.closed_on ? ` (${fmt.day(a.closed_on)})` : ''}.`;
  }
  const sampleIds = [...new Set(rules.flatMap((r) => (r.draws || []).map((d) => d.sample_id)))];
  if (!sampleIds.length && a.sample_id) sampleIds.push(a.sample_id);
  return { text, sampleIds };
}
