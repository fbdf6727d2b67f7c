/**
 * The style of src/core, kept by a test (STYLE.md, practice 10; DESIGN.md "Numbers").
 *
 * The core is pure and deterministic: no floats, no clock, no randomness, no I/O, and it
 * imports nothing outside itself but `node:crypto` (hashing). Comments and string literals
 * are blanked out before scanning, so prose like "1e18 = 1.0" or a message "[0, 0.5)" is
 * not a violation, while code inside a template literal's `${…}` still is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CORE = join(REPO, 'src', 'core');
/** Shared test helpers (fixtures, vectors): core tests may import them; core sources may not. */
const TEST_SUPPORT = join(REPO, 'test');

// ---------------------------------------------------------------------------------------
// Tokenizer: blank comments, strings, template text and regular expression literals.

interface StringLiteral {
  /** Offset of the opening quote in the source. */
  readonly start: number;
  readonly value: string;
}

interface Stripped {
  /** The source with every non-code character replaced by a space (newlines kept). */
  readonly code: string;
  readonly strings: readonly StringLiteral[];
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

export function strip(source: string): Stripped {
  const out = source.split('');
  const strings: StringLiteral[] = [];
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };

  /** Whether a `/` at `at` can start a regex, judged from the code before it. */
  const regexAllowed = (at: number): boolean => {
    let k = at - 1;
    while (k >= 0 && /\s/.test(out[k]!)) k--;
    if (k < 0) return true;
    const previous = out[k]!;
    if (/[\w$]/.test(previous)) {
      let begin = k;
      while (begin > 0 && /[\w$]/.test(out[begin - 1]!)) begin--;
      return REGEX_AFTER_KEYWORD.has(out.slice(begin, k + 1).join(''));
    }
    return !/[)\]}]/.test(previous) || previous === '}';
  };

  /**
   * Scans code from `i`; returns the index after the `}` that closes a template
   * substitution when `inTemplate`, or the end of the source.
   */
  const scanCode = (start: number, inTemplate: boolean): number => {
    let i = start;
    let depth = 0;
    while (i < source.length) {
      const c = source[i]!;
      const next = source[i + 1];
      if (c === '/' && next === '/') {
        const end = source.indexOf('\n', i);
        const stop = end === -1 ? source.length : end;
        blank(i, stop);
        i = stop;
      } else if (c === '/' && next === '*') {
        const end = source.indexOf('*/', i + 2);
        const stop = end === -1 ? source.length : end + 2;
        blank(i, stop);
        i = stop;
      } else if (c === '"' || c === "'") {
        let k = i + 1;
        let value = '';
        while (k < source.length && source[k] !== c && source[k] !== '\n') {
          if (source[k] === '\\') {
            value += source[k + 1] ?? '';
            k += 2;
          } else {
            value += source[k];
            k += 1;
          }
        }
        strings.push({ start: i, value });
        blank(i, k + 1);
        i = k + 1;
      } else if (c === '`') {
        i = scanTemplate(i + 1);
      } else if (c === '/' && regexAllowed(i)) {
        let k = i + 1;
        let inClass = false;
        while (k < source.length && source[k] !== '\n') {
          const r = source[k];
          if (r === '\\') k += 1;
          else if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
          k += 1;
        }
        k += 1;
        while (k < source.length && /[a-z]/.test(source[k]!)) k += 1;
        blank(i, k);
        i = k;
      } else if (c === '{') {
        depth += 1;
        i += 1;
      } else if (c === '}') {
        if (inTemplate && depth === 0) return i + 1;
        depth -= 1;
        i += 1;
      } else {
        i += 1;
      }
    }
    return i;
  };

  /** Blanks template text from `start` (after the backtick); substitutions are scanned as code. */
  const scanTemplate = (start: number): number => {
    let i = start;
    const open = start - 1;
    blank(open, start);
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') {
        blank(i, i + 2);
        i += 2;
      } else if (c === '`') {
        blank(i, i + 1);
        return i + 1;
      } else if (c === '$' && source[i + 1] === '{') {
        blank(i, i + 2);
        const end = scanCode(i + 2, true);
        blank(end - 1, end);
        i = end;
      } else {
        blank(i, i + 1);
        i += 1;
      }
    }
    return i;
  };

  scanCode(0, false);
  return { code: out.join(''), strings };
}

// ---------------------------------------------------------------------------------------
// Rules.

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
}

/** Banned in non-test files of src/core, matched against code with comments and strings blanked. */
const RULES: readonly Rule[] = [
  {
    name: 'float literal',
    // 0.5, .5, 1e18, 1.5e-3, 1_000.5 — not part of an identifier or a hex literal (0x1e5)
    pattern: /(?<![\w$])(?:\d[\d_]*\.\d[\d_]*(?:[eE][+-]?\d+)?|\d[\d_]*[eE][+-]?\d+)|(?<![\w$)\]])\.\d/,
  },
  { name: 'Math', pattern: /\bMath\s*\./ },
  { name: 'parseFloat', pattern: /\bparseFloat\b/ },
  { name: 'Number(', pattern: /\bNumber\s*\(/ },
  { name: 'toFixed', pattern: /\btoFixed\b/ },
  { name: 'Date (clock)', pattern: /\bDate\b/ },
  { name: 'performance (clock)', pattern: /\bperformance\b/ },
  { name: 'timer', pattern: /\b(?:setTimeout|setInterval|setImmediate)\b/ },
  { name: 'process', pattern: /\bprocess\s*\./ },
  { name: 'require(', pattern: /\brequire\s*\(/ },
  { name: 'randomness', pattern: /\b(?:randomBytes|randomUUID|getRandomValues)\b/ },
  { name: 'console', pattern: /\bconsole\s*\./ },
  { name: 'dynamic import', pattern: /\bimport\s*\(/ },
];

/** Module specifiers a non-test core file may import besides `./` files inside src/core. */
const ALLOWED_PACKAGES = new Set(['node:crypto']);

/** Module specifiers of static imports and re-exports (and `import(…)` with a literal). */
function importSpecifiers(stripped: Stripped): StringLiteral[] {
  return stripped.strings.filter((literal) => {
    const before = stripped.code.slice(Math.max(0, literal.start - 200), literal.start);
    return /(?:\bfrom|\bimport|\bimport\s*\(|\brequire\s*\()\s*$/.test(before);
  });
}

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (source[k] === '\n') line += 1;
  return line;
}

function isInside(directory: string, path: string): boolean {
  const rel = relative(directory, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/**
 * Violations in one file of src/core, as "path:line: rule: code". `strict` applies the
 * purity rules and the package allow-list (non-test files); every file gets the import
 * boundary: no relative import leaves src/core (tests: except into test/).
 */
export function lintCoreFile(path: string, source: string, options: { strict: boolean }): string[] {
  const stripped = strip(source);
  const name = relative(REPO, path);
  const problems: string[] = [];
  if (options.strict) {
    stripped.code.split('\n').forEach((line, index) => {
      for (const rule of RULES) {
        if (rule.pattern.test(line)) problems.push(`${name}:${index + 1}: ${rule.name}: ${source.split('\n')[index]?.trim()}`);
      }
    });
  }
  for (const specifier of importSpecifiers(stripped)) {
    const line = lineOf(source, specifier.start);
    const text = specifier.value;
    if (text.startsWith('.') || text.startsWith('/')) {
      // Relative imports must stay in src/core (a subdirectory's '../fixed.ts' does). A test may
      // also use the shared test helpers under test/, which are not an edge.
      const target = resolve(dirname(path), text);
      const allowed = isInside(CORE, target) || (!options.strict && isInside(TEST_SUPPORT, target));
      if (!allowed) problems.push(`${name}:${line}: import from outside src/core: '${text}'`);
    } else if (options.strict && !ALLOWED_PACKAGES.has(text)) {
      problems.push(`${name}:${line}: import of '${text}' (core files import only './…' and node:crypto)`);
    }
  }
  return problems;
}

function tsFilesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return tsFilesUnder(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

const isTestFile = (path: string): boolean => path.endsWith('.test.ts');

// ---------------------------------------------------------------------------------------

describe('lint: src/core', () => {
  const files = tsFilesUnder(CORE);
  const sources = files.filter((path) => !isTestFile(path));

  it('finds the core sources', () => {
    const names = sources.map((path) => relative(CORE, path));
    expect(names).toEqual(expect.arrayContaining(['fixed.ts', 'config.ts', 'health.ts', 'prices.ts']));
  });

  it('non-test files use no floats, clock, randomness, I/O or console, and import only ./ and node:crypto', () => {
    const problems = sources.flatMap((path) => lintCoreFile(path, readFileSync(path, 'utf8'), { strict: true }));
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('reads each source to its end as code (a probe appended to every file is caught)', () => {
    // Guards the tokenizer: a string, comment or regex it failed to close would blank the rest
    // of the file and let violations through unseen.
    for (const path of sources) {
      const source = readFileSync(path, 'utf8');
      const probeLine = source.split('\n').length + 1;
      const problems = lintCoreFile(path, `${source}\nconst lintProbe = Math.floor(0.5);\n`, { strict: true });
      const name = relative(REPO, path);
      expect(problems, name).toEqual([
        `${name}:${probeLine}: float literal: const lintProbe = Math.floor(0.5);`,
        `${name}:${probeLine}: Math: const lintProbe = Math.floor(0.5);`,
      ]);
    }
  });

  it('no file under src/core (tests included) imports from outside src/core', () => {
    const problems = files.flatMap((path) => lintCoreFile(path, readFileSync(path, 'utf8'), { strict: false }));
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('lint: the lint itself catches what it should', () => {
  const file = join(CORE, 'example.ts');
  const lint = (source: string, strict = true): string[] => lintCoreFile(file, source, { strict });

  it.each([
    ['float literal', 'const half = 0.5;'],
    ['float literal', 'const x = .5;'],
    ['float literal', 'const wad = 1e18;'],
    ['float literal', 'const small = 1.5e-3;'],
    ['float literal', 'const big = 1_000.25;'],
    ['float literal', 'f(2E6)'],
    ['Math', 'const m = Math.max(a, b);'],
    ['Math', 'const m = Math .floor(a);'],
    ['parseFloat', 'const x = parseFloat(text);'],
    ['parseFloat', 'const x = Number.parseFloat(text);'],
    ['Number(', 'const x = Number(text);'],
    ['toFixed', 'const s = x.toFixed(2);'],
    ['Date (clock)', 'const now = Date.now();'],
    ['Date (clock)', 'const d = new Date();'],
    ['performance (clock)', 'const t = performance.now();'],
    ['timer', 'setTimeout(run, 10n);'],
    ['timer', 'const h = setInterval(run);'],
    ['process', 'const env = process.env.X;'],
    ['require(', "const fs = require('fs');"],
    ['randomness', 'const id = crypto.randomUUID();'],
    ['randomness', "import { randomBytes } from 'node:crypto';"],
    ['randomness', 'globalThis.crypto.getRandomValues(buffer);'],
    ['console', "console.log('x');"],
    ['dynamic import', "const m = await import('./fixed.ts');"],
    ['Math', 'const s = `${Math.max(a, b)} units`;'],
    ['float literal', 'const s = `a ${`b ${0.5}`} c`;'],
  ])('flags %s in %j', (rule, source) => {
    const problems = lint(source);
    expect(problems.some((problem) => problem.includes(`: ${rule}: `))).toBe(true);
    expect(problems[0]).toMatch(/^src[\\/]core[\\/]example\.ts:1: /);
  });

  it('names the line of the violation', () => {
    expect(lint('const a = 1n;\n\n// fine\nconst b = 0.25;\n')).toEqual(['src/core/example.ts:4: float literal: const b = 0.25;'.replace(/\//g, sep)]);
  });

  it.each([
    ['a float in a line comment', '// price 0.5 and 1e18 = 1.0; Math.max, Date, console.log'],
    ['a float in a block comment', '/* 1e18 = 1.0\n * Math.floor(process.env) */ const a = 1n;'],
    ['a float in a string', "const text = '[0, 0.5)';"],
    ['clock words in a string', 'const text = "Date.now() and Math.random()";'],
    ['template literal text', 'const text = `penalty 0.05 at ${rate} Math.x`;'],
    ['a regular expression', 'const RE = /^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$/;'],
    ['a regular expression with a slash in a class', 'const RE = /[/.]1.5/g; const b = 2n;'],
    ['bigint literals', 'const WAD = 10n ** 18n; const x = 1n << 40n;'],
    ['hex literals', 'const mask = 0x1e5;'],
    ['member access and numbers in names', 'const v = a.b1e5 + x2.y; const u8 = value.v2;'],
    ['Number.isInteger', 'if (!Number.isSafeInteger(value)) return;'],
    ['division', 'const q = a / b / c; const r = (a) / 2n;'],
    ['array index then property', 'const x = arr[1].y;'],
    ['names containing banned words', 'const updated = 1n; const mathematics = 2n; const processed = 3n;'],
    ['an escaped quote in a string', "const s = 'it\\'s 0.5'; const t = 1n;"],
  ])('does not flag %s', (_name, source) => {
    expect(lint(source)).toEqual([]);
  });

  it.each([
    ["import { x } from './fixed.ts';", true],
    ["import type { Account } from './account.ts';", true],
    ["export { x } from './fixed.ts';", true],
    ["export * from './ledger/events.ts';", true],
    ["import { createHash } from 'node:crypto';", true],
    ["import { readFile } from 'node:fs';", false],
    ["import { readFile } from 'node:fs/promises';", false],
    ["import http from 'node:http';", false],
    ["import { z } from 'zod';", false],
    ["import { main } from '../cli/main.ts';", false],
    ["import { x } from '../core/fixed.ts';", true], // resolves to src/core/fixed.ts
    ["import { wad } from '../../test/fixtures.ts';", false],
    ["import { x } from '/abs/path.ts';", false],
    ["import './side-effect.ts';", true],
    ["import 'node:fs';", false],
    ["import {\n  a,\n  b,\n} from '../service/app.ts';", false],
  ])('import %j allowed in a core source: %s', (source, allowed) => {
    expect(lint(source)).toEqual(allowed ? [] : [expect.stringContaining('import')]);
  });

  it('lets core tests import packages and test helpers, but not the edges', () => {
    expect(lint("import { it } from 'vitest';\nimport fc from 'fast-check';", false)).toEqual([]);
    expect(lint("import { x } from './fixed.ts';", false)).toEqual([]);
    expect(lint("import { wad } from '../../test/fixtures.ts';", false)).toEqual([]);
    expect(lint("import { x } from '../../bench/run.ts';", false)).toEqual([expect.stringContaining('outside src/core')]);
    const problems = lint("import { it } from 'vitest';\nimport { main } from '../cli/main.ts';", false);
    expect(problems).toEqual([expect.stringMatching(/example\.ts:2: import from outside src\/core: '\.\.\/cli\/main\.ts'/)]);
  });

  it('a subdirectory of src/core may import its parent, which is still the core', () => {
    const nested = join(CORE, 'ledger', 'state.ts');
    expect(lintCoreFile(nested, "import { x } from '../fixed.ts';", { strict: false })).toEqual([]);
    expect(lintCoreFile(nested, "import { x } from '../../cli/io.ts';", { strict: false })).toEqual([
      expect.stringContaining('outside src/core'),
    ]);
  });
});
