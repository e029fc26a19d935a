// One shape for every parse error at the config boundary, so the shell can turn
// any of them into an Event or a status condition without knowing which parser
// produced it.

export interface ConfigError {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** Path inside the object, e.g. "spec.nodeSelectors[1]". */
  readonly field: string;
  readonly message: string;
}

/** `L2Advertisement ballast-system/front spec.interfaces[0]: "eth 0" contains whitespace` */
export function formatConfigError(e: ConfigError): string {
  const object = e.namespace ? `${e.namespace}/${e.name ?? '?'}` : (e.name ?? '?');
  return `${e.kind} ${object} ${e.field}: ${e.message}`;
}
