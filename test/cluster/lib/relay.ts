import { connect, createServer, type Socket } from 'node:net';

/** A TCP relay: what connects to `listen` is piped to `target`. */
export interface Relay {
  /** `host:port` it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Makes a server that listens on loopback only (the machine's Redis, say) reachable from the gateways'
 * namespaces, which have their own loopback: a relay on the bridge address of the root namespace.
 */
export function startRelay(listenHost: string, target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.setNoDelay(true);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // either end going away ends the other: the gateway sees what it would see of Redis itself
    client.once('error', () => upstream.destroy());
    upstream.once('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('relay: no address'));
      resolve({
        address: `${listenHost}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
