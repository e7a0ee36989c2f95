import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The audience EKS projects into IRSA tokens. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

export interface ClusterOidcProviderProps {
  /** The EKS cluster's name (for naming and outputs only). */
  readonly clusterName: string;

  /**
   * The cluster's OIDC issuer URL; the stack creates an IAM OIDC provider for it.
   * A trailing "/" is dropped. Exactly one of `issuerUrl` and `providerArn` must be set.
   * @default - none
   */
  readonly issuerUrl?: string;

  /**
   * The ARN of an IAM OIDC provider that already exists for the cluster.
   * @default - none
   */
  readonly providerArn?: string;
}

/**
 * The IAM OIDC provider through which a cluster's ServiceAccounts assume roles.
 * Created natively (`AWS::IAM::OIDCProvider`, no custom-resource Lambda) or imported.
 */
export class ClusterOidcProvider extends Construct {
  readonly clusterName: string;
  readonly provider: iam.IOidcProvider;
  /**
   * The issuer without `https://`, as trust-policy condition keys use it:
   * `oidc.eks.<region>.amazonaws.com/id/<id>`.
   */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: ClusterOidcProviderProps) {
    super(scope, id);
    this.clusterName = props.clusterName;
    if ((props.issuerUrl === undefined) === (props.providerArn === undefined)) {
      throw new Error(
        `ClusterOidcProvider for cluster "${props.clusterName}": set exactly one of issuerUrl (to create the provider) or providerArn (to import it)`,
      );
    }
    if (props.issuerUrl !== undefined) {
      // Tokens carry the issuer without a trailing "/": keys written `…/id/<ID>/:sub` match none.
      const url = Token.isUnresolved(props.issuerUrl)
        ? props.issuerUrl
        : props.issuerUrl.replace(/\/+$/, '');
      if (!Token.isUnresolved(url) && !url.startsWith('https://')) {
        throw new Error(
          `ClusterOidcProvider for cluster "${props.clusterName}": issuerUrl "${url}" must start with https://; copy it from \`aws eks describe-cluster --query cluster.identity.oidc.issuer\``,
        );
      }
      const provider = new iam.OidcProviderNative(this, 'Provider', {
        url,
        clientIds: [STS_AUDIENCE],
      });
      this.provider = provider;
      this.issuer = Token.isUnresolved(url)
        ? provider.oidcProviderIssuer
        : url.slice('https://'.length);
    } else {
      const arn = props.providerArn ?? '';
      this.provider = iam.OidcProviderNative.fromOidcProviderArn(this, 'Provider', arn);
      // A literal ARN gives a literal issuer, so condition keys need no deploy-time lookup.
      const marker = ':oidc-provider/';
      this.issuer =
        !Token.isUnresolved(arn) && arn.includes(marker)
          ? arn.slice(arn.indexOf(marker) + marker.length)
          : this.provider.openIdConnectProviderIssuer;
    }
  }
}
