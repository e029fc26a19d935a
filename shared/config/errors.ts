// What a parse at the config boundary reports: the object, the field path and
// what was wrong, ready to be an Event or a status condition message.

export interface ConfigError {
  readonly kind: 'IPAddressPool' | 'Service';
  readonly namespace: string;
  readonly name: string;
  /** JSON-path-like, as kubectl explains fields: "spec.addresses[2]", "metadata.annotations[\"ballast.io/address-pool\"]". */
  readonly field: string;
  readonly message: string;
}

/** A Service parse fails on its first error: the Event that reports it should say one thing. */
export type ServiceConfigError = ConfigError & { readonly kind: 'Service' };

export function formatConfigError(e: ConfigError): string {
  return `${e.kind} ${e.namespace}/${e.name}: ${e.field}: ${e.message}`;
}
