/**
 * A real HTTP server on loopback standing in for Slack's incoming webhook and a generic alert webhook:
 * records every POST body and answers 200 (or whatever `respond` says).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Captured {
  path: string;
  body: any;
  headers: IncomingMessage['headers'];
  at: number;
}

export interface CaptureServer {
  url: string;
  received: Captured[];
  /** Resolve once `pred` holds for the received list (polls every 50 ms, gives up after timeoutMs). */
  waitFor(pred: (received: Captured[]) => boolean, timeoutMs?: number): Promise<Captured[]>;
  respond: (req: Captured) => { status: number; body?: string; headers?: Record<string, string> };
  close(): Promise<void>;
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const received: Captured[] = [];
  const cap: Partial<CaptureServer> = { received, respond: () => ({ status: 200, body: 'ok' }) };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // keep raw text
      }
      const entry: Captured = { path: req.url ?? '/', body, headers: req.headers, at: Date.now() };
      const answer = cap.respond!(entry);
      if (answer.status < 300) received.push(entry);
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...(answer.headers ?? {}) });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cap.url = `http://127.0.0.1:${port}`;
  cap.waitFor = async (pred, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pred(received)) {
      if (Date.now() > deadline) throw new Error(`capture server: condition not met after ${timeoutMs} ms; received ${JSON.stringify(received.map((r) => r.path))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return received;
  };
  cap.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return cap as CaptureServer;
}
