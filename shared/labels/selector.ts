// Kubernetes label selectors (metav1.LabelSelector), matched the way the API
// server documents them: every matchLabels pair and every expression must
// hold; an empty selector matches everything.
import { err, ok, type Result } from '../result.ts';

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A checked selector: compiled once at the config boundary, matched many times. */
export interface Selector {
  readonly text: string;
  matches(labels: Labels | undefined): boolean;
}

export function compileSelector(selector: LabelSelector | undefined): Result<Selector> {
  const checks: Array<(labels: Labels) => boolean> = [];
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    if (typeof value !== 'string') return err(`matchLabels["${key}"] must be a string`);
    checks.push((l) => l[key] === value);
    parts.push(`${key}=${value}`);
  }
  for (const [i, req] of (selector?.matchExpressions ?? []).entries()) {
    const values = req.values ?? [];
    if (typeof req.key !== 'string' || req.key === '') return err(`matchExpressions[${i}].key is empty`);
    switch (req.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) return err(`matchExpressions[${i}] (${req.key} ${req.operator}) needs at least one value`);
        const set = new Set(values);
        const inSet = (l: Labels): boolean => l[req.key] !== undefined && set.has(l[req.key]!);
        checks.push(req.operator === 'In' ? inSet : (l) => !inSet(l));
        parts.push(`${req.key} ${req.operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`);
        break;
      }
      case 'Exists':
      case 'DoesNotExist': {
        if (values.length > 0) return err(`matchExpressions[${i}] (${req.key} ${req.operator}) must not have values`);
        const exists = (l: Labels): boolean => Object.hasOwn(l, req.key);
        checks.push(req.operator === 'Exists' ? exists : (l) => !exists(l));
        parts.push(req.operator === 'Exists' ? req.key : `!${req.key}`);
        break;
      }
      default:
        return err(`matchExpressions[${i}].operator "${String(req.operator)}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
  const text = parts.join(',');
  return ok({ text, matches: (labels) => checks.every((check) => check(labels ?? {})) });
}

/** Several selectors OR-ed, as MetalLB treats lists of selectors; an empty list matches all. */
export function matchesAny(selectors: readonly Selector[], labels: Labels | undefined): boolean {
  return selectors.length === 0 || selectors.some((s) => s.matches(labels));
}
