/**
 * One typed error for everything a user can get wrong (bad file, bad option, bad weights).
 * The CLI maps `kind: 'input'` to exit code 2 and anything else to 1.
 */
export type ErrorKind = 'input' | 'internal';

export interface CxrErrorDetails {
  /** Machine-readable code, e.g. `image.truncated`, `weights.unsafe_pickle`. */
  code: string;
  /** The file the problem is in, when there is one. */
  file?: string;
  /** The field, tensor, tag or option at fault. */
  field?: string;
  expected?: string;
  found?: string;
  kind?: ErrorKind;
  cause?: unknown;
}

export class CxrError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly field?: string;
  readonly expected?: string;
  readonly found?: string;
  readonly kind: ErrorKind;

  constructor(message: string, details: CxrErrorDetails) {
    super(
      composeMessage(message, details),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'CxrError';
    this.code = details.code;
    this.file = details.file;
    this.field = details.field;
    this.expected = details.expected;
    this.found = details.found;
    this.kind = details.kind ?? 'input';
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      file: this.file,
      field: this.field,
      expected: this.expected,
      found: this.found,
    };
  }
}

function composeMessage(message: string, d: CxrErrorDetails): string {
  const where = [d.file, d.field].filter(Boolean).join(': ');
  const parts = [where ? `${where}: ${message}` : message];
  if (d.expected !== undefined) parts.push(`expected ${d.expected}`);
  if (d.found !== undefined) parts.push(`found ${d.found}`);
  return parts.join('; ');
}

/** Shorthand for a bad-input error. */
export function inputError(
  code: string,
  message: string,
  details: Omit<CxrErrorDetails, 'code'> = {},
): CxrError {
  return new CxrError(message, { ...details, code, kind: 'input' });
}

export function isCxrError(e: unknown): e is CxrError {
  return e instanceof CxrError;
}
