import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OUTPUTS_FILE_ENV, StackOutputs, StackOutputsError } from '../../k8s/stack-outputs';

const STACK = 'KubestashIrsa';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubestash-irsa-outputs-'));

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes `content` (JSON unless a string) to a fresh file in the temp dir. */
function outputsFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The message of the error `f` throws, which must be a StackOutputsError (main.ts prints those without a stack trace). */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StackOutputsError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('StackOutputs', () => {
  test('reads the value cdk deploy --outputs-file wrote', () => {
    const file = outputsFile('ok.json', {
      [STACK]: { JobGateUrl: 'https://abc.lambda-url.us-east-1.on.aws/', BucketName: 'b' },
      OtherStack: { JobGateUrl: 'https://other/' },
    });
    const outputs = StackOutputs.load(file, STACK);
    expect(outputs.require('JobGateUrl', 'the job gate webhook')).toBe(
      'https://abc.lambda-url.us-east-1.on.aws/',
    );
    expect(outputs.get('BucketName')).toBe('b');
    expect(outputs.get('Nope')).toBeUndefined();
  });

  test('a missing file is fine until a value is needed, then names the key, the file and the command', () => {
    const file = path.join(dir, 'never-written.json');
    const outputs = StackOutputs.load(file, STACK);
    expect(outputs.get('JobGateUrl')).toBeUndefined();
    const message = messageOf(() => outputs.require('JobGateUrl', 'the job gate webhook'));
    expect(message).toContain('The manifests need JobGateUrl (the job gate webhook)');
    expect(message).toContain(`stack ${STACK} is deployed`);
    expect(message).toContain(file);
    expect(message).toContain(`npx cdk deploy --outputs-file ${file}`);
    expect(message).toContain(OUTPUTS_FILE_ENV);
  });

  test('a file without the stack says so', () => {
    const file = outputsFile('other-stack.json', { OtherStack: { JobGateUrl: 'https://x/' } });
    const message = messageOf(() => StackOutputs.load(file, STACK).require('JobGateUrl', 'gate'));
    expect(message).toContain(`${file} has no outputs for ${STACK}`);
    expect(message).toContain(`npx cdk deploy --outputs-file ${file}`);
  });

  test.each([
    ['missing', { BucketName: 'b', ReconcilerRoleArn: 'arn:r' }],
    ['empty', { BucketName: 'b', ReconcilerRoleArn: 'arn:r', JobGateUrl: '  ' }],
  ])('a %s key lists the keys there are', (_case, stack) => {
    const file = outputsFile(`key-${_case}.json`, { [STACK]: stack });
    const message = messageOf(() => StackOutputs.load(file, STACK).require('JobGateUrl', 'gate'));
    expect(message).toContain(`${file} has no value for it under ${STACK}`);
    expect(message).toContain('(it has BucketName, ReconcilerRoleArn');
    expect(message).toContain('the stack may predate that output');
    expect(message).toContain('npx cdk deploy --outputs-file');
  });

  test('a stack with no outputs at all says "no outputs"', () => {
    const file = outputsFile('empty-stack.json', { [STACK]: {} });
    expect(messageOf(() => StackOutputs.load(file, STACK).require('JobGateUrl', 'gate'))).toContain(
      '(it has no outputs)',
    );
  });

  test('values that are not strings are not outputs', () => {
    const file = outputsFile('types.json', { [STACK]: { Count: 3, JobGateUrl: 'https://g/' } });
    const outputs = StackOutputs.load(file, STACK);
    expect(outputs.get('Count')).toBeUndefined();
    expect(outputs.require('JobGateUrl', 'gate')).toBe('https://g/');
  });

  test('invalid JSON is refused at load, with the command that writes it again', () => {
    const file = outputsFile('broken.json', '{ "KubestashIrsa": { ');
    const message = messageOf(() => StackOutputs.load(file, STACK));
    expect(message).toContain(`${file} is not valid JSON`);
    expect(message).toContain(`npx cdk deploy --outputs-file ${file}`);
  });

  test.each([
    ['an array', '[]'],
    ['a string', '"outputs"'],
    ['null', 'null'],
  ])('JSON that is %s is refused at load', (_case, text) => {
    const file = outputsFile(`shape-${text.length}-${_case.replace(/\W/g, '')}.json`, text);
    expect(messageOf(() => StackOutputs.load(file, STACK))).toContain(
      'should map stack names to their outputs',
    );
  });
});
