import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startWorkerThread } from './worker-thread';

/**
 * The thread plumbing GateFlow's gate and reconciler threads share, with a
 * throwaway worker: answers reach their callers, notes arrive in order with
 * them, and a thread that dies fails what is still waiting instead of leaving
 * it hanging.
 */
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-thread-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A worker file that serves requests with `body` (TypeScript, `request` in scope). */
function workerFile(name: string, body: string): string {
  const helper = JSON.stringify(path.join(__dirname, 'worker-thread'));
  const file = path.join(dir, `${name}.ts`);
  fs.writeFileSync(
    file,
    `import { noteToOwner, serveWorkerRequests } from ${helper};
serveWorkerRequests(__filename, async (request: { n?: number; exit?: boolean; hang?: boolean }) => {
  ${body}
});
`,
  );
  return file;
}

test('answers each request and delivers its notes before the answer', async () => {
  const notes: unknown[] = [];
  const thread = await startWorkerThread<{ n: number }>(
    'the echo thread',
    workerFile('echo', 'noteToOwner(__filename, request.n); return (request.n ?? 0) * 2;'),
    undefined,
    (n) => notes.push(n),
  );
  try {
    expect(await thread.ask({ n: 3 })).toBe(6);
    expect(notes).toEqual([3]);
    expect(await Promise.all([thread.ask({ n: 4 }), thread.ask({ n: 5 })])).toEqual([8, 10]);
    expect(notes).toEqual([3, 4, 5]);
  } finally {
    await thread.terminate();
  }
});

test("a handler's failure rejects that request alone, naming the thread", async () => {
  const thread = await startWorkerThread<{ n: number }>(
    'the picky thread',
    workerFile('picky', "if (request.n === 1) throw new Error('no ones'); return request.n;"),
    undefined,
  );
  try {
    await expect(thread.ask({ n: 1 })).rejects.toThrow('the picky thread: Error: no ones');
    expect(await thread.ask({ n: 2 })).toBe(2);
  } finally {
    await thread.terminate();
  }
});

test('a thread that exits fails every request still waiting', async () => {
  const thread = await startWorkerThread<{ hang?: boolean; exit?: boolean }>(
    'the dying thread',
    workerFile('dying', 'if (request.exit) process.exit(3); return new Promise(() => undefined);'),
    undefined,
  );
  const hanging = thread.ask({ hang: true });
  const exiting = thread.ask({ exit: true });
  await expect(hanging).rejects.toThrow('the dying thread exited (3)');
  await expect(exiting).rejects.toThrow('the dying thread exited (3)');
});

test('a thread that fails while loading fails its start', async () => {
  const file = path.join(dir, 'broken.ts');
  fs.writeFileSync(file, "throw new Error('cannot load');\n");
  await expect(startWorkerThread('the broken thread', file, undefined)).rejects.toThrow(
    /the broken thread (failed: Error: cannot load|exited)/,
  );
});
