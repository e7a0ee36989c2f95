/**
 * Prints the size of the IAM decision tables (rows Allowed / Denied) per
 * example config and in total, and what the engine cannot decide:
 * `npm run iam:table-size`. The rows are those test/lib/kubestash-irsa-stack.iam.test.ts runs.
 */
import { decisionTables, unmodelled } from './iam-decision-tables';
import { StackIam, exampleConfigs } from './iam-simulation';

const configs = exampleConfigs();
const [builtIn] = configs;
const withAuditLogs = structuredClone(builtIn.input);
withAuditLogs.clusters[0].auditLogs = true;
let allowed = 0;
let denied = 0;
for (const { name, input } of [
  ...configs,
  { name: 'cdk.json with EKS audit logs', input: withAuditLogs },
]) {
  const stack = StackIam.fromConfig(input);
  const rows = decisionTables(stack);
  const a = rows.filter((r) => r.expect === 'Allowed').length;
  const d = rows.length - a;
  allowed += a;
  denied += d;
  const tables = new Set(rows.map((r) => r.table)).size;
  console.log(`${name}: ${rows.length} rows in ${tables} tables (${a} Allowed / ${d} Denied)`);
  for (const why of unmodelled(stack)) console.log(`  not modelled: ${why}`);
}
console.log(`total: ${allowed + denied} rows (${allowed} Allowed / ${denied} Denied)`);
