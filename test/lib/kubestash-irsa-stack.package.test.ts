import { App, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../../lib/config';
import type { ProjectConfigInput } from '../../lib/config';
import { addKubestashIrsaStack } from '../../lib/kubestash-irsa-app';
import { PROJECT_DIR, cdkJsonContext, exampleConfigInput } from '../support/example-app';

/**
 * The console template `npm run package` synthesizes (KubestashIrsaStackProps.siteParameters
 * through addKubestashIrsaStack's target), Lambda bundling skipped.
 */
function packaged(modify: (c: ProjectConfigInput) => void = () => {}) {
  const config = exampleConfigInput();
  modify(config);
  const app = new App({
    context: { ...cdkJsonContext(), config, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = addKubestashIrsaStack(
    app,
    PROJECT_DIR,
    {},
    {
      bucketName: 'example-artifacts',
      keyPrefix: 'kubestash-irsa/',
    },
  );
  const nag = new AwsSolutionsChecks(app).validateScope(stack);
  const template = Template.fromStack(stack);
  return { stack, nag, json: template.toJSON() as CfnTemplate, template };
}

interface CfnTemplate {
  Parameters: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Rules?: unknown;
  Metadata: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: unknown }>;
}

const SITE_PARAMETERS = [
  'ClusterName',
  'OidcIssuerUrl',
  'BackupBucketName',
  'BackupBucketMode',
  'BackupPrefix',
];

describe('KubestashIrsaStack, packaged for the CloudFormation console', () => {
  const { stack, nag, json, template } = packaged();

  test('every site value of the one-cluster, one-seed case is a labelled parameter in a group, defaulting to the config', () => {
    const iface = json.Metadata['AWS::CloudFormation::Interface'] as {
      ParameterGroups: { Label: { default: string }; Parameters: string[] }[];
      ParameterLabels: Record<string, { default: string }>;
    };
    const grouped = iface.ParameterGroups.flatMap((g) => g.Parameters);
    const expected = [
      ...SITE_PARAMETERS,
      'KubestashRoleAllowedNamespaces',
      'KubestashRoleOperatorNamespace',
      'KubestashRoleOperatorServiceAccount',
      'KubestashRoleRoleCreationLimit',
    ];
    expect(Object.keys(json.Parameters).sort()).toEqual([...expected].sort());
    expect(grouped.sort()).toEqual([...expected].sort());
    for (const name of expected) expect(iface.ParameterLabels[name]?.default).toMatch(/\w/);
    expect(iface.ParameterGroups.map((g) => g.Label.default).slice(0, 2)).toEqual([
      'EKS cluster',
      'Backup bucket',
    ]);
    const config = exampleConfigInput();
    expect(json.Parameters.ClusterName.Default).toBe(config.clusters[0].name);
    expect(json.Parameters.OidcIssuerUrl.Default).toBe(config.clusters[0].oidcIssuerUrl);
    expect(json.Parameters.BackupBucketName.Default).toBe(config.bucket.name);
    expect(json.Parameters.BackupPrefix.Default).toBe(config.bucket.prefix);
    expect(json.Parameters.BackupBucketMode.Default).toBe('new');
  });

  test('environment-agnostic and bootstrap-free: no account or region literal, no BootstrapVersion, assets in the named bucket', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
    expect(json.Parameters.BootstrapVersion).toBeUndefined();
    expect(json.Rules).toBeUndefined();
    const resources = JSON.stringify(json.Resources);
    expect(resources).not.toContain('cdk-hnb659fds');
    // The config's account appears only where the config names an ARN (the dump's secret).
    expect(resources.replaceAll(/arn:aws:secretsmanager:[^"]*/g, '')).not.toContain(
      exampleConfigInput().account,
    );
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThanOrEqual(3);
    for (const fn of Object.values(functions)) {
      const code = (fn.Properties as { Code: { S3Bucket: unknown; S3Key: unknown } }).Code;
      expect(code.S3Bucket).toBe('example-artifacts');
      expect(code.S3Key).toMatch(/^kubestash-irsa\/[0-9a-f]{64}\.zip$/);
    }
  });

  test('the cluster name and issuer reach the access entries, the reconciler and the OIDC provider', () => {
    for (const entry of Object.values(template.findResources('AWS::EKS::AccessEntry'))) {
      expect((entry.Properties as { ClusterName: unknown }).ClusterName).toEqual({
        Ref: 'ClusterName',
      });
    }
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: { Ref: 'OidcIssuerUrl' } });
    const reconciler = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(reconciler).toContain('"Ref":"ClusterName"');
    expect(reconciler).not.toContain(exampleConfigInput().clusters[0].name);
  });

  test('BackupBucketMode=existing leaves out the bucket and nothing else refers to it', () => {
    expect(json.Conditions?.CreateBucket).toEqual({
      'Fn::Equals': [{ Ref: 'BackupBucketMode' }, 'new'],
    });
    const conditional = Object.entries(json.Resources).filter(
      ([, r]) => r.Condition === 'CreateBucket',
    );
    expect(conditional.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::S3::Bucket',
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::S3::BucketPolicy',
    ]);
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: { Ref: 'BackupBucketName' } });
    const ids = conditional.map(([id]) => id);
    for (const [id, resource] of Object.entries(json.Resources)) {
      if (resource.Condition === 'CreateBucket') continue;
      const text = JSON.stringify(resource);
      for (const target of ids) {
        expect({ id, refersTo: text.includes(`"${target}"`) ? target : null }).toEqual({
          id,
          refersTo: null,
        });
      }
    }
  });

  test('cdk-nag AwsSolutions has no unacknowledged finding', () => {
    expect(nag.violations).toEqual([]);
    expect(nag.success).toBe(true);
  });

  test('layouts a single console form cannot express are refused with the fix', () => {
    const twoSeeds = (c: ProjectConfigInput) => {
      c.seeds[0].namespaces = ['demo'];
      c.allowedNamespaces = ['demo', 'other'];
      c.seeds.push({ ...c.seeds[0], name: 'OtherRole', namespaces: ['other'] });
    };
    expect(() => packaged(twoSeeds)).toThrow(ConfigError);
    expect(() => packaged(twoSeeds)).toThrow(/1 cluster\(s\) and 2 seed\(s\).*cdk deploy/);
    expect(() =>
      packaged((c) => {
        c.clusters[0] = {
          name: c.clusters[0].name,
          oidcProviderArn:
            'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC',
        };
      }),
    ).toThrow(/clusters\[0\]\.oidcProviderArn: .*give oidcIssuerUrl instead/);
    expect(() => packaged((c) => (c.bucket.prefix = ''))).toThrow(/bucket\.prefix: got ""/);
    expect(() => packaged((c) => (c.bucket.encryption = 'kms'))).toThrow(
      /bucket\.kmsKeyArn: missing with encryption "kms"/,
    );
  });

  test('without a package target the stack keeps its environment and has no site parameters', () => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    const plain = addKubestashIrsaStack(app, PROJECT_DIR, {});
    expect(plain.account).toBe(exampleConfigInput().account);
    const parameters = Object.keys(Template.fromStack(plain).toJSON().Parameters as object);
    for (const name of SITE_PARAMETERS) expect(parameters).not.toContain(name);
  });
});
