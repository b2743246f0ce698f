/** gRPC status codes of Temporal client errors, for the few answers activities treat as "not available here". */

/** UNIMPLEMENTED (12) and PERMISSION_DENIED (7): the server (or our role on it) does not offer this API. */
const UNAVAILABLE_HERE = new Set([7, 12]);

/** The gRPC status code of a Temporal client error (also when wrapped as `cause`), if any. */
export function grpcCode(err: unknown): number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/** True when the server answered that this API is not implemented or not permitted for us. */
export function isUnavailableHere(err: unknown): boolean {
  const code = grpcCode(err);
  return code !== undefined && UNAVAILABLE_HERE.has(code);
}
