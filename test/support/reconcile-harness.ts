import { IAMClient } from '@aws-sdk/client-iam';
import { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { KUBERNETES_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import type { SeedEnv } from '../../lambda/reconciler/reconciler-settings';
import { FaultyAwsHandler } from './faulty-aws-handler';
import type { FaultOptions } from './faulty-aws-handler';
import { KubernetesTestServer } from './kubernetes-test-server';
import { createSeedRole } from './moto-seed';
import type { SeedRoleOptions } from './moto-seed';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG, startMotoServer } from './moto-server';
import type { MotoServer } from './moto-server';

export const TEST_TOKEN = 'k8s-aws-v1.test-token';
export const TEST_ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/ABCDEF';
export const SEED_ARN = `arn:aws:iam::${MOTO_ACCOUNT}:role/KubestashRole`;
/** The seed as the stack describes it to the reconciler: one cluster, `prod`. */
export const SEED: SeedEnv = {
  name: 'KubestashRole',
  conditionOperator: 'StringLike',
  clusters: [
    {
      name: 'prod',
      issuer: TEST_ISSUER,
      providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${TEST_ISSUER}`,
    },
  ],
};

export interface KubernetesClientOptions {
  /** @default 1 ms: retries stay fast in tests */
  readonly baseDelayMs?: number;
  /** One attempt per call: a dropped answer ends the pass, as the Lambda dying would. */
  readonly maxAttempts?: number;
  /** `limit` of list requests, to make a list take several pages. */
  readonly pageSize?: number;
}

/**
 * A real moto_server and the Kubernetes test server (enforcing the
 * reconciler's RBAC rules) for one test file: started before its tests,
 * emptied before each, stopped after all. Its clients talk to them as the
 * Lambda's would.
 */
export class ReconcileHarness {
  private state: { moto: MotoServer; server: KubernetesTestServer } | undefined;
  private readonly clients: KubernetesHttpClient[] = [];

  /** Registers the jest hooks that start, reset and stop the servers. */
  static forJest(): ReconcileHarness {
    const harness = new ReconcileHarness();
    beforeAll(() => harness.start());
    afterAll(() => harness.stop());
    beforeEach(async () => {
      await harness.moto.reset();
      harness.server.reset();
    });
    return harness;
  }

  /** Outside jest (a script such as bin/migrate-fixture.ts): started now; call `stop()` when done. */
  static async startOutsideJest(): Promise<ReconcileHarness> {
    const harness = new ReconcileHarness();
    await harness.start();
    return harness;
  }

  private async start(): Promise<void> {
    this.state = {
      moto: await startMotoServer(),
      server: await new KubernetesTestServer({
        acceptToken: TEST_TOKEN,
        rbacRules: KUBERNETES_RBAC_RULES,
      }).start(),
    };
  }

  /** Closes the clients and stops both servers. */
  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.state?.server.stop();
    await this.state?.moto.stop();
  }

  get moto(): MotoServer {
    return this.started().moto;
  }

  get server(): KubernetesTestServer {
    return this.started().server;
  }

  /** An IAM client on moto; with `faults`, through a FaultyAwsHandler the caller can inspect. */
  iam(faults?: FaultOptions): { client: IAMClient; handler: FaultyAwsHandler } {
    const handler = new FaultyAwsHandler(faults ?? {});
    const client = new IAMClient({
      ...MOTO_CLIENT_CONFIG,
      endpoint: this.moto.endpoint,
      requestHandler: handler,
      maxAttempts: 5,
    });
    return { client, handler };
  }

  kubernetes(options: KubernetesClientOptions = {}): KubernetesHttpClient {
    const server = this.server;
    const client = new KubernetesHttpClient({
      connection: async () => ({ server: server.url, caPem: server.caPem }),
      tokens: { token: async () => TEST_TOKEN, invalidate: () => {} },
      retry: {
        baseDelayMs: options.baseDelayMs ?? 1,
        ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      },
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    });
    this.clients.push(client);
    return client;
  }

  /** The seed role `KubestashRole` (or as `options` say) with its policy and settings tags. */
  createSeed(roleCreationLimit = 100, options: SeedRoleOptions = {}): Promise<string> {
    return createSeedRole(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: this.moto.endpoint }), {
      roleCreationLimit,
      ...options,
    });
  }

  private started(): { moto: MotoServer; server: KubernetesTestServer } {
    if (this.state === undefined) throw new Error('the harness starts in beforeAll');
    return this.state;
  }
}
