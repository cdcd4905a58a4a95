import { describe, expect, it } from 'vitest';
import { authorityRoot, signedBy } from '../../test/peers/support.js';
import { mayForward, peerFor } from './route.js';

const peers = [
  { hrn: 'plc', registryUrl: 'https://plc/' },
  { hrn: 'plc.princeton', registryUrl: 'https://princeton/' },
  { hrn: 'emulab\\.net', registryUrl: 'https://emulab/' },
];
const route = (hrn: string) => peerFor(hrn, 'ple', peers)?.registryUrl;

describe('peerFor', () => {
  it('picks the longest peer prefix, component by component, in any case', () => {
    expect(route('plc.bob')).toBe('https://plc/');
    expect(route('plc')).toBe('https://plc/');
    expect(route('plc.princeton.alice')).toBe('https://princeton/');
    expect(route('PLC.Princeton.alice')).toBe('https://princeton/');
    expect(route('emulab\\.net.myslice')).toBe('https://emulab/');
  });

  it('does not match on a textual prefix', () => {
    expect(route('plcx.bob')).toBeUndefined();
    expect(route('plc\\.x.bob')).toBeUndefined();
    expect(route('emulab.net.x')).toBeUndefined();
  });

  it("never routes this authority's own names, even if a peer claims them", () => {
    const hostile = [...peers, { hrn: 'ple.inria', registryUrl: 'https://evil/' }];
    expect(peerFor('ple.inria.alice', 'ple', hostile)).toBeUndefined();
    expect(peerFor('PLE.inria', 'ple', hostile)).toBeUndefined();
  });

  it('leaves names under no peer local', () => {
    expect(route('elc.x')).toBeUndefined();
  });
});

describe('mayForward', () => {
  it('forwards for users, never for an authority (a peer forwarding to us)', () => {
    const ple = authorityRoot('ple');
    expect(mayForward(signedBy(ple, 'ple.alice', 'user').gid)).toBe(true);
    expect(mayForward(ple.gid)).toBe(false);
    expect(mayForward(signedBy(ple, 'ple.inria', 'authority').gid)).toBe(false);
  });
});
