import type { HeldJobStatus, SeedStatus, StatusReport } from './status-model';

/**
 * The status as a person reads it: per seed, a table of derived roles with
 * their fill, then the ServiceAccounts waiting or refused and the held Jobs,
 * each with its reason. Granted ServiceAccounts are only counted.
 */
export function formatStatus(report: StatusReport): string {
  const gate = report.jobGate ?? [];
  const ready = gate.length > 0 && gate.every((g) => g.state === 'ready');
  // All is well in one clause of the first line; anything else gets its own section below.
  const gateClause =
    report.jobGate === undefined
      ? ''
      : ready
        ? `; job gate registered with its token in ${gate.map((g) => g.cluster).join(', ')}`
        : '; job gate: see below';
  const lines = [
    `Account ${report.account || '(no seed role found)'}; trust-policy quota ${report.quota} characters${gateClause}`,
  ];
  for (const seed of report.seeds) lines.push('', ...formatSeed(seed, report.quota));
  if (report.otherHeldJobs.length > 0) {
    lines.push('', `Held Jobs no seed claims: ${report.otherHeldJobs.length}`);
    lines.push(...report.otherHeldJobs.map(formatJob));
  }
  if (report.jobGate !== undefined && !ready) {
    lines.push('', 'Job gate registration:');
    for (const g of gate) {
      lines.push(`  ${g.cluster}: ${g.state}${g.message === '' ? '' : `: ${g.message}`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatSeed(seed: SeedStatus, quota: number): string[] {
  const full = seed.roles.length >= seed.roleCreationLimit ? ' (limit reached)' : '';
  const lines = [
    `Seed ${seed.seed}: ${seed.roles.length} of ${seed.roleCreationLimit} derived roles${full}, path ${seed.path}, namespaces ${seed.allowedNamespaces.join(', ') || '(none)'}`,
  ];
  for (const w of seed.warnings) lines.push(`  warning: ${w}`);
  if (seed.roles.length === 0) {
    lines.push('  (no derived roles yet)');
  } else {
    const rows = seed.roles.map((r) => [
      r.name,
      String(r.subjects.length),
      `${r.size}/${quota}`,
      `${r.fill.toFixed(1)}%`,
      [
        r.emptySince === undefined ? '' : `empty since ${r.emptySince}`,
        r.problem === undefined ? '' : `rewritten next pass: ${r.problem}`,
      ]
        .filter((n) => n !== '')
        .join('; '),
    ]);
    lines.push(...table(['ROLE', 'SUBJECTS', 'SIZE', 'FILL', ''], rows, 1, 3));
  }
  const waiting = seed.serviceAccounts.filter((s) => s.state === 'waiting');
  const refused = seed.serviceAccounts.filter((s) => s.state === 'refused');
  lines.push(
    `  ServiceAccounts: ${seed.granted} granted, ${waiting.length} waiting, ${refused.length} refused`,
  );
  // One entry per state and reason: the message (which names the fix) once, then who.
  const groups = new Map<string, { head: string; message: string; who: string[] }>();
  for (const sa of [...waiting, ...refused]) {
    const key = `${sa.state}\n${sa.reason ?? ''}\n${sa.message ?? ''}`;
    const group = groups.get(key) ?? {
      head: `${sa.state} ${sa.reason ?? ''}`,
      message: sa.message ?? '',
      who: [],
    };
    group.who.push(`${sa.cluster}/${sa.namespace}/${sa.name}`);
    groups.set(key, group);
  }
  for (const g of groups.values()) {
    lines.push(`    ${g.head} (${g.who.length}): ${g.who.join(', ')}`, `      ${g.message}`);
  }
  lines.push(`  Held Jobs: ${seed.heldJobs.length}`);
  lines.push(...seed.heldJobs.map(formatJob));
  return lines;
}

function formatJob(job: HeldJobStatus): string {
  const age = job.ageSeconds === undefined ? 'age unknown' : `for ${formatAge(job.ageSeconds)}`;
  return `    ${job.state} ${job.cluster}/${job.namespace}/${job.name}  ${age}  ServiceAccount ${job.serviceAccount}  ${job.reason}\n      ${job.message}`;
}

/** `45s`, `12m`, `3h05m`, `2d04h`: short enough for a table, exact enough to tell stuck from new. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Left-aligned columns, except those from `rightFrom` to `rightTo` (inclusive), which are numbers. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightFrom: number,
  rightTo: number,
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (cells: readonly string[]) =>
    `  ${cells
      .map((c, i) => (i >= rightFrom && i <= rightTo ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')}`.trimEnd();
  return [row(header), ...rows.map(row)];
}
