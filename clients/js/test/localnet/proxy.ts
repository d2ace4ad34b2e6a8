// A TCP proxy in front of the localnet's PubSub port, so a test can drop the socket under
// a subscriber (and refuse new ones for a while) without stopping the cluster.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface Proxy {
  url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Cuts every open connection; while `refuse`, new ones are closed at once. */
  drop(options?: { refuse?: boolean }): void;
  /** Accepts connections again. */
  accept(): void;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    accepted += 1;
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port: local } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${local}`,
    get accepted() {
      return accepted;
    },
    drop({ refuse = false } = {}) {
      refusing = refuse;
      for (const s of open) s.destroy();
    },
    accept() {
      refusing = false;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
