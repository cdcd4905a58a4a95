/**
 * Bounds on connections, so that a flood of idle or slow connections cannot take the file
 * descriptors (and the native memory each TLS connection holds) while well-behaved clients
 * keep being served.
 *
 * - Per client address: a connection over `maxPerAddress` is closed at once.
 * - In all: at `maxConnections`, a new connection takes the place of the oldest one that is
 *   not in the middle of a request (still in its handshake, or idle between keep-alive
 *   requests); when every connection is busy, the new one is closed.
 * - In time (Node's own timers, set in `serverTimeouts`): the TLS handshake, the request
 *   headers, the whole request with its body, and the idle time between requests.
 */
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections from one client address. */
  maxPerAddress: number;
  /** From the TCP connection to the end of the TLS handshake. */
  handshakeTimeoutMs: number;
  /** From the start of a request to the end of its headers. */
  headersTimeoutMs: number;
  /** From the start of a request to the end of its body. */
  requestTimeoutMs: number;
  /** Idle time of a keep-alive connection between two requests. */
  keepAliveTimeoutMs: number;
  /** Request bytes being read at once by all the servers of the process (beyond: 503). */
  maxBodyBytesHeld: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 4096,
  maxPerAddress: 128,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  // 8 MiB (the largest body) at 100 KiB/s; a slower client is holding a connection hostage.
  requestTimeoutMs: 90_000,
  keepAliveTimeoutMs: 30_000,
  maxBodyBytesHeld: 256 * 1024 * 1024,
};

/** The options of `https.createServer` that enforce the time limits. */
export function serverTimeouts(limits: ConnectionLimits): {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for requests past their time: a tenth of the shortest limit.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
    ),
  };
}

interface Connection {
  readonly socket: Socket;
  readonly address: string;
  /** `address|port`. */
  readonly endpoint: string;
  /** Requests under way on it. */
  active: number;
}

/**
 * Enforce the connection counts of `limits` on `server`. `log` gets one line per
 * `reportEveryMs` while connections are being refused, never one per connection.
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  log: (line: string) => void,
  reportEveryMs = 10_000,
): void {
  /** Open connections, oldest first (a Map keeps insertion order). */
  const open = new Map<Socket, Connection>();
  /** The same, by `address|port`: what a request's TLS socket and its TCP socket share. */
  const byEndpoint = new Map<string, Connection>();
  const perAddress = new Map<string, number>();
  let refused = 0;
  let evicted = 0;
  let reportTimer: NodeJS.Timeout | undefined;

  const report = (): void => {
    if (reportTimer) return;
    reportTimer = setTimeout(() => {
      reportTimer = undefined;
      log(
        `connections: ${refused} refused (over ${limits.maxPerAddress} per address or every one of ${limits.maxConnections} busy), ${evicted} idle ones closed for newer ones in the last ${reportEveryMs / 1000} s`,
      );
      refused = 0;
      evicted = 0;
    }, reportEveryMs);
    reportTimer.unref();
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const fromAddress = perAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxPerAddress) {
      refused++;
      report();
      socket.destroy();
      return;
    }
    if (open.size >= limits.maxConnections) {
      let idle: Connection | undefined;
      for (const c of open.values()) {
        if (c.active === 0) {
          idle = c;
          break;
        }
      }
      if (!idle) {
        refused++;
        report();
        socket.destroy();
        return;
      }
      evicted++;
      report();
      forget(idle);
      idle.socket.destroy();
    }
    const c: Connection = {
      socket,
      address,
      endpoint: `${address}|${socket.remotePort}`,
      active: 0,
    };
    open.set(socket, c);
    byEndpoint.set(c.endpoint, c);
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => forget(c));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const c = byEndpoint.get(`${req.socket.remoteAddress ?? ''}|${req.socket.remotePort}`);
    if (!c) return;
    c.active++;
    res.once('close', () => {
      c.active = Math.max(0, c.active - 1);
    });
  });

  server.once('close', () => {
    if (reportTimer) clearTimeout(reportTimer);
  });

  function forget(c: Connection): void {
    if (!open.delete(c.socket)) return;
    byEndpoint.delete(c.endpoint);
    const left = (perAddress.get(c.address) ?? 1) - 1;
    if (left > 0) perAddress.set(c.address, left);
    else perAddress.delete(c.address);
  }
}
