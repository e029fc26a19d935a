// Trimming objects for an informer's cache (InformerOptions.transform): what
// no Ballast program reads. managedFields (server-side apply's bookkeeping)
// is often the largest part of an object: every field manager that ever wrote
// it, with every field it owns.
import type { ApiObject } from './resources.ts';

/** The object without metadata.managedFields; the same object when it has none. */
export function withoutManagedFields<T extends ApiObject>(obj: T): T {
  const meta = obj.metadata as (ApiObject['metadata'] & { managedFields?: unknown }) | undefined;
  if (meta?.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...obj, metadata: rest };
}
