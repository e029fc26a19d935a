// Node namespaces cannot reach the host's loopback, where the API server
// listens, and giving them a route to the host would touch the host's network.
// Unix sockets are not network-namespaced, so the control plane exposes the API
// server's TCP port on a Unix socket and an agent in each node namespace serves
// it on that namespace's 127.0.0.1:6443. TLS passes through untouched, so the
// serving certificate (SAN 127.0.0.1) stays valid end to end.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

export function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

/** Forwards connections on a Unix socket path to host:port. */
export function startUnixToTcpBridge(socketPath: string, port: number, host = '127.0.0.1'): Promise<Server> {
  rmSync(socketPath, { force: true });
  const server = createServer((client) => pipeBoth(client, connect(port, host)));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}
