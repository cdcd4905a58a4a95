/**
 * XML-RPC over HTTPS, as SFA serves it: POST on any path, always HTTP 200 `text/xml` with a
 * methodResponse or a fault, and the caller's TLS client certificate handed to the handler.
 *
 * The TLS layer asks for a client certificate but accepts any, or none (`requestCert: true,
 * rejectUnauthorized: false`): sfi's first call presents a self-signed certificate, and only
 * the application can judge a peer (against its trusted roots, the credential's owner…).
 * The handler therefore gets the certificate the peer proved it holds the key of, and nothing
 * is trusted here.
 *
 * Errors never leak: a {@link XmlRpcFault} or a GeniFault thrown by the handler becomes that
 * fault; anything else is logged and answered as fault 5 `Internal server error`.
 */
import { X509Certificate, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import express from 'express';
import { isGeniFault } from '../faults.js';
import { logText } from '../text.js';
import { XmlRpcFault } from './errors.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  guardConnections,
  serverTimeouts,
  type ConnectionLimits,
} from './connection-guard.js';
import { DEFAULT_PARSE_LIMITS, parseMethodCallAsync } from './parse.js';
import { serializeFault, serializeMethodResponse } from './serialize.js';
import type { XmlRpcValue, XmlRpcWritable } from './value.js';

/** Who is calling: the TLS client certificate (if any) and the address. */
export interface Peer {
  /** PEM of the certificate the client presented (the leaf), when it presented one. */
  certificate?: string;
  /** PEM of the leaf followed by the issuers the client sent with it, in chain order. */
  chainPem?: string;
  /** The leaf's public key: the client proved it holds the private half in the handshake. */
  publicKey?: KeyObject;
  /** The client's IP address (`::ffff:127.0.0.1` style for IPv4 on a dual-stack socket). */
  address: string;
  port?: number;
}

export interface XmlRpcCall {
  method: string;
  params: XmlRpcValue[];
  peer: Peer;
  /** The HTTP path posted to (`/`, `/RPC2`, `/v2`…): one port can serve several API versions. */
  path: string;
  /** The client program, as its HTTP User-Agent names it (outside text: for records only). */
  userAgent?: string;
}

/**
 * A methodResponse serialized ahead of time (see {@link prepareResponse}): a handler returns it
 * to answer with these exact bytes, as a cache of a large answer does.
 */
export class PreparedResponse {
  constructor(readonly body: Buffer) {}
}

/** Serialize `value` once, for answers served many times. */
export function prepareResponse(value: XmlRpcWritable): PreparedResponse {
  return new PreparedResponse(Buffer.from(serializeMethodResponse(value), 'utf8'));
}

export type XmlRpcHandler = (
  call: XmlRpcCall,
) => Promise<XmlRpcWritable | PreparedResponse> | XmlRpcWritable | PreparedResponse;

export interface XmlRpcServerOptions {
  /** PEM private key of the server's TLS identity. */
  key: string;
  /** PEM certificate of that identity, optionally followed by its chain. */
  cert: string;
  handler: XmlRpcHandler;
  /** Largest request body, compressed or not, in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Deepest element nesting of a request. Default 64. */
  maxDepth?: number;
  /** Where internal errors go (with their stack). Default: standard error. */
  log?: (line: string) => void;
  /** Bounds on connections (counts and times); each defaults to DEFAULT_CONNECTION_LIMITS. */
  connections?: Partial<ConnectionLimits>;
}

/** Answered for any error that is not a fault we mean to send: nothing of the error leaks. */
export const INTERNAL_ERROR_FAULT = { code: 5, message: 'Internal server error' } as const;

/** Longest certificate chain read from a peer (SFA chains are a few deep). */
const MAX_PEER_CHAIN = 16;

/**
 * An HTTPS server answering XML-RPC calls with `handler`; not yet listening (call `listen`).
 * Keep-alive is on; connections are bounded in number and time (see connection-guard.ts).
 */
export function createXmlRpcServer(opts: XmlRpcServerOptions): Server {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_PARSE_LIMITS.maxBytes;
  const maxDepth = opts.maxDepth ?? DEFAULT_PARSE_LIMITS.maxDepth;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.connections };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req, res) => {
    answer(req, res).catch((e: unknown) => {
      // Only a bug of this file gets here: say nothing about it on the wire.
      log(`xmlrpc: unexpected error: ${describe(e)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal server error\n', true);
      else res.destroy();
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendText(res, 405, 'Method Not Allowed: this is an XML-RPC endpoint, POST text/xml to it\n');
      return;
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!['identity', 'gzip', 'x-gzip', 'deflate'].includes(encoding)) {
      sendText(res, 415, `Unsupported Content-Encoding: ${encoding.slice(0, 40)}\n`, true);
      return;
    }
    const read = await readBody(req, maxBodyBytes, limits.maxBodyBytesHeld);
    if (read === 'gone') return; // the client went away mid-body
    if (read === 'busy') {
      res.setHeader('Retry-After', '5');
      sendText(res, 503, 'Server busy: too many large requests at once; try again shortly\n', true);
      req.socket.destroySoon();
      return;
    }
    if (read === 'too-large') {
      sendText(res, 413, `Request body larger than ${maxBodyBytes} bytes\n`, true);
      return;
    }
    let body: Buffer;
    try {
      body = await decompress(read, encoding, maxBodyBytes);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        sendText(
          res,
          413,
          `Request body larger than ${maxBodyBytes} bytes once decompressed\n`,
          true,
        );
      } else {
        sendXml(res, serializeFault(1, `the ${encoding} request body cannot be decompressed`));
      }
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const agent = req.headers['user-agent'];
    sendXml(res, await respond(body, peerOf(req.socket as TLSSocket), path, agent));
  }

  /** The XML answer to one request body: a methodResponse or a fault, never a throw. */
  async function respond(
    body: Buffer,
    peer: Peer,
    path: string,
    userAgent: string | undefined,
  ): Promise<string | Buffer> {
    let method = '(unparsed)';
    try {
      const call = await parseMethodCallAsync(body, { maxBytes: maxBodyBytes, maxDepth });
      method = call.methodName;
      const value = await opts.handler({
        method,
        params: call.params,
        peer,
        path,
        ...(userAgent === undefined ? {} : { userAgent: userAgent.slice(0, 200) }),
      });
      if (value instanceof PreparedResponse) return value.body;
      return serializeMethodResponse(value);
    } catch (e) {
      if (e instanceof XmlRpcFault) return serializeFault(e.faultCode, e.faultString);
      // Includes XmlRpcParseError (BadArgs, code 1) with what is wrong with the request.
      if (isGeniFault(e)) return serializeFault(e.geniCode, e.message);
      log(`xmlrpc: ${logText(method, 80)} from ${peer.address}: ${describe(e)}`);
      return serializeFault(INTERNAL_ERROR_FAULT.code, INTERNAL_ERROR_FAULT.message);
    }
  }

  const server = createServer(
    {
      key: opts.key,
      cert: opts.cert,
      requestCert: true,
      rejectUnauthorized: false,
      // The peer is identified once per connection (see peerOf); a renegotiation could change
      // the certificate under a live connection, so refuse renegotiation altogether.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION | cryptoConstants.SSL_OP_NO_TICKET,
      ...serverTimeouts(limits),
    },
    app,
  );
  guardConnections(server, limits, log);
  return server;
}

// ---------------------------------------------------------------------------------------------
// The peer

const peers = new WeakMap<TLSSocket, Peer>();

/**
 * The peer of a TLS connection, computed once per connection: the certificate chain the client
 * presented, leaf first, as node reports it (`issuerCertificate` links, which end on a
 * self-signed certificate pointing at itself).
 */
function peerOf(socket: TLSSocket): Peer {
  const known = peers.get(socket);
  if (known) return known;
  const peer: Peer = { address: socket.remoteAddress ?? '', port: socket.remotePort };
  const ders: Buffer[] = [];
  // getPeerCertificate returns {} (no raw) when the client sent no certificate.
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && ders.length < MAX_PEER_CHAIN && !ders.some((d) => d.equals(cert!.raw))) {
    ders.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  if (ders.length > 0) {
    try {
      const x509s = ders.map((d) => new X509Certificate(d));
      peer.certificate = x509s[0]!.toString();
      peer.chainPem = x509s.map((x) => x.toString()).join('');
      peer.publicKey = x509s[0]!.publicKey;
    } catch {
      // OpenSSL accepted it in the handshake, so this should not happen; if it does, the
      // caller is treated as anonymous rather than half-identified.
      delete peer.certificate;
      delete peer.chainPem;
      delete peer.publicKey;
    }
  }
  peers.set(socket, peer);
  return peer;
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

/**
 * The raw body, at most `limit` bytes. Past the limit the rest is read and dropped, so the
 * client can finish sending and then read the 413 (closing on a client still sending makes its
 * TCP stack discard our answer); past twice the limit we stop listening and answer at once.
 */
/**
 * Request bytes held at once by every server of this process: the connection limits bound the
 * sockets, this bounds what they can make us buffer (4096 connections × 8 MiB would be 32 GiB).
 */
let bodyBytesHeld = 0;

type BodyRead = Buffer | 'too-large' | 'gone' | 'busy';

/**
 * The raw body, at most `limit` bytes. Past the limit the rest is read and dropped, so the
 * client can finish sending and then read the 413 (closing on a client still sending makes its
 * TCP stack discard our answer); past twice the limit we stop listening and answer at once.
 * When the bodies being read by the whole process pass `heldLimit`, 'busy'.
 */
function readBody(req: IncomingMessage, limit: number, heldLimit: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > 2 * limit) {
      req.resume();
      resolve('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let held = 0;
    let done = false;
    const finish = (r: BodyRead): void => {
      if (done) return;
      done = true;
      bodyBytesHeld -= held; // the caller holds the Buffer now, but only for this one request
      held = 0;
      resolve(r);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return; // answered already ('busy'): the rest is dropped
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        held += chunk.length;
        bodyBytesHeld += chunk.length;
        if (bodyBytesHeld > heldLimit) {
          chunks.length = 0;
          finish('busy');
        }
      } else {
        chunks.length = 0;
        bodyBytesHeld -= held;
        held = 0;
        if (size > 2 * limit) finish('too-large');
      }
    });
    req.on('end', () => finish(size > limit ? 'too-large' : Buffer.concat(chunks, size)));
    req.on('error', () => finish('gone'));
    req.on('close', () => finish('gone'));
  });
}

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);

function decompress(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    return gunzipAsync(body, { maxOutputLength: limit });
  }
  if (encoding === 'deflate') return inflateAsync(body, { maxOutputLength: limit });
  return Promise.resolve(body);
}

function sendXml(res: ServerResponse, xml: string | Buffer): void {
  const body = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': body.length });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string, close = false): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}
