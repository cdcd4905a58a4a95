/**
 * A researcher's calls to an aggregate, as the benchmarks make them: XML-RPC over HTTPS with the
 * researcher's key and GID, on a keep-alive agent.
 */
import { request as httpsRequest, type Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { xmlRpcCall } from '../src/xmlrpc/client.js';
import type { XmlRpcStruct, XmlRpcWritable } from '../src/xmlrpc/value.js';

/** Who calls: the key and the GID presented in TLS. */
export interface Caller {
  keyPem: string;
  gid: string;
}

/** How long a benchmark waits for one answer. */
export const CALL_TIMEOUT_MS = 30_000;

/** An AM API call, its answer parsed. */
export function amCall(
  url: string,
  r: Caller,
  agent: Agent,
  method: string,
  ...params: XmlRpcWritable[]
): Promise<XmlRpcStruct> {
  return xmlRpcCall(url, method, params, {
    key: r.keyPem,
    cert: r.gid,
    agent,
    timeoutMs: CALL_TIMEOUT_MS,
  }) as Promise<XmlRpcStruct>;
}

/** POST a serialized call as is: its time to the last byte, and the answer's bytes. */
export function rawCall(
  url: string,
  body: Buffer,
  r: Caller,
  agent: Agent,
): Promise<{ ms: number; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = httpsRequest(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'Content-Length': body.length },
        key: r.keyPem,
        cert: r.gid,
        agent,
        rejectUnauthorized: false,
        timeout: CALL_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ ms: performance.now() - start, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The GENI code of an AM API answer. */
export const geniCode = (answer: XmlRpcStruct): number =>
  (answer['code'] as XmlRpcStruct)['geni_code'] as number;
