import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GateTokenCache } from '../../lambda/gate/gate-token-cache';
import { createJobGateHandler } from '../../lambda/handlers/job-gate';
import type { EventPublisherPort } from '../../lambda/ports/event-publisher-port';
import type { ServiceAccountReader } from '../../lambda/ports/kubernetes-port';
import type { GateSettings } from '../../lambda/gate/gate-settings';
import type { GateTokenPort } from '../../lambda/ports/gate-token-port';

/** The example cluster's webhook token (as Secrets Manager would generate it: 48 letters and digits). */
export const GATE_TOKEN = 'Zq7mT4vXb9Kc2Lw8Hn5Rj3Ps6Df1Gy0Ua4Ek7Ox2Ni9Vt5Ml';
export const GATE_TOKEN_SECRET =
  'arn:aws:secretsmanager:us-east-1:111122223333:secret:gate-prod-AbCdEf';
/** The path the API server calls for the example cluster. */
export const GATE_PATH = `/clusters/prod-cluster/${GATE_TOKEN}`;

/** Gate settings as the stack sets them for the example config. */
export const SETTINGS: GateSettings = {
  allowedNamespaces: ['demo', 'prod'],
  buckets: [
    {
      bucket: 'kubestash-backups-111122223333',
      prefix: 'ace/production/backups/.kubestash-irsa-access-check/',
    },
  ],
  clusterSeeds: { 'prod-cluster': ['KubestashRole'] },
  seedNamespaces: { KubestashRole: ['demo', 'prod'] },
  clusterTokenSecrets: { 'prod-cluster': GATE_TOKEN_SECRET },
  accessCheckImage: 'amazon/aws-cli:2.27.50',
  accessCheckAttempts: 12,
  accessCheckDelaySeconds: 5,
  observeOnly: false,
  podIdentityClusters: [],
};

/**
 * Secrets Manager's staging for the gate's secrets, in memory: `rotate`
 * plays PutSecretValue (the new value becomes current, the old one previous).
 * It does not model versions beyond those two, nor throttling.
 */
export class InMemoryGateTokens implements GateTokenPort {
  readonly reads: string[] = [];
  private readonly values = new Map<string, string[]>();

  constructor(initial: Readonly<Record<string, string>> = { [GATE_TOKEN_SECRET]: GATE_TOKEN }) {
    for (const [secret, value] of Object.entries(initial)) this.values.set(secret, [value]);
  }

  rotate(secret: string, value: string): void {
    this.values.set(secret, [value, ...(this.values.get(secret) ?? []).slice(0, 1)]);
  }

  async tokensOf(secretId: string): Promise<readonly string[]> {
    this.reads.push(secretId);
    const values = this.values.get(secretId);
    if (values === undefined) throw new Error(`ResourceNotFoundException: ${secretId}`);
    return values;
  }
}

/** The gate's token cache over {@link InMemoryGateTokens}, as the handler builds it. */
export function fixtureTokens(
  store: GateTokenPort = new InMemoryGateTokens(),
  now: () => number = () => Date.now(),
): GateTokenCache {
  return new GateTokenCache({
    store,
    secrets: SETTINGS.clusterTokenSecrets,
    ttlMs: 60_000,
    now,
    onProblem: () => {},
  });
}

/**
 * The real gate handler with the example settings, publishing through
 * `publisher` and reading ServiceAccounts through `serviceAccounts`; `settle`
 * resolves once every hint it gave up waiting for (400 ms) has reached the bus.
 */
export function trackedGate(
  publisher: EventPublisherPort,
  serviceAccounts: ServiceAccountReader,
  logger: Logger,
  metrics: Metrics,
): { gate: ReturnType<typeof createJobGateHandler>; settle: () => Promise<void> } {
  const inFlight = new Set<Promise<unknown>>();
  const gate = createJobGateHandler({
    settings: SETTINGS,
    tokens: fixtureTokens(),
    publisher: {
      publish: (entries) => {
        const sent = publisher.publish(entries);
        const settled = sent.catch(() => undefined);
        inFlight.add(settled);
        void settled.then(() => inFlight.delete(settled));
        return sent;
      },
    },
    serviceAccounts: () => serviceAccounts,
    readBudgetMs: 2000,
    logger,
    metrics,
  });
  return {
    gate,
    settle: async () => {
      await Promise.all(inFlight);
    },
  };
}
