/**
 * Calling an XML-RPC method over HTTPS with an optional TLS client certificate, as sfi does.
 *
 * Like sfi, the transport is always TLS, whatever the URL says: `http://host:12346/` (the form
 * sfi's configuration files use for the AM) talks HTTPS too, and a URL without a port goes to
 * 443. A bare `host:port` is read as `https://host:port/`.
 *
 * The server certificate is NOT verified by default: SFA interfaces present self-signed or
 * SFA-issued certificates that no public CA vouches for, and sfi does not check them either.
 * Pass `verifyServer` to pin a key or check a chain against trusted roots; it runs after the
 * handshake and before a byte of the request is sent, on new and reused connections alike.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import {
  XmlRpcConnectionError,
  XmlRpcFaultError,
  XmlRpcHttpError,
  XmlRpcParseError,
  XmlRpcResponseError,
  XmlRpcServerRejectedError,
  XmlRpcTimeoutError,
  type XmlRpcCallError,
} from './errors.js';
import { DEFAULT_PARSE_LIMITS, parseMethodResponse } from './parse.js';
import { serializeMethodCall } from './serialize.js';
import type { XmlRpcValue, XmlRpcWritable } from './value.js';

export interface XmlRpcCallOptions {
  /** PEM private key of the client certificate. */
  key?: string;
  /** PEM certificate presented as TLS client certificate, optionally followed by its chain. */
  cert?: string;
  /** Deadline for the whole call (connect, handshake, answer), in ms. Default 30 000. */
  timeoutMs?: number;
  /**
   * Connection pool. Default: node's global agent (keep-alive in node ≥ 19). Connections are
   * pooled per key/cert pair, so a connection made with one identity never carries another's.
   */
  agent?: Agent;
  /**
   * Judge the server's certificate (PEM of its leaf); false aborts the call with
   * XmlRpcServerRejectedError before anything is sent. Default: every server is accepted.
   */
  verifyServer?: (peerCertPem: string) => boolean;
  /** Largest answer accepted, in bytes after decompression. Default 64 MiB (RSpecs are big). */
  maxResponseBytes?: number;
  /** Deepest element nesting accepted in the answer. Default 64. */
  maxDepth?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * Call `method` with `params` at `url` and return the value of the answer. Rejects with an
 * {@link XmlRpcCallError}: XmlRpcFaultError (faultCode, faultString) for a fault,
 * XmlRpcTimeoutError, XmlRpcConnectionError (refused, reset, TLS failure…), XmlRpcHttpError
 * (status other than 200), XmlRpcResponseError (not XML-RPC) or XmlRpcServerRejectedError.
 * A bad `url` (TypeError) or a value that cannot be written (XmlRpcSerializeError) rejects
 * before anything is sent; these are the caller's bugs, not XmlRpcCallErrors.
 */
export function xmlRpcCall(
  url: string,
  method: string,
  params: readonly XmlRpcWritable[],
  opts: XmlRpcCallOptions = {},
): Promise<XmlRpcValue> {
  try {
    const target = endpoint(url);
    const body = Buffer.from(serializeMethodCall(method, params), 'utf8');
    return send(target, body, opts);
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

/** A keep-alive connection pool for {@link xmlRpcCall} (server certificates not verified). */
export function createKeepAliveAgent(opts: { maxSockets?: number } = {}): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets: opts.maxSockets ?? 8,
    rejectUnauthorized: false,
  });
}

interface Endpoint {
  /** The URL as given, for messages. */
  url: string;
  host: string;
  port: number;
  path: string;
}

function endpoint(url: string): Endpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new TypeError(`'${url}' is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new TypeError(`'${url}' is not an http(s) URL`);
  }
  return {
    url,
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    // Always TLS, as sfi: http:// without a port still means 443.
    port: u.port ? Number(u.port) : 443,
    path: `${u.pathname || '/'}${u.search}`,
  };
}

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

function send(target: Endpoint, body: Buffer, opts: XmlRpcCallOptions): Promise<XmlRpcValue> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const where = `${target.host}:${target.port}`;

  return new Promise<XmlRpcValue>((resolve, reject) => {
    let settled = false;
    const settle = (err: XmlRpcCallError | undefined, value?: XmlRpcValue): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };

    const req = request({
      host: target.host,
      port: target.port,
      path: target.path,
      method: 'POST',
      headers: {
        'Content-Type': 'text/xml',
        'Content-Length': body.length,
        'Accept-Encoding': 'gzip',
        'User-Agent': 'sfa-ts-xmlrpc',
      },
      key: opts.key,
      cert: opts.cert,
      agent: opts.agent,
      rejectUnauthorized: false,
      servername: isIP(target.host) ? undefined : target.host,
    });

    const timer = setTimeout(() => {
      const err = new XmlRpcTimeoutError(target.url, timeoutMs);
      settle(err);
      req.destroy(err);
    }, timeoutMs);

    req.on('error', (e: Error & { code?: string }) => {
      if (e instanceof XmlRpcServerRejectedError || e instanceof XmlRpcTimeoutError) settle(e);
      else settle(connectionError(e, target.url, where));
    });

    if (opts.verifyServer) {
      const verify = opts.verifyServer;
      req.on('socket', (socket) => {
        const tls = socket as TLSSocket;
        const check = (): void => {
          const raw = tls.getPeerCertificate()?.raw;
          let ok: boolean;
          try {
            ok = raw !== undefined && verify(new X509Certificate(raw).toString());
          } catch {
            ok = false; // a verifier that throws refuses
          }
          if (ok) req.end(body);
          else
            req.destroy(new XmlRpcServerRejectedError(`${target.url}: server certificate refused`));
        };
        // A pooled connection has already shaken hands; a new one has not.
        if (req.reusedSocket) check();
        else tls.once('secureConnect', check);
      });
    } else {
      req.end(body);
    }

    req.on('response', (res: IncomingMessage) => {
      readAll(res, maxBytes)
        .then(async (raw) => {
          if (raw === 'too-large') {
            settle(new XmlRpcResponseError(`${target.url}: answer larger than ${maxBytes} bytes`));
            req.destroy(); // the rest of the answer is not wanted; the connection cannot be reused
            return;
          }
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            throw new XmlRpcHttpError(target.url, status, res.statusMessage ?? '', printable(raw));
          }
          const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase();
          let xml = raw;
          try {
            if (encoding === 'gzip' || encoding === 'x-gzip') {
              xml = await gunzipAsync(raw, { maxOutputLength: maxBytes });
            } else if (encoding === 'deflate') {
              xml = await inflateAsync(raw, { maxOutputLength: maxBytes });
            }
          } catch (e) {
            throw new XmlRpcResponseError(
              `${target.url}: the ${encoding} answer cannot be decompressed: ${(e as Error).message}`,
            );
          }
          let answer;
          try {
            answer = parseMethodResponse(xml, {
              maxBytes,
              maxDepth: opts.maxDepth ?? DEFAULT_PARSE_LIMITS.maxDepth,
            });
          } catch (e) {
            if (!(e instanceof XmlRpcParseError)) throw e;
            const type = res.headers['content-type'] ?? 'no Content-Type';
            throw new XmlRpcResponseError(
              `${target.url} did not answer XML-RPC (${type}): ${e.message}`,
              { cause: e },
            );
          }
          if ('fault' in answer) {
            throw new XmlRpcFaultError(answer.fault.faultCode, answer.fault.faultString);
          }
          settle(undefined, answer.value);
        })
        .catch((e: unknown) => {
          if (e instanceof XmlRpcFaultError || e instanceof XmlRpcHttpError) settle(e);
          else if (e instanceof XmlRpcResponseError || e instanceof XmlRpcTimeoutError) settle(e);
          else settle(connectionError(e as Error, target.url, where));
        });
    });
  });
}

/** The whole body, or 'too-large' past `limit` bytes (reading then stops). */
function readAll(res: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        res.off('data', onData);
        res.pause();
        chunks.length = 0;
        resolve('too-large');
      } else chunks.push(chunk);
    };
    res.on('data', onData);
    res.on('end', () => resolve(Buffer.concat(chunks, size)));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the connection closed before the answer ended')));
  });
}

function connectionError(
  e: Error & { code?: string },
  url: string,
  where: string,
): XmlRpcConnectionError {
  const code = e.code;
  let message: string;
  switch (code) {
    case 'ECONNREFUSED':
      message = `connection refused by ${where}`;
      break;
    case 'ECONNRESET':
      message = `connection to ${where} reset`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      message = `host of ${url} not found`;
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      message = `${where} unreachable (${code})`;
      break;
    default:
      message =
        code?.startsWith('ERR_SSL') || code === 'EPROTO'
          ? `TLS with ${where} failed: ${e.message}`
          : `cannot call ${url}: ${e.message}`;
  }
  return new XmlRpcConnectionError(message, code, e);
}

/** The first 200 characters of a body, on one line, for an error message. */
function printable(body: Buffer): string {
  return body
    .subarray(0, 200)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
}
