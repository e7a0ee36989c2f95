import * as net from 'node:net';

/**
 * A loopback TCP listener that accepts connections and never says a byte, so
 * no TLS session ever comes up: what a client sees of an API server whose
 * packets are dropped, as far as timing goes. It does not model the real
 * difference (there, TCP itself never connects); the client's connect
 * timeout covers both, since it runs until the TLS session is up.
 */
export class SilentServer {
  private readonly server = net.createServer((socket) => {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
  });
  private readonly sockets = new Set<net.Socket>();
  /** Connections accepted so far. */
  connections = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `https://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
