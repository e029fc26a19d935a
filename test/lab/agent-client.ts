// The test side of agent.ts's control socket: one request, one JSON answer.
import { connect, type Socket } from 'node:net';
import type { HttpResult } from './probes.ts';

export type { HttpResult };

export class AgentClient {
  private socket?: Socket;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private buffered = '';
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  private connection(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const sock = connect(this.path);
      sock.setEncoding('utf8');
      sock.once('connect', () => {
        this.socket = sock;
        resolve(sock);
      });
      sock.once('error', reject);
      sock.on('data', (chunk: string) => this.onData(chunk));
      sock.on('close', () => {
        for (const p of this.pending.values()) p.reject(new Error(`agent at ${this.path} closed the connection`));
        this.pending.clear();
      });
    });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const msg = JSON.parse(this.buffered.slice(0, nl)) as { id: number; result?: unknown; error?: string };
      this.buffered = this.buffered.slice(nl + 1);
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error));
      else p?.resolve(msg.result);
    }
  }

  async call<T>(req: Record<string, unknown>): Promise<T> {
    const sock = await this.connection();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      sock.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  http(url: string, timeoutMs = 2_000): Promise<HttpResult> {
    return this.call({ op: 'http', url, timeoutMs });
  }

  /** Samples: t = ms since the probe started, at = wall-clock ms (performance.timeOrigin + performance.now() in the agent). */
  probe(url: string, opts: { intervalMs: number; durationMs: number; timeoutMs: number }): Promise<Array<{ t: number; at: number; r: HttpResult }>> {
    return this.call({ op: 'probe', url, ...opts });
  }

  close(): void {
    this.socket?.destroy();
  }
}
