/**
 * What lib/lambda-bundle.ts ships: esbuild bundles each handler under
 * lambda/handlers with every import it reaches (externalModules: []). The IAM
 * policy engine the tests use (@cloud-copilot/iam-simulate) is AGPL-3.0 and
 * must never be among them; neither may any other GPL-family package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_DIR } from '../support/example-app';

const HANDLERS = path.join(PROJECT_DIR, 'lambda', 'handlers');

/** The npm packages an entry point's bundle contains, with their declared licences. */
async function bundledPackages(
  entry: { file: string } | { source: string },
): Promise<Map<string, string>> {
  const { metafile } = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.source, resolveDir: PROJECT_DIR, loader: 'ts' } }),
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    logLevel: 'silent',
  });
  const packages = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match === null || packages.has(match[1])) continue;
    const manifest = JSON.parse(
      fs.readFileSync(path.join(PROJECT_DIR, 'node_modules', match[1], 'package.json'), 'utf8'),
    ) as { license?: string };
    packages.set(match[1], manifest.license ?? 'UNKNOWN');
  }
  return packages;
}

const copyleft = (packages: Map<string, string>) =>
  [...packages].filter(
    ([name, licence]) => /GPL/i.test(licence) || name.startsWith('@cloud-copilot/'),
  );

describe('Lambda bundles', () => {
  const handlers = fs.readdirSync(HANDLERS).filter((f) => f.endsWith('.ts'));

  test.each(handlers)(
    '%s bundles no AGPL/GPL package (the IAM engine is test-only)',
    async (file) => {
      const packages = await bundledPackages({ file: path.join(HANDLERS, file) });
      expect(packages.size).toBeGreaterThan(0);
      expect(copyleft(packages)).toEqual([]);
    },
    60_000,
  );

  test('the check sees the engine when code does import it (control)', async () => {
    const packages = await bundledPackages({
      source: "export { runSimulation } from '@cloud-copilot/iam-simulate';",
    });
    expect(copyleft(packages).map(([name]) => name)).toContain('@cloud-copilot/iam-simulate');
  }, 60_000);
});
