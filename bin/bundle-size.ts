import * as path from 'node:path';
import { buildSync } from 'esbuild';

/** Minified size in bytes of a handler bundled as the stack bundles it (esbuild, Node target, CJS). */
export function bundleSize(handlerFile: string): number {
  const bundle = buildSync({
    entryPoints: [path.join(__dirname, '..', 'lambda', 'handlers', `${handlerFile}.ts`)],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
  });
  return bundle.outputFiles[0].contents.length;
}
