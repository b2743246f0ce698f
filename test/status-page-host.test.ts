/**
 * The status page's Host-header rule (DNS rebinding) as a table of cases, including the binding to every
 * interface that a container deployment uses; the live server is exercised in status-page.test.ts.
 */
import { hostCheck, splitHost, StatusPageConfigError } from '../src/status-page/host-check';

describe('status page Host check', () => {
  it('parses Host headers: names, IPv4, bracketed IPv6, with or without a port', () => {
    expect(splitHost('Example.COM.:8080')).toEqual({ name: 'example.com', port: 8080 });
    expect(splitHost('[::1]:80')).toEqual({ name: '::1', port: 80 });
    expect(splitHost('10.0.0.5')).toEqual({ name: '10.0.0.5', port: undefined });
    for (const bad of ['', 'a b', 'http://x', 'x:99999', '[nothex]', 'x/y', '::1']) expect(splitHost(bad)).toBeUndefined();
  });

  it('bound to loopback: loopback names on its port, nothing else', () => {
    const check = hostCheck('127.0.0.1', 8080);
    for (const ok of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', 'localhost']) expect({ ok, allowed: check.allows(ok) }).toEqual({ ok, allowed: true });
    for (const no of ['127.0.0.1:8081', 'attacker.example:8080', '10.0.0.5:8080', undefined, '']) expect({ no, allowed: check.allows(no) }).toEqual({ no, allowed: false });
  });

  it('bound to every interface: any IP literal (no rebinding without a name), names only from allowedHosts', () => {
    const check = hostCheck('0.0.0.0', 8080, ['monitor.internal']);
    expect(check.allows('192.168.1.20:8080')).toBe(true);
    expect(check.allows('[fd00::5]:8080')).toBe(true);
    expect(check.allows('monitor.internal')).toBe(true);
    expect(check.allows('monitor.internal:443')).toBe(true);
    expect(check.allows('attacker.example:8080')).toBe(false);
    expect(check.allows('192.168.1.20:9999')).toBe(false);
  });

  it('bound to a name: that name too', () => {
    expect(hostCheck('monitor.lan', 8080).allows('monitor.lan:8080')).toBe(true);
    expect(hostCheck('monitor.lan', 8080).allows('other.lan:8080')).toBe(false);
  });

  it('refuses a malformed allowedHosts entry with the entry in the message', () => {
    expect(() => hostCheck('127.0.0.1', 8080, ['https://x.example'])).toThrow(StatusPageConfigError);
    expect(() => hostCheck('127.0.0.1', 8080, ['https://x.example'])).toThrow('allowedHosts: "https://x.example" is not a host name or host:port');
  });
});
