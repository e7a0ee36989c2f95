import { Readable } from 'node:stream';
import { EKSClient } from '@aws-sdk/client-eks';
import { HttpResponse } from '@smithy/protocol-http';
import type { HttpRequest } from '@smithy/protocol-http';

/** Answers EKS's REST-JSON DescribeCluster through the real SDK client, from a table of clusters. */
export function eksClientFor(clusters: Record<string, unknown>, paths: string[] = []): EKSClient {
  return new EKSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        paths.push(`${request.method} ${request.path}`);
        const name = decodeURIComponent(request.path.replace(/^\/clusters\//, ''));
        const cluster = clusters[name];
        const [statusCode, body] =
          cluster === undefined
            ? [404, { message: `No cluster found for name: ${name}.` }]
            : [200, { cluster }];
        return {
          response: new HttpResponse({
            statusCode,
            headers: {
              'content-type': 'application/json',
              ...(statusCode === 404 ? { 'x-amzn-errortype': 'ResourceNotFoundException' } : {}),
            },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
          }),
        };
      },
    },
  });
}
