import * as fs from 'node:fs';
import { alphanumeric } from '../lib/config/project-config';

/** Where `cdk deploy --outputs-file` writes, relative to the project. */
export const DEFAULT_OUTPUTS_FILE = 'outputs.json';
export const OUTPUTS_FILE_ENV = 'KUBESTASH_IRSA_OUTPUTS_FILE';

/** The stack's output naming a cluster's job-gate token secret (written by the stack, read here). */
export function jobGateTokenOutput(cluster: string): string {
  return `JobGateTokenSecret${alphanumeric(cluster)}`;
}

/**
 * A deployed value the manifests need and cannot have: a problem for the
 * person running synth (deploy first, or fix the file), reported like a
 * config error, without a stack trace.
 */
export class StackOutputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackOutputsError';
  }
}

/**
 * Values the stack knows only once deployed (the job gate's URL), read from
 * the file `cdk deploy --outputs-file` writes: `{ "<stack>": { "<key>": "<value>" } }`.
 * A value that is needed but missing is an error that says how to get it,
 * never an empty string in a manifest.
 */
export class StackOutputs {
  /** Reads the file if it exists; a missing file is fine until a value is asked for. */
  static load(file: string, stackName: string): StackOutputs {
    if (!fs.existsSync(file)) return new StackOutputs(file, stackName, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new StackOutputsError(
        `${file} is not valid JSON (${(e as Error).message}); write it again with: npx cdk deploy --outputs-file ${file}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new StackOutputsError(
        `${file} should map stack names to their outputs, as cdk deploy --outputs-file writes it`,
      );
    }
    const stack: unknown = (parsed as Record<string, unknown>)[stackName];
    const outputs: Record<string, string> = {};
    if (stack !== null && typeof stack === 'object') {
      for (const [key, value] of Object.entries(stack)) {
        if (typeof value === 'string') outputs[key] = value;
      }
    }
    return new StackOutputs(file, stackName, stack === undefined ? undefined : outputs);
  }

  private constructor(
    readonly file: string,
    readonly stackName: string,
    private readonly outputs: Readonly<Record<string, string>> | undefined,
  ) {}

  /** The output `key`, or an error naming what is missing and the command that provides it. */
  require(key: string, purpose: string): string {
    const fix = `run \`npx cdk deploy --outputs-file ${this.file}\`, then synthesize the manifests again (or point ${OUTPUTS_FILE_ENV} at the file)`;
    if (this.outputs === undefined) {
      throw new StackOutputsError(
        `The manifests need ${key} (${purpose}), which exists only after the stack ${this.stackName} is deployed, and ${this.file} has no outputs for ${this.stackName}: ${fix}`,
      );
    }
    const value = this.outputs[key];
    if (value === undefined || value.trim() === '') {
      throw new StackOutputsError(
        `The manifests need ${key} (${purpose}), but ${this.file} has no value for it under ${this.stackName} (it has ${Object.keys(this.outputs).join(', ') || 'no outputs'}); the stack may predate that output: ${fix}`,
      );
    }
    return value;
  }

  /** The output `key` if present. */
  get(key: string): string | undefined {
    return this.outputs?.[key];
  }
}
