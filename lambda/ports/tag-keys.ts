/**
 * IAM tag keys this project writes. The reconciler reads the seed's tags to
 * learn the settings a CloudFormation console user may change, and its IAM
 * policy only lets it create roles that carry exactly these tags.
 */
export const TAG_PREFIX = 'kubestash-irsa.io';

/** On seed and derived roles: which part they play (`seed`). */
export const ROLE_KIND_TAG = `${TAG_PREFIX}/role`;
/** On derived roles: the seed they were cloned from. */
export const SEED_TAG = `${TAG_PREFIX}/seed`;
/** On derived roles: always `kubestash-irsa`. */
export const MANAGED_BY_TAG = `${TAG_PREFIX}/managed-by`;
export const MANAGED_BY_VALUE = 'kubestash-irsa';
/** On derived roles: when the role lost its last subject (ISO 8601). */
export const EMPTY_SINCE_TAG = `${TAG_PREFIX}/empty-since`;
/** On seeds: the IAM path under which its derived roles live. */
export const DERIVED_ROLE_PATH_TAG = `${TAG_PREFIX}/derived-role-path`;
/** On seeds: how many derived roles the reconciler may create. */
export const ROLE_CREATION_LIMIT_TAG = `${TAG_PREFIX}/role-creation-limit`;
/** On seeds: namespaces whose ServiceAccounts may be granted, space-separated. */
export const ALLOWED_NAMESPACES_TAG = `${TAG_PREFIX}/allowed-namespaces`;

/** The only tag keys the reconciler may set on a derived role. */
export const DERIVED_ROLE_TAG_KEYS: readonly string[] = [SEED_TAG, MANAGED_BY_TAG, EMPTY_SINCE_TAG];
