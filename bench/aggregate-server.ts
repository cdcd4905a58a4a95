/**
 * The aggregate benchmark's server process: `startAuthority` on the folder given as argument,
 * on 127.0.0.1, so that the clients of bench/aggregate.ts measure it over real HTTPS from
 * another process (on a 2-core machine, one core each) and its memory is its own.
 *
 * Driven over the IPC channel: it says `ready` with its URLs, then answers requests for the
 * handler times of the calls it served, its memory, where the ad's time goes, and a
 * double-booking check through the engine's store.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import { amSuccess } from '../src/aggregate/envelope.js';
import { toAdNode } from '../src/aggregate/mapping.js';
import { Xrn } from '../src/credentials/xrn.js';
import { writeAdvertisement } from '../src/rspec/advertisement.js';
import { startAuthority, type RunningAuthority } from '../src/server/authority.js';
import { prepareResponse } from '../src/xmlrpc/server.js';
import { checkBookings } from './double-booking.js';
import { medianMs } from './stats.js';

/** What the server did for one call, read from its call log line. */
export interface ServedCall {
  method: string;
  code: number;
  ms: number;
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface AdParts {
  nodes: number;
  listNodesMs: number;
  toAdNodeMs: number;
  writeAdvertisementMs: number;
  deflateBase64Ms: number;
  serializeMs: number;
  serializeCompressedMs: number;
  adBytes: number;
  responseBytes: number;
}

export type ServerRequest =
  | { id: number; op: 'calls' }
  | { id: number; op: 'memory'; gc: boolean }
  | { id: number; op: 'cpu' }
  | { id: number; op: 'elu' }
  | { id: number; op: 'loop' }
  | { id: number; op: 'parts'; runs: number }
  | { id: number; op: 'check' }
  | { id: number; op: 'close' };

export type ServerMessage =
  | { type: 'ready'; urls: RunningAuthority['urls']; memory: MemoryFigures }
  | { type: 'answer'; id: number; result: unknown }
  | { type: 'failed'; id: number; message: string };

// `<time> aggregate Allocate caller=<urn> code=0 3.2ms …` (src/server/log.ts callLine).
const CALL_LINE = /^\S+ aggregate(?:\/v2)? (\S+) caller=.*? code=(\d+) ([\d.]+)ms/;

function memory(): MemoryFigures {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

/** Time the steps of an uncached ListResources, in this process, on the live engine. */
function adParts(running: RunningAuthority, runs: number): AdParts {
  const { engine } = running;
  const now = new Date();
  const cmUrn = Xrn.fromHrn(running.authority, 'authority+cm').urn;
  const amUrn = Xrn.fromHrn(running.authority, 'authority+am').urn;
  let nodes = engine.listNodes(now);
  const listNodesMs = medianMs(() => void (nodes = engine.listNodes(now)), runs);
  let adNodes = nodes.map((n) => toAdNode(n, cmUrn));
  const toAdNodeMs = medianMs(() => void (adNodes = nodes.map((n) => toAdNode(n, cmUrn))), runs);
  const input = {
    nodes: adNodes,
    leases: [],
    granularity: Math.round(engine.policy.leaseGranularityMs / 1000),
    generated: now,
    expires: new Date(now.getTime() + 3_600_000),
    aggregateManagerId: amUrn,
  };
  let xml = '';
  // Buffer.byteLength reads the whole string, so a lazily built one is paid for inside the timing.
  const writeAdvertisementMs = medianMs(
    () => void Buffer.byteLength((xml = writeAdvertisement(input))),
    runs,
  );
  let compressed = '';
  const deflateBase64Ms = medianMs(
    () => void (compressed = deflateSync(xml).toString('base64')),
    runs,
  );
  let bytes = 0;
  const serializeMs = medianMs(
    () => void (bytes = prepareResponse(amSuccess(3, xml)).body.length),
    runs,
  );
  const serializeCompressedMs = medianMs(
    () => void prepareResponse(amSuccess(3, compressed)),
    runs,
  );
  return {
    nodes: nodes.length,
    listNodesMs,
    toAdNodeMs,
    writeAdvertisementMs,
    deflateBase64Ms,
    serializeMs,
    serializeCompressedMs,
    adBytes: Buffer.byteLength(xml),
    responseBytes: bytes,
  };
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || !process.send) throw new Error('run by bench/aggregate.ts: fork(this, [dir])');
  const send = (m: ServerMessage): void => void process.send!(m);
  let served: ServedCall[] = [];
  let elu = performance.eventLoopUtilization();
  // How late the event loop ran its timers: a stall shows as a delay as long as it.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const running = await startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
    log: (line) => {
      const m = CALL_LINE.exec(line);
      if (m) served.push({ method: m[1]!, code: Number(m[2]), ms: Number(m[3]) });
    },
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= running.close());
  // Without a parent there is nobody to measure for.
  process.on('disconnect', () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  process.on('message', (raw) => {
    const req = raw as ServerRequest;
    const answer = async (): Promise<unknown> => {
      switch (req.op) {
        case 'calls': {
          const out = served;
          served = [];
          return out;
        }
        case 'memory':
          if (req.gc) (globalThis as { gc?: () => void }).gc?.();
          return memory();
        case 'cpu': {
          const cpu = process.cpuUsage();
          return cpu.user + cpu.system;
        }
        case 'elu': {
          // The share of wall time the event loop was busy since the previous ask.
          const now = performance.eventLoopUtilization();
          const since = performance.eventLoopUtilization(now, elu);
          elu = now;
          return since.utilization;
        }
        case 'loop': {
          // The worst and the 99th percentile delay since the previous ask, in ms.
          const out = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 };
          loopDelay.reset();
          return out;
        }
        case 'parts':
          return adParts(running, req.runs);
        case 'check':
          return checkBookings(running.engine.store.db, new Date());
        case 'close':
          await close();
          setImmediate(() => process.exit(0));
          return true;
      }
    };
    answer().then(
      (result) => send({ type: 'answer', id: req.id, result }),
      (e: unknown) => send({ type: 'failed', id: req.id, message: String(e) }),
    );
  });
  send({ type: 'ready', urls: running.urls, memory: memory() });
}

main().catch((e: unknown) => {
  process.stderr.write(`aggregate benchmark server: ${String(e)}\n`);
  process.exit(1);
});
