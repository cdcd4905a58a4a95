import { describe, expect, it } from 'vitest';
import { BadArgs, Refused } from '../../faults.js';
import { alloc, describeEngine, fault, NOW, on, openEngine, SLICE_A } from './engine.fixture.js';
import { loginNameFor } from './login-name.js';

describe('loginNameFor', () => {
  it.each([
    ['urn:publicid:IDN+ple:inria+slice+myslice', 'inria_myslice'],
    // Any depth: the last authority component is the login base (PlXrn.pl_login_base).
    ['urn:publicid:IDN+plc:princeton:cs+slice+exp1', 'cs_exp1'],
    ['urn:publicid:IDN+ple+slice+top', 'ple_top'],
    ['urn:publicid:IDN+onelab:a:b:c:upmc+slice+deep', 'upmc_deep'],
    // Only letters and digits in the base, letters, digits and '_' in the name, lower case.
    ['urn:publicid:IDN+emulab.net:my-proj+slice+My-Exp_2', 'myproj_myexp_2'],
    ['urn:publicid:IDN+PLE:INRIA+slice+Demo', 'inria_demo'],
    // A ':' suffix of the name is dropped, as SFA does.
    ['urn:publicid:IDN+ple:inria+slice+exp:3', 'inria_exp'],
  ])('%s → %s', (urn, login) => {
    expect(loginNameFor(urn)).toBe(login);
  });

  it('keeps to Linux’s 32 characters and says how long the name may be', () => {
    const fits = `urn:publicid:IDN+ple:inria+slice+${'a'.repeat(26)}`;
    expect(loginNameFor(fits)).toHaveLength(32);
    const e = fault(BadArgs, 1, () =>
      loginNameFor(`urn:publicid:IDN+ple:inria+slice+${'a'.repeat(27)}`),
    );
    expect(e.message).toMatch(
      /\(33 characters\), longer than Linux allows \(32\): use a slice name of at most 26 characters under 'inria'$/,
    );
  });

  it('refuses names with nothing usable left, and URNs that are not slices', () => {
    fault(BadArgs, 1, () => loginNameFor('urn:publicid:IDN+ple:inria+slice+---'));
    fault(BadArgs, 1, () => loginNameFor('urn:publicid:IDN+ple:---+slice+x'));
    fault(BadArgs, 1, () => loginNameFor('urn:publicid:IDN+ple:inria+user+alice'));
    fault(BadArgs, 1, () => loginNameFor('ple.inria.alice'));
  });
});

describeEngine('Security: login name collisions between slices', () => {
  it('refuses a peer slice whose login name another slice holds, naming it', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    // Another federation's site with the same short name: same Linux account, refused.
    const peer = 'urn:publicid:IDN+plc:inria+slice+alpha';
    const e = fault(Refused, 7, () => alloc(engine, peer, [on('n1', 's2.inria.fr')]));
    expect(e.message).toBe(
      `slice ${peer} would run as 'inria_alpha' on the nodes, but slice ${SLICE_A} already has that login name here; use a slice name that differs in letters or digits`,
    );
    // Names that differ only in punctuation collide too.
    fault(Refused, 7, () =>
      alloc(engine, 'urn:publicid:IDN+ple:inria+slice+al-pha', [on('n1', 's2.inria.fr')]),
    );
    // A peer slice with its own name is welcome.
    const ok = alloc(engine, 'urn:publicid:IDN+plc:princeton:cs+slice+exp1', [
      on('n1', 's2.inria.fr'),
    ]);
    expect(ok.slice.loginName).toBe('cs_exp1');
  });

  it('frees the login name once the holding slice is gone', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    const later = new Date(NOW.getTime() + 11 * 60_000);
    const peer = 'urn:publicid:IDN+plc:inria+slice+alpha';
    // The allocation lapsed and the empty slice expired: the name is free.
    expect(alloc(engine, peer, [on('n1', 's1.inria.fr')], { now: later }).slice.loginName).toBe(
      'inria_alpha',
    );
  });
});
