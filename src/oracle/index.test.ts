import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as oracle from './index.ts';

describe('src/oracle public exports', () => {
  it('are the ones this snapshot lists (change it on purpose, never by accident)', () => {
    expect(Object.keys(oracle).sort()).toMatchInlineSnapshot(`
      [
        "ATTESTATION_DOMAIN",
        "BUNDLED_SCENARIOS",
        "DEFAULT_GUARDS",
        "MAD_TO_SIGMA_WAD",
        "NO_ATTESTATION",
        "ORACLE_REASON_CODES",
        "Oracle",
        "SimulatedFeed",
        "Xoshiro128",
        "aggregateQuotes",
        "attestationMessage",
        "checksumAddress",
        "corePrice",
        "corePriceBook",
        "dispersionWad",
        "ed25519Publisher",
        "eip191Publisher",
        "formatSignificant",
        "freshQuotes",
        "halfLifeDecayWad",
        "loadScenario",
        "loadScenarioOrThrow",
        "medianDown",
        "medianUp",
        "parseOracleConfig",
        "parseScenario",
        "personalSign",
        "recoverEip191Address",
        "scenarioFrames",
        "scenarioTicks",
        "seriesTicks",
        "signEd25519",
        "signEip191",
        "singleSourceConfig",
        "stepMarkPrice",
        "stepStablePrice",
        "tickUpdate",
        "verifyAttestation",
      ]
    `);
  });
});

/**
 * The state machine and its guards take the clock as an argument and draw no randomness
 * (the feeds, which model a market and read files, are the edge and are exempt).
 */
describe('src/oracle keeps the clock and randomness out', () => {
  const directory = fileURLToPath(new URL('.', import.meta.url));
  const sources = readdirSync(directory).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));
  const banned: readonly (readonly [string, RegExp])[] = [
    ['Date (clock)', /\bDate\b/],
    ['performance (clock)', /\bperformance\s*\./],
    ['timer', /\b(?:setTimeout|setInterval|setImmediate)\b/],
    ['randomness', /\bMath\s*\.\s*random\b|\b(?:randomBytes|randomUUID|getRandomValues|randomSecretKey)\b/],
    ['float parsing', /\bparseFloat\b|\btoFixed\b/],
    ['process', /\bprocess\s*\./],
  ];

  it('finds the sources', () => {
    expect(sources).toEqual(expect.arrayContaining(['oracle.ts', 'guards.ts', 'aggregate.ts', 'signatures.ts', 'smoothing.ts']));
  });

  it('catches a probe, and ignores the same words in comments', () => {
    const probe = withoutComments('// Date.now() is banned\nconst now = Date.now();');
    expect(banned.filter(([, pattern]) => pattern.test(probe)).map(([rule]) => rule)).toEqual(['Date (clock)']);
    expect(banned.some(([, pattern]) => pattern.test(withoutComments('/* Math.random() */ const a = 1;')))).toBe(false);
  });

  it.each(['oracle.ts', 'guards.ts', 'aggregate.ts', 'config.ts', 'signatures.ts', 'smoothing.ts', 'window.ts', 'book.ts'])('%s', (name) => {
    const code = withoutComments(readFileSync(join(directory, name), 'utf8'));
    const problems = banned.filter(([, pattern]) => pattern.test(code)).map(([rule]) => rule);
    expect(problems).toEqual([]);
  });
});

/** Comments out (their prose may name what the code must not use); strings kept. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}
