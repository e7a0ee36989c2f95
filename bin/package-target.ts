/**
 * The AWS side of `npm run package`: check that the credentials work and the
 * bucket exists in the stack's region (each failure one line naming the fix),
 * publish the cloud assembly's file assets and template with the CDK's own
 * asset tooling (@aws-cdk/cdk-assets-lib, https://www.npmjs.com/package/@aws-cdk/cdk-assets-lib),
 * and build the console's quick-create link.
 *
 * Endpoints come from the SDK's own settings: AWS_ENDPOINT_URL or
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_STS point it at moto in the tests
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
import {
  AssetManifest,
  AssetPublishing,
  DefaultAwsClient,
  EventType,
} from '@aws-cdk/cdk-assets-lib';
import type {
  Account,
  ClientOptions,
  IAws,
  IECRClient,
  IPublishProgress,
  IS3Client,
  ISecretsManagerClient,
} from '@aws-cdk/cdk-assets-lib';
import * as path from 'node:path';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** A failure the user can fix; its message is one line naming field, value and fix. */
export class PackageError extends Error {}

/**
 * Who the credentials belong to (STS GetCallerIdentity).
 *
 * @throws PackageError when no credentials are found or STS refuses them
 */
export async function callerAccount(region: string): Promise<string> {
  try {
    const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
    return identity.Account ?? 'unknown';
  } catch (error) {
    const e = error as Error;
    throw new PackageError(
      `AWS credentials: ${e.name === 'CredentialsProviderError' ? 'none found' : `refused (${e.name}: ${firstLine(e.message)})`}; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, of the account the stack is for (\`aws sts get-caller-identity\` must work)`,
    );
  }
}

/**
 * The region S3 reports for the bucket (GetBucketLocation: an empty
 * LocationConstraint means us-east-1, "EU" the old name of eu-west-1,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
 *
 * @throws PackageError when the bucket does not exist, is not readable, or is in another region
 */
export async function checkBucket(bucket: string, region: string): Promise<void> {
  let location: string | undefined;
  try {
    const answer = await new S3Client({ region }).send(
      new GetBucketLocationCommand({ Bucket: bucket }),
    );
    location = answer.LocationConstraint;
  } catch (error) {
    const e = error as Error;
    if (e.name === 'NoSuchBucket') {
      throw new PackageError(
        `--bucket ${bucket}: no such bucket; create it with \`aws s3 mb s3://${bucket} --region ${region}\` or name an existing bucket in ${region}`,
      );
    }
    if (e.name === 'AccessDenied' || e.name === 'AllAccessDisabled') {
      throw new PackageError(
        `--bucket ${bucket}: exists but these credentials may not use it (${e.name}); name a bucket of this account, or allow s3:GetBucketLocation, s3:ListBucket and s3:PutObject on it`,
      );
    }
    throw new PackageError(`--bucket ${bucket}: S3 answered ${e.name}: ${firstLine(e.message)}`);
  }
  const actual =
    location === undefined || location === ''
      ? 'us-east-1'
      : location === 'EU'
        ? 'eu-west-1'
        : location;
  if (actual !== region) {
    throw new PackageError(
      `--bucket ${bucket}: the bucket is in ${actual}, not ${region}; Lambda reads its code only from a bucket in the stack's region: pass --region ${actual} to create the stack there, or name a bucket in ${region}`,
    );
  }
}

/** What publishing did to each object. */
export interface PublishedObject {
  /** The file in the cloud assembly it came from, e.g. `KubestashIrsa.template.json`. */
  readonly sourcePath: string;
  readonly key: string;
  readonly displayName: string;
  readonly uploaded: boolean;
}

/**
 * Publishes every file asset of the asset manifest `manifestFile` (the Lambda
 * zips and the template itself) to the destinations its asset manifest names.
 * An object already at its key is left alone: keys are content hashes, so an
 * existing key holds the same bytes (cdk-assets' own rule).
 *
 * @param log receives one progress line per zip and upload
 * @throws PackageError naming the first asset that failed
 */
export async function publishAssets(
  manifestFile: string,
  region: string,
  log: (line: string) => void,
): Promise<PublishedObject[]> {
  const manifest = AssetManifest.fromFile(manifestFile);
  const uploaded = new Set<string>();
  const publishing = new AssetPublishing(manifest, {
    aws: new RegionalAws(new DefaultAwsClient(), region),
    throwOnError: false,
    publishInParallel: true,
    progressListener: {
      // With parallel publishing `currentAsset` may name another asset: read the message.
      onPublishEvent(type: EventType, event: IPublishProgress) {
        const url = /s3:\/\/\S+/.exec(event.message)?.[0] ?? event.message;
        if (type === EventType.UPLOAD) {
          uploaded.add(url);
          log(`  upload    ${url}`);
        } else if (type === EventType.FOUND) {
          log(`  unchanged ${url}`);
        } else if (type === EventType.BUILD) {
          const source = /^Zip (\S+)/.exec(event.message)?.[1];
          log(`  zip       ${source === undefined ? event.message : path.basename(source)}`);
        }
      },
    },
  });
  await publishing.publish();
  const [failure] = publishing.failures;
  if (failure !== undefined) {
    throw new PackageError(
      `publishing ${failure.asset.displayName(false)}: ${firstLine(failure.error.message)}`,
    );
  }
  return manifest.files.map((file) => ({
    sourcePath: file.source.path ?? '',
    key: file.destination.objectKey,
    displayName: file.displayName(false),
    uploaded: uploaded.has(`s3://${file.destination.bucketName}/${file.destination.objectKey}`),
  }));
}

/**
 * The object's HTTPS URL as CloudFormation takes a TemplateURL: virtual-hosted
 * style, or path style for names with "." that a TLS wildcard does not cover
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html).
 */
export function s3ObjectUrl(bucket: string, region: string, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  return bucket.includes('.')
    ? `https://s3.${region}.amazonaws.com/${bucket}/${path}`
    : `https://${bucket}.s3.${region}.amazonaws.com/${path}`;
}

/**
 * The CloudFormation console's quick-create link: templateURL, stackName and
 * one `param_<Name>` per parameter, URL-encoded
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-console-create-stacks-quick-create-links.html).
 */
export function quickCreateUrl(options: {
  readonly region: string;
  readonly templateUrl: string;
  readonly stackName: string;
  readonly parameters: Readonly<Record<string, string>>;
}): string {
  const query = new URLSearchParams({
    templateURL: options.templateUrl,
    stackName: options.stackName,
    ...Object.fromEntries(Object.entries(options.parameters).map(([k, v]) => [`param_${k}`, v])),
  });
  return `https://console.aws.amazon.com/cloudformation/home?region=${encodeURIComponent(options.region)}#/stacks/quickcreate?${query.toString()}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/**
 * cdk-assets' SDK client with the region fixed: the template is
 * environment-agnostic, so its asset manifest names no region and the
 * default would be whatever the shell's profile says.
 */
class RegionalAws implements IAws {
  constructor(
    private readonly inner: DefaultAwsClient,
    private readonly region: string,
  ) {}

  discoverPartition(): Promise<string> {
    return this.inner.discoverPartition();
  }

  discoverDefaultRegion(): Promise<string> {
    return Promise.resolve(this.region);
  }

  discoverCurrentAccount(): Promise<Account> {
    return this.inner.discoverCurrentAccount();
  }

  discoverTargetAccount(options: ClientOptions): Promise<Account> {
    return this.inner.discoverTargetAccount(this.regional(options));
  }

  s3Client(options: ClientOptions): Promise<IS3Client> {
    return this.inner.s3Client(this.regional(options));
  }

  ecrClient(options: ClientOptions): Promise<IECRClient> {
    return this.inner.ecrClient(this.regional(options));
  }

  secretsManagerClient(options: ClientOptions): Promise<ISecretsManagerClient> {
    return this.inner.secretsManagerClient(this.regional(options));
  }

  private regional(options: ClientOptions): ClientOptions {
    return { ...options, region: options.region ?? this.region };
  }
}
