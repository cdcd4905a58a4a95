/**
 * One authority served by two front-ends (`sfa serve` processes) on one PostgreSQL database:
 * conflicting Allocates spread over both never both win, a call_id replayed to the other
 * front-end is still a replay, a change made beside one is seen by the other at its next call,
 * one reaper at a time (and another takes over when it dies), acknowledged allocations survive
 * a front-end killed mid-storm, and both ride out a PostgreSQL restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBookings, isClean } from '../../bench/double-booking.js';
import { AggregateEngine } from '../../src/aggregate/engine/engine.js';
import { PeerStore } from '../../src/peers/peer-store.js';
import { createRecord } from '../../src/registry/register.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/index.js';
import { bootstrapUser, client, makeAuthorityDir, type TestUser } from '../support/authority.js';
import { postgresMissing, startPostgres, type TestPostgres } from '../support/postgres.js';
import { spawnAuthority, type ProcessAuthority } from '../support/process-authority.js';
import { tempRoot } from '../support/tmp.js';
import { authorityRoot } from '../peers/support.js';

const tmp = tempRoot('front-ends');
const skip = postgresMissing();

/** Slices ple.inria.s0 … s7, all alice's. */
const SLICES = Array.from({ length: 8 }, (_, i) => `s${i}`);
/** Exclusive nodes (one slice at a time) and shared ones, at site `fe`. */
const EXCLUSIVE = Array.from({ length: 6 }, (_, i) => `x${i}.fe.test`);
const SHARED = Array.from({ length: 30 }, (_, i) => `y${i}.fe.test`);

const sliceUrn = (name: string) => `urn:publicid:IDN+ple:inria+slice+${name}`;
const request = (host: string) =>
  '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
  `<node client_id="${host}" component_id="urn:publicid:IDN+ple:fe+node+${host}" ` +
  'component_manager_id="urn:publicid:IDN+ple+authority+cm"><sliver_type name="plab-vserver"/>' +
  '</node></rspec>';
const code = (r: XmlRpcStruct): number => (r['code'] as XmlRpcStruct)['geni_code'] as number;

type Am = (method: string, ...params: XmlRpcValue[]) => Promise<XmlRpcStruct>;

describe.skipIf(skip)('Several front-ends, one PostgreSQL store', () => {
  let pg: TestPostgres;
  let url: string;
  let dir: string;
  let alice: TestUser;
  let a: ProcessAuthority;
  let b: ProcessAuthority;
  let gid: string;
  let userCred: string;
  const creds = new Map<string, XmlRpcStruct[]>();
  const am = (fe: ProcessAuthority): Am => {
    const call = client(fe.urls.aggregate, alice.keyPem, gid);
    return async (method, ...params) => (await call(method, ...params)) as XmlRpcStruct;
  };
  const allocate = (fe: ProcessAuthority, slice: string, host: string, options = {}) =>
    am(fe)('Allocate', sliceUrn(slice), creds.get(slice)!, request(host), options);
  /** The aggregate's tables, read beside the front-ends. */
  const withEngine = <T>(fn: (engine: AggregateEngine) => T): T => {
    const engine = AggregateEngine.open(url, { authority: 'ple' });
    try {
      return fn(engine);
    } finally {
      engine.close();
    }
  };
  /** Delete every sliver of every slice, through `fe`. */
  const deleteAll = async (fe: ProcessAuthority = a) => {
    for (const s of SLICES) {
      const r = await am(fe)('Delete', [sliceUrn(s)], creds.get(s)!, {});
      // SEARCHFAILED: the slice had no sliver.
      expect([0, 12]).toContain(code(r));
    }
    expect(withEngine((engine) => checkBookings(engine.store.db, new Date()).liveSlivers)).toBe(0);
  };

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    const now = new Date(); // the front-ends run on the real clock
    const made = await makeAuthorityDir(now, tmp.path, url);
    ({ dir, alice } = made);
    const reg = openRegistry(dir);
    try {
      for (const s of SLICES) {
        await createRecord(
          reg.ctx,
          { hrn: `ple.inria.${s}`, type: 'slice', researchers: [alice.hrn] },
          now,
        );
      }
    } finally {
      reg.close();
    }
    withEngine((engine) =>
      engine.loadInventory({
        sites: [{ loginBase: 'fe', name: 'Front-end test site' }],
        nodes: [
          ...EXCLUSIVE.map((hostname) => ({ hostname, site: 'fe', exclusive: true })),
          ...SHARED.map((hostname) => ({ hostname, site: 'fe', maxSlivers: 1000 })),
        ],
      }),
    );
    [a, b] = await Promise.all([
      spawnAuthority('ple', dir, ['--reap-interval', '1']),
      spawnAuthority('ple', dir, ['--reap-interval', '1']),
    ]);
    const session = await bootstrapUser(a.urls.registry, alice);
    gid = session.gid;
    userCred = session.cred;
    for (const s of SLICES) {
      const cred = (await session.registry(
        'GetCredential',
        userCred,
        `ple.inria.${s}`,
        'slice',
      )) as string;
      creds.set(s, [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: cred }]);
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await pg?.close();
  });

  it('gives each exclusive node to exactly one of many conflicting Allocates spread over both', async () => {
    const attempts = EXCLUSIVE.flatMap((host, i) =>
      SLICES.map((slice, j) => ({ host, slice, fe: (i + j) % 2 === 0 ? a : b })),
    );
    const answers = await Promise.all(
      attempts.map(async (t) => ({ ...t, code: code(await allocate(t.fe, t.slice, t.host)) })),
    );
    for (const host of EXCLUSIVE) {
      const won = answers.filter((x) => x.host === host && x.code === 0);
      expect(won, host).toHaveLength(1);
      // The losers were refused (the node is another slice's), not failed.
      const lost = answers.filter((x) => x.host === host && x.code !== 0);
      expect(new Set(lost.map((x) => x.code))).toEqual(new Set([7]));
    }
    // Each node was asked for through both front-ends, at once: the race was between them.
    for (const host of EXCLUSIVE) {
      const via = new Set(answers.filter((x) => x.host === host).map((x) => x.fe));
      expect(via.size).toBe(2);
    }
    const bookings = withEngine((engine) => checkBookings(engine.store.db, new Date()));
    expect(bookings.exclusiveNodesHeld).toBe(EXCLUSIVE.length);
    expect(bookings.liveSlivers).toBe(EXCLUSIVE.length);
    expect(isClean(bookings)).toBe(true);
    await deleteAll();
  });

  it('replays a call_id sent again to the other front-end instead of running it twice', async () => {
    const options = { geni_rspec_version: { type: 'GENI', version: '3' }, call_id: 'retry-1' };
    const first = await am(a)(
      'Allocate',
      sliceUrn('s0'),
      creds.get('s0')!,
      request(SHARED[0]!),
      options,
    );
    expect(code(first)).toBe(0);
    // The same call to b, as a client retrying through another address, gets a's answer.
    const again = await am(b)(
      'Allocate',
      sliceUrn('s0'),
      creds.get('s0')!,
      request(SHARED[0]!),
      options,
    );
    expect(again).toEqual(first);
    // Without the call_id, the same request is a new call: the slice already has that client id.
    const fresh = await am(b)(
      'Allocate',
      sliceUrn('s0'),
      creds.get('s0')!,
      request(SHARED[0]!),
      {},
    );
    expect(code(fresh)).not.toBe(0);
    const status = await am(b)('Status', [sliceUrn('s0')], creds.get('s0')!, {});
    expect((status['value'] as XmlRpcStruct)['geni_slivers']).toHaveLength(1);
    await deleteAll();
  });

  it('never runs a call_id twice when its retries reach both front-ends at once', async () => {
    const options = { geni_rspec_version: { type: 'GENI', version: '3' }, call_id: 'retry-2' };
    const answers = await Promise.all(
      [a, b, a, b].map((fe) =>
        am(fe)('Allocate', sliceUrn('s3'), creds.get('s3')!, request(SHARED[2]!), options),
      ),
    );
    const ok = answers.filter((x) => code(x) === 0);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const x of ok) expect(x).toEqual(ok[0]); // replays of the one answer
    // The others were told to wait for the first attempt (BUSY), never run again.
    for (const x of answers.filter((y) => code(y) !== 0)) {
      expect(code(x)).toBe(14);
      expect(x['output']).toMatch(/first attempt of call_id retry-2 is still running/);
    }
    const status = await am(b)('Status', [sliceUrn('s3')], creds.get('s3')!, {});
    expect((status['value'] as XmlRpcStruct)['geni_slivers']).toHaveLength(1);
    await deleteAll();
  });

  it('shows an inventory change and a new peer at the other front-ends’ next call', async () => {
    const listed = async (fe: ProcessAuthority) =>
      (
        await am(fe)(
          'ListResources',
          [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: userCred }],
          {
            geni_rspec_version: { type: 'GENI', version: '3' },
          },
        )
      )['value'] as string;
    expect(await listed(a)).not.toContain('late.fe.test');
    expect(await listed(b)).not.toContain('late.fe.test');
    withEngine((engine) => engine.addNode({ hostname: 'late.fe.test', site: 'fe' }));
    expect(await listed(a)).toContain('late.fe.test');
    expect(await listed(b)).toContain('late.fe.test');
    // An Allocate through a is seen by b at once.
    expect(code(await allocate(a, 's1', 'late.fe.test'))).toBe(0);
    const described = await am(b)('Describe', [sliceUrn('s1')], creds.get('s1')!, {
      geni_rspec_version: { type: 'GENI', version: '3' },
    });
    expect((described['value'] as XmlRpcStruct)['geni_rspec']).toContain('late.fe.test');
    await deleteAll();

    // A peer added beside them: both registries name it at their next GetVersion.
    const peerOf = async (fe: ProcessAuthority) => {
      const v = (await client(fe.urls.registry, alice.keyPem, gid)('GetVersion')) as XmlRpcStruct;
      return (v['peers'] ?? {}) as Record<string, string>;
    };
    expect(await peerOf(b)).not.toHaveProperty('plc');
    const reg = openRegistry(dir);
    try {
      new PeerStore(reg.ctx.store.db, 'ple').add(
        {
          hrn: 'plc',
          registryUrl: 'https://plc.example:12345/',
          aggregateUrls: ['https://plc.example:12346/'],
          root: authorityRoot('plc').gid,
        },
        new Date(),
        'test',
      );
    } finally {
      reg.close();
    }
    expect(await peerOf(a)).toHaveProperty('plc', 'https://plc.example:12345/');
    expect(await peerOf(b)).toHaveProperty('plc', 'https://plc.example:12345/');
  });

  it('reaps on one front-end at a time', async () => {
    const reaps = (fe: ProcessAuthority) =>
      fe.log.filter((l) => l.includes('aggregate reaper: this front-end reaps')).length;
    await waitFor(() => reaps(a) + reaps(b) > 0, 5000);
    expect(reaps(a) + reaps(b)).toBe(1);
  });

  it('keeps every acknowledged allocation when a front-end is killed mid-storm, and the reaper moves', async () => {
    const leader = a.log.some((l) => l.includes('this front-end reaps')) ? a : b;
    const survivor = leader === a ? b : a;
    const acknowledged: { slice: string; host: string }[] = [];
    let unanswered = 0;
    // 16 clients, each taking the next (slice, node) pair, alternately on each front-end; the
    // leader is killed once a third of the pairs are acknowledged, with calls in flight.
    const pairs = SLICES.flatMap((slice, i) =>
      SHARED.map((host, j) => ({ slice, host, fe: (i + j) % 2 === 0 ? a : b })),
    );
    let next = 0;
    const killAt = Math.floor(pairs.length / 3);
    const worker = async () => {
      for (let t = pairs[next++]; t; t = pairs[next++]) {
        try {
          if (code(await allocate(t.fe, t.slice, t.host)) === 0) acknowledged.push(t);
        } catch {
          unanswered++; // the killed front-end's calls end without an answer: never acknowledged
        }
        if (acknowledged.length >= killAt && leader.child.signalCode === null) {
          leader.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(leader.child.signalCode).toBe('SIGKILL');
    expect(unanswered).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(0);
    const stored = withEngine((engine) =>
      SLICES.flatMap((s) =>
        engine.describe([sliceUrn(s)], new Date()).slivers.map((v) => `${s} ${v.node.hostname}`),
      ),
    );
    for (const t of acknowledged) expect(stored).toContain(`${t.slice} ${t.host}`);
    // The survivor takes the reaper over: the dead one's lock went with its connection.
    await waitFor(() => survivor.log.some((l) => l.includes('this front-end reaps')), 10_000);
    await deleteAll(survivor);
  }, 60_000);

  it('answers DBERROR while PostgreSQL restarts, and serves again by itself afterwards', async () => {
    const fe = a.child.exitCode === null && a.child.signalCode === null ? a : b;
    await pg.stop();
    const down = await allocate(fe, 's2', SHARED[1]!);
    expect(code(down)).toBe(9);
    expect(down['output']).toMatch(/database server cannot be reached/);
    expect(down['output']).not.toMatch(/\n\s+at /); // no stack trace
    // The slice manager says the same (it reads the store too: routes, records).
    const viaSm = (await client(fe.urls.slicemgr, alice.keyPem, gid)(
      'Status',
      [sliceUrn('s2')],
      creds.get('s2')!,
      {},
    )) as XmlRpcStruct;
    expect(code(viaSm)).toBe(9);
    expect(viaSm['output']).toMatch(/database server cannot be reached/);
    // The web view: 503, saying why.
    const page = await fetch(new URL('api/nodes', fe.urls.web));
    expect(page.status).toBe(503);
    expect(((await page.json()) as { error: string }).error).toMatch(
      /database server cannot be reached/,
    );
    await pg.start();
    await waitFor(async () => code(await allocate(fe, 's2', SHARED[1]!)) === 0, 15_000);
    const status = await am(fe)('Status', [sliceUrn('s2')], creds.get('s2')!, {});
    expect(code(status)).toBe(0);
  }, 60_000);
});

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
