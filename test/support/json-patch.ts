/**
 * Applies RFC 6902 `add` and `replace` operations the way the API server does
 * to a webhook's patch, so a test can look at the Job that would be stored.
 * Kept independent of the gate's code: it shares no helper with it.
 */
export function applyJsonPatch<T>(document: T, operations: readonly unknown[]): T {
  const root = structuredClone(document) as unknown;
  for (const operation of operations) {
    const { op, path, value } = operation as { op: string; path: string; value: unknown };
    if (op !== 'add' && op !== 'replace') throw new Error(`unsupported op ${op}`);
    const keys = path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) throw new Error(`empty path`);
    let parent = root as Record<string, unknown> | unknown[];
    for (const key of keys) {
      const next = (parent as Record<string, unknown>)[key];
      if (next === undefined || next === null || typeof next !== 'object') {
        throw new Error(`path ${path}: ${key} does not exist`);
      }
      parent = next as Record<string, unknown> | unknown[];
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(index) || index < 0 || index > parent.length) {
        throw new Error(`path ${path}: bad index`);
      }
      if (op === 'add') parent.splice(index, 0, value);
      else parent[index] = value;
    } else {
      if (op === 'replace' && !(last in parent))
        throw new Error(`path ${path}: nothing to replace`);
      parent[last] = value;
    }
  }
  return root as T;
}
