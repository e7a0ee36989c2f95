import { IAMClient } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { IamAdapter } from '../adapters/iam/iam-adapter';
import { sendCfnResponse } from '../adapters/cloudformation/cfn-response';
import type { CfnResponse } from '../adapters/cloudformation/cfn-response';
import type { IamPort } from '../ports/iam-port';
import { deleteDerivedRoles } from '../uninstall/delete-derived-roles';

const propertiesSchema = z.object({
  Seeds: z
    .array(
      z.object({
        name: z.string().check(z.minLength(1)),
        path: z.string().check(z.startsWith('/')),
      }),
    )
    .check(z.minLength(1)),
});

export interface DerivedRoleCleanupDeps {
  readonly iam: IamPort;
  readonly logger: Logger;
  readonly respond: (
    event: CloudFormationCustomResourceEvent,
    response: CfnResponse,
  ) => Promise<void>;
}

/**
 * The custom resource that removes every derived role when the stack is
 * deleted, so `cdk destroy` leaves no role behind. Creates and updates do
 * nothing but answer; the bucket and its backups are not its business.
 */
export function createDerivedRoleCleanup(deps: DerivedRoleCleanupDeps) {
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const physicalResourceId =
      event.RequestType === 'Create'
        ? `derived-role-cleanup-${event.LogicalResourceId}`
        : event.PhysicalResourceId;
    const parsed = propertiesSchema.safeParse(event.ResourceProperties);
    if (!parsed.success) {
      await deps.respond(event, {
        status: 'FAILED',
        physicalResourceId,
        reason: `invalid properties: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      });
      return;
    }
    if (event.RequestType !== 'Delete') {
      await deps.respond(event, { status: 'SUCCESS', physicalResourceId });
      return;
    }
    try {
      const report = await deleteDerivedRoles(deps.iam, parsed.data.Seeds);
      deps.logger.info('derived roles deleted', { deleted: report.deleted, failed: report.failed });
      if (report.failed.length > 0) {
        await deps.respond(event, {
          status: 'FAILED',
          physicalResourceId,
          reason: `could not delete ${report.failed.length} derived role(s): ${report.failed
            .map((f) => `${f.role} (${f.error})`)
            .join('; ')}. Delete them by hand, or retry the stack deletion.`,
        });
        return;
      }
      await deps.respond(event, {
        status: 'SUCCESS',
        physicalResourceId,
        data: { Deleted: String(report.deleted.length) },
      });
    } catch (error) {
      deps.logger.error('derived role cleanup failed', { error });
      await deps.respond(event, {
        status: 'FAILED',
        physicalResourceId,
        reason: `derived role cleanup failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  };
}

const logger = new Logger({ serviceName: 'kubestash-irsa-cleanup' });
let built: ReturnType<typeof createDerivedRoleCleanup> | undefined;

export const handler = async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  built ??= createDerivedRoleCleanup({
    iam: new IamAdapter(new IAMClient({ maxAttempts: 8, retryMode: 'adaptive' })),
    logger,
    respond: sendCfnResponse,
  });
  return built(event);
};
