import { describe, it, expect } from 'vitest';
import { BadArgs } from '../faults.js';
import {
  Xrn,
  URN_PREFIX,
  escapeHrnComponent,
  hrnAuthority,
  hrnLeaf,
  hrnToUrn,
  isAuthorityType,
  isHrnPrefix,
  isUrn,
  publicIdToUrn,
  splitHrn,
  unescapeHrnComponent,
  urnToHrn,
  urnToPublicId,
  validateSliceName,
} from './xrn.js';

/** Expect `fn` to throw BadArgs whose message contains `fragment`. */
function expectBadArgs(fn: () => unknown, fragment?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(BadArgs);
  if (fragment !== undefined) expect((thrown as Error).message).toContain(fragment);
}

// [hrn, type, urn, xrn.type, leaf (unescaped), authorityHrn]: the round trips of SFA's
// tests/testXrn.py and more, checked against sfa/util/xrn.py.
const ROUND_TRIPS: [string, string, string, string, string, string][] = [
  [
    'ple.inria.baris',
    'user',
    'urn:publicid:IDN+ple:inria+user+baris',
    'user',
    'baris',
    'ple.inria',
  ],
  [
    'emulab\\.net.myslice.jktest',
    'slice',
    'urn:publicid:IDN+emulab.net:myslice+slice+jktest',
    'slice',
    'jktest',
    'emulab\\.net.myslice',
  ],
  [
    'emulab\\.net.jktest',
    'slice',
    'urn:publicid:IDN+emulab.net+slice+jktest',
    'slice',
    'jktest',
    'emulab\\.net',
  ],
  [
    'plc.princeton.tmack',
    'user',
    'urn:publicid:IDN+plc:princeton+user+tmack',
    'user',
    'tmack',
    'plc.princeton',
  ],
  [
    'fake-pi1@onelab.eu',
    'user',
    'urn:publicid:IDN+fake-pi1@onelab+user+eu',
    'user',
    'eu',
    'fake-pi1@onelab',
  ],
  [
    'plc.princeton.planetlab1',
    'node',
    'urn:publicid:IDN+plc:princeton+node+planetlab1',
    'node',
    'planetlab1',
    'plc.princeton',
  ],
  [
    'plc.princeton',
    'authority',
    'urn:publicid:IDN+plc:princeton+authority+sa',
    'authority',
    'princeton',
    'plc',
  ],
  [
    'plc.vini.site',
    'authority',
    'urn:publicid:IDN+plc:vini:site+authority+sa',
    'authority',
    'site',
    'plc.vini',
  ],
  ['ple', 'authority', 'urn:publicid:IDN+ple+authority+sa', 'authority', 'ple', ''],
  [
    'ple.inria',
    'authority+am',
    'urn:publicid:IDN+ple:inria+authority+am',
    'authority+am',
    'inria',
    'ple',
  ],
  [
    'ple.inria',
    'authority+cm',
    'urn:publicid:IDN+ple:inria+authority+cm',
    'authority+cm',
    'inria',
    'ple',
  ],
  [
    'ple.inria',
    'authority+sm',
    'urn:publicid:IDN+ple:inria+authority+sm',
    'authority+sm',
    'inria',
    'ple',
  ],
  [
    'ple.inria.node1\\.inria\\.fr',
    'node',
    'urn:publicid:IDN+ple:inria+node+node1.inria.fr',
    'node',
    'node1.inria.fr',
    'ple.inria',
  ],
  [
    'ple.inria.onelab09\\.pl\\.sophia\\.inria\\.fr',
    'node',
    'urn:publicid:IDN+ple:inria+node+onelab09.pl.sophia.inria.fr',
    'node',
    'onelab09.pl.sophia.inria.fr',
    'ple.inria',
  ],
  ['ple.inria.12', 'sliver', 'urn:publicid:IDN+ple:inria+sliver+12', 'sliver', '12', 'ple.inria'],
  [
    'iotlab.9953-m3-10',
    'sliver',
    'urn:publicid:IDN+iotlab+sliver+9953-m3-10',
    'sliver',
    '9953-m3-10',
    'iotlab',
  ],
  [
    'ch\\.geni\\.net.proj.s1',
    'slice',
    'urn:publicid:IDN+ch.geni.net:proj+slice+s1',
    'slice',
    's1',
    'ch\\.geni\\.net.proj',
  ],
  [
    'plc.princeton.eth0',
    'interface',
    'urn:publicid:IDN+plc:princeton+interface+eth0',
    'interface',
    'eth0',
    'plc.princeton',
  ],
];

describe('Xrn round trips (SFA tests/testXrn.py)', () => {
  for (const [hrn, type, urn, xrnType, leaf, authorityHrn] of ROUND_TRIPS) {
    it(`${hrn} (${type}) <-> ${urn}`, () => {
      const fromHrn = Xrn.fromHrn(hrn, type);
      expect(fromHrn.urn).toBe(urn);
      expect(fromHrn.hrn).toBe(hrn);
      expect(fromHrn.type).toBe(xrnType);
      expect(fromHrn.leaf).toBe(leaf);
      expect(fromHrn.authorityHrn).toBe(authorityHrn);

      const fromUrn = Xrn.fromUrn(urn);
      expect(fromUrn.hrn).toBe(hrn);
      expect(fromUrn.urn).toBe(urn);
      expect(fromUrn.type).toBe(xrnType);
      expect(fromUrn.leaf).toBe(leaf);
      expect(fromUrn.authorityHrn).toBe(authorityHrn);
      expect(fromUrn.equals(fromHrn)).toBe(true);

      expect(hrnToUrn(hrn, type)).toBe(urn);
      expect(urnToHrn(urn)).toEqual({ hrn, type: xrnType });
      expect(Xrn.fromHrn(fromUrn.hrn, fromUrn.type).urn).toBe(urn);
    });
  }
});

describe('authorities', () => {
  it('maps +authority+sa to type authority, and authority+sa to +authority+sa', () => {
    expect(urnToHrn('urn:publicid:IDN+plc:princeton+authority+sa')).toEqual({
      hrn: 'plc.princeton',
      type: 'authority',
    });
    expect(hrnToUrn('plc.princeton', 'authority+sa')).toBe(
      'urn:publicid:IDN+plc:princeton+authority+sa',
    );
    expect(Xrn.fromHrn('plc.princeton', 'authority+sa').type).toBe('authority');
  });

  it('keeps the kind of other authorities in the type, from either side', () => {
    for (const kind of ['am', 'cm', 'sm', 'ma']) {
      const urn = `urn:publicid:IDN+ple:inria+authority+${kind}`;
      expect(urnToHrn(urn)).toEqual({ hrn: 'ple.inria', type: `authority+${kind}` });
      // SFA's Xrn(hrn, 'authority+am').type is 'authority'; here both sides agree.
      expect(Xrn.fromHrn('ple.inria', `authority+${kind}`).type).toBe(`authority+${kind}`);
    }
  });

  it('puts an escaped top-level authority into the URN unescaped', () => {
    // SFA leaks the backslash here: urn:publicid:IDN+emulab\.net+authority+sa.
    const xrn = Xrn.fromHrn('emulab\\.net', 'authority');
    expect(xrn.urn).toBe('urn:publicid:IDN+emulab.net+authority+sa');
    expect(xrn.leaf).toBe('emulab.net');
    expect(xrn.authorityHrn).toBe('');
    expect(urnToHrn('urn:publicid:IDN+emulab.net+authority+cm')).toEqual({
      hrn: 'emulab\\.net',
      type: 'authority+cm',
    });
    expect(hrnToUrn('a\\.b.c\\.d', 'authority+sm')).toBe('urn:publicid:IDN+a.b:c.d+authority+sm');
  });

  it('refuses types that only look like authority types', () => {
    expectBadArgs(() => Xrn.fromHrn('plc.x', 'authorityx'), 'authorityx');
    expectBadArgs(() => Xrn.fromHrn('plc.x', 'Authority'), 'Authority');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+authorityx+x'), 'authorityx');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+AUTHORITY+sa'), 'AUTHORITY');
  });

  it('refuses malformed authority kinds', () => {
    expectBadArgs(() => Xrn.fromHrn('plc', 'authority+'), 'authority+');
    expectBadArgs(() => Xrn.fromHrn('plc', 'authority+a+b'), 'authority+a+b');
    expectBadArgs(() => Xrn.fromHrn('plc', 'authority+a:b'), 'authority+a:b');
    expectBadArgs(() => Xrn.fromHrn('plc.x', 'user+am'), 'user+am');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+authority+s:a'), 's:a');
  });

  it('isAuthorityType', () => {
    expect(isAuthorityType('authority')).toBe(true);
    expect(isAuthorityType('authority+am')).toBe(true);
    expect(isAuthorityType('authorityx')).toBe(false);
    expect(isAuthorityType('user')).toBe(false);
  });
});

describe('URN parsing', () => {
  it('matches the urn:publicid:IDN prefix case-insensitively and spells it canonically', () => {
    const xrn = Xrn.fromUrn('URN:PUBLICID:idn+plc:princeton+user+tmack');
    expect(xrn.hrn).toBe('plc.princeton.tmack');
    expect(xrn.urn).toBe('urn:publicid:IDN+plc:princeton+user+tmack');
    expect(URN_PREFIX).toBe('urn:publicid:IDN');
  });

  it('node URNs with dots in the name escape them in the HRN leaf', () => {
    const xrn = Xrn.fromUrn('urn:publicid:IDN+ple:inria+node+node1.inria.fr');
    expect(xrn.hrn).toBe('ple.inria.node1\\.inria\\.fr');
    expect(xrn.leaf).toBe('node1.inria.fr');
    expect(hrnLeaf(xrn.hrn)).toBe('node1\\.inria\\.fr');
    expect(xrn.authorityHrn).toBe('ple.inria');
  });

  it('sliver URNs', () => {
    const xrn = Xrn.fromUrn('urn:publicid:IDN+ple:inria+sliver+12');
    expect([xrn.hrn, xrn.type, xrn.leaf]).toEqual(['ple.inria.12', 'sliver', '12']);
  });

  it("keeps a ':' in the name (SFA would drop ':id' from the HRN), so the HRN maps back", () => {
    const urn = 'urn:publicid:IDN+exogeni.net:bbnvmsite+sliver+f7e6d5:0';
    const xrn = Xrn.fromUrn(urn);
    expect(xrn.hrn).toBe('exogeni\\.net.bbnvmsite.f7e6d5:0');
    expect(xrn.leaf).toBe('f7e6d5:0');
    expect(hrnToUrn(xrn.hrn, 'sliver')).toBe(urn);
  });

  it('keeps %-escapes and other URN characters as they are (as SFA does)', () => {
    const urn = 'urn:publicid:IDN+a%3Ab:c+user+x%2By';
    expect(urnToHrn(urn)).toEqual({ hrn: 'a%3Ab.c.x%2By', type: 'user' });
    expect(hrnToUrn('a%3Ab.c.x%2By', 'user')).toBe(urn);
    expect(urnToHrn("urn:publicid:IDN+a;b:c(d)+user+x_y!*'$=,")).toEqual({
      hrn: "a;b.c(d).x_y!*'$=,",
      type: 'user',
    });
  });

  it('refuses anything that is not a urn:publicid:IDN URN', () => {
    expectBadArgs(() => Xrn.fromUrn(''), 'empty');
    expectBadArgs(() => Xrn.fromUrn('plc.princeton.tmack'), '"plc.princeton.tmack"');
    expectBadArgs(() => Xrn.fromUrn('urn:uuid:1234'), 'urn:uuid:1234');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN'), 'must start with');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDNplc+user+x'), 'must start with');
  });

  it('refuses missing or empty parts', () => {
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc'), 'missing type or name');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user'), 'missing type or name');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN++'), 'missing type or name');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+++'), 'empty authority');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN++user+ple'), 'empty authority');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc++x'), 'empty type');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+'), 'empty name');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+authority+'), 'empty name');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a+b'), 'too many');
  });

  it('refuses empty authority components (SFA silently drops them)', () => {
    for (const auth of ['plc::princeton', ':plc', 'plc:']) {
      expectBadArgs(
        () => Xrn.fromUrn(`urn:publicid:IDN+${auth}+user+x`),
        'empty authority component',
      );
    }
  });

  it('refuses whitespace and characters not allowed in a URN', () => {
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a b'), 'whitespace');
    expectBadArgs(() => Xrn.fromUrn(' urn:publicid:IDN+plc+user+ab'), 'must start with');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+ab\n'), 'whitespace');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a/b'), '"/"');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a?b'), '"?"');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a#b'), '"#"');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a\\b'), '"\\\\"');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+é'), '"é"');
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a%2'), "'%'");
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+user+a%zz'), "'%'");
    expectBadArgs(() => Xrn.fromUrn('urn:publicid:IDN+plc+us.er+x'), 'bad type');
  });

  it('throws BadArgs, never a TypeError, for non-strings', () => {
    for (const bad of [undefined, null, 42, {}, ['urn:publicid:IDN+plc+user+x']]) {
      expectBadArgs(() => Xrn.fromUrn(bad as unknown as string), 'must be a string');
      expectBadArgs(() => Xrn.fromHrn(bad as unknown as string, 'user'), 'must be a string');
      expectBadArgs(() => Xrn.fromHrn('plc.x', bad as unknown as string), 'must be a string');
      expectBadArgs(() => Xrn.parse(bad as unknown as string), 'must be a string');
      expectBadArgs(() => urnToHrn(bad as unknown as string));
      expectBadArgs(() => splitHrn(bad as unknown as string));
    }
  });

  it('bounds the quoted value in messages', () => {
    let message = '';
    try {
      Xrn.fromUrn('x'.repeat(10_000));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(400);
  });
});

describe('HRN to URN', () => {
  it('refuses malformed HRNs, naming them', () => {
    expectBadArgs(() => Xrn.fromHrn('', 'user'), 'HRN is empty');
    expectBadArgs(() => Xrn.fromHrn('plc..x', 'user'), '"plc..x"');
    expectBadArgs(() => Xrn.fromHrn('.plc.x', 'user'), 'empty component');
    expectBadArgs(() => Xrn.fromHrn('plc.x.', 'user'), 'empty component');
    expectBadArgs(() => Xrn.fromHrn('plc.a\\b', 'user'), 'backslash');
    expectBadArgs(() => Xrn.fromHrn('plc.ab\\', 'user'), 'backslash');
    expectBadArgs(() => Xrn.fromHrn('plc.my slice', 'slice'), 'whitespace');
    expectBadArgs(() => Xrn.fromHrn(' plc.x', 'user'), 'whitespace');
    expectBadArgs(() => Xrn.fromHrn('plc.a+b', 'user'), '"+"');
    expectBadArgs(() => Xrn.fromHrn('p:lc.x', 'user'), '":"');
    expectBadArgs(() => Xrn.fromHrn('plc.a:b', 'authority'), '":"');
    expectBadArgs(() => Xrn.fromHrn('plc.a/b', 'user'), '"/"');
    expectBadArgs(() => Xrn.fromHrn('plc.a%g0', 'user'), "'%'");
  });

  it('refuses a non-authority HRN without an authority part', () => {
    // SFA gives urn:publicid:IDN++user+ple.
    expectBadArgs(() => Xrn.fromHrn('ple', 'user'), 'no authority part');
  });

  it('refuses a URN given as HRN, and bad or empty types', () => {
    expectBadArgs(
      () => Xrn.fromHrn('urn:publicid:IDN+plc+user+x', 'user'),
      'expected an HRN, got the URN',
    );
    expectBadArgs(() => Xrn.fromHrn('plc.x', ''), 'type of HRN "plc.x" is empty');
    expectBadArgs(() => Xrn.fromHrn('plc.x', 'us er'), '"us er"');
  });

  it('keeps the case of the HRN', () => {
    expect(hrnToUrn('PLC.Princeton.TMack', 'user')).toBe(
      'urn:publicid:IDN+PLC:Princeton+user+TMack',
    );
  });
});

describe('Xrn.parse', () => {
  it('accepts either form', () => {
    expect(Xrn.parse('urn:publicid:IDN+plc:princeton+user+tmack').hrn).toBe('plc.princeton.tmack');
    expect(Xrn.parse('plc.princeton.tmack', 'user').urn).toBe(
      'urn:publicid:IDN+plc:princeton+user+tmack',
    );
    expect(Xrn.parse('Urn:PublicId:IDN+plc+slice+s', 'slice').hrn).toBe('plc.s');
  });

  it('needs a type for an HRN', () => {
    expectBadArgs(() => Xrn.parse('plc.princeton.tmack'), 'needs a type');
  });

  it('checks a given type against the URN', () => {
    expect(Xrn.parse('urn:publicid:IDN+plc+authority+sa', 'authority').type).toBe('authority');
    expect(Xrn.parse('urn:publicid:IDN+plc+authority+sa', 'authority+sa').type).toBe('authority');
    expect(Xrn.parse('urn:publicid:IDN+plc+authority+am', 'authority+am').type).toBe(
      'authority+am',
    );
    expectBadArgs(
      () => Xrn.parse('urn:publicid:IDN+plc:princeton+user+tmack', 'slice'),
      'is a user, expected a "slice"',
    );
    expectBadArgs(() => Xrn.parse('urn:publicid:IDN+plc+authority+am', 'authority'));
  });

  it('refuses other URN schemes rather than reading them as HRNs', () => {
    expectBadArgs(() => Xrn.parse('urn:uuid:1234', 'user'), 'must start with');
    expectBadArgs(() => Xrn.parse(''), 'empty');
  });
});

describe('equals', () => {
  const tmack = Xrn.fromUrn('urn:publicid:IDN+plc:princeton+user+tmack');

  it('compares the authority part case-insensitively', () => {
    expect(tmack.equals(Xrn.fromUrn('urn:publicid:IDN+PLC:Princeton+user+tmack'))).toBe(true);
    expect(tmack.equals(Xrn.fromUrn('URN:publicid:idn+plc:princeton+user+tmack'))).toBe(true);
  });

  it('compares type and name case-sensitively', () => {
    expect(tmack.equals(Xrn.fromUrn('urn:publicid:IDN+plc:princeton+user+TMack'))).toBe(false);
    expect(tmack.equals(Xrn.fromUrn('urn:publicid:IDN+plc:princeton+User+tmack'))).toBe(false);
  });

  it('ignores the hex case of %-escapes', () => {
    const a = Xrn.fromUrn('urn:publicid:IDN+a%3ab+user+x%2by');
    const b = Xrn.fromUrn('urn:publicid:IDN+a%3Ab+user+x%2BY');
    expect(a.equals(Xrn.fromUrn('urn:publicid:IDN+a%3Ab+user+x%2By'))).toBe(true);
    expect(a.equals(b)).toBe(false);
  });

  it('tells different objects apart', () => {
    expect(tmack.equals(Xrn.fromUrn('urn:publicid:IDN+plc:princeton+slice+tmack'))).toBe(false);
    expect(tmack.equals(Xrn.fromUrn('urn:publicid:IDN+plc:princetonx+user+tmack'))).toBe(false);
    expect(tmack.equals(Xrn.fromHrn('plc.princeton', 'authority'))).toBe(false);
    // Same HRN, different authority kinds.
    expect(
      Xrn.fromHrn('plc', 'authority').equals(Xrn.fromUrn('urn:publicid:IDN+plc+authority+am')),
    ).toBe(false);
  });

  it('toString is the URN', () => {
    expect(String(tmack)).toBe('urn:publicid:IDN+plc:princeton+user+tmack');
  });
});

describe('isAuthorityFor', () => {
  const plc = Xrn.fromHrn('plc', 'authority');
  const princeton = Xrn.fromUrn('urn:publicid:IDN+plc:princeton+authority+sa');

  it('holds for the authority itself and everything under it', () => {
    expect(plc.isAuthorityFor(princeton)).toBe(true);
    expect(plc.isAuthorityFor(plc)).toBe(true);
    expect(princeton.isAuthorityFor('plc.princeton.tmack')).toBe(true);
    expect(princeton.isAuthorityFor('urn:publicid:IDN+plc:princeton+slice+s1')).toBe(true);
    expect(princeton.isAuthorityFor('urn:publicid:IDN+PLC:princeton:cs+user+x')).toBe(true);
    expect(Xrn.fromUrn('urn:publicid:IDN+plc+authority+am').isAuthorityFor('plc.x')).toBe(true);
  });

  it('does not hold upwards, sideways or on a partial component', () => {
    expect(princeton.isAuthorityFor(plc)).toBe(false);
    expect(princeton.isAuthorityFor('plc.arizona.bakers')).toBe(false);
    expect(Xrn.fromHrn('plc.prince', 'authority').isAuthorityFor('plc.princeton.tmack')).toBe(
      false,
    );
    expect(Xrn.fromHrn('emulab', 'authority').isAuthorityFor('emulab\\.net.jktest')).toBe(false);
  });

  it('does not hold for non-authorities', () => {
    const user = Xrn.fromHrn('plc.princeton.tmack', 'user');
    expect(user.isAuthorityFor(user)).toBe(false);
    expect(user.isAuthorityFor('plc.princeton.tmack.x')).toBe(false);
  });

  it('throws BadArgs on a malformed other', () => {
    expectBadArgs(() => plc.isAuthorityFor('plc..x'));
    expectBadArgs(() => plc.isAuthorityFor('urn:publicid:IDN+plc'));
    expectBadArgs(() => plc.isAuthorityFor(''));
  });
});

describe('HRN helpers', () => {
  it('splitHrn respects escaped dots', () => {
    expect(splitHrn('emulab\\.net.myslice.jktest')).toEqual(['emulab\\.net', 'myslice', 'jktest']);
    expect(splitHrn('a\\.b.c.d')).toEqual(['a\\.b', 'c', 'd']);
    expect(splitHrn('plc')).toEqual(['plc']);
    expect(splitHrn('a\\..b')).toEqual(['a\\.', 'b']);
  });

  it('splitHrn refuses empty HRNs and components, and stray backslashes', () => {
    expectBadArgs(() => splitHrn(''), 'HRN is empty');
    expectBadArgs(() => splitHrn('a..b'), 'empty component');
    expectBadArgs(() => splitHrn('.a'), 'empty component');
    expectBadArgs(() => splitHrn('a.'), 'empty component');
    expectBadArgs(() => splitHrn('a\\\\.b'), 'backslash');
  });

  it('hrnAuthority and hrnLeaf (SFA hrn_auth, hrn_leaf)', () => {
    expect(hrnAuthority('a\\.b.c.d')).toBe('a\\.b.c');
    expect(hrnLeaf('a\\.b.c.d')).toBe('d');
    expect(hrnAuthority('plc.princeton.tmack')).toBe('plc.princeton');
    expect(hrnAuthority('plc')).toBe('');
    expect(hrnLeaf('plc')).toBe('plc');
    expect(hrnLeaf('ple.inria.node1\\.inria\\.fr')).toBe('node1\\.inria\\.fr');
    expectBadArgs(() => hrnAuthority('a..b'));
    expectBadArgs(() => hrnLeaf(''));
  });

  it('isHrnPrefix (SFA hrn_is_auth_for_hrn), component-wise and case-insensitive', () => {
    expect(isHrnPrefix('a\\.b', 'a\\.b.c.d')).toBe(true);
    expect(isHrnPrefix('a', 'a\\.b.c.d')).toBe(false);
    expect(isHrnPrefix('a\\.b.c.d', 'a\\.b.c.d')).toBe(true);
    expect(isHrnPrefix('a\\.b.c', 'a\\.b.c.d')).toBe(true);
    expect(isHrnPrefix('a\\.b.c.d', 'a\\.b.c')).toBe(false);
    expect(isHrnPrefix('plc.prince', 'plc.princeton')).toBe(false);
    expect(isHrnPrefix('PLC.Princeton', 'plc.princeton.tmack')).toBe(true);
    expect(isHrnPrefix('plc', 'ple.inria')).toBe(false);
    expectBadArgs(() => isHrnPrefix('', 'plc'));
    expectBadArgs(() => isHrnPrefix('plc', 'plc..x'));
  });

  it('escapeHrnComponent / unescapeHrnComponent', () => {
    expect(escapeHrnComponent('node1.inria.fr')).toBe('node1\\.inria\\.fr');
    expect(escapeHrnComponent('a..b')).toBe('a\\.\\.b');
    expect(unescapeHrnComponent('node1\\.inria\\.fr')).toBe('node1.inria.fr');
  });

  it('isUrn', () => {
    expect(isUrn('urn:publicid:IDN+plc+user+x')).toBe(true);
    expect(isUrn('URN:PUBLICID:IDN+plc+user+x')).toBe(true);
    expect(isUrn('plc.x')).toBe(false);
    expect(isUrn('urn:uuid:1')).toBe(false);
  });
});

describe('validateSliceName', () => {
  it('accepts GENI slice names', () => {
    for (const name of ['a', 'jktest', 'my-great-exp', 'A1-b2', '0abc', 'a'.repeat(19)]) {
      expect(() => validateSliceName(name)).not.toThrow();
    }
  });

  it('refuses others, naming them', () => {
    for (const name of ['-abc', 'a'.repeat(20), 'inria_omftest', 'a.b', 'a b', 'é']) {
      expectBadArgs(() => validateSliceName(name), JSON.stringify(name));
    }
    expectBadArgs(() => validateSliceName(''), 'slice name is empty');
    expectBadArgs(() => validateSliceName(undefined as unknown as string), 'must be a string');
  });
});

describe('publicid transcription (RFC 3151, GENI urn_util)', () => {
  it('transcribes // to :, :: to ;, whitespace to +', () => {
    expect(publicIdToUrn('IDN plc//princeton user tmack')).toBe(
      'urn:publicid:IDN+plc:princeton+user+tmack',
    );
    expect(publicIdToUrn('  IDN\tgcf//gpo//bbn \n authority   am ')).toBe(
      'urn:publicid:IDN+gcf:gpo:bbn+authority+am',
    );
    expect(publicIdToUrn('IDN a::b user x')).toBe('urn:publicid:IDN+a;b+user+x');
  });

  it('escapes the other special characters, in the right order', () => {
    expect(publicIdToUrn("IDN a%b;c+d#e?f'g:h/i user x")).toBe(
      'urn:publicid:IDN+a%25b%3Bc%2Bd%23e%3Ff%27g%3Ah%2Fi+user+x',
    );
    expect(publicIdToUrn('IDN a:::b user x')).toBe('urn:publicid:IDN+a;%3Ab+user+x');
    expect(publicIdToUrn('IDN a///b user x')).toBe('urn:publicid:IDN+a:%2Fb+user+x');
  });

  it('transcribes back, decoding %-escapes in any hex case', () => {
    expect(urnToPublicId('urn:publicid:IDN+plc:princeton+user+tmack')).toBe(
      'IDN plc//princeton user tmack',
    );
    expect(urnToPublicId('urn:publicid:IDN+a%25b%3bc%2Bd%23e%3Ff%27g%3Ah%2fi+user+x')).toBe(
      "IDN a%b;c+d#e?f'g:h/i user x",
    );
    expect(urnToPublicId('URN:PUBLICID:IDN+a;b+user+x')).toBe('IDN a::b user x');
  });

  it('round-trips', () => {
    for (const id of ['IDN plc//princeton user tmack', "IDN a%b;c+d#e?f'g:h/i::j user x y"]) {
      expect(urnToPublicId(publicIdToUrn(id))).toBe(id);
    }
  });

  it('refuses bad input', () => {
    expectBadArgs(() => publicIdToUrn('   '), 'blank');
    expectBadArgs(() => publicIdToUrn(''), 'empty');
    expectBadArgs(() => urnToPublicId('urn:uuid:1'), 'urn:uuid:1');
    expectBadArgs(() => urnToPublicId('urn:publicid:IDN+a b'), 'whitespace');
    expectBadArgs(() => urnToPublicId('urn:publicid:IDN+a%4'), "'%'");
  });
});
