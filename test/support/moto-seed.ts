import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
} from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import {
  ALLOWED_NAMESPACES_TAG,
  DERIVED_ROLE_PATH_TAG,
  ROLE_CREATION_LIMIT_TAG,
} from '../../lambda/ports/tag-keys';

/** A managed policy standing for a seed's bucket access; returns its ARN. */
export async function createAccessPolicy(
  iam: IAMClient,
  name = 'KubestashPolicy',
): Promise<string> {
  const out = await iam.send(
    new CreatePolicyCommand({
      PolicyName: name,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::backups/*' },
        ],
      }),
    }),
  );
  return out.Policy?.Arn ?? '';
}

export interface SeedRoleOptions {
  /** @default 100 */
  readonly roleCreationLimit?: number;
  /** @default ['demo'] */
  readonly allowedNamespaces?: readonly string[];
  /** @default 'KubestashRole' (its policy `KubestashPolicy`; another seed's is `<name>Policy`) */
  readonly name?: string;
  /** @default '/kubestash-irsa/' */
  readonly derivedRolePath?: string;
}

/**
 * A seed role as the stack creates it (`KubestashRole` unless named, settings
 * in its tags, its access policy attached), in moto. Returns the policy's ARN.
 */
export async function createSeedRole(
  iam: IAMClient,
  options: SeedRoleOptions = {},
): Promise<string> {
  const name = options.name ?? 'KubestashRole';
  const policyArn = await createAccessPolicy(
    iam,
    name === 'KubestashRole' ? 'KubestashPolicy' : `${name}Policy`,
  );
  await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      Tags: [
        { Key: DERIVED_ROLE_PATH_TAG, Value: options.derivedRolePath ?? '/kubestash-irsa/' },
        { Key: ROLE_CREATION_LIMIT_TAG, Value: String(options.roleCreationLimit ?? 100) },
        { Key: ALLOWED_NAMESPACES_TAG, Value: (options.allowedNamespaces ?? ['demo']).join(' ') },
      ],
    }),
  );
  await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn }));
  return policyArn;
}
