// Named readiness checks: each says ok, or why not (an informer not synced, a
// socket not open). /readyz runs them all and lists the failing ones.
import { err, type Result } from '../result.ts';

/** ok when ready; else err(why), in words a person reading /readyz understands. */
export type ReadinessCheck = () => Result<void, string> | Promise<Result<void, string>>;

/** One check's name and result. */
export interface CheckOutcome {
  readonly name: string;
  readonly result: Result<void, string>;
}

/** The named checks behind /readyz; components add theirs as they start. */
export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Adds a named check; a name used twice is a bug and throws. */
  add(name: string, check: ReadinessCheck): void {
    if (!/^[a-z0-9][a-z0-9:._/-]*$/.test(name)) throw new Error(`readiness check name ${JSON.stringify(name)}: use lower-case letters, digits and :._/-`);
    if (this.checks.has(name)) throw new Error(`readiness check ${name} added twice`);
    this.checks.set(name, check);
  }

  remove(name: string): void {
    this.checks.delete(name);
  }

  /** Runs every check concurrently; one that throws or takes longer than timeoutMs fails with that as its reason. */
  async run(timeoutMs: number): Promise<CheckOutcome[]> {
    return Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<Result<void, string>>((resolve) => {
          timer = setTimeout(() => resolve(err(`timed out after ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          const result = await Promise.race([Promise.resolve().then(check), timedOut]);
          return { name, result };
        } catch (e) {
          return { name, result: err(`check threw: ${e instanceof Error ? e.message : String(e)}`) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
}
