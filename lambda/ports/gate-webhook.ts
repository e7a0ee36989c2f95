/**
 * Names the job gate's webhook registration shares between the cdk8s app that
 * writes it (k8s/charts/job-gate-chart.ts) and the tools that check it
 * (`npm run status`).
 */

/** The MutatingWebhookConfiguration the cdk8s app writes for the gate (cluster-scoped). */
export const JOB_GATE_CONFIGURATION = 'kubestash-irsa-job-gate';

/** The webhook's name inside it. */
export const JOB_GATE_WEBHOOK = 'job-gate.kubestash-irsa.io';

/**
 * Stands for the cluster's gate token in the synthesized webhook URL: synth
 * stays offline and the secret never lands in dist/. The apply step in
 * docs/security.md replaces it with the value from Secrets Manager; applied
 * as is, the gate refuses every call (404) and the webhook's failurePolicy
 * decides, so a forgotten step is loud in the gate's RequestsRefused metric
 * and in `npm run status` rather than an open door.
 */
export const GATE_TOKEN_PLACEHOLDER = 'REPLACE-WITH-GATE-TOKEN';
