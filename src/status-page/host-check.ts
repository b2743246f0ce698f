/**
 * DNS-rebinding guard: the status page answers only requests whose Host header names it. A page on
 * attacker.example that re-resolves to 127.0.0.1 makes the browser send `Host: attacker.example`, which is
 * refused here. Accepted: localhost, 127.0.0.1 and [::1]; the address the page is bound to; any IP literal
 * when bound to every interface (a rebinding attack needs a host name); and the operator's `allowedHosts`
 * (a name behind a reverse proxy, any port). Built-in names must carry the bound port, or none.
 */
import { isIP } from 'node:net';

export class StatusPageConfigError extends Error {
  override readonly name = 'StatusPageConfigError';
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
const WILDCARD = ['0.0.0.0', '::', ''];
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

interface HostPort {
  name: string;
  port?: number;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`, lower-cased, trailing dot dropped; undefined if malformed. */
export function splitHost(value: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
  if (m[1] !== undefined && isIP(name) !== 6) return undefined;
  if (m[2] !== undefined && isIP(name) === 0 && !HOST_NAME.test(name)) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65_535) return undefined;
  return { name, port };
}

export interface HostCheck {
  /** True when a request with this Host header may be answered. */
  allows(host: string | undefined): boolean;
}

/**
 * @throws StatusPageConfigError when an `allowedHosts` entry is not a host name, IP, or either with a port.
 */
export function hostCheck(boundHost: string, boundPort: number, allowedHosts: readonly string[] = []): HostCheck {
  const allowList = allowedHosts.map((entry) => {
    const parsed = splitHost(entry);
    if (!parsed) throw new StatusPageConfigError(`allowedHosts: ${JSON.stringify(entry)} is not a host name or host:port`);
    return parsed;
  });
  const bound = boundHost.toLowerCase().replace(/^\[|\]$/g, '');
  const wildcard = WILDCARD.includes(bound);
  const builtIn = new Set(wildcard ? LOOPBACK : [...LOOPBACK, bound]);
  return {
    allows(host) {
      const h = host === undefined ? undefined : splitHost(host);
      if (!h) return false;
      if (allowList.some((a) => a.name === h.name && (a.port === undefined || a.port === h.port))) return true;
      const portOk = h.port === undefined || h.port === boundPort;
      return portOk && (builtIn.has(h.name) || (wildcard && isIP(h.name) !== 0));
    },
  };
}
