import { CfnParameter, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { ClusterOidcProvider } from '../../lib/cluster-oidc-provider';
import { newApp } from '../support/example-app';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E';

describe('ClusterOidcProvider', () => {
  test('creates a native provider for sts.amazonaws.com, with no custom-resource Lambda', () => {
    const stack = new Stack(newApp(), 'T');
    const p = new ClusterOidcProvider(stack, 'P', {
      clusterName: 'prod',
      issuerUrl: `https://${ISSUER}`,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: `https://${ISSUER}`,
      ClientIdList: ['sts.amazonaws.com'],
    });
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('Custom::AWSCDKOpenIdConnectProvider', 0);
    expect(p.issuer).toBe(ISSUER);
  });

  test('drops a trailing "/" from the issuer URL, which no token carries (issue 11)', () => {
    const stack = new Stack(newApp(), 'T');
    const p = new ClusterOidcProvider(stack, 'P', {
      clusterName: 'prod',
      issuerUrl: `https://${ISSUER}/`,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: `https://${ISSUER}`,
    });
    expect(p.issuer).toBe(ISSUER);
  });

  test('imports an existing provider by ARN, with a literal issuer', () => {
    const stack = new Stack(newApp(), 'T');
    const arn = `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`;
    const p = new ClusterOidcProvider(stack, 'P', { clusterName: 'prod', providerArn: arn });
    new iam.Role(stack, 'R', { assumedBy: new iam.OpenIdConnectPrincipal(p.provider) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Principal: { Federated: arn } }] },
    });
    expect(p.issuer).toBe(ISSUER);
    expect(p.provider.openIdConnectProviderArn).toBe(arn);
  });

  test('an ARN only known at deploy time gives a token issuer', () => {
    const stack = new Stack(newApp(), 'T');
    const p = new ClusterOidcProvider(stack, 'P', {
      clusterName: 'prod',
      providerArn: new CfnParameter(stack, 'X', { type: 'String' }).valueAsString,
    });
    expect(Token.isUnresolved(p.issuer)).toBe(true);
  });

  test('exactly one of issuerUrl and providerArn, and https only', () => {
    const stack = new Stack(newApp(), 'T');
    expect(() => new ClusterOidcProvider(stack, 'A', { clusterName: 'c' })).toThrow(
      /exactly one of issuerUrl/,
    );
    expect(
      () =>
        new ClusterOidcProvider(stack, 'B', {
          clusterName: 'c',
          issuerUrl: `https://${ISSUER}`,
          providerArn: 'arn:aws:iam::1:oidc-provider/x',
        }),
    ).toThrow(/exactly one/);
    expect(
      () =>
        new ClusterOidcProvider(stack, 'C', { clusterName: 'c', issuerUrl: `http://${ISSUER}` }),
    ).toThrow(/must start with https:\/\//);
  });
});
