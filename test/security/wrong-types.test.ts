/**
 * Security: internal errors on wrong types. Every method of every interface gets, in each of
 * its arguments, each XML-RPC type it does not take. The answer is BADARGS (code 1) naming the
 * argument, in a well-formed response: never code 5, never an internal message, never a reply
 * the client cannot parse (a base64 with NUL bytes used to break the answer's serialization).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import {
  bootstrapUser,
  client,
  makeAuthorityDir,
  startTestAuthority,
} from '../support/authority.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const SLIVER = 'urn:publicid:IDN+ple+sliver+1';
const GENI3 = { type: 'GENI', version: '3' };
const RSPEC = '<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"></rspec>';

/** A value of each XML-RPC type. */
const TYPED: Record<string, XmlRpcValue> = {
  int: 7,
  boolean: true,
  double: 1.5,
  dateTime: new Date('2026-11-25T12:00:00Z'),
  'base64 with NUL bytes': Buffer.from([0x75, 0x72, 0x6e, 0x00, 0x0a, 0x00]),
  struct: { urn: SLICE, nested: { a: [1] } },
  array: [7, { a: 1 }],
  string: 'not-what-is-expected',
};

/** The XML-RPC types each kind of argument does not take (a string is wrong only where noted). */
const WRONG: Record<string, string[]> = {
  // A bare string is one URN / one credential, so everything but a string (and a list) is wrong.
  list: ['int', 'boolean', 'double', 'dateTime', 'base64 with NUL bytes', 'struct', 'array'],
  string: ['int', 'boolean', 'double', 'dateTime', 'base64 with NUL bytes', 'struct', 'array'],
  struct: ['int', 'boolean', 'double', 'dateTime', 'base64 with NUL bytes', 'array', 'string'],
  // A dateTime, epoch seconds (int or double) or a string all say when.
  time: ['boolean', 'base64 with NUL bytes', 'struct', 'array'],
};

type Arg = { name: string; kind: keyof typeof WRONG; value: () => XmlRpcValue };
type Method = { name: string; args: Arg[] };

let running: RunningAuthority;
let dir: string;
let userCred: string;
let sliceCred: string;
let aliceKey: string;
let aliceGid: string;

const creds = (): Arg => ({ name: 'credentials', kind: 'list', value: () => [sliceCred] });
const opts = (extra: XmlRpcStruct = {}): Arg => ({
  name: 'options',
  kind: 'struct',
  value: () => ({ geni_rspec_version: GENI3, ...extra }),
});
const urns = (): Arg => ({ name: 'urns', kind: 'list', value: () => [SLICE] });
const sliceUrn = (): Arg => ({ name: 'slice_urn', kind: 'string', value: () => SLICE });

const AM_V3: Method[] = [
  { name: 'GetVersion', args: [opts()] },
  { name: 'ListResources', args: [{ ...creds(), value: () => [userCred] }, opts()] },
  { name: 'Describe', args: [urns(), creds(), opts()] },
  {
    name: 'Allocate',
    args: [sliceUrn(), creds(), { name: 'rspec', kind: 'string', value: () => RSPEC }, opts()],
  },
  { name: 'Provision', args: [urns(), creds(), opts()] },
  {
    name: 'PerformOperationalAction',
    args: [urns(), creds(), { name: 'action', kind: 'string', value: () => 'geni_start' }, opts()],
  },
  { name: 'Status', args: [urns(), creds(), opts()] },
  {
    name: 'Renew',
    args: [
      urns(),
      creds(),
      { name: 'expiration_time', kind: 'time', value: () => '2026-11-30T00:00:00Z' },
      opts(),
    ],
  },
  { name: 'Delete', args: [{ ...urns(), value: () => [SLIVER] }, creds(), opts()] },
  { name: 'Shutdown', args: [sliceUrn(), creds(), opts()] },
];

const AM_V2: Method[] = [
  { name: 'GetVersion', args: [opts()] },
  { name: 'ListResources', args: [{ ...creds(), value: () => [userCred] }, opts()] },
  {
    name: 'CreateSliver',
    args: [
      sliceUrn(),
      creds(),
      { name: 'rspec', kind: 'string', value: () => RSPEC },
      { name: 'users', kind: 'list', value: () => [] },
      opts(),
    ],
  },
  { name: 'SliverStatus', args: [sliceUrn(), creds(), opts()] },
  {
    name: 'RenewSliver',
    args: [
      sliceUrn(),
      creds(),
      { name: 'expiration_time', kind: 'time', value: () => '2026-11-30T00:00:00Z' },
      opts(),
    ],
  },
  { name: 'DeleteSliver', args: [sliceUrn(), creds(), opts()] },
  { name: 'Shutdown', args: [sliceUrn(), creds(), opts()] },
];

const REGISTRY: Method[] = [
  {
    name: 'GetSelfCredential',
    args: [
      { name: 'cert', kind: 'string', value: () => aliceGid },
      { name: 'xrn', kind: 'string', value: () => 'ple.inria.alice' },
      { name: 'type', kind: 'string', value: () => 'user' },
    ],
  },
  {
    name: 'GetCredential',
    args: [
      { name: 'credentials', kind: 'list', value: () => [userCred] },
      { name: 'xrn', kind: 'string', value: () => 'ple.inria.myslice' },
      { name: 'type', kind: 'string', value: () => 'slice' },
    ],
  },
  {
    name: 'Resolve',
    args: [
      { name: 'xrns', kind: 'list', value: () => ['ple.inria.alice'] },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
      { name: 'options', kind: 'struct', value: () => ({}) },
    ],
  },
  {
    name: 'List',
    args: [
      { name: 'xrn', kind: 'string', value: () => 'ple.inria' },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
      { name: 'options', kind: 'struct', value: () => ({}) },
    ],
  },
  {
    name: 'Register',
    args: [
      { name: 'record', kind: 'struct', value: () => ({ hrn: 'ple.inria.s2', type: 'slice' }) },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
    ],
  },
  {
    name: 'Update',
    args: [
      {
        name: 'record',
        kind: 'struct',
        value: () => ({ hrn: 'ple.inria.myslice', type: 'slice' }),
      },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
    ],
  },
  {
    name: 'Remove',
    args: [
      { name: 'xrn', kind: 'string', value: () => 'ple.inria.nothing' },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
      { name: 'type', kind: 'string', value: () => 'slice' },
    ],
  },
  {
    name: 'GetGids',
    args: [
      { name: 'xrns', kind: 'list', value: () => ['ple.inria.alice'] },
      { name: 'credentials', kind: 'list', value: () => [userCred] },
    ],
  },
  {
    name: 'CreateGid',
    args: [
      { name: 'credentials', kind: 'list', value: () => [userCred] },
      { name: 'xrn', kind: 'string', value: () => 'ple.inria.alice' },
      { name: 'cert', kind: 'string', value: () => aliceGid },
    ],
  },
];

interface Outcome {
  code: number;
  message: string;
}

function cases(methods: Method[]): [string, string, string, number, string][] {
  return methods.flatMap((m) =>
    m.args.flatMap((a, i) =>
      WRONG[a.kind]!.filter((t) => !(a.kind === 'string' && t === 'string')).map(
        (t) => [m.name, a.name, t, i, a.kind] as [string, string, string, number, string],
      ),
    ),
  );
}

function paramsWith(m: Method, i: number, type: string): XmlRpcValue[] {
  return m.args.map((a, j) => (j === i ? TYPED[type]! : a.value()));
}

async function amOutcome(url: string, m: Method, i: number, type: string): Promise<Outcome> {
  const r = (await client(
    url,
    aliceKey,
    aliceGid,
  )(m.name, ...paramsWith(m, i, type))) as XmlRpcStruct;
  return {
    code: (r['code'] as XmlRpcStruct)['geni_code'] as number,
    message: String(r['output']),
  };
}

async function registryOutcome(m: Method, i: number, type: string): Promise<Outcome> {
  try {
    await client(running.urls.registry, aliceKey, aliceGid)(m.name, ...paramsWith(m, i, type));
    return { code: 0, message: '' };
  } catch (e) {
    const f = e as { faultCode?: number; faultString?: string; message: string };
    if (f.faultCode === undefined) throw e; // a broken answer: the test fails with it
    return { code: f.faultCode, message: f.faultString ?? '' };
  }
}

function expectBadArgsNaming(o: Outcome, arg: string): void {
  expect(o.message).not.toMatch(/internal|TypeError|Cannot convert|stack|undefined/i);
  expect(o.code, o.message).toBe(1);
  expect(o.message).toContain(arg);
}

beforeAll(async () => {
  const made = await makeAuthorityDir();
  dir = made.dir;
  running = await startTestAuthority(made.dir);
  const a = await bootstrapUser(running.urls.registry, made.alice);
  userCred = a.cred;
  sliceCred = (await a.registry('GetCredential', a.cred, 'ple.inria.myslice', 'slice')) as string;
  aliceKey = made.alice.keyPem;
  aliceGid = a.gid;
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Security: internal errors on wrong types', () => {
  describe('AM API v3', () => {
    it.each(cases(AM_V3))('%s with %s as %s', async (method, arg, type, i) => {
      const m = AM_V3.find((x) => x.name === method)!;
      expectBadArgsNaming(await amOutcome(running.urls.aggregate, m, i, type), arg);
    });
  });
  describe('AM API v2', () => {
    it.each(cases(AM_V2))('%s with %s as %s', async (method, arg, type, i) => {
      const m = AM_V2.find((x) => x.name === method)!;
      expectBadArgsNaming(await amOutcome(running.urls.aggregateV2, m, i, type), arg);
    });
  });
  describe('slice manager', () => {
    it.each(cases(AM_V3))('%s with %s as %s', async (method, arg, type, i) => {
      const m = AM_V3.find((x) => x.name === method)!;
      expectBadArgsNaming(await amOutcome(running.urls.slicemgr, m, i, type), arg);
    });
    it('sfa_ts_relayed_by as [7, {}] is BADARGS naming the option', async () => {
      const m = AM_V3.find((x) => x.name === 'ListResources')!;
      const r = (await client(running.urls.slicemgr, aliceKey, aliceGid)(m.name, [userCred], {
        geni_rspec_version: GENI3,
        sfa_ts_relayed_by: [7, {}],
      })) as XmlRpcStruct;
      expectBadArgsNaming(
        { code: (r['code'] as XmlRpcStruct)['geni_code'] as number, message: String(r['output']) },
        'sfa_ts_relayed_by',
      );
    });
  });
  describe('registry', () => {
    it.each(cases(REGISTRY))('%s with %s as %s', async (method, arg, type, i) => {
      const m = REGISTRY.find((x) => x.name === method)!;
      expectBadArgsNaming(await registryOutcome(m, i, type), arg);
    });
  });
});
