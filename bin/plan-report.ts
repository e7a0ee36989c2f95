import type { Plan } from '../lambda/domain/plan-types';

/** The plan as a person reads it: one line per role, then what changes and why. */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const rows = plan.roles.map((r) => [
    r.roleName,
    r.state,
    String(r.subjects),
    `${r.size}/${r.quota}`,
    `${Math.round((r.size / r.quota) * 100)}%`,
  ]);
  const header = ['ROLE', 'ACTION', 'SUBJECTS', 'SIZE', 'FILL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  lines.push(`Trust-policy quota: ${plan.quota} characters`, '');
  if (rows.length === 0) lines.push('(no derived roles)');
  else lines.push(row(header), ...rows.map(row));
  lines.push('');

  const annotate = plan.assignments.filter((a) => a.annotate);
  lines.push(
    `Would create ${plan.creates.length}, update ${plan.updates.length}, delete ${plan.deletes.length} role(s); ` +
      `annotate ${annotate.length} and refuse ${plan.refusals.length} ServiceAccount(s); ` +
      `${plan.assignments.length} granted in all.`,
  );
  for (const c of plan.creates) lines.push(`  create  ${c.roleName} (${c.path})`);
  for (const u of plan.updates) {
    const what = [
      u.trustPolicy === undefined ? undefined : 'trust policy',
      ...Object.keys(u.setTags).map((k) => `tag ${k}`),
      ...u.removeTags.map((k) => `untag ${k}`),
    ].filter((w) => w !== undefined);
    lines.push(`  update  ${u.roleName}: ${what.join(', ')}`);
  }
  for (const d of plan.deletes) lines.push(`  delete  ${d.roleName}`);
  for (const a of annotate)
    lines.push(`  annotate ${a.cluster}/${a.namespace}/${a.name} -> ${a.roleArn}`);
  if (plan.refusals.length > 0) {
    lines.push('', 'Refused:');
    for (const r of plan.refusals)
      lines.push(`  ${r.cluster}/${r.namespace}/${r.name}: ${r.reason}: ${r.message}`);
  }
  if (plan.notes.length > 0) {
    lines.push('', 'Notes:');
    for (const n of plan.notes) lines.push(`  ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
