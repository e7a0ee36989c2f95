import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The README is for users (issue #13): under 250 lines, self-contained (the
 * project stands alone, so nothing outside the repository is linked), and every
 * relative link in it and in docs/ points at a file that exists.
 */

const ROOT = path.join(__dirname, '..');
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');

/** Markdown inline links `[text](target)`, without the `#anchor` part; external ones skipped. */
function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  for (const match of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = (match[1] ?? '').split('#')[0] ?? '';
    if (target === '' || /^[a-z]+:/i.test(target)) continue;
    out.push(target);
  }
  return out;
}

const markdownFiles = [
  README,
  ...fs
    .readdirSync(DOCS, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(DOCS, f)),
];

describe('README.md', () => {
  const text = fs.readFileSync(README, 'utf8');

  test('stays under 250 lines (maintainers’ material lives in docs/)', () => {
    expect(text.trimEnd().split('\n').length).toBeLessThan(250);
  });

  test('points at nothing outside the repository', () => {
    expect(text).not.toMatch(/\.\.\/shared|\]\(\.\.\//);
  });
});

describe.each(markdownFiles.map((f) => [path.relative(ROOT, f), f]))('%s', (_name, file) => {
  test('every relative link resolves to a file in the repository', () => {
    const dir = path.dirname(file);
    const broken = relativeLinks(fs.readFileSync(file, 'utf8')).filter((target) => {
      const resolved = path.resolve(dir, decodeURIComponent(target));
      return !resolved.startsWith(ROOT + path.sep) || !fs.existsSync(resolved);
    });
    expect(broken).toEqual([]);
  });
});
