import type { MigrateOutcome } from '../lambda/migration/migrate-seed';

/**
 * `migrate`'s report as a person reads it: one line per role of
 * aws-credential-manager, its subjects, the ServiceAccounts still naming it,
 * the manager's webhook, then one summary line.
 */
export function formatMigration(outcome: MigrateOutcome, apply: boolean): string {
  const { report } = outcome;
  const lines: string[] = [`aws-credential-manager roles of seed ${report.seed}:`, ''];
  const rows = report.roles.map((r) => [
    r.name,
    r.path,
    r.action,
    String(r.live.length),
    String(r.stale.length),
    String(r.unverifiable.length),
    String(r.annotatedBy.length),
  ]);
  const header = ['ROLE', 'PATH', 'ACTION', 'LIVE', 'STALE', 'UNCHECKED', 'ANNOTATED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  if (rows.length === 0) lines.push('(none found)');
  else lines.push(row(header), ...rows.map(row));
  lines.push('');
  for (const r of report.roles) {
    const details = [
      ...r.live.map((s) => `    live        ${s}`),
      ...r.stale.map((s) => `    stale       ${s}`),
      ...r.unverifiable.map((s) => `    unchecked   ${s}`),
      ...r.annotatedBy.map((s) => `    annotated   ${s}`),
    ];
    if (details.length > 0) lines.push(`  ${r.name}`, ...details);
  }
  if (report.roles.some((r) => r.live.length + r.stale.length + r.annotatedBy.length > 0)) {
    lines.push('');
  }

  if (report.managerWebhooks.length === 0) {
    lines.push("aws-credential-manager's webhook: not registered.");
  } else {
    for (const w of report.managerWebhooks) {
      const failing =
        w.failing.length === 0 ? '' : ` (failurePolicy Fail on ${w.failing.join(', ')})`;
      lines.push(
        `aws-credential-manager's webhook: MutatingWebhookConfiguration ${w.name} still registered in cluster ${w.cluster}${failing}.`,
      );
    }
    lines.push(
      '  Uninstall aws-credential-manager once migrate --apply has run (docs/migration.md): while its webhook fails closed, KubeStash Jobs are refused whenever it is down.',
    );
  }

  const keep = report.roles.length - report.deletable.length;
  if (!apply) {
    lines.push(
      `Summary: ${report.roles.length} role(s) of the manager; ${report.deletable.length} with no live subject would be deleted (run again with --apply); ${keep} kept.`,
    );
  } else {
    lines.push(
      `Summary: ${report.roles.length} role(s) of the manager; deleted ${outcome.deleted.length}, skipped ${outcome.skipped.length}, failed ${outcome.failed.length}; ${keep} kept.`,
    );
    for (const s of outcome.skipped) lines.push(`  skipped ${s.role}: ${s.why}`);
    for (const f of outcome.failed) lines.push(`  failed  ${f.role}: ${f.error}`);
  }
  return `${lines.join('\n')}\n`;
}
