import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  CONFIG_FINGERPRINT_METADATA_KEY,
  CONTEXT_ENV,
  ConfigError,
  configFingerprint,
  contextFromCdkJson,
  loadConfig,
} from '../../lib/config';
import { addKubestashIrsaStack } from '../../lib/kubestash-irsa-app';
import { PROJECT_DIR, cdkJsonContext } from '../support/example-app';

/** The CDK app as `cdk synth` builds it: cdk.json's context plus the -c flags (bundling skipped). */
function cdkApp(flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const app = new App({
    context: { ...cdkJsonContext(), ...flags, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = addKubestashIrsaStack(app, PROJECT_DIR, env);
  const metadata = stack.templateOptions.metadata ?? {};
  return { stack, fingerprint: metadata[CONFIG_FINGERPRINT_METADATA_KEY] as unknown };
}

/** What the cdk8s app reads for the same command line (k8s/main.ts). */
function k8sFingerprint(flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const context = contextFromCdkJson(PROJECT_DIR, {
    ...env,
    [CONTEXT_ENV]: JSON.stringify(flags),
  });
  return configFingerprint(context, loadConfig(context, PROJECT_DIR), PROJECT_DIR);
}

const EXAMPLE = 'examples/config/existing-bucket.json';

describe('addKubestashIrsaStack: one config route for both apps', () => {
  test('KUBESTASH_IRSA_CONFIG_FILE reaches the CDK app too, and both apps record the same config', () => {
    const env = { KUBESTASH_IRSA_CONFIG_FILE: EXAMPLE };
    const { stack, fingerprint } = cdkApp({}, env);
    const expected = loadConfig({ configFile: EXAMPLE }, PROJECT_DIR);
    expect(stack.stackName).toBe(expected.stackName);
    expect(fingerprint).toEqual(k8sFingerprint({}, env));
    expect(fingerprint).toMatchObject({ source: EXAMPLE });
  });

  test('-c overrides reach both apps alike, and the record names them', () => {
    const flags = { configFile: EXAMPLE, 'config.bucket.prefix': 'other/prefix' };
    const { fingerprint } = cdkApp(flags);
    expect(fingerprint).toEqual(k8sFingerprint(flags));
    expect(fingerprint).toMatchObject({ source: `${EXAMPLE}, -c config.bucket.prefix` });
    expect(fingerprint).not.toEqual(cdkApp({ configFile: EXAMPLE }).fingerprint);
  });

  test('the default is cdk.json, and a different config has a different hash', () => {
    const plain = cdkApp().fingerprint;
    expect(plain).toEqual(k8sFingerprint());
    expect(plain).toMatchObject({ source: 'cdk.json context "config"' });
    expect((plain as { sha256: string }).sha256).toMatch(/^[0-9a-f]{12}$/);
    expect(plain).not.toEqual(cdkApp({}, { KUBESTASH_IRSA_CONFIG_FILE: EXAMPLE }).fingerprint);
  });

  test('a file named by both -c configFile and the variable, differently, is refused', () => {
    const other = path.join(PROJECT_DIR, 'examples/config/multi-cluster-kms.json');
    expect(() => cdkApp({ configFile: EXAMPLE }, { KUBESTASH_IRSA_CONFIG_FILE: other })).toThrow(
      ConfigError,
    );
    expect(() => cdkApp({ configFile: EXAMPLE }, { KUBESTASH_IRSA_CONFIG_FILE: other })).toThrow(
      /name the config file once/,
    );
    // The same file named both ways is one file.
    expect(() =>
      cdkApp(
        { configFile: EXAMPLE },
        { KUBESTASH_IRSA_CONFIG_FILE: path.join(PROJECT_DIR, EXAMPLE) },
      ),
    ).not.toThrow();
  });
});
