#!/usr/bin/env node
/**
 * `npm run migrate -- --seed <name> [--apply]`: the move from AppsCode's
 * aws-credential-manager (docs/migration.md). Reports the manager's derived
 * roles of the seed, their live and stale subjects, the ServiceAccounts still
 * annotated with them and whether the manager's webhook is still registered;
 * with `--apply`, deletes the roles with nothing live. Dry-run by default.
 *
 * Uses the caller's AWS credentials (the default provider chain) for IAM and
 * for the clusters' API servers (an EKS token, as `aws eks get-token` makes):
 * the caller needs iam:ListRoles, ListRoleTags, GetRole,
 * ListAttachedRolePolicies, DetachRolePolicy, DeleteRole on the manager's
 * roles, and in each cluster list on serviceaccounts and on
 * admissionregistration.k8s.io mutatingwebhookconfigurations.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { IamAdapter } from '../lambda/adapters/iam/iam-adapter';
import { EksClusterConnector } from '../lambda/adapters/kubernetes/eks-cluster-connector';
import { eksKubernetesClient } from '../lambda/adapters/kubernetes/eks-kubernetes-client';
import { issuerOfProviderArn } from '../lambda/domain/trust-policy';
import { migrateSeed } from '../lambda/migration/migrate-seed';
import type { MigrateDeps } from '../lambda/migration/migrate-seed';
import { clustersOfSeed, ConfigError, loadConfigFromCdkJson } from '../lib/config';
import type { ClusterConfig, ProjectConfig } from '../lib/config';
import { formatMigration } from './migrate-report';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The configuration and the clients, built once the arguments are known to be good. */
export interface MigrateRuntime {
  readonly config: ProjectConfig;
  readonly iam: MigrateDeps['iam'];
  readonly kubernetes: MigrateDeps['kubernetes'];
}

const USAGE =
  'usage: npm run migrate -- --seed <name> [--apply] [--manager-path /] [--webhook-match aws-credential-manager]';

interface Args {
  readonly seed: string;
  readonly apply: boolean;
  readonly managerPath: string;
  readonly webhookMatch: string;
}

function parseArgs(args: readonly string[]): Args | string {
  let seed: string | undefined;
  let apply = false;
  let managerPath = '/';
  let webhookMatch = 'aws-credential-manager';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = (): string | undefined => {
      const next = args[i + 1];
      i++;
      return next === undefined || next.startsWith('--') ? undefined : next;
    };
    if (arg === '--apply') apply = true;
    else if (arg === '--seed') seed = value();
    else if (arg === '--manager-path') managerPath = value() ?? '';
    else if (arg === '--webhook-match') webhookMatch = value() ?? '';
    else return `unknown argument ${arg}`;
  }
  if (seed === undefined || seed === '') return '--seed needs the seed role name';
  if (!/^\/(.*\/)?$/.test(managerPath)) return '--manager-path must begin and end with /';
  if (webhookMatch === '') return '--webhook-match needs a value';
  return { seed, apply, managerPath, webhookMatch };
}

/** The issuer (no https://) of a configured cluster's OIDC provider. */
function issuerOf(cluster: ClusterConfig): string {
  if (cluster.oidcIssuerUrl !== undefined) return cluster.oidcIssuerUrl.replace(/^https:\/\//, '');
  return issuerOfProviderArn(cluster.oidcProviderArn ?? '') ?? '';
}

/** Runs the command; returns the exit code (2 for bad input, 1 when a deletion failed). */
export async function main(
  args: readonly string[],
  io: Io,
  runtime: () => MigrateRuntime = defaultRuntime,
): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`${parsed}\n${USAGE}\n`);
    return 2;
  }
  let env: MigrateRuntime;
  try {
    env = runtime();
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // The manager's seed may be a name this project does not use (docs/migration.md#status):
  // its roles are then looked for in every configured cluster.
  const configured = env.config.seeds.find((s) => s.name === parsed.seed);
  if (configured === undefined) {
    io.err(
      `migrate: ${parsed.seed} is not one of this project's seeds (${env.config.seeds.map((s) => s.name).join(', ')}); checking its roles against every configured cluster\n`,
    );
  }
  const clusters =
    configured === undefined ? env.config.clusters : clustersOfSeed(env.config, configured);
  io.err(
    parsed.apply
      ? `migrate: --apply: deleting the manager's roles of ${parsed.seed} that nothing live uses\n`
      : `migrate: dry run (nothing is changed; add --apply to delete)\n`,
  );
  const outcome = await migrateSeed(
    { iam: env.iam, kubernetes: env.kubernetes, progress: (line) => io.err(`  ${line}\n`) },
    {
      seed: parsed.seed,
      managerPath: parsed.managerPath,
      clusters: clusters.map((c) => ({
        name: c.name,
        issuer: issuerOf(c),
      })),
      namespaces: env.config.allowedNamespaces,
      managerWebhookMatch: parsed.webhookMatch,
      apply: parsed.apply,
    },
  );
  io.out(formatMigration(outcome, parsed.apply));
  return outcome.failed.length > 0 ? 1 : 0;
}

function defaultRuntime(): MigrateRuntime {
  const config = loadConfigFromCdkJson(process.cwd());
  const eks = new EKSClient({ region: config.region, maxAttempts: 5 });
  const connector = new EksClusterConnector(eks);
  const clients = new Map<string, ReturnType<typeof eksKubernetesClient>>();
  return {
    config,
    iam: new IamAdapter(new IAMClient({ region: config.region, maxAttempts: 8 })),
    kubernetes: (name) => {
      let client = clients.get(name);
      if (client === undefined) {
        client = eksKubernetesClient({
          clusterName: name,
          region: config.region,
          connector,
          credentials: () => eks.config.credentials(),
        });
        clients.set(name, client);
      }
      return client;
    },
  };
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `migrate failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
