/**
 * report.html and sweep.html in a real browser: Debian's Chromium driven by playwright-core.
 * The pages must render every chart (each with drawn marks of non-zero size) and log no
 * console error, with the network off: nothing may be fetched.
 *
 * Skipped, loudly, when /usr/bin/chromium is missing, unless REQUIRE_SERVICES=1.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { renderReportHtml } from '../src/sim/html.ts';
import { simulateMonteCarlo } from '../src/sim/montecarlo.ts';
import { loadScenarioPath } from '../src/sim/paths.ts';
import { configForPath, simulateScenario } from '../src/sim/simulate.ts';
import { parseSweep, runSweep, sweepHtml } from '../src/sim/sweep.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `simulate.browser.test.ts: ${CHROMIUM} is missing; the report.html browser test is SKIPPED`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${message} (REQUIRE_SERVICES=1)`);
  console.warn(`\n*** ${message} ***\n`);
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!available)('reports in headless Chromium', () => {
  const folder = mkdtempSync(join(tmpdir(), 'collateral-report-'));
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** Opens a file offline; returns console errors, page errors, requests made and chart facts. */
  async function open(file: string) {
    const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) requests.push(request.url());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('path, rect:not([width="10"]), circle')].filter((mark) => {
          const markBox = mark.getBoundingClientRect();
          return markBox.width > 0 || markBox.height > 0;
        });
        return { title: svg.querySelector('title')?.textContent ?? '', width: box.width, height: box.height, marks: marks.length };
      }),
    );
    const text = await page.textContent('body');
    await context.close();
    return { errors, requests, charts, text: text ?? '' };
  }

  it('report.html renders its charts (prices, fund, liquidations, ratio distribution) with no console error', async () => {
    const outcome = simulateScenario({ scenario: 'black-thursday-2020', accounts: 600, seed: 3 });
    if (!outcome.ok) throw new Error('simulate');
    const { report, run } = outcome.value;
    const file = join(folder, 'report.html');
    writeFileSync(file, renderReportHtml({ title: outcome.value.path.title, report, run, parameters: { accounts: '600' } }));
    const page = await open(file);
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]);
    const titles = page.charts.map((chart) => chart.title);
    for (const expected of ['BTC price (USD)', 'ETH price (USD)', 'Insurance fund and bad debt (USD)', 'Liquidations per step', 'Maintenance ratio (assets / liabilities): accounts per band']) {
      expect(titles).toContain(expected);
    }
    for (const chart of page.charts) {
      expect(chart.width, chart.title).toBeGreaterThan(200);
      expect(chart.height, chart.title).toBeGreaterThan(100);
      expect(chart.marks, chart.title).toBeGreaterThan(0);
    }
    expect(page.text).toContain('largest liquidations');
    expect(page.text).toContain(run.largest[0]?.explanation.slice(0, 40) ?? '');
  });

  it('a Monte Carlo report and a sweep page render too', async () => {
    const mc = simulateMonteCarlo({ accounts: 150, seed: 2, paths: 3, steps: 24 });
    if (!mc.ok) throw new Error('montecarlo');
    const mcFile = join(folder, 'mc.html');
    writeFileSync(mcFile, renderReportHtml({ title: 'Monte Carlo', report: mc.value.report, run: mc.value.worst, parameters: {}, monteCarlo: mc.value.report.monteCarlo }));
    const mcPage = await open(mcFile);
    expect(mcPage.errors).toEqual([]);
    expect(mcPage.text).toContain('Insurance-fund adequacy');
    expect(mcPage.charts.length).toBeGreaterThanOrEqual(6);

    const path = loadScenarioPath('usdc-depeg-2023');
    if (!path.ok) throw new Error('scenario');
    const config = configForPath(undefined, path.value);
    const spec = parseSweep('warningRatio=1.1:1.3:0.1');
    if (!config.ok || !spec.ok) throw new Error('sweep');
    const sweepFile = join(folder, 'sweep.html');
    writeFileSync(sweepFile, sweepHtml(runSweep({ path: path.value, config: config.value, accounts: 150, seed: 1, spec: spec.value })));
    const sweepPage = await open(sweepFile);
    expect(sweepPage.errors).toEqual([]);
    expect(sweepPage.charts).toHaveLength(2);
    for (const chart of sweepPage.charts) expect(chart.marks).toBeGreaterThan(0);
  });
});
