// Charts of the pages, drawn with Chart.js 3 (Debian's libjs-chart.js, served from vendor/).
// trendChart: a patient's 1q21.3 copy ratio over time; genomeChart: a sample's genome profile.
/* global Chart */

const DAY = 86400000;
const COLOURS = {
  swgs: '#1f5fbf', bins: '#2f7f8f', ddpcr: '#d9731a', alert: '#c62828', threshold: '#c62828',
  chemo: 'rgba(123, 63, 160, 0.13)', other: 'rgba(120, 120, 120, 0.10)', grid: '#e3e6ea',
  segment: '#c62828', point: 'rgba(31, 95, 191, 0.45)', band: 'rgba(255, 193, 7, 0.22)',
  nocall: '#6b7280', highlight: '#111827',
};

const toDay = (iso) => Math.round(Date.parse(`${String(iso).slice(0, 10)}T00:00:00Z`) / DAY);
const isoOf = (day) => new Date(day * DAY).toISOString().slice(0, 10);

// Draws what Chart.js has no element for: treatment bands, event lines, error bars, thresholds.
const trendDecor = {
  id: 'trendDecor',
  beforeDatasetsDraw(chart, _args, o) {
    const { ctx, chartArea: a, scales: { x, y } } = chart;
    ctx.save();
    for (const t of o.treatments) {
      const x0 = Math.max(a.left, x.getPixelForValue(t.start));
      // A one-day treatment (surgery) still gets a visible stripe.
      const x1 = Math.min(a.right, Math.max(x0 + 4, x.getPixelForValue(t.end)));
      if (x1 <= x0) continue;
      ctx.fillStyle = t.kind === 'chemotherapy' ? COLOURS.chemo : COLOURS.other;
      ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top);
      ctx.fillStyle = '#444';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(`${t.kind}${t.regimen ? ` (${t.regimen})` : ''}`, x0 + 3, a.top + 12, x1 - x0 - 4);
    }
    for (const th of o.thresholds) {
      const py = y.getPixelForValue(th.value);
      if (py < a.top || py > a.bottom) continue;
      ctx.strokeStyle = th.colour;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(a.left, py);
      ctx.lineTo(a.right, py);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = th.colour;
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(th.label, a.right - ctx.measureText(th.label).width - 4, py - 4);
    }
    for (const e of o.events) {
      const px = x.getPixelForValue(e.day);
      if (px < a.left || px > a.right) continue;
      ctx.strokeStyle = e.kind === 'clinical_relapse' || e.kind === 'death' ? COLOURS.alert : '#555';
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(px, a.top);
      ctx.lineTo(px, a.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.save();
      ctx.translate(px - 4, a.bottom - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(e.kind.replaceAll('_', ' '), 0, 0);
      ctx.restore();
    }
    // 95 % intervals of each point.
    for (const ds of chart.data.datasets) {
      if (!ds.errorBars) continue;
      ctx.strokeStyle = ds.borderColor;
      for (const p of ds.data) {
        if (p.lo === null || p.lo === undefined) continue;
        const px = x.getPixelForValue(p.x);
        ctx.beginPath();
        ctx.moveTo(px, y.getPixelForValue(p.lo));
        ctx.lineTo(px, y.getPixelForValue(p.hi));
        ctx.moveTo(px - 4, y.getPixelForValue(p.lo));
        ctx.lineTo(px + 4, y.getPixelForValue(p.lo));
        ctx.moveTo(px - 4, y.getPixelForValue(p.hi));
        ctx.lineTo(px + 4, y.getPixelForValue(p.hi));
        ctx.stroke();
      }
    }
    ctx.restore();
  },
};

// The call thresholds a draw's result was made with (series[].thresholds of the trend), as text.
export function thresholdText(th, assay) {
  if (!th) return '';
  const text = assay === 'ddpcr'
    ? `CN lower bound > ${th.ddpcr_cn_amplified} (strong > ${th.ddpcr_cn_strong})`
    : `z ≥ ${th.z_amplified} (strong ≥ ${th.z_strong})`;
  return th.recorded === false ? `${text}, not recorded: the present ones` : text;
}

// A no-call (the quality gate's insufficient_quality, or no_data) or a retracted draw: skipped
// by the monitoring engine, never a negative draw. The trend's series[] marks it `skipped`
// with `quality`, or `retracted` with `retraction_reason` (schema 008).
const NO_CALLS = new Set(['insufficient_quality', 'no_data']);
export function isNoCall(s) {
  return !!s && (s.skipped === true || s.retracted === true || NO_CALLS.has(s.call));
}

// "No call — insufficient quality: <the gate's sentence>", "Retracted — <reason>", else ''.
export function noCallText(s) {
  if (!isNoCall(s)) return '';
  if (s.retracted) return `Retracted — ${s.retraction_reason || 'no reason given'}`;
  const what = (s.call && NO_CALLS.has(s.call) ? s.call : 'no_call').replaceAll('_', ' ');
  const why = s.quality?.reason || s.no_call_reason;
  return `No call — ${what}${why ? `: ${why}` : ''}`;
}

// opts.fixed: a chart of fixed size (the printed report), not following its container.
export function trendChart(canvas, t, opts = {}) {
  const done = t.series.filter((s) => s.ratio !== null && s.ratio !== undefined);
  const point = (s) => ({ x: toDay(s.date), y: s.ratio, lo: s.ratio_low, hi: s.ratio_high, s });
  const called = done.filter((s) => !isNoCall(s));
  const assays = [...new Set(called.map((s) => s.assay))];
  const datasets = assays.map((assay) => ({
    label: assay === 'ddpcr' ? 'ddPCR' : assay === 'bins' ? 'sWGS (bins)' : 'sWGS',
    data: called.filter((s) => s.assay === assay).map(point),
    borderColor: COLOURS[assay] || COLOURS.swgs,
    backgroundColor: COLOURS[assay] || COLOURS.swgs,
    pointStyle: assay === 'ddpcr' ? 'rect' : 'circle',
    pointRadius: 5,
    showLine: true,
    borderWidth: 1.5,
    errorBars: true,
  }));
  // No-calls: hollow grey markers at their (uncalled) ratio, no interval, no line through them.
  const noCalls = t.series.filter(isNoCall);
  if (noCalls.length) {
    datasets.push({
      label: 'No call or retracted (not a negative)', noCall: true,
      data: noCalls.map((s) => ({ x: toDay(s.date), y: s.ratio ?? 1, s })),
      pointStyle: 'circle', pointRadius: 6, borderWidth: 2, borderColor: COLOURS.nocall,
      backgroundColor: 'rgba(0, 0, 0, 0)', showLine: false, errorBars: false,
    });
  }
  const bySample = new Map(done.map((s) => [s.sample_id, s]));
  const alertPoints = t.alerts.map((a) => {
    const s = bySample.get(a.sample_id);
    return s ? { x: toDay(s.date), y: s.ratio, alert: a } : null;
  }).filter(Boolean);
  datasets.push({
    label: 'Alert', data: alertPoints, pointStyle: 'triangle', pointRadius: 11,
    borderColor: COLOURS.alert, backgroundColor: 'rgba(198, 40, 40, 0.35)', borderWidth: 2,
    showLine: false,
  });
  // The draws an alert's evidence cites: rings around them, set by highlightDraws().
  datasets.push({
    label: 'Draws behind the alert', highlight: true, data: [], pointStyle: 'circle', pointRadius: 13,
    borderColor: COLOURS.highlight, backgroundColor: 'rgba(0, 0, 0, 0)', borderWidth: 3, showLine: false,
  });
  const today = Math.round(Date.now() / DAY);
  const days = [...done.map((s) => toDay(s.date)), ...noCalls.map((s) => toDay(s.date)),
    ...t.events.map((e) => toDay(e.date))];
  const lo = Math.min(...days, ...t.treatments.map((x) => toDay(x.start_date))) - 30;
  const hi = Math.max(...days) + 30;
  const th = t.thresholds || {};
  const thresholds = [];
  if (th.swgs_ratio_amplified) thresholds.push({ value: th.swgs_ratio_amplified, colour: COLOURS.threshold, label: `sWGS threshold (z ≥ ${th.z_amplified})` });
  if (th.ddpcr_cn_lower && assays.includes('ddpcr')) thresholds.push({ value: th.ddpcr_cn_lower / 2, colour: COLOURS.ddpcr, label: `ddPCR threshold (CN > ${th.ddpcr_cn_lower})` });
  const ys = called.flatMap((s) => [s.ratio_low ?? s.ratio, s.ratio_high ?? s.ratio])
    .concat(noCalls.map((s) => s.ratio ?? 1), thresholds.map((x) => x.value), [1]);
  return new Chart(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      responsive: !opts.fixed, maintainAspectRatio: false, animation: false,
      scales: {
        x: { type: 'linear', min: Number.isFinite(lo) ? lo : today - 365, max: Number.isFinite(hi) ? hi : today,
          title: { display: true, text: 'Date of blood draw' },
          ticks: { callback: (v) => isoOf(v), maxRotation: 0, autoSkipPadding: 24, includeBounds: false },
          grid: { color: COLOURS.grid } },
        y: { min: Math.min(0.9, Math.min(...ys) - 0.02), max: Math.max(1.2, Math.max(...ys) + 0.03),
          title: { display: true, text: '1q21.3 copy ratio (1.00 = diploid)' }, grid: { color: COLOURS.grid } },
      },
      plugins: {
        // Datasets with nothing to show (no no-call, no ringed draw) stay out of the legend.
        legend: { position: 'bottom', labels: { filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 } },
        tooltip: { callbacks: { label: (c) => {
          const p = c.raw;
          if (p.ring) return `${p.s.accession} ${isoOf(p.x)}: cited by the alert (${p.role})`;
          if (p.alert) return `Alert: ${p.alert.kind.replaceAll('_', ' ')} (${p.alert.rule.replaceAll('_', ' ')})`;
          if (isNoCall(p.s)) return [`${p.s.accession} ${isoOf(p.x)}`, noCallText(p.s)];
          const head = `${p.s.accession} ${isoOf(p.x)}: ratio ${p.y.toFixed(3)} (${(p.lo ?? p.y).toFixed(3)}–${(p.hi ?? p.y).toFixed(3)})${p.s.z !== null && p.s.z !== undefined ? `, z ${p.s.z.toFixed(1)}` : ''}`;
          const th = thresholdText(p.s.thresholds, p.s.assay);
          const zp = Number.isFinite(p.s.z_personal) ? `personal baseline z ${p.s.z_personal.toFixed(1)}` : null;
          return [head, th ? `called ${p.s.call ? p.s.call.replace('_', ' ') : ''} at ${th}` : null, zp]
            .filter(Boolean);
        } } },
        trendDecor: {
          treatments: t.treatments.map((x) => ({ kind: x.kind, regimen: x.regimen, start: toDay(x.start_date),
            end: x.end_date ? toDay(x.end_date) : today })),
          events: t.events.map((e) => ({ kind: e.kind, day: toDay(e.date) })),
          thresholds,
        },
      },
    },
    plugins: [trendDecor],
  });
}

// Rings the draws (by sample id) an alert's evidence cites; roles: sample id -> role word.
// Returns how many draws are ringed.
export function highlightDraws(chart, sampleIds, roles = new Map()) {
  const ds = chart.data.datasets.find((d) => d.highlight);
  const bySample = new Map();
  for (const d of chart.data.datasets) {
    if (d.highlight || d.label === 'Alert') continue;
    for (const p of d.data) if (p.s) bySample.set(p.s.sample_id, p);
  }
  ds.data = sampleIds.filter((id) => bySample.has(id)).map((id) => {
    const p = bySample.get(id);
    return { x: p.x, y: p.y, s: p.s, ring: true, role: roles.get(id) || 'cited' };
  });
  chart.update('none');
  return ds.data.length;
}

// Chromosome boundaries, labels and the 1q21.3 band under the genome points.
const genomeDecor = {
  id: 'genomeDecor',
  beforeDatasetsDraw(chart, _args, o) {
    const { ctx, chartArea: a, scales: { x, y } } = chart;
    ctx.save();
    if (o.band) {
      ctx.fillStyle = COLOURS.band;
      const x0 = x.getPixelForValue(o.band.start);
      const x1 = Math.max(x0 + 3, x.getPixelForValue(o.band.end));
      ctx.fillRect(x0, a.top, x1 - x0, a.bottom - a.top);
      ctx.fillStyle = '#8a6d00';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText('1q21.3', x1 + 2, a.top + 12);
    }
    ctx.strokeStyle = '#c9ced6';
    ctx.fillStyle = '#555';
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    o.chroms.forEach((c, i) => {
      const px = x.getPixelForValue(c.offset);
      ctx.beginPath();
      ctx.moveTo(px, a.top);
      ctx.lineTo(px, a.bottom);
      ctx.stroke();
      const mid = x.getPixelForValue(c.offset + c.length / 2);
      if (i < 18 || i % 2 === 0) ctx.fillText(c.name.replace('chr', ''), mid, a.bottom + 12);
    });
    ctx.strokeStyle = '#888';
    ctx.beginPath();
    ctx.moveTo(a.left, y.getPixelForValue(0));
    ctx.lineTo(a.right, y.getPixelForValue(0));
    ctx.stroke();
    ctx.restore();
  },
};

export function genomeChart(canvas, s) {
  const b = s.bins;
  const chroms = [];
  const offset = new Map();
  let total = 0;
  b.chrom.forEach((c, i) => {
    if (!offset.has(c)) {
      offset.set(c, total);
      chroms.push({ name: c, offset: total, length: 0 });
    }
    const cur = chroms[chroms.length - 1];
    cur.length = Math.max(cur.length, b.end[i]);
    if (i + 1 === b.chrom.length || b.chrom[i + 1] !== c) total += cur.length;
  });
  // The y range follows the data (99th percentile of |log2|), within [0.6, 2], so a small
  // shift stays visible and an amplification is never cut.
  const abs = b.log2.filter((v, i) => v !== null && !b.masked[i]).map(Math.abs).sort((p, q) => p - q);
  const ylim = Math.min(2, Math.max(0.6, Math.ceil(((abs[Math.floor(0.99 * (abs.length - 1))] || 0) + 0.15) * 5) / 5));
  const clip = (v) => Math.max(-ylim, Math.min(ylim, v));
  const points = [];
  b.log2.forEach((v, i) => {
    if (v === null || b.masked[i]) return;
    points.push({ x: offset.get(b.chrom[i]) + (b.start[i] + b.end[i]) / 2, y: clip(v) });
  });
  const segs = [];
  for (const g of s.segments || []) {
    if (!offset.has(g.chrom)) continue;
    const o = offset.get(g.chrom);
    segs.push({ x: o + g.start, y: clip(g.mean) }, { x: o + g.end, y: clip(g.mean) }, { x: o + g.end, y: null });
  }
  const band = (s.regions || []).find((r) => r.name === '1q21.3');
  return new Chart(canvas, {
    type: 'scatter',
    data: { datasets: [
      { label: 'Bins (log2 ratio)', data: points, pointRadius: 1.5, borderColor: COLOURS.point,
        backgroundColor: COLOURS.point, order: 2 },
      { label: 'Segments', data: segs, showLine: true, spanGaps: false, pointRadius: 0,
        borderColor: COLOURS.segment, backgroundColor: COLOURS.segment, borderWidth: 2.5, order: 1 },
    ] },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
      layout: { padding: { bottom: 14 } },
      scales: {
        x: { type: 'linear', min: 0, max: total, ticks: { display: false }, grid: { display: false } },
        y: { min: -ylim, max: ylim, title: { display: true, text: 'log2 copy ratio' }, grid: { color: COLOURS.grid } },
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: { enabled: false },
        genomeDecor: { chroms, band: band && offset.has(band.chrom)
          ? { start: offset.get(band.chrom) + band.start, end: offset.get(band.chrom) + band.end } : null },
      },
    },
    plugins: [genomeDecor],
  });
}
