import { parseSynthArgs } from '../../bin/synth';

describe('npm run synth arguments', () => {
  test('-c pairs in every spelling, for both apps by default', () => {
    expect(
      parseSynthArgs(['-c', 'configFile=my.json', '--context', 'config.a=1', '-c=config.b=x=y']),
    ).toEqual({
      apps: ['cdk', 'k8s'],
      context: [
        ['configFile', 'my.json'],
        ['config.a', '1'],
        ['config.b', 'x=y'],
      ],
    });
  });

  test('--only picks one app (npm run synth:cdk, synth:k8s) and keeps the pairs', () => {
    expect(parseSynthArgs(['--only', 'k8s', '-c', 'config.a=1'])).toEqual({
      apps: ['k8s'],
      context: [['config.a', '1']],
    });
  });

  test.each([[['my.json']], [['-c']], [['-c', 'novalue']], [['--only', 'helm']]])(
    '%j is refused with the usage line',
    (argv) => {
      expect(() => parseSynthArgs(argv)).toThrow(/usage: npm run synth/);
    },
  );
});
