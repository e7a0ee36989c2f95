/**
 * Every IAM decision of the stack, proved by an independent policy engine
 * (test/support/iam-simulation.ts) rather than by reading the template: one
 * test per row of test/support/iam-decision-tables.ts, for the built-in config
 * and every examples/config/*.json (plus a variant with EKS audit logs on, the
 * only way the audit forwarder's role exists).
 */
import fc from 'fast-check';
import { roleArn } from '../../lambda/domain/iam-names';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE, SEED_TAG } from '../../lambda/ports/tag-keys';
import { decisionTables, unmodelled } from '../support/iam-decision-tables';
import type { DecisionRow } from '../support/iam-decision-tables';
import { StackIam, decide, exampleConfigs } from '../support/iam-simulation';
import type { ExampleConfig } from '../support/iam-simulation';

const ISSUER_KEY = /:(sub|aud)$/;

const withAuditLogs: ExampleConfig = (() => {
  const [builtIn] = exampleConfigs();
  const input = structuredClone(builtIn.input);
  input.clusters[0].auditLogs = true;
  return { name: 'cdk.json with EKS audit logs', input };
})();

describe.each([...exampleConfigs(), withAuditLogs].map((c) => [c.name, c] as const))(
  'IAM decisions for %s',
  (_name, example) => {
    const stack = StackIam.fromConfig(example.input);
    const rows = decisionTables(stack);

    test('every table has rows both ways, and what the engine cannot decide is named', () => {
      const tables = new Map<string, Set<string>>();
      for (const r of rows) tables.set(r.table, (tables.get(r.table) ?? new Set()).add(r.expect));
      for (const [table, outcomes] of tables) {
        expect({ table, outcomes: [...outcomes].sort() }).toEqual({
          table,
          outcomes: ['Allowed', 'Denied'],
        });
      }
      expect(unmodelled(stack)).toEqual(
        example.input.permissionsBoundaryArn === undefined
          ? []
          : expect.arrayContaining([expect.stringContaining(example.input.permissionsBoundaryArn)]),
      );
    });

    test('CreateRole (boundary and tags as required) is Allowed exactly directly under the derived path', async () => {
      const reconciler = stack.roleByDescription(/^kubestash-irsa reconciler: manages/);
      const identityPolicies = stack.identityPolicies(reconciler);
      const nameChars = fc.constantFrom(...'abcXYZ019_+=,.@-'.split(''));
      // Path characters are \x21-\x7E; a sub-path segment is any of them but "/" (and
      // "*", which the engine reads as a pattern in a request's ARN, not as a character).
      const segment = fc.string({
        unit: fc
          .integer({ min: 0x21, max: 0x7e })
          .filter((c) => c !== 0x2f && c !== 0x2a)
          .map((c) => String.fromCharCode(c)),
        minLength: 1,
        maxLength: 6,
      });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...stack.config.seeds.filter((x) => x.mode === 'irsa')),
          fc.string({ unit: nameChars, minLength: 1, maxLength: 8 }),
          fc.array(segment, { maxLength: 2 }),
          async (seed, suffix, subPath) => {
            const path = `${seed.derivedRolePath}${subPath.map((p) => `${seed.name}-${p}/`).join('')}`;
            const { decision } = await decide(
              {
                principal: stack.roleArn(reconciler),
                action: 'iam:CreateRole',
                resource: roleArn(stack.partition, stack.account, path, `${seed.name}-${suffix}`),
                resourceAccount: stack.account,
                context: {
                  'iam:PermissionsBoundary': stack.boundaryArn(stack.roleByName(seed.name)) ?? '',
                  [`aws:RequestTag/${SEED_TAG}`]: seed.name,
                  [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
                  'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG],
                },
              },
              { identityPolicies },
            );
            expect(decision).toBe(subPath.length === 0 ? 'Allowed' : 'Denied');
          },
        ),
        { numRuns: 40 },
      );
    }, 120_000);

    describe.each([...new Set(rows.map((r) => r.table))])('%s', (table) => {
      test.each(rows.filter((r) => r.table === table).map((r) => [r.name, r.expect, r] as const))(
        '%s → %s',
        async (_row, _expect, row: DecisionRow) => {
          const report = await decide(row.request, row.policies, {
            allowUnlistedKeys: row.webIdentity === true ? (k) => ISSUER_KEY.test(k) : undefined,
          });
          // The request is in the failure message, context keys and all.
          expect({ request: row.request, decision: report.decision }).toEqual({
            request: row.request,
            decision: row.expect,
          });
        },
      );
    });
  },
);
