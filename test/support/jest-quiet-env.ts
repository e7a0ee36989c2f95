/**
 * Runs in every test file before its modules load, so test output holds only
 * what the tests say. Each variable is the library's own switch:
 * - POWERTOOLS_METRICS_DISABLED: Powertools Metrics prints no EMF lines
 *   (https://docs.powertools.aws.dev/lambda/typescript/latest/features/metrics/);
 *   a test that reads the EMF lines sets it back to 'false' for itself.
 * - POWERTOOLS_LOG_LEVEL=SILENT: Powertools Logger prints nothing
 *   (https://docs.powertools.aws.dev/lambda/typescript/latest/features/logger/).
 * - AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: the SDK's notice that
 *   future versions need a newer Node.js
 *   (@aws-sdk/core, src/submodules/client/emitWarningIfUnsupportedVersion.ts).
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
