export type HttpMethod = 'GET' | 'POST' | 'PATCH';

export interface TransportRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export interface TransportResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/**
 * One HTTP exchange with an API server, no retries. Network failures reject
 * with a Node.js-style error carrying `code` (ECONNRESET, ETIMEDOUT, TLS codes…).
 */
export interface KubernetesTransport {
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Closes pooled connections. */
  close(): void;
}
