import { z } from 'zod';

/**
 * A five-field cron schedule as Kubernetes CronJobs and KubeStash's scheduler
 * read it (robfig/cron standard parser): minute, hour, day of month, month,
 * day of week, or one of the @ macros. Checked field by field, so `61 * * * *`
 * fails at synth time instead of in the cluster.
 */
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

/** What is wrong with `schedule`, or undefined when it is a valid schedule. */
export function cronProblem(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (MACROS.includes(trimmed)) return undefined;
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 5) {
    return `"${schedule}" has ${parts.length} fields; write five (minute hour day-of-month month day-of-week), e.g. "*/30 * * * *", or @daily`;
  }
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i];
    for (const item of parts[i].split(',')) {
      const problem = itemProblem(item, field);
      if (problem !== undefined) return `${field.name} "${parts[i]}": ${problem}`;
    }
  }
  return undefined;
}

function itemProblem(
  item: string,
  field: { min: number; max: number; names?: readonly string[] },
): string | undefined {
  const [range, step, extra] = item.split('/');
  if (extra !== undefined) return 'use at most one "/"';
  if (step !== undefined && !/^[1-9]\d*$/.test(step))
    return `step "${step}" is not a positive number`;
  if (range === '*' || range === '?') return undefined;
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${range}" is not a value or a range`;
  const values = bounds.map((b) => value(b, field));
  if (values.some((v) => v === undefined)) {
    return `"${range}" is outside ${field.min}-${field.max}${field.names === undefined ? '' : ` (or ${field.names[0]}-${field.names[field.names.length - 1]})`}`;
  }
  const [from, to] = values as number[];
  if (to !== undefined && to < from) return `range "${range}" runs backwards`;
  return undefined;
}

function value(text: string, field: { min: number; max: number; names?: readonly string[] }) {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + (field.names === MONTHS ? 1 : 0);
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

/** A zod string that must be a valid schedule; the message says what is wrong in it. */
export const cronScheduleSchema = z.string().superRefine((schedule, ctx) => {
  const problem = cronProblem(schedule);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
