import * as path from 'node:path';
import { configFingerprint, fingerprintLine, loadConfig } from '../../../lib/config';
import { PROJECT_DIR, exampleConfigInput } from '../../support/example-app';

describe('configFingerprint', () => {
  const file = 'examples/config/existing-bucket.json';

  test('names the file relative to the project, then the -c overrides in order', () => {
    const context = { configFile: path.join(PROJECT_DIR, file), 'config.region': 'eu-west-1' };
    const fp = configFingerprint(context, loadConfig(context, PROJECT_DIR), PROJECT_DIR);
    expect(fp.source).toBe(`${file}, -c config.region`);
    expect(fp.sha256).toMatch(/^[0-9a-f]{12}$/);
  });

  test('hashes the validated config: the same values inline or in a file hash alike', () => {
    const fromFile = loadConfig({ configFile: file }, PROJECT_DIR);
    const inline = { config: fromFile };
    expect(configFingerprint(inline, loadConfig(inline), PROJECT_DIR).sha256).toBe(
      configFingerprint({ configFile: file }, fromFile, PROJECT_DIR).sha256,
    );
  });

  test('one changed field changes the hash', () => {
    const a = { config: exampleConfigInput() };
    const b = { config: exampleConfigInput(), 'config.seeds.0.roleCreationLimit': '99' };
    expect(configFingerprint(a, loadConfig(a), PROJECT_DIR).sha256).not.toBe(
      configFingerprint(b, loadConfig(b), PROJECT_DIR).sha256,
    );
  });

  test('prints as one aligned line per app', () => {
    const fp = { source: 'my.json', sha256: '0123456789ab' };
    expect(fingerprintLine('CDK app', fp)).toBe(
      'config used: CDK app   my.json  sha256 0123456789ab',
    );
    expect(fingerprintLine('cdk8s app', fp)).toBe(
      'config used: cdk8s app my.json  sha256 0123456789ab',
    );
  });
});
