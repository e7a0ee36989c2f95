import * as https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { API_SERVER_CONCURRENCY } from '../../ports/kubernetes-port';
import { CONNECT_TIMEOUT_CODE } from './kubernetes-transport';
import type {
  KubernetesTransport,
  TransportRequest,
  TransportResponse,
} from './kubernetes-transport';

/** A list page of a few hundred objects is well under this; more means something is wrong. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface HttpsTransportOptions {
  /** PEM of the only CA to trust: the cluster's, not the system roots. */
  readonly caPem: string;
  /** Pooled connections to the API server. @default API_SERVER_CONCURRENCY */
  readonly maxSockets?: number;
}

/**
 * KubernetesTransport over node:https. `fetch` cannot take a custom CA
 * without importing undici, and the cluster CA is private, so this speaks
 * node:https directly. Connections are kept alive so warm Lambda invocations
 * skip the TLS handshake; a socket the server closed while the function was
 * frozen fails with ECONNRESET, which the client retries.
 */
export class HttpsTransport implements KubernetesTransport {
  private readonly agent: https.Agent;

  constructor(options: HttpsTransportOptions) {
    this.agent = new https.Agent({
      ca: options.caPem,
      rejectUnauthorized: true,
      keepAlive: true,
      maxSockets: options.maxSockets ?? API_SERVER_CONCURRENCY,
    });
  }

  send(request: TransportRequest): Promise<TransportResponse> {
    return new Promise<TransportResponse>((resolve, reject) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = https.request(
        request.url,
        { method: request.method, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(
                networkError('ERESPONSETOOLARGE', `response exceeds ${MAX_RESPONSE_BYTES} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: flattenHeaders(res.headers),
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      // One deadline for the whole exchange: connect, TLS, request and response.
      const timer = setTimeout(
        () =>
          req.destroy(
            networkError('ETIMEDOUT', `no complete answer within ${request.timeoutMs} ms`),
          ),
        request.timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      if (request.connectTimeoutMs !== undefined) {
        const limit = request.connectTimeoutMs;
        req.on('socket', (socket: Socket) => watchConnect(req, socket, limit, request.url.host));
      }
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Fails the request when a new connection has no TLS session within `limit`
 * ms, instead of letting an endpoint that drops packets use up the whole
 * request timeout (and every retry's). A pooled socket is already secure.
 */
function watchConnect(
  req: ReturnType<typeof https.request>,
  socket: Socket,
  limit: number,
  host: string,
): void {
  // A kept-alive socket from the pool has its TLS session already.
  if (req.reusedSocket) return;
  const timer = setTimeout(
    () =>
      req.destroy(
        networkError(CONNECT_TIMEOUT_CODE, `no TLS connection to ${host} within ${limit} ms`),
      ),
    limit,
  );
  socket.once('secureConnect', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function networkError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}
