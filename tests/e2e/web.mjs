// Browser test of the clinicians' pages: Debian's chromium driven by playwright-core against the
// real daemon seeded by tests/e2e/test_web.sh. Usage: node web.mjs BASE_URL TOKEN SHOT_DIR RELAPSE_ID
// Prints one line per check and a closing "N passed, N failed".
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, token, shots, relapseId] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(what, cond, detail = '') {
  if (cond) passed++;
  else { failed++; console.error(`FAIL: ${what} ${detail}`); }
}

const profile = mkdtempSync(join(tmpdir(), 'rw-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
const outside = [];
page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });

try {
  // Sign in: a wrong token is refused, the right one opens the cohort.
  await page.goto(`${base}/`);
  await page.waitForSelector('#token');
  await page.fill('#token', 'rw_not_a_token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.signin .error:not([hidden])');
  check('wrong token refused', (await page.textContent('.signin .error')).includes('not valid'));
  consoleErrors.length = 0; // the browser logs the refused request itself
  await page.screenshot({ path: join(shots, 'signin.png') });
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#cohort-table');
  await page.screenshot({ path: join(shots, 'cohort.png'), fullPage: true });

  // Cohort: the relapse patient comes first (open alerts first by default).
  const firstRow = page.locator('#cohort-table tbody tr').first();
  const firstState = await firstRow.locator('.badge').textContent();
  check('relapse patient first', firstState === 'Early relapse', `got ${firstState}`);
  const nRows = await page.locator('#cohort-table tbody tr').count();
  check('cohort lists every patient', nRows >= 3, `rows=${nRows}`);

  // Filter by state narrows the list.
  await page.selectOption('#state', 'early_relapse');
  await page.waitForFunction(() => location.hash.includes('state=early_relapse'));
  await page.waitForSelector('#cohort-table, .empty');
  const filtered = await page.locator('#cohort-table tbody tr').count();
  check('state filter', filtered >= 1 && filtered < nRows, `filtered=${filtered} of ${nRows}`);
  const states = await page.locator('#cohort-table tbody .badge').allTextContents();
  check('state filter keeps only that state', states.every((s) => s === 'Early relapse'));

  // Patient page: chart points and the alert.
  await page.goto(`${base}/#/patient/${relapseId}`);
  await page.waitForSelector('#trend canvas');
  const chart = await page.evaluate(() => {
    const c = Chart.getChart(document.querySelector('#trend canvas'));
    const ds = c.data.datasets;
    return {
      points: ds.filter((d) => d.label !== 'Alert').reduce((n, d) => n + d.data.length, 0),
      alerts: ds.find((d) => d.label === 'Alert').data.length,
      declared: Number(document.querySelector('#trend').dataset.points),
      drawn: c.getDatasetMeta(0).data.length,
    };
  });
  const series = await (await fetch(`${base}/api/v1/patients/${relapseId}/trend`, {
    headers: { Authorization: `Bearer ${token}` } })).json();
  const done = series.series.filter((s) => s.ratio !== null && s.ratio !== undefined).length;
  check('chart shows one point per analysed sample', chart.points === done && done >= 4,
    `points=${chart.points} done=${done}`);
  check('points drawn on the canvas', chart.drawn > 0);
  check('chart marks the alert', chart.alerts >= 1 && chart.alerts === series.alerts.length,
    `alerts=${chart.alerts}`);
  // Each draw shows the thresholds its result was called at, in the table and the tooltip.
  const shown = await page.locator('#samples-table tbody td.thresholds').allTextContents();
  const want = series.series.map((s) => (!s.thresholds ? '—' : s.assay === 'ddpcr'
    ? `CN lower bound > ${s.thresholds.ddpcr_cn_amplified}` : `z ≥ ${s.thresholds.z_amplified} (strong ≥ ${s.thresholds.z_strong})`));
  check('table shows each draw\'s thresholds', shown.length === want.length && done >= 4 &&
    shown.every((x, i) => x.startsWith(want[i])), `shown=${JSON.stringify(shown)} want=${JSON.stringify(want)}`);
  check('the thresholds come from the results', series.series.filter((s) => s.thresholds)
    .every((s) => s.thresholds.recorded === true && (s.thresholds.z_amplified ?? s.thresholds.ddpcr_cn_amplified) > 0));
  const tip = await page.evaluate(() => {
    const c = Chart.getChart(document.querySelector('#trend canvas'));
    const p = c.data.datasets[0].data.at(-1);
    return [].concat(c.options.plugins.tooltip.callbacks.label({ raw: p })).join(' | ');
  });
  check('tooltip names the thresholds of the point', /called .* at (z ≥ [0-9.]+|CN lower bound > [0-9.]+)/.test(tip), tip);
  // A no-call (insufficient quality) is a hollow marker with its reason, never a negative.
  const noCall = series.series.find((s) => s.call === 'insufficient_quality');
  const reason = noCall?.quality?.reason || '';
  const hollow = await page.evaluate((sampleId) => {
    const c = Chart.getChart(document.querySelector('#trend canvas'));
    const ds = c.data.datasets;
    const i = ds.findIndex((d) => d.noCall);
    if (i < 0) return null;
    const el = c.getDatasetMeta(i).data[0];
    const p = ds[i].data.find((q) => q.s.sample_id === sampleId);
    return {
      n: ds[i].data.length,
      fill: String(el?.options?.backgroundColor), stroke: String(el?.options?.borderColor),
      style: el?.options?.pointStyle, drawn: c.getDatasetMeta(i).data.length,
      elsewhere: ds.filter((d) => !d.noCall && d.label !== 'Alert')
        .some((d) => d.data.some((q) => q.s.sample_id === sampleId)),
      tip: p ? [].concat(c.options.plugins.tooltip.callbacks.label({ raw: p })).join(' | ') : '',
    };
  }, noCall?.sample_id);
  check('the no-call draw is in the trend, skipped with its reason',
    noCall && noCall.skipped === true && reason.length > 20, JSON.stringify(noCall));
  check('no-call drawn as a hollow marker', hollow && hollow.n === 1 && hollow.drawn === 1 &&
    hollow.style === 'circle' && /rgba\(0, 0, 0, 0\)|transparent/.test(hollow.fill) &&
    hollow.stroke !== hollow.fill && !hollow.elsewhere, JSON.stringify(hollow));
  check('no-call tooltip gives the reason', hollow &&
    hollow.tip.includes(`No call — insufficient quality: ${reason}`), hollow?.tip);
  const row = (await page.locator('#samples-table tbody tr', { hasText: noCall?.accession ?? '-' })
    .textContent()) || '';
  check('samples table: no call with its reason, not a negative',
    row.includes(`No call — insufficient quality: ${reason}`) && !/not.detected/i.test(row), row);
  const openAlerts = page.locator('article.alert.open');
  check('alert listed with its evidence', await openAlerts.count() >= 1 &&
    (await openAlerts.first().textContent()).includes('Rule'));
  await page.screenshot({ path: join(shots, 'patient.png'), fullPage: true });

  // Acknowledge with a comment, reload, still acknowledged.
  const alertId = await openAlerts.first().getAttribute('data-alert-id');
  await page.fill(`#ack-comment-${alertId}`, 'Imaging ordered (browser test)');
  await page.click(`article[data-alert-id="${alertId}"] button[type=submit]`);
  await page.waitForSelector(`article[data-alert-id="${alertId}"].acked`);
  await page.reload();
  await page.waitForSelector(`article[data-alert-id="${alertId}"]`);
  const acked = await page.locator(`article[data-alert-id="${alertId}"]`).getAttribute('class');
  check('acknowledged after reload', acked.includes('acked'));
  check('comment shown', (await page.locator(`article[data-alert-id="${alertId}"]`).textContent())
    .includes('Imaging ordered (browser test)'));

  // Sample page: the genome plot rendered with its bins and segments.
  await page.click('#samples-table tbody tr:last-child a');
  await page.waitForSelector('#genome canvas');
  const genome = await page.evaluate(() => {
    const c = Chart.getChart(document.querySelector('#genome canvas'));
    return { bins: c.data.datasets[0].data.length, declared: Number(document.querySelector('#genome').dataset.bins),
      segments: Number(document.querySelector('#genome').dataset.segments), width: c.width };
  });
  check('genome plot has points', genome.bins > 1000, `bins=${genome.bins}`);
  check('genome plot has segments', genome.segments >= 1);
  check('genome plot has a size', genome.width > 600);
  check('region scores shown', (await page.textContent('main')).includes('1q21.3'));
  await page.screenshot({ path: join(shots, 'sample.png'), fullPage: true });

  // Jobs page.
  await page.goto(`${base}/#/jobs`);
  await page.waitForSelector('#jobs-table');
  check('jobs listed', await page.locator('#jobs-table tbody tr').count() >= 1);
  await page.screenshot({ path: join(shots, 'jobs.png'), fullPage: true });

  // Narrow window: the cohort stays usable.
  await page.setViewportSize({ width: 420, height: 800 });
  await page.goto(`${base}/#/cohort`);
  await page.waitForSelector('#cohort-table');
  check('narrow window renders', await page.locator('#cohort-table tbody tr').count() === nRows);
  // Acknowledged, the relapse patient has no open alert but still ranks above the negatives.
  const stillFirst = await page.locator('#cohort-table tbody tr').first().locator('.badge').textContent();
  check('acknowledged relapse stays above negatives', stillFirst === 'Early relapse', `got ${stillFirst}`);
  await page.screenshot({ path: join(shots, 'cohort-narrow.png'), fullPage: true });

  // Keyboard: Tab reaches the first patient link.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${base}/#/cohort`);
  await page.waitForSelector('#cohort-table');
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.closest('#cohort-table') !== null);
  }
  check('patient links reachable by keyboard', reached);

  check('no console error', consoleErrors.length === 0, consoleErrors.join(' | '));
  check('nothing loaded from outside the daemon', outside.length === 0, outside.join(' '));
} catch (err) {
  failed++;
  console.error(`FAIL: ${err.stack || err}`);
  await page.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
