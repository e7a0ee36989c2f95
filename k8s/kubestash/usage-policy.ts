import type { UsableFrom } from '../../lib/config/kubernetes-config';

/** Label every namespace carries with its own name (Kubernetes ≥ 1.21). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** KubeStash's `usagePolicy`, shared by BackupStorage and RetentionPolicy. */
export interface UsagePolicy {
  readonly allowedNamespaces: {
    readonly from: 'All' | 'Same' | 'Selector';
    readonly selector?: {
      readonly matchExpressions: readonly {
        readonly key: string;
        readonly operator: 'In';
        readonly values: readonly string[];
      }[];
    };
  };
}

/**
 * Which namespaces may refer to a storage or retention object. The default,
 * `AllowedNamespaces`, is the same list the reconciler grants roles in, so a
 * BackupConfiguration elsewhere fails at once in KubeStash instead of waiting
 * for a role that never comes.
 */
export function usagePolicy(from: UsableFrom, allowedNamespaces: readonly string[]): UsagePolicy {
  switch (from) {
    case 'All':
    case 'Same':
      return { allowedNamespaces: { from } };
    case 'AllowedNamespaces':
      return {
        allowedNamespaces: {
          from: 'Selector',
          selector: {
            matchExpressions: [
              { key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...allowedNamespaces] },
            ],
          },
        },
      };
  }
}

/** The selector as the generated imports type it (mutable arrays). */
export function selectorJson(
  policy: UsagePolicy,
): { matchExpressions: { key: string; operator: string; values: string[] }[] } | undefined {
  const selector = policy.allowedNamespaces.selector;
  return selector === undefined
    ? undefined
    : {
        matchExpressions: selector.matchExpressions.map((e) => ({
          key: e.key,
          operator: e.operator,
          values: [...e.values],
        })),
      };
}
