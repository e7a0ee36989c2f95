/**
 * IRSA subjects: the `sub` claim of a projected ServiceAccount token,
 * `system:serviceaccount:<namespace>:<name>`.
 */
const PREFIX = 'system:serviceaccount:';

export function serviceAccountSubject(namespace: string, name: string): string {
  return `${PREFIX}${namespace}:${name}`;
}

/** Compact mode's entry: every ServiceAccount of the namespace (needs StringLike). */
export function namespaceWildcardSubject(namespace: string): string {
  return `${PREFIX}${namespace}:*`;
}

export interface ParsedSubject {
  readonly namespace: string;
  readonly name: string;
}

/** Splits a subject, or undefined when it is not a ServiceAccount subject. */
export function parseSubject(subject: string): ParsedSubject | undefined {
  if (!subject.startsWith(PREFIX)) return undefined;
  const rest = subject.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1) return undefined;
  return { namespace: rest.slice(0, colon), name: rest.slice(colon + 1) };
}
