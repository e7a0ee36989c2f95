import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  describeTemplate,
  manifestsFingerprint,
  synthesizedTemplates,
  templateFingerprint,
} from '../../bin/synth-summary';

/** A cloud assembly shaped as cdk synth writes it (manifest.json artifacts), with a stale template beside. */
function cloudAssembly(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
  const template = {
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket' },
      Meta: { Type: 'AWS::CDK::Metadata' },
    },
    Parameters: { BootstrapVersion: {}, AllowedNamespaces: {} },
    Outputs: { BucketName: {} },
    Metadata: { 'KubestashIrsa::Config': { source: 'my.json', sha256: '0123456789ab' } },
  };
  fs.writeFileSync(path.join(dir, 'Current.template.json'), JSON.stringify(template));
  // An earlier config's stack: still on disk, not in this synthesis.
  fs.writeFileSync(path.join(dir, 'OldStack.template.json'), JSON.stringify(template));
  fs.writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        'Current.assets': { type: 'cdk:asset-manifest', properties: { file: 'x' } },
        Current: {
          type: 'aws:cloudformation:stack',
          displayName: 'Current',
          properties: { templateFile: 'Current.template.json' },
        },
        Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
      },
    }),
  );
  return dir;
}

describe('synth summary', () => {
  test('lists only the templates of this synthesis, not those an earlier config left', () => {
    const dir = cloudAssembly();
    const templates = synthesizedTemplates(dir);
    expect(templates.map((t) => path.basename(t.file))).toEqual(['Current.template.json']);
    expect(describeTemplate(templates[0], dir)).toEqual([
      'Current.template.json: 1 resources',
      '    1 AWS::S3::Bucket',
      '  parameters: AllowedNamespaces',
      '  outputs:    BucketName',
    ]);
    expect(templateFingerprint(templates[0])).toEqual({
      source: 'my.json',
      sha256: '0123456789ab',
    });
  });

  test('no cloud assembly: an error that says what to run', () => {
    expect(() => synthesizedTemplates(path.join(os.tmpdir(), 'no-such-cdk-out'))).toThrow(
      /manifest.json: run `npm run synth:cdk` first/,
    );
  });

  test("reads the cdk8s app's record, and nothing from a dist/ without one", () => {
    const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-'));
    expect(manifestsFingerprint(dist)).toBeUndefined();
    fs.writeFileSync(path.join(dist, '.synth-config'), '{"source":"a.json","sha256":"abc"}');
    expect(manifestsFingerprint(dist)).toEqual({ source: 'a.json', sha256: 'abc' });
  });
});
