/**
 * The peers' tables on both backends (a real SQLite file; a PostgreSQL database): what each
 * change stores and audits, and that bad input changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExists, BadArgs, CredentialSignerUntrusted, SearchFailed } from '../faults.js';
import { RegistryStore } from '../store/registry-store.js';
import { describeBackends } from '../../test/support/backends.js';
import { NOW } from '../../test/support/paths.js';
import { tempRoot } from '../../test/support/tmp.js';
import { authorityRoot, signedBy } from '../../test/peers/support.js';
import { PeerStore } from './peer-store.js';

const HOUR = 3_600_000;
const plc = authorityRoot('plc');
const plcNext = authorityRoot('plc');
const plcThird = authorityRoot('plc');
const later = (ms: number) => new Date(NOW.getTime() + ms);

const tmp = tempRoot('peer-store');
let store: RegistryStore;
let peers: PeerStore;
const plcPeer = {
  hrn: 'plc',
  registryUrl: 'https://plc.example:12345/',
  aggregateUrls: ['https://plc.example:12346/', 'https://plc2.example:12346/'],
  root: plc.gid,
};

/** Nothing stored, nothing audited. */
function expectUnchanged(): void {
  expect(peers.list()).toEqual([]);
  expect(peers.audit()).toEqual([]);
}

describeBackends('PeerStore', tmp, (where) => {
  beforeEach(() => {
    store = RegistryStore.open(where.fresh());
    peers = new PeerStore(store.db, 'ple');
  });
  afterEach(() => {
    if (store.db.open) store.close();
  });

  describe('add', () => {
    it('stores the peer, its URLs and its root, and audits it', () => {
      const p = peers.add(plcPeer, NOW, 'alice');
      expect(p).toMatchObject({
        hrn: 'plc',
        registryUrl: 'https://plc.example:12345/',
        aggregateUrls: ['https://plc.example:12346/', 'https://plc2.example:12346/'],
        created: NOW,
        lastContact: null,
        health: 'unknown',
      });
      expect(p.roots).toHaveLength(1);
      expect(p.roots[0]).toMatchObject({
        fingerprint: plc.gid.fingerprint256,
        notAfterTrust: null,
        added: NOW,
      });
      expect(p.roots[0]!.gid.der.equals(plc.gid.der)).toBe(true);
      expect(peers.get('PLC')?.hrn).toBe('plc');
      expect(peers.audit()).toEqual([
        {
          at: NOW,
          who: 'alice',
          action: 'add',
          peer: 'plc',
          oldFingerprints: [],
          newFingerprints: [plc.gid.fingerprint256],
          detail:
            'registry https://plc.example:12345/; aggregates https://plc.example:12346/ https://plc2.example:12346/',
        },
      ]);
    });

    it('refuses a second peer of the same name, in any case', () => {
      peers.add(plcPeer, NOW, 'alice');
      expect(() => peers.add({ ...plcPeer, hrn: 'PLC', root: plcNext.gid }, NOW, 'alice')).toThrow(
        AlreadyExists,
      );
      expect(peers.list()).toHaveLength(1);
      expect(peers.audit()).toHaveLength(1);
    });

    it('adds a peer with no aggregate: a registry or clearinghouse only', () => {
      const p = peers.add({ ...plcPeer, aggregateUrls: [] }, NOW, 'alice');
      expect(p.aggregateUrls).toEqual([]);
      expect(peers.get('plc')?.aggregateUrls).toEqual([]);
      expect(peers.audit()[0]!.detail).toContain('aggregates (none)');
    });

    it.each([
      ['a peer inside our namespace', { hrn: 'ple.evil' }, BadArgs],
      ['a bad registry URL', { registryUrl: 'plc.example' }, BadArgs],
      ['a bad aggregate URL', { aggregateUrls: ['https://ok/', 'nope'] }, BadArgs],
      [
        'a root named for another authority',
        { root: authorityRoot('ple').gid },
        CredentialSignerUntrusted,
      ],
      [
        'a root that is not self-signed',
        { hrn: 'plc.princeton', root: signedBy(plc, 'plc.princeton', 'authority').gid },
        CredentialSignerUntrusted,
      ],
    ])('refuses %s and changes nothing', (_, change, cls) => {
      expect(() => peers.add({ ...plcPeer, ...change }, NOW, 'alice')).toThrow(cls);
      expectUnchanged();
    });
  });

  describe('rotate', () => {
    beforeEach(() => {
      peers.add(plcPeer, NOW, 'alice');
    });

    it('with an overlap: keeps the old root until now + overlap, trusts the new one until revoked', () => {
      const r = peers.rotate('plc', plcNext.gid, 24 * HOUR, later(HOUR), 'bob');
      expect(r.retired).toEqual([{ fingerprint: plc.gid.fingerprint256, until: later(25 * HOUR) }]);
      expect(r.peer.roots.map((x) => [x.fingerprint, x.notAfterTrust])).toEqual([
        [plc.gid.fingerprint256, later(25 * HOUR)],
        [plcNext.gid.fingerprint256, null],
      ]);
      expect(peers.audit('plc')[1]).toEqual({
        at: later(HOUR),
        who: 'bob',
        action: 'rotate',
        peer: 'plc',
        oldFingerprints: [plc.gid.fingerprint256],
        newFingerprints: [plc.gid.fingerprint256, plcNext.gid.fingerprint256],
        detail: `new root ${plcNext.gid.fingerprint256}; previous roots trusted until 2026-11-26T13:00:00Z`,
      });
    });

    it('without an overlap: drops the old root at once', () => {
      const r = peers.rotate('plc', plcNext.gid, undefined, later(HOUR), 'bob');
      expect(r.retired).toEqual([{ fingerprint: plc.gid.fingerprint256, until: null }]);
      expect(r.peer.roots.map((x) => x.fingerprint)).toEqual([plcNext.gid.fingerprint256]);
      expect(peers.audit('plc')[1]).toMatchObject({
        oldFingerprints: [plc.gid.fingerprint256],
        newFingerprints: [plcNext.gid.fingerprint256],
        detail: `new root ${plcNext.gid.fingerprint256}; previous roots dropped at once`,
      });
    });

    it('a second rotation during an overlap keeps the earlier end, and forgets ended roots', () => {
      peers.rotate('plc', plcNext.gid, 2 * HOUR, NOW, 'bob');
      const r = peers.rotate('plc', plcThird.gid, 24 * HOUR, later(HOUR), 'bob');
      expect(r.peer.roots.map((x) => [x.fingerprint, x.notAfterTrust])).toEqual([
        [plc.gid.fingerprint256, later(2 * HOUR)],
        [plcNext.gid.fingerprint256, later(25 * HOUR)],
        [plcThird.gid.fingerprint256, null],
      ]);
      const again = peers.rotate('plc', plcNext.gid, HOUR, later(3 * HOUR), 'bob');
      // plc's overlap ended at +2h: forgotten; plcNext is the root again, plcThird on overlap.
      expect(again.peer.roots.map((x) => [x.fingerprint, x.notAfterTrust])).toEqual([
        [plcNext.gid.fingerprint256, null],
        [plcThird.gid.fingerprint256, later(4 * HOUR)],
      ]);
    });

    it('refuses the current root, an unknown peer, a root of another name; changes nothing', () => {
      const before = peers.list();
      expect(() => peers.rotate('plc', plc.gid, undefined, NOW, 'bob')).toThrow(
        `${plc.gid.fingerprint256} is already the root of peer plc: nothing to rotate`,
      );
      expect(() => peers.rotate('plj', plcNext.gid, undefined, NOW, 'bob')).toThrow(SearchFailed);
      expect(() => peers.rotate('plc', authorityRoot('plj').gid, undefined, NOW, 'bob')).toThrow(
        CredentialSignerUntrusted,
      );
      expect(() => peers.rotate('plc', plcNext.gid, 0, NOW, 'bob')).toThrow(BadArgs);
      expect(peers.list()).toEqual(before);
      expect(peers.audit()).toHaveLength(1);
    });
  });

  describe('revoke', () => {
    it('forgets the peer and its roots, and keeps its audit trail', () => {
      peers.add(plcPeer, NOW, 'alice');
      peers.rotate('plc', plcNext.gid, HOUR, NOW, 'alice');
      const gone = peers.revoke('PLC', later(10), 'carol');
      expect(gone.hrn).toBe('plc');
      expect(peers.list()).toEqual([]);
      expect(
        Number(
          store.db.prepare<[], { n: unknown }>('SELECT count(*) AS n FROM peer_roots').get()?.n,
        ),
      ).toBe(0);
      expect(peers.audit('plc').map((e) => [e.action, e.who])).toEqual([
        ['add', 'alice'],
        ['rotate', 'alice'],
        ['revoke', 'carol'],
      ]);
      expect(peers.audit('plc')[2]).toMatchObject({
        oldFingerprints: [plc.gid.fingerprint256, plcNext.gid.fingerprint256],
        newFingerprints: [],
      });
      expect(() => peers.revoke('plc', NOW, 'carol')).toThrow("no peer plc (see 'sfa peer list')");
    });
  });

  describe('update', () => {
    it('replaces the URLs given and audits it', () => {
      peers.add(plcPeer, NOW, 'alice');
      const p = peers.update('plc', { aggregateUrls: ['https://am.plc/'] }, NOW, 'bob');
      expect(p.registryUrl).toBe('https://plc.example:12345/');
      expect(p.aggregateUrls).toEqual(['https://am.plc/']);
      expect(peers.audit('plc')[1]).toMatchObject({
        action: 'update',
        oldFingerprints: [plc.gid.fingerprint256],
        newFingerprints: [plc.gid.fingerprint256],
        detail: 'registry https://plc.example:12345/; aggregates https://am.plc/',
      });
      expect(() => peers.update('plc', {}, NOW, 'bob')).toThrow(BadArgs);
      expect(() => peers.update('plc', { registryUrl: 'x' }, NOW, 'bob')).toThrow(BadArgs);
      expect(peers.audit('plc')).toHaveLength(2);
    });
  });

  describe('recordContact', () => {
    it('records health and last contact; skips writes that change nothing within a minute', () => {
      peers.add(plcPeer, NOW, 'alice');
      peers.recordContact('plc', NOW, 'ok', true);
      expect(peers.get('plc')).toMatchObject({ health: 'ok', lastContact: NOW });
      peers.recordContact('plc', later(30_000), 'ok', true);
      expect(peers.get('plc')!.lastContact).toEqual(NOW);
      peers.recordContact('plc', later(61_000), 'ok', true);
      expect(peers.get('plc')!.lastContact).toEqual(later(61_000));
      peers.recordContact('plc', later(62_000), 'unreachable: connection refused', false);
      expect(peers.get('plc')).toMatchObject({
        health: 'unreachable: connection refused',
        lastContact: later(61_000),
      });
      peers.recordContact('nobody', NOW, 'ok', true); // a peer revoked meanwhile: nothing to do
    });
  });
});
