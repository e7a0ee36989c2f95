#!/usr/bin/env node
/**
 * `npm run plan -- <state.json> [--json]`: what the reconciler would do with
 * the derived roles and ServiceAccounts a state file describes. Reads only
 * the file; talks to neither AWS nor Kubernetes.
 */
import * as fs from 'node:fs';
import { plan } from '../lambda/domain/planner';
import { formatPlan } from './plan-report';
import { parsePlanState } from './plan-state';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => string;
}

const USAGE =
  'usage: npm run plan -- <state.json> [--json]   (state format: examples/plan/README.md)';

/** Runs the command; returns the exit code (2 for bad input). */
export function main(args: readonly string[], io: Io): number {
  const json = args.includes('--json');
  const files = args.filter((a) => a !== '--json');
  if (files.length !== 1 || files[0].startsWith('-')) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const [file] = files;
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    io.err(`cannot read ${file}: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    io.err(`${file} is not valid JSON: ${(e as Error).message}\n`);
    return 2;
  }
  const checked = parsePlanState(parsed);
  if ('problems' in checked) {
    io.err(
      `${file} is not a valid state file:\n${checked.problems.map((p) => `  ${p}`).join('\n')}\n`,
    );
    return 2;
  }
  const result = plan(checked.state);
  io.out(json ? `${JSON.stringify(result, null, 2)}\n` : formatPlan(result));
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    readFile: (p) => fs.readFileSync(p, 'utf8'),
  });
}
