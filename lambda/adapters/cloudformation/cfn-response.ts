import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

export interface CfnResponse {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalResourceId: string;
  readonly reason?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** CloudFormation shows at most this much of a reason; the log holds the rest. */
const MAX_REASON = 3500;

/** The body CloudFormation expects at the pre-signed ResponseURL. */
export function responseBody(
  event: CloudFormationCustomResourceEvent,
  response: CfnResponse,
): string {
  return JSON.stringify({
    Status: response.status,
    Reason: (response.reason ?? response.status).slice(0, MAX_REASON),
    PhysicalResourceId: response.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false,
    Data: response.data ?? {},
  });
}

/**
 * Answers CloudFormation. The pre-signed S3 URL was signed without a content
 * type, so none is sent; a failed PUT is retried, because without an answer
 * the stack waits an hour.
 */
export async function sendCfnResponse(
  event: CloudFormationCustomResourceEvent,
  response: CfnResponse,
  options: { readonly attempts?: number; readonly sleep?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const body = responseBody(event, response);
  const attempts = options.attempts ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(event.ResponseURL, {
        method: 'PUT',
        body,
        headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
      });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (attempt < attempts) await sleep(200 * 2 ** attempt);
  }
  throw new Error(`could not answer CloudFormation after ${attempts} attempts: ${lastError}`);
}
