/**
 * The error catalogue and the code stay in step: every code the service answers with and
 * every reason the oracle gives is in docs/ERRORS.md, under its section, and each section
 * lists nothing the code does not have. (The ledger's table is checked, in order, by
 * test/errors-doc.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../../src/core/ledger/rejections.ts';
import { ORACLE_REASON_CODES } from '../../src/oracle/guards.ts';
import { SERVICE_ERROR_CODES } from '../../src/service/http/errors.ts';

const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');

/** The codes of the table under one `## ` heading (up to the next heading). */
function sectionCodes(heading: string): string[] {
  const part = doc.split(/^## /m).find((text) => text.startsWith(`${heading}\n`));
  if (part === undefined) throw new Error(`docs/ERRORS.md has no "## ${heading}" section`);
  return [...part.matchAll(/^\| `([A-Z_]+)` \| *(.*?) *\| *(.*?) *\|$/gm)].map((match) => {
    expect(match[2], `${match[1]}: meaning`).not.toBe('');
    expect(match[3], `${match[1]}: what to do`).not.toBe('');
    return match[1]!;
  });
}

describe('docs/ERRORS.md', () => {
  it('has the three sections, ledger first', () => {
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(headings).toEqual(['Ledger rejections', 'Service errors', 'Oracle reasons']);
  });

  it('documents every service error code, and only those', () => {
    const documented = sectionCodes('Service errors');
    for (const code of SERVICE_ERROR_CODES) expect(documented, code).toContain(code);
    expect([...documented].sort()).toEqual([...SERVICE_ERROR_CODES].sort());
  });

  it('documents every oracle reason code, and only those', () => {
    const documented = sectionCodes('Oracle reasons');
    for (const code of ORACLE_REASON_CODES) expect(documented, code).toContain(code);
    expect([...documented].sort()).toEqual([...ORACLE_REASON_CODES].sort());
  });

  it('documents every ledger rejection code', () => {
    const documented = sectionCodes('Ledger rejections');
    for (const code of REJECTION_CODES) expect(documented, code).toContain(code);
  });

  it('no service code collides with a ledger code (the API shows both under "code")', () => {
    for (const code of SERVICE_ERROR_CODES) expect(REJECTION_CODES as readonly string[]).not.toContain(code);
  });
});
