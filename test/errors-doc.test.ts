import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES } from '../src/core/ledger/rejections.ts';

const doc = readFileSync(new URL('../docs/ERRORS.md', import.meta.url), 'utf8');

/** The text under one `## ` heading, up to the next; empty when the heading is missing. */
function section(heading: string): string {
  const parts = doc.split(/^## /m);
  const part = parts.find((text) => text.startsWith(`${heading}\n`));
  return part ?? '';
}

const documented = [...section('Ledger rejections').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);

describe('docs/ERRORS.md', () => {
  it('lists every rejection code, in check order, and nothing else', () => {
    expect(documented).toEqual([...REJECTION_CODES]);
  });
});
