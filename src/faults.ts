/**
 * GENI error codes and the fault classes that carry them.
 *
 * One class per protocol fault, each with its stable `geniCode` (the GENI AM API v3 table).
 * The message says what the caller should fix; internals belong in the log, never here.
 */

import { messageText } from './text.js';

/** The GENI AM API error code table (0–26). */
export const GeniCode = {
  SUCCESS: 0,
  BADARGS: 1,
  ERROR: 2,
  FORBIDDEN: 3,
  BADVERSION: 4,
  SERVERERROR: 5,
  TOOBIG: 6,
  REFUSED: 7,
  TIMEDOUT: 8,
  DBERROR: 9,
  RPCERROR: 10,
  UNAVAILABLE: 11,
  SEARCHFAILED: 12,
  UNSUPPORTED: 13,
  BUSY: 14,
  EXPIRED: 15,
  INPROGRESS: 16,
  ALREADYEXISTS: 17,
  OUTOFRANGE: 19,
  CREDENTIAL_INVALID: 20,
  CREDENTIAL_EXPIRED: 21,
  CREDENTIAL_MISMATCH: 22,
  CREDENTIAL_SIGNER_UNTRUSTED: 23,
  VLAN_UNAVAILABLE: 24,
  INSUFFICIENT_BANDWIDTH: 25,
  INSUFFICIENT_NODES: 26,
} as const;

export type GeniCodeName = keyof typeof GeniCode;

/** Base class of every protocol fault: a GENI code name, its number and a message for the caller. */
export abstract class GeniFault extends Error {
  abstract readonly fault: GeniCodeName;

  get geniCode(): number {
    return GeniCode[this.fault];
  }

  constructor(message: string, options?: { cause?: unknown }) {
    // Messages often echo what the caller sent: bounded and XML-safe here, once for every fault.
    super(messageText(message), options);
    this.name = new.target.name;
  }
}

export class BadArgs extends GeniFault {
  readonly fault = 'BADARGS';
}
export class GeneralError extends GeniFault {
  readonly fault = 'ERROR';
}
export class Forbidden extends GeniFault {
  readonly fault = 'FORBIDDEN';
}
export class BadVersion extends GeniFault {
  readonly fault = 'BADVERSION';
}
export class ServerError extends GeniFault {
  readonly fault = 'SERVERERROR';
}
export class TooBig extends GeniFault {
  readonly fault = 'TOOBIG';
}
export class Refused extends GeniFault {
  readonly fault = 'REFUSED';
}
export class TimedOut extends GeniFault {
  readonly fault = 'TIMEDOUT';
}
export class DbError extends GeniFault {
  readonly fault = 'DBERROR';
}
export class RpcError extends GeniFault {
  readonly fault = 'RPCERROR';
}
export class Unavailable extends GeniFault {
  readonly fault = 'UNAVAILABLE';
}
export class SearchFailed extends GeniFault {
  readonly fault = 'SEARCHFAILED';
}
export class Unsupported extends GeniFault {
  readonly fault = 'UNSUPPORTED';
}
export class Busy extends GeniFault {
  readonly fault = 'BUSY';
}
export class Expired extends GeniFault {
  readonly fault = 'EXPIRED';
}
export class InProgress extends GeniFault {
  readonly fault = 'INPROGRESS';
}
export class AlreadyExists extends GeniFault {
  readonly fault = 'ALREADYEXISTS';
}
export class OutOfRange extends GeniFault {
  readonly fault = 'OUTOFRANGE';
}
/** The credential is malformed, badly signed, or does not grant what it claims. */
export class CredentialInvalid extends GeniFault {
  readonly fault = 'CREDENTIAL_INVALID';
}
export class CredentialExpired extends GeniFault {
  readonly fault = 'CREDENTIAL_EXPIRED';
}
/** The credential does not belong to the caller, or is not for the object acted on. */
export class CredentialMismatch extends GeniFault {
  readonly fault = 'CREDENTIAL_MISMATCH';
}
/** A certificate or credential signer does not chain to a trusted root. */
export class CredentialSignerUntrusted extends GeniFault {
  readonly fault = 'CREDENTIAL_SIGNER_UNTRUSTED';
}
export class InsufficientNodes extends GeniFault {
  readonly fault = 'INSUFFICIENT_NODES';
}

/** True when `e` is one of our protocol faults (as opposed to a bug or an I/O error). */
export function isGeniFault(e: unknown): e is GeniFault {
  return e instanceof GeniFault;
}
