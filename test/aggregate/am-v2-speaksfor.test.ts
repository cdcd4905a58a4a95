/**
 * AM API v2 on its own path, speaks-for through the AM, restart and reaper, over real HTTPS.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorityKeystore } from '../../src/authority/keystore.js';
import { Gid, issueGid } from '../../src/credentials/gid.js';
import { DEFAULT_ROOT_ATTRIBUTES, signCredentialDocument } from '../../src/credentials/sign.js';
import { writeSpeaksForElement } from '../../src/credentials/speaks-for.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import {
  bootstrapUser,
  client,
  makeAuthorityDir,
  newUser,
  startTestAuthority,
  type TestUser,
} from '../support/authority.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const GENI3 = { type: 'geni', version: '3' };
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const req = (host: string) =>
  `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"><node client_id="${host}" component_id="urn:publicid:IDN+ple:inria+node+${host}" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;

const tmp = tempRoot('am-v2');
let dir: string;
let running: RunningAuthority;
let alice: TestUser;
let aliceGid: string;
let sliceCred: string;

const code = (r: XmlRpcValue) => ((r as XmlRpcStruct)['code'] as XmlRpcStruct)['geni_code'];
const value = (r: XmlRpcValue) => (r as XmlRpcStruct)['value'];

beforeAll(async () => {
  const made = await makeAuthorityDir(NOW, tmp.path);
  dir = made.dir;
  alice = made.alice;
  running = await startTestAuthority(dir);
  const a = await bootstrapUser(running.urls.registry, alice);
  aliceGid = a.gid;
  sliceCred = (await a.registry('GetCredential', a.cred, 'ple.inria.myslice', 'slice')) as string;
});
afterAll(async () => {
  await running?.close();
});

describe('AM API v2 (on /v2)', () => {
  it('answers GetVersion with geni_api 2, ListResources, CreateSliver, SliverStatus, RenewSliver, DeleteSliver', async () => {
    const v2 = client(running.urls.aggregateV2, alice.keyPem, aliceGid);
    const version = (await v2('GetVersion')) as XmlRpcStruct;
    expect(version['geni_api']).toBe(2);
    expect(running.urls.aggregateV2).toMatch(/\/v2$/);

    const ad = await v2('ListResources', [sliceCred], { geni_rspec_version: GENI3 });
    expect(code(ad)).toBe(0);
    expect(value(ad)).toContain('type="advertisement"');

    const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [alice.sshKey] }];
    const manifest = await v2('CreateSliver', SLICE, [sliceCred], req('node3.inria.fr'), users, {});
    expect(code(manifest)).toBe(0);
    expect(value(manifest)).toContain('client_id="node3.inria.fr"');
    expect(value(manifest)).toContain('username="inria_myslice"');

    const again = await v2('CreateSliver', SLICE, [sliceCred], req('node4.inria.fr'), users, {});
    expect(code(again)).toBe(17);

    const byUrn = await v2('ListResources', [sliceCred], {
      geni_rspec_version: GENI3,
      geni_slice_urn: SLICE,
    });
    expect(value(byUrn)).toContain('type="manifest"');

    const st = value(await v2('SliverStatus', SLICE, [sliceCred], {})) as XmlRpcStruct;
    expect(st['geni_urn']).toBe(SLICE);
    expect(st['geni_status']).toBe('ready');
    expect((st['geni_resources'] as XmlRpcStruct[])[0]).toMatchObject({
      geni_status: 'ready',
      geni_error: '',
    });

    expect(value(await v2('RenewSliver', SLICE, [sliceCred], '2026-12-05T00:00:00Z', {}))).toBe(
      true,
    );
    expect(code(await v2('RenewSliver', SLICE, [sliceCred], '2027-06-01T00:00:00Z', {}))).toBe(19);
    expect(value(await v2('DeleteSliver', SLICE, [sliceCred], {}))).toBe(true);
  });
});

describe('speaks-for through the AM', () => {
  it("lets a tool act for alice with alice's statement and alice's own slice credential", async () => {
    // A tool (jFed-like) with its own certificate from ple.inria.
    const keystore = new AuthorityKeystore(dir);
    const inria = keystore.get('ple.inria');
    const toolUser = newUser('ple.inria.jfed');
    const toolGid = issueGid({
      urn: 'urn:publicid:IDN+ple:inria+user+jfed',
      subjectPublicKey: createPublicKey(toolUser.key),
      issuerKey: inria.key,
      issuerGid: inria.gid,
      notBefore: new Date('2026-11-01T00:00:00Z'),
    });
    const aliceG = Gid.fromPem(aliceGid);
    const statement = signCredentialDocument({
      rootAttributes: DEFAULT_ROOT_ATTRIBUTES,
      credentialXml: writeSpeaksForElement(
        'ref0',
        aliceG,
        toolGid,
        new Date('2026-12-20T00:00:00Z'),
      ),
      refid: 'ref0',
      signerKey: createPrivateKey(alice.keyPem),
      signerGid: aliceG,
      algorithm: 'rsa-sha1',
    });
    const tool = client(running.urls.aggregate, toolUser.keyPem, toolGid.pem);
    const creds = [
      { geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred },
      { geni_type: 'geni_abac', geni_version: '1', geni_value: statement },
    ];
    const ok = await tool('Status', [SLICE], creds, {
      geni_speaking_for: 'urn:publicid:IDN+ple:inria+user+alice',
    });
    expect((ok as XmlRpcStruct)['output']).toBe('');
    expect(code(ok)).toBe(0);
    // Without the statement the tool is just a caller holding someone else's credential.
    const without = await tool('Status', [SLICE], [creds[0]!], {});
    expect(code(without)).toBe(22);
    // Speaking for someone who did not sign the statement.
    const wrong = await tool('Status', [SLICE], creds, {
      geni_speaking_for: 'urn:publicid:IDN+ple:inria+user+bob',
    });
    expect(code(wrong)).toBe(22);
  });
});

describe('durability', () => {
  it('keeps every sliver across a restart, and the reaper frees lapsed allocations', async () => {
    const am = client(running.urls.aggregate, alice.keyPem, aliceGid);
    const creds = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred }];
    const r = (await am(
      'Allocate',
      SLICE,
      creds,
      req('node2.upmc.fr'.replace('upmc', 'inria')),
      {},
    )) as XmlRpcStruct;
    expect(code(r)).toBe(0);
    const urn = ((value(r) as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[])[0]![
      'geni_sliver_urn'
    ] as string;

    await running.close();
    running = await startTestAuthority(dir);
    const am2 = client(running.urls.aggregate, alice.keyPem, aliceGid);
    const st = (await am2('Status', [urn], creds, {})) as XmlRpcStruct;
    expect(code(st)).toBe(0);
    expect(
      ((value(st) as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[])[0]!['geni_allocation_status'],
    ).toBe('geni_allocated');

    // Allocated but never provisioned: gone once the allocation lifetime (10 minutes) has passed.
    const reaped = running.engine.reap(new Date(NOW.getTime() + 11 * 60_000));
    expect(reaped.slivers.map((s) => s.urn)).toContain(urn);
    expect(code(await am2('Status', [urn], creds, {}))).toBe(12);
  });
});
