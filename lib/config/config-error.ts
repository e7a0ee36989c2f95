import type { z } from 'zod';

/**
 * A configuration problem, phrased for the person who has to fix it: every line
 * names the field, the value found there and what to do instead.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid kubestash-irsa configuration (cdk.json context "config", or -c config.<field>=<value>):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }

  static fromZod(error: z.ZodError, input: unknown): ConfigError {
    return new ConfigError(
      error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const field = ['config', ...path].map(String).join('.');
        const value = valueAt(input, path);
        const shown = value === undefined ? 'nothing' : JSON.stringify(value);
        return `${field}: got ${truncate(shown)}: ${issue.message}`;
      }),
    );
  }
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
