/**
 * The trust policy of a derived role, as this project writes it: one statement
 * per cluster OIDC provider that has subjects in the role (seed 002's "derived
 * role" shape), and a statement that trusts nobody when the role is empty.
 *
 * Parsing accepts what IAM returns (URL-encoded JSON) and plain JSON, and says
 * what it did not recognise; comparison is by meaning (sets of subjects per
 * provider); rendering is canonical and minified, so its length is its size.
 */

export type ConditionOperator = 'StringLike' | 'StringEquals';

export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
export const STS_AUDIENCE = 'sts.amazonaws.com';
const VERSION = '2012-10-17';

/** A cluster's IAM OIDC provider: its ARN and its issuer (the ARN's part after `oidc-provider/`). */
export interface OidcProvider {
  readonly providerArn: string;
  readonly issuer: string;
}

/** The issuer an OIDC provider ARN names. */
export function issuerOfProviderArn(providerArn: string): string | undefined {
  const marker = ':oidc-provider/';
  const at = providerArn.indexOf(marker);
  return at < 0 ? undefined : providerArn.slice(at + marker.length);
}

export class TrustPolicyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustPolicyParseError';
  }
}

/** What a trust policy grants, in this project's terms. */
export interface ParsedTrustPolicy {
  /** Subjects per provider ARN, in document order, duplicates removed. */
  readonly grants: ReadonlyMap<string, readonly string[]>;
  /** The `sub` condition operators seen. */
  readonly operators: ReadonlySet<string>;
  /** Whether the document is the "trusts nobody" marker of an empty role. */
  readonly emptyMarker: boolean;
  /** Whatever the model does not describe, in words; a non-empty list means the document needs a rewrite. */
  readonly unrecognized: readonly string[];
}

/**
 * The text of a policy document as IAM returns it (RFC 3986 URL-encoded) or
 * given as plain JSON: what IAM measures against its size quota.
 * @throws TrustPolicyParseError when it is neither
 */
export function policyDocumentText(raw: string): string {
  return raw.trimStart().startsWith('{') ? raw : safeDecode(raw);
}

/** Decodes a policy document as IAM returns it (RFC 3986 URL-encoded) or as plain JSON. */
export function decodePolicyDocument(raw: string): unknown {
  const text = policyDocumentText(raw);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TrustPolicyParseError(`trust policy is not JSON: ${(e as Error).message}`);
  }
}

function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TrustPolicyParseError('trust policy is neither JSON nor URL-encoded JSON');
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function singleString(v: unknown): string | undefined {
  const list = asList(v);
  return list.length === 1 && typeof list[0] === 'string' ? list[0] : undefined;
}

export function parseTrustPolicy(raw: string): ParsedTrustPolicy {
  const doc = decodePolicyDocument(raw);
  if (!isObject(doc)) throw new TrustPolicyParseError('trust policy is not a JSON object');
  const grants = new Map<string, string[]>();
  const seen = new Map<string, Set<string>>();
  const operators = new Set<string>();
  const unrecognized: string[] = [];
  let denies = 0;
  let allows = 0;

  for (const key of Object.keys(doc)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id')
      unrecognized.push(`top-level key ${key}`);
  }
  const statements = doc.Statement === undefined ? [] : asList(doc.Statement);
  statements.forEach((statement, i) => {
    const where = `statement ${i + 1}`;
    if (!isObject(statement)) {
      unrecognized.push(`${where} is not an object`);
      return;
    }
    const federated = isObject(statement.Principal)
      ? singleString(statement.Principal.Federated)
      : undefined;
    const principalKeys = isObject(statement.Principal) ? Object.keys(statement.Principal) : [];
    const actions = asList(statement.Action);
    // IAM action names are case-insensitive; a list may add sts:TagSession.
    const webIdentity = actions.some(
      (a) => typeof a === 'string' && a.toLowerCase() === WEB_IDENTITY_ACTION.toLowerCase(),
    );
    const issuer = federated === undefined ? undefined : issuerOfProviderArn(federated);
    const extraKeys = Object.keys(statement).filter(
      (k) => !['Sid', 'Effect', 'Principal', 'Action', 'Condition'].includes(k),
    );
    if (
      federated === undefined ||
      issuer === undefined ||
      principalKeys.length !== 1 ||
      !webIdentity ||
      extraKeys.length > 0
    ) {
      unrecognized.push(`${where}: not a web-identity statement for one OIDC provider`);
      return;
    }
    if (actions.length !== 1) {
      unrecognized.push(
        `${where}: actions besides ${WEB_IDENTITY_ACTION} (${actions.filter((a) => a !== WEB_IDENTITY_ACTION).join(', ')})`,
      );
    }
    if (statement.Effect === 'Deny') {
      if (statement.Condition === undefined) denies++;
      else unrecognized.push(`${where}: a Deny with conditions`);
      return;
    }
    if (statement.Effect !== 'Allow') {
      unrecognized.push(`${where}: Effect ${JSON.stringify(statement.Effect)}`);
      return;
    }
    const found = readConditions(statement.Condition, issuer, where, unrecognized);
    if (found === undefined) return;
    const subjects = found.subjects;
    found.operators.forEach((op) => operators.add(op));
    allows++;
    const list = grants.get(federated) ?? [];
    const set = seen.get(federated) ?? new Set<string>();
    if (grants.has(federated)) unrecognized.push(`${where}: a second statement for ${federated}`);
    for (const s of subjects) {
      if (typeof s !== 'string') {
        unrecognized.push(`${where}: a subject that is not a string`);
        continue;
      }
      if (!set.has(s)) {
        set.add(s);
        list.push(s);
      }
    }
    grants.set(federated, list);
    seen.set(federated, set);
  });
  if (doc.Version !== VERSION) unrecognized.push(`Version ${JSON.stringify(doc.Version)}`);
  if (denies > 0 && allows > 0) unrecognized.push('both grants and a trusts-nobody statement');
  if (denies > 1) unrecognized.push('more than one trusts-nobody statement');
  return { grants, operators, emptyMarker: denies === 1 && allows === 0, unrecognized };
}

/**
 * Operators under which a `sub` condition lists subjects that may assume the
 * role. The canonical form puts `sub` and `aud` under one StringLike or
 * StringEquals block; the AWS documentation's form splits them (StringEquals
 * on `aud`, StringLike on `sub`), and hand edits use ForAnyValue:, which on
 * the single-valued `sub` key grants the same subjects. All of them are read,
 * so the subjects stay where they are; any form but the canonical one is
 * reported, so the statement is rewritten in place.
 * Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * and https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
 */
const SUBJECT_OPERATORS = new Set([
  'StringEquals',
  'StringLike',
  'ForAnyValue:StringEquals',
  'ForAnyValue:StringLike',
]);

/**
 * The subjects and `sub` operators of one Allow statement's Condition, adding
 * to `unrecognized` whatever is not the canonical single block; undefined (and
 * reported) when the condition is not an object of operator blocks at all.
 * Condition key names compare ignoring case, as IAM's do.
 */
function readConditions(
  condition: Json | undefined,
  issuer: string,
  where: string,
  unrecognized: string[],
): { subjects: unknown[]; operators: string[] } | undefined {
  if (!isObject(condition) || Object.keys(condition).length === 0) {
    unrecognized.push(`${where}: condition is not one StringLike or StringEquals block`);
    return undefined;
  }
  const subKey = `${issuer}:sub`.toLowerCase();
  const audKey = `${issuer}:aud`.toLowerCase();
  const ops = Object.keys(condition);
  if (ops.length !== 1 || (ops[0] !== 'StringLike' && ops[0] !== 'StringEquals')) {
    unrecognized.push(
      `${where}: condition is not one StringLike or StringEquals block (${ops.join(', ')})`,
    );
  }
  const subjects: unknown[] = [];
  const operators: string[] = [];
  let audiences = 0;
  for (const op of ops) {
    const block = condition[op];
    if (!isObject(block)) {
      unrecognized.push(`${where}: condition block ${op} is not an object`);
      continue;
    }
    for (const [key, value] of Object.entries(block)) {
      const lower = key.toLowerCase();
      if (lower === subKey && SUBJECT_OPERATORS.has(op)) {
        operators.push(op);
        subjects.push(...asList(value));
        if (key !== `${issuer}:sub`) unrecognized.push(`${where}: condition key ${key}`);
      } else if (lower === audKey && SUBJECT_OPERATORS.has(op)) {
        audiences++;
        if (singleString(value) !== STS_AUDIENCE) {
          unrecognized.push(`${where}: audience other than ${STS_AUDIENCE}`);
        }
        if (key !== `${issuer}:aud`) unrecognized.push(`${where}: condition key ${key}`);
      } else {
        unrecognized.push(`${where}: condition keys ${key}`);
      }
    }
  }
  if (audiences === 0) unrecognized.push(`${where}: no audience condition`);
  if (subjects.length === 0) unrecognized.push(`${where}: no subjects`);
  return { subjects, operators };
}

/** One statement to render: a provider and the subjects it lets in. */
export interface TrustGrant {
  readonly provider: OidcProvider;
  readonly subjects: readonly string[];
}

function renderStatement(
  provider: OidcProvider,
  subjects: readonly string[],
  operator: ConditionOperator,
): string {
  return JSON.stringify({
    Effect: 'Allow',
    Principal: { Federated: provider.providerArn },
    Action: WEB_IDENTITY_ACTION,
    Condition: {
      [operator]: {
        [`${provider.issuer}:sub`]: subjects,
        [`${provider.issuer}:aud`]: STS_AUDIENCE,
      },
    },
  });
}

/** The document of a role that trusts nobody (empty, waiting out its grace period). */
export function renderEmptyTrustPolicy(provider: OidcProvider): string {
  return JSON.stringify({
    Version: VERSION,
    Statement: [
      {
        Effect: 'Deny',
        Principal: { Federated: provider.providerArn },
        Action: WEB_IDENTITY_ACTION,
      },
    ],
  });
}

/**
 * The canonical, minified document: statements ordered by provider ARN,
 * subjects sorted, `sub` always a list. Providers without subjects get no statement.
 */
export function renderTrustPolicy(
  grants: readonly TrustGrant[],
  operator: ConditionOperator,
): string {
  const statements = grants
    .filter((g) => g.subjects.length > 0)
    .sort((a, b) => compare(a.provider.providerArn, b.provider.providerArn))
    .map((g) => renderStatement(g.provider, [...g.subjects].sort(compare), operator));
  return `{"Version":"${VERSION}","Statement":[${statements.join(',')}]}`;
}

/**
 * Exact size arithmetic for the canonical rendering, so placement checks are
 * O(1): the size of a document is `base + Σ statements + commas`, and a
 * statement's is `its base + Σ (subject + 2 quotes) + commas`.
 */
export class TrustPolicySizer {
  readonly documentBase = `{"Version":"${VERSION}","Statement":[]}`.length;
  private readonly statementBases = new Map<string, number>();

  constructor(private readonly operator: ConditionOperator) {}

  statementBase(provider: OidcProvider): number {
    let base = this.statementBases.get(provider.providerArn);
    if (base === undefined) {
      base = renderStatement(provider, [], this.operator).length;
      this.statementBases.set(provider.providerArn, base);
    }
    return base;
  }

  /** The characters a subject takes in a `sub` list: the string and its quotes. */
  static quotedLength(subject: string): number {
    return JSON.stringify(subject).length;
  }

  /** What adding a subject of `quotedLength` costs when the statement already holds `existing` subjects. */
  subjectCost(quotedLength: number, existing: number): number {
    return quotedLength + (existing > 0 ? 1 : 0);
  }

  /** What opening a statement for `provider` costs when the document already holds `existing` statements. */
  statementCost(provider: OidcProvider, existing: number): number {
    return this.statementBase(provider) + (existing > 0 ? 1 : 0);
  }
}

/** Code-point order, so rendering does not depend on the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
