import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResources } from './nag-acknowledgments';

const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface ProjectFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'bundling'
> {
  /** The handler file under `lambda/handlers/`, without extension. */
  readonly handlerFile: string;
  /** @default 1 month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Lambda function built from this repository with local esbuild (never
 * Docker): minified, the AWS SDK bundled at the version package-lock.json pins
 * instead of whatever the runtime carries, on the newest Node.js runtime.
 */
export function projectFunction(
  scope: Construct,
  id: string,
  props: ProjectFunctionProps,
): NodejsFunction {
  const { handlerFile, logRetention, role, ...rest } = props;
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // An explicit role with write access to this one log group, instead of the
  // AWSLambdaBasicExecutionRole managed policy (logs:* on every group).
  const executionRole =
    role ??
    new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${handlerFile}`,
    });
  const writeLogs = new iam.PolicyStatement({
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [logGroup.logGroupArn],
  });
  executionRole.addToPrincipalPolicy(writeLogs);
  acknowledgeWildcardResources(
    executionRole,
    [writeLogs],
    'Lambda creates its log streams at run time; the wildcard is the streams of this function’s own log group.',
    (key) => key.endsWith(':*'),
  );
  return new NodejsFunction(scope, id, {
    entry: path.join(PROJECT_ROOT, 'lambda', 'handlers', `${handlerFile}.ts`),
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    timeout: Duration.seconds(60),
    logGroup,
    role: executionRole,
    loggingFormat: lambda.LoggingFormat.JSON,
    bundling: {
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node24',
      format: OutputFormat.CJS,
      externalModules: [],
      forceDockerBundling: false,
    },
    ...rest,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...rest.environment },
  });
}
