import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

const folder = mkdtempSync(join(tmpdir(), 'collateral-simulate-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('collateral simulate', () => {
  it('writes report.json and report.html and prints one line of JSON off a terminal', async () => {
    const out = join(folder, 'ftx');
    const { code, stdout } = await run(['simulate', '--scenario', 'ftx-2022', '--accounts', '300', '--seed', '4', '--out', out]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary).toMatchObject({ scenario: 'ftx-2022', seed: 4, conservation: 'held', healthyLiquidated: 0, report: join(out, 'report.json') });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.stateHash).toBe(summary.stateHash);
    expect(report.accounts).toBe(summary.accounts);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect((html.match(/<svg class="chart"/g) ?? []).length).toBeGreaterThanOrEqual(6);
  });

  it('takes a scenario file by path and a configuration file', async () => {
    const scenario = join(folder, 'drop.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        id: 'eth-drop',
        title: 'ETH falls 40% in four hours',
        source: 'made up for a test',
        unit: 'USD',
        timezone: 'UTC',
        series: {
          ETH: {
            granularity: '1h',
            candles: [
              { t: '2024-01-01T00:00:00Z', o: '3000', h: '3010', l: '2700', c: '2750' },
              { t: '2024-01-01T01:00:00Z', o: '2750', h: '2760', l: '2300', c: '2400' },
              { t: '2024-01-01T02:00:00Z', o: '2400', h: '2410', l: '1800', c: '1850' },
              { t: '2024-01-01T03:00:00Z', o: '1850', h: '1900', l: '1790', c: '1800' },
            ],
          },
        },
      }),
    );
    const config = join(folder, 'risk.json');
    writeFileSync(config, readFileSync(new URL('../../examples/risk.json', import.meta.url)));
    const out = join(folder, 'file');
    const { code, stdout } = await run(['simulate', '--scenario', scenario, '--config', config, '--accounts', '200', '--out', out]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.scenario).toBe('eth-drop');
    expect(report.timeline).toHaveLength(16);
    expect(JSON.parse(stdout).liquidations).toBeGreaterThan(0);
  });

  it('sweeps a parameter: prints a table, writes sweep.json, sweep.svg and sweep.html', async () => {
    const out = join(folder, 'sweep');
    const { code, stdout } = await run([
      'simulate', '--scenario', 'oct-2025-cascade', '--accounts', '200', '--out', out, '--sweep', 'liquidationPenalty=0.02:0.06:0.02',
    ]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^liquidationPenalty +liquidations +bad debt USD/);
    expect(lines.slice(2).map((line) => line.trim().split(/ +/)[0])).toEqual(['0.02', '0.04', '0.06']);
    const result = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(result.rows).toHaveLength(3);
    expect(readFileSync(join(out, 'sweep.svg'), 'utf8')).toMatch(/^<svg xmlns=/);
    expect(existsSync(join(out, 'sweep.html'))).toBe(true);
  });

  it('runs Monte Carlo paths with fund adequacy in the report', async () => {
    const out = join(folder, 'mc');
    const { code, stdout } = await run(['simulate', '--scenario', 'montecarlo', '--paths', '3', '--steps', '24', '--accounts', '150', '--out', out]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.scenario).toBe('montecarlo');
    expect(summary.fundNeededAt99Usd).toMatch(/^\d+\.\d{18}$/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.monteCarlo.adequacy.neededAt999Usd).toBe(summary.fundNeededAt999Usd);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Insurance-fund adequacy');
  });

  it.each([
    [['simulate'], '--scenario is required'],
    [['simulate', '--scenario', 'tulips-1637'], 'cannot read scenario "tulips-1637"'],
    [['simulate', '--scenario', 'ftx-2022', '--accounts', '1e3'], '--accounts: "1e3" is not a whole number'],
    [['simulate', '--scenario', 'ftx-2022', '--sweep', 'penalty'], 'expected param=from:to:step'],
    [['simulate', '--scenario', 'ftx-2022', '--insurance', '-5'], '--insurance'],
    [['simulate', '--scenario', 'ftx-2022', '--depth', 'ETH=0'], '--depth'],
    [['simulate', '--scenario', 'montecarlo', '--sweep', 'warningRatio=1:2:1'], 'does not combine with montecarlo'],
  ])('refuses %j with exit code 2', async (args, message) => {
    const { code, stderr, stdout } = await run([...args, '--out', join(folder, 'refused')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });
});
