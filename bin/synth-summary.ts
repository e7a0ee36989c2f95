#!/usr/bin/env node
/** Prints what `cdk synth` wrote: each template with its resources, parameters and outputs. */
import * as fs from 'node:fs';
import * as path from 'node:path';

const outdir = path.resolve(process.argv[2] ?? 'cdk.out');
const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
if (templates.length === 0) {
  console.error(`no *.template.json in ${outdir}: did \`cdk synth\` run?`);
  process.exit(1);
}
for (const file of templates) {
  const template = JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8')) as {
    Resources?: Record<string, { Type: string }>;
    Parameters?: Record<string, unknown>;
    Outputs?: Record<string, unknown>;
  };
  const resources = Object.values(template.Resources ?? {}).filter(
    (r) => r.Type !== 'AWS::CDK::Metadata',
  );
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  console.log(
    `${path.relative(process.cwd(), path.join(outdir, file))}: ${resources.length} resources`,
  );
  for (const [type, count] of [...byType].sort())
    console.log(`  ${String(count).padStart(3)} ${type}`);
  console.log(
    `  parameters: ${Object.keys(template.Parameters ?? {})
      .filter((p) => p !== 'BootstrapVersion')
      .join(', ')}`,
  );
  console.log(`  outputs:    ${Object.keys(template.Outputs ?? {}).join(', ')}`);
}
