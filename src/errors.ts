/** The few error kinds rdpfix raises itself; each maps to one exit code in src/cli/exit.ts. */
export type RdpfixErrorKind = 'usage' | 'config' | 'input' | 'remote' | 'internal';

/** An error a person can act on: what happened, and how to fix it. */
export class RdpfixError extends Error {
  constructor(
    readonly kind: RdpfixErrorKind,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'RdpfixError';
  }
}
