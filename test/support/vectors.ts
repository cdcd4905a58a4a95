import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { TrustStore } from '../../src/credentials/chain.js';
import { Gid } from '../../src/credentials/gid.js';
import { loadPrivateKey } from '../../src/credentials/keys.js';
import { SFA_REFERENCE } from './paths.js';

/** A file of the Python SFA 4.0.3 reference vectors, as text. */
export function reference(name: string): string {
  return readFileSync(join(SFA_REFERENCE, name), 'utf8');
}
export function referenceGid(name: string): Gid {
  return Gid.fromPem(reference(name));
}
export function referenceKey(name: string): KeyObject {
  return loadPrivateKey(reference(name));
}
/** Trust `ple.gid`, the reference root, and nothing else. */
export function pleTrust(): TrustStore {
  return new TrustStore([referenceGid('ple.gid')]);
}

export const VECTORS = {
  aliceUserCred: 'ple.inria.alice.user.cred',
  aliceSliceCred: 'ple.inria.alice-ple.inria.myslice.slice.cred',
  bobDelegatedSliceCred: 'ple.inria.myslice.slice_for_ple.inria.bob.user.cred',
} as const;
