// The `ballast` command line: argument parsing and dispatch, with all I/O
// passed in so tests run it like a user would.
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../shared/k8s/index.ts';
import { analyze, fetchSnapshot, renderStatus, reportToJson } from './status/index.ts';
import { convertMetalLB } from './convert/index.ts';
import { rotateHeartbeatKey } from './rotate/index.ts';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readInput: (path: string) => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal: colour on by default, and its width. */
  readonly isTTY: boolean;
  readonly columns: number | undefined;
}

const USAGE = `Usage: ballast <command> [flags]

Commands:
  status            Pools with their usage, LoadBalancer Services with their IPs and
                    announcing nodes, and every problem found.
      --namespace NS            Ballast's install namespace (default ballast-system)
      --kubeconfig FILE         default: $KUBECONFIG, ~/.kube/config, or in-cluster
      --context NAME            kubeconfig context to use
      --load-balancer-class C   only Services of this class (default: those with none)
      --output text|json        default text
      --no-color                also when NO_COLOR is set or stdout is not a terminal
      --width N                 wrap at N columns (default: the terminal's, or 100)
    Exit status: 0 no errors found, 1 errors found (warnings alone are 0), 2 could not run.

  convert-metallb FILE|-    MetalLB configuration (metallb.io/v1beta1, v1beta2 objects, or the
                    legacy ConfigMap) to Ballast YAML on stdout; what cannot be converted
                    is listed on stderr.
      --namespace NS            namespace of the output objects (default ballast-system)
    Exit status: 0 all converted, 1 something was not converted or will be refused, 2 could not run.

  rotate-heartbeat-key      Replace the speakers' heartbeat key without a moment in which two speakers
                    cannot hear each other: stage the new key, promote it, retire the old one,
                    waiting between steps. Continues an interrupted rotation.
      --namespace NS            Ballast's install namespace (default ballast-system)
      --kubeconfig FILE, --context NAME
      --wait DURATION           between steps (default 15s; speakers watch the Secret)
    Exit status: 0 rotated, 2 could not run.

Also a kubectl plugin: put cli/kubectl-ballast on PATH and run "kubectl ballast status".
`;

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'status':
        return await status(rest, io);
      case 'convert-metallb':
        return await convert(rest, io);
      case 'rotate-heartbeat-key':
        return await rotate(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr(`ballast: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    io.stderr(`ballast ${command}: ${(e as Error).message}\n`);
    return 2;
  }
}

async function status(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      namespace: { type: 'string', default: 'ballast-system' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'load-balancer-class': { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
      'no-color': { type: 'boolean', default: false },
      width: { type: 'string' },
    },
    strict: true,
  });
  if (values.output !== 'text' && values.output !== 'json') throw new Error(`--output must be text or json, not "${values.output}"`);
  const width = values.width === undefined ? (io.columns ?? 100) : Number(values.width);
  if (!Number.isInteger(width) || width < 20) throw new Error(`--width must be a whole number of columns, at least 20`);

  const loaded = loadKubeConfig({ kubeconfig: values.kubeconfig, context: values.context, env: io.env });
  if (!loaded.ok) throw new Error(loaded.error);
  const { access } = loaded.value;
  const report = analyze(await fetchSnapshot(access, values.namespace, values['load-balancer-class']).finally(() => access.close()));
  if (values.output === 'json') io.stdout(`${reportToJson(report)}\n`);
  else {
    const color = io.isTTY && !values['no-color'] && !io.env.NO_COLOR;
    io.stdout(`${renderStatus(report, { color, width }).join('\n')}\n`);
  }
  return report.problems.some((p) => p.severity === 'error') ? 1 : 0;
}

async function rotate(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { namespace: { type: 'string', default: 'ballast-system' }, kubeconfig: { type: 'string' }, context: { type: 'string' }, wait: { type: 'string', default: '15s' } },
    strict: true,
  });
  const wait = /^(\d+)(ms|s)$/.exec(values.wait);
  if (!wait) throw new Error(`--wait must be a duration such as 15s or 500ms, not "${values.wait}"`);
  const waitMs = Number(wait[1]) * (wait[2] === 's' ? 1000 : 1);
  const loaded = loadKubeConfig({ kubeconfig: values.kubeconfig, context: values.context, env: io.env });
  if (!loaded.ok) throw new Error(loaded.error);
  const { access } = loaded.value;
  try {
    await rotateHeartbeatKey(access, { namespace: values.namespace, waitMs, say: (line) => io.stdout(`${line}\n`) });
  } finally {
    access.close();
  }
  return 0;
}

async function convert(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { namespace: { type: 'string', default: 'ballast-system' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new Error('give one file to convert, or - for standard input');
  const input = await io.readInput(positionals[0]!);
  const result = convertMetalLB(input, { namespace: values.namespace });
  io.stdout(result.yaml);
  const label = { dropped: 'not converted', invalid: 'will be refused', skipped: 'skipped', note: 'note' } as const;
  for (const note of result.notes) io.stderr(`${label[note.severity]}: ${note.source}: ${note.message}\n`);
  const lost = result.notes.filter((n) => n.severity === 'dropped' || n.severity === 'invalid').length;
  io.stderr(`converted ${result.converted} object${result.converted === 1 ? '' : 's'}${lost ? `; ${lost} problem${lost === 1 ? '' : 's'} (see above)` : ''}\n`);
  return lost > 0 ? 1 : 0;
}
