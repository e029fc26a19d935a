// The lab's agent inside one network namespace (a node or the client).
//
// On a node it stands in for kube-proxy: an HTTP server that answers with the
// node's name (iptables REDIRECTs Service traffic to it), and it serves the
// API server on this namespace's 127.0.0.1:6443 through the control plane's
// Unix socket (see api-bridge.ts). In every namespace it takes requests from
// the test process on a control socket and performs them from inside the
// namespace (HTTP requests, probing series), answering one JSON line each.
//
// Deliberately dependency-free so it starts fast.
import { connect, createServer, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pipeBoth } from './api-bridge.ts';
import { httpGet, probe } from './probes.ts';

const { values: args } = parseArgs({
  options: {
    name: { type: 'string' },
    control: { type: 'string' },
    'http-port': { type: 'string' },
    'api-socket': { type: 'string' },
    'api-port': { type: 'string', default: '6443' },
  },
});
const name = args.name ?? 'unknown';

interface ControlRequest {
  id: number;
  op: 'http' | 'probe' | 'ping';
  url?: string;
  timeoutMs?: number;
  intervalMs?: number;
  durationMs?: number;
}

async function handle(req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'ping':
      return { name, pid: process.pid };
    case 'http':
      return httpGet(req.url ?? '', req.timeoutMs ?? 2_000);
    case 'probe':
      return probe(() => httpGet(req.url ?? '', req.timeoutMs ?? 500), { intervalMs: req.intervalMs ?? 10, until: req.durationMs ?? 1_000 });
    default:
      throw new Error(`unknown op ${String(req.op)}`);
  }
}

function serveControl(path: string): Promise<void> {
  rmSync(path, { force: true });
  const server = createServer((sock: Socket) => {
    let buffered = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let req: ControlRequest;
        try {
          req = JSON.parse(line) as ControlRequest;
        } catch {
          continue;
        }
        handle(req).then(
          (result) => sock.write(`${JSON.stringify({ id: req.id, result })}\n`),
          (e: Error) => sock.write(`${JSON.stringify({ id: req.id, error: e.message })}\n`),
        );
      }
    });
    sock.on('error', () => sock.destroy());
  });
  return new Promise((resolve) => server.listen(path, resolve));
}

function serveNodeName(port: number): Promise<void> {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${name}\n`);
  });
  return new Promise((resolve) => server.listen({ port, host: '::', ipv6Only: false }, resolve));
}

function forwardApi(socketPath: string, port: number): Promise<void> {
  const server = createServer((client) => pipeBoth(client, connect(socketPath)));
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

const ready: Array<Promise<void>> = [];
if (args['http-port']) ready.push(serveNodeName(Number(args['http-port'])));
if (args['api-socket']) ready.push(forwardApi(args['api-socket'], Number(args['api-port'])));
if (args.control) ready.push(serveControl(args.control));
await Promise.all(ready);
process.stdout.write(`agent ${name} ready\n`);
process.on('SIGTERM', () => process.exit(0));
