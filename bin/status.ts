#!/usr/bin/env node
/**
 * `npm run status [-- --json]`: the live state of each seed, read with the
 * caller's AWS credentials: derived roles with their fill, ServiceAccounts
 * waiting or refused and why, Jobs the gate holds and for how long. Reads
 * only; the seeds and clusters come from the same config as `cdk synth`.
 */
import * as path from 'node:path';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { IamAdapter } from '../lambda/adapters/iam/iam-adapter';
import { EksClusterConnector } from '../lambda/adapters/kubernetes/eks-cluster-connector';
import { eksKubernetesClient } from '../lambda/adapters/kubernetes/eks-kubernetes-client';
import type { KubernetesHttpClient } from '../lambda/adapters/kubernetes/kubernetes-http-client';
import { ConfigError, loadConfigFromCdkJson } from '../lib/config';
import type { ProjectConfig } from '../lib/config';
import { explainStatusError } from './status-error';
import { readStatus } from './status-read';
import type { StatusDeps } from './status-read';
import { formatStatus } from './status-report';

export interface StatusIo {
  readonly out: (text: string) => void;
  /** The one-line error, and usage. */
  readonly err: (text: string) => void;
  /** Progress lines for a person watching; dropped when nobody is. */
  readonly progress: (line: string) => void;
}

/** Clients for the reads, and how to let go of them so the process can exit. */
export interface StatusConnection {
  readonly iam: StatusDeps['iam'];
  readonly kubernetes: StatusDeps['kubernetes'];
  readonly close: () => Promise<void>;
}

export interface StatusOptions {
  readonly loadConfig: () => ProjectConfig;
  readonly connect: (config: ProjectConfig) => StatusConnection;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

const USAGE = 'usage: npm run status [-- --json]';

/** Runs the command; returns the exit code (1 when the state could not be read, 2 for bad usage). */
export async function main(
  args: readonly string[],
  io: StatusIo,
  options: StatusOptions,
): Promise<number> {
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    io.err(`unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  let config: ProjectConfig;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`${error.message}\n`);
    return 2;
  }
  const connection = options.connect(config);
  try {
    const report = await readStatus(
      {
        iam: connection.iam,
        kubernetes: connection.kubernetes,
        now: options.now ?? (() => new Date()),
        progress: io.progress,
      },
      config,
    );
    io.out(args.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
    return 0;
  } catch (error) {
    io.err(`${explainStatusError(error, { region: config.region })}\n`);
    return 1;
  } finally {
    await connection.close();
  }
}

/**
 * The real clients: the default AWS credential chain (environment, profile,
 * SSO, instance role), IAM, and each cluster's API server reached with an EKS
 * token signed by those credentials.
 */
export function connectToAws(config: ProjectConfig): StatusConnection {
  const iam = new IAMClient({ region: config.region, maxAttempts: 5 });
  const eks = new EKSClient({ region: config.region, maxAttempts: 3 });
  const connector = new EksClusterConnector(eks);
  const clients = new Map<string, KubernetesHttpClient>();
  return {
    iam: new IamAdapter(iam),
    kubernetes: (cluster) => {
      let client = clients.get(cluster);
      if (client === undefined) {
        client = eksKubernetesClient({
          clusterName: cluster,
          region: config.region,
          connector,
          credentials: () => eks.config.credentials(),
        });
        clients.set(cluster, client);
      }
      return client;
    },
    close: async () => {
      await Promise.all([...clients.values()].map((c) => c.close()));
      iam.destroy();
      eks.destroy();
    },
  };
}

if (require.main === module) {
  void main(
    process.argv.slice(2),
    {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      progress: (line) => {
        if (process.stderr.isTTY) process.stderr.write(`${line}\n`);
      },
    },
    {
      loadConfig: () => loadConfigFromCdkJson(path.resolve(__dirname, '..')),
      connect: connectToAws,
    },
  ).then((code) => {
    process.exitCode = code;
  });
}
