import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ConfigError,
  contextFromCdkJson,
  loadConfig,
  loadConfigFromCdkJson,
} from '../../../lib/config';
import { PROJECT_DIR, exampleConfigInput } from '../../support/example-app';

describe('loadConfig', () => {
  test('-c config.<path>=<value> overrides one field, parsing JSON values', () => {
    const config = loadConfig({
      config: exampleConfigInput(),
      'config.bucket.name': 'other-bucket',
      'config.seeds.0.roleCreationLimit': '7',
      'config.allowedNamespaces': '["demo","prod"]',
    });
    expect(config.bucket.name).toBe('other-bucket');
    expect(config.seeds[0].roleCreationLimit).toBe(7);
    expect(config.allowedNamespaces).toEqual(['demo', 'prod']);
  });

  test('overrides do not change the object they were given', () => {
    const input = exampleConfigInput();
    loadConfig({ config: input, 'config.bucket.name': 'other-bucket' });
    expect(input.bucket.name).toBe('kubestash-backups-111122223333');
  });

  test('configFile replaces the config object', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ ...exampleConfigInput(), region: 'eu-west-1' }));
    expect(loadConfig({ configFile: 'c.json' }, dir).region).toBe('eu-west-1');
  });

  test('a missing or broken config file is a clear error', () => {
    expect(() => loadConfig({ configFile: '/nonexistent/c.json' })).toThrow(
      /configFile: cannot read \/nonexistent\/c.json/,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    expect(() => loadConfig({ configFile: 'bad.json' }, dir)).toThrow(/is not valid JSON/);
  });

  test('errors name the file the configuration came from, not cdk.json (issue 11 point 8)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
    const file = path.join(dir, 'prod.json');
    fs.writeFileSync(file, JSON.stringify({ ...exampleConfigInput(), account: 'x' }));
    let error: unknown;
    try {
      loadConfig({ configFile: 'prod.json' }, dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.split('\n')[0]).toBe(
      `Invalid kubestash-irsa configuration (config file ${file}):`,
    );
    expect(message).not.toContain('cdk.json');
  });

  test('a problem in an overridden field names the override', () => {
    expect(() =>
      loadConfig({ config: exampleConfigInput(), 'config.seeds.0.roleCreationLimit': 'lots' }),
    ).toThrow(
      'config.seeds.0.roleCreationLimit: got "lots": expected a number, not a string; write a number such as 100 (set by -c config.seeds.0.roleCreationLimit)',
    );
  });

  test('no config at all says where to put it', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/"context"."config" in cdk.json/);
  });

  test('loadConfigFromCdkJson reads cdk.json, or the file named by KUBESTASH_IRSA_CONFIG_FILE', () => {
    expect(loadConfigFromCdkJson(PROJECT_DIR, {}).stackName).toBe('KubestashIrsa');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, JSON.stringify({ ...exampleConfigInput(), stackName: 'Other' }));
    expect(loadConfigFromCdkJson(PROJECT_DIR, { KUBESTASH_IRSA_CONFIG_FILE: file }).stackName).toBe(
      'Other',
    );
  });
});

describe('contextFromCdkJson', () => {
  test('the -c pairs npm run synth hands on in KUBESTASH_IRSA_CONTEXT override cdk.json', () => {
    const context = contextFromCdkJson(PROJECT_DIR, {
      KUBESTASH_IRSA_CONTEXT: JSON.stringify({ 'config.bucket.name': 'from-flag' }),
    });
    expect(loadConfig(context, PROJECT_DIR).bucket.name).toBe('from-flag');
  });

  test('a KUBESTASH_IRSA_CONTEXT that is not a JSON object says what it must be', () => {
    expect(() => contextFromCdkJson(PROJECT_DIR, { KUBESTASH_IRSA_CONTEXT: '[1]' })).toThrow(
      /KUBESTASH_IRSA_CONTEXT: got "\[1\]": it must be a JSON object/,
    );
  });
});
