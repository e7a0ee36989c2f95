import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

/** moto_server's own entry point, its EventBridge delivery and SQS queue scans made cheap (see the file). */
const LAUNCHER = path.join(__dirname, 'moto-server-launcher.py');

/**
 * How to start moto: through the launcher when `python3` (or `$MOTO_PYTHON`)
 * imports moto's server, else the `moto_server` on the PATH as installed (a
 * virtualenv or pipx install; moto's EventBridge delivery and its SQS calls
 * on a deep queue are then slower).
 */
export function motoCommand(): { readonly command: string; readonly args: readonly string[] } {
  const python = process.env.MOTO_PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import moto.server, moto.sqs.models, jsonpath_ng.ext'], {
    stdio: 'ignore',
  });
  return probe.error === undefined && probe.status === 0
    ? { command: python, args: [LAUNCHER] }
    : { command: 'moto_server', args: [] };
}

let chosen: ReturnType<typeof motoCommand> | undefined;

/**
 * A real moto_server process on a free loopback port, for tests that talk to
 * IAM, STS, EKS, EventBridge, SQS and S3 through the real AWS SDK. Started
 * through moto-server-launcher.py, which only makes moto's EventBridge
 * delivery cheap (it says why); moto's answers are moto's own.
 */
export interface MotoServer {
  readonly endpoint: string;
  readonly pid: number;
  /** Forgets every resource (moto's reset API), between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials and region moto accepts; they authorize nothing anywhere else. */
export const MOTO_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
} as const;

/** moto's default account. */
export const MOTO_ACCOUNT = '123456789012';

export async function startMotoServer(timeoutMs = 50000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  chosen ??= motoCommand();
  const child: ChildProcess = spawn(
    chosen.command,
    [...chosen.args, '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined)
    throw new Error(
      'moto_server did not start: is python3 with moto installed (pip install "moto[server]")?',
    );

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.kill(pid);
      throw new Error(
        `moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    async stop() {
      if (child.exitCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited;
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
