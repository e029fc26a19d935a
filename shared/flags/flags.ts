import { err, ok, type Result } from '../result.ts';

/** A flag's value: the command line first, then BALLAST_<NAME>, then the default. */
export function flagValue(values: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = values[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0) return v.join(',');
  return env[`BALLAST_${name.toUpperCase().replace(/-/g, '_')}`];
}

export function parseBool(name: string, raw: string | undefined, fallback: boolean): Result<boolean, string> {
  if (raw === undefined || raw === '') return ok(fallback);
  if (/^(true|1|yes)$/i.test(raw)) return ok(true);
  if (/^(false|0|no)$/i.test(raw)) return ok(false);
  return err(`--${name}: "${raw}" is not true or false`);
}

/** ":7472" → all addresses; "127.0.0.1:0" → loopback, a free port. */
export function parseBindAddress(flag: string, raw: string): Result<{ host: string; port: number }, string> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(raw);
  if (!m) return err(`--${flag}: "${raw}" is not host:port (":7472" for every address)`);
  const port = Number(m[3]);
  if (port > 65535) return err(`--${flag}: port ${port} is out of range`);
  return ok({ host: m[1] ?? (m[2] || '::'), port });
}

/** "15s", "500ms", "2m" → milliseconds. */
export function parseDuration(flag: string, raw: string | undefined, fallback: number): Result<number, string> {
  if (raw === undefined || raw === '') return ok(fallback);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(raw.trim());
  if (!m) return err(`--${flag}: "${raw}" is not a duration such as 500ms, 15s or 2m`);
  return ok(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1_000 : 60_000));
}
