export type HttpMethod = 'GET' | 'POST' | 'PATCH';

export interface TransportRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The whole exchange, from connect to the last byte. */
  readonly timeoutMs: number;
  /**
   * Until the TLS session is up on a new connection; a pooled connection skips
   * it. A miss rejects with {@link CONNECT_TIMEOUT_CODE}.
   */
  readonly connectTimeoutMs?: number;
}

/**
 * The `code` of a connection that was not established within
 * `connectTimeoutMs`: what a private or allowlisted endpoint looks like from
 * outside its network (the packets are dropped, nothing refuses them).
 */
export const CONNECT_TIMEOUT_CODE = 'ECONNECTTIMEOUT';

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
