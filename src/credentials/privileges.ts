/**
 * SFA privileges: what each privilege allows, and the rules for delegating them.
 * The table is SFA's (sfa/trust/rights.py), so that credentials mean the same thing here and there.
 */

/** Privilege name → the operations it allows. `authority`'s `*` allows every operation. */
// prettier-ignore
export const PRIVILEGE_TABLE: Readonly<Record<string, readonly string[]>> = {
  authority: ['register', 'remove', 'update', 'resolve', 'list', 'getcredential', '*'],
  refresh: ['remove', 'update'],
  resolve: ['resolve', 'list', 'getcredential'],
  sa: [
    'getticket', 'redeemslice', 'redeemticket', 'createslice', 'createsliver', 'deleteslice',
    'deletesliver', 'updateslice', 'getsliceresources', 'loanresources', 'stopslice', 'startslice',
    'renewsliver', 'resetslice', 'listslices', 'listnodes', 'getpolicy', 'sliverstatus',
  ],
  embed: [
    'getticket', 'redeemslice', 'redeemticket', 'createslice', 'createsliver', 'renewsliver',
    'deleteslice', 'deletesliver', 'updateslice', 'sliverstatus', 'getsliceresources', 'shutdown',
  ],
  bind: ['getticket', 'loanresources', 'redeemticket'],
  control: [
    'updateslice', 'createslice', 'createsliver', 'renewsliver', 'sliverstatus', 'stopslice',
    'startslice', 'deleteslice', 'deletesliver', 'resetslice', 'getsliceresources', 'getgids',
  ],
  info: ['listslices', 'listnodes', 'getpolicy'],
  ma: ['setbootstate', 'getbootstate', 'reboot', 'getgids', 'gettrustedcerts'],
  operator: ['gettrustedcerts', 'getgids'],
  '*': ['createsliver', 'deletesliver', 'sliverstatus', 'renewsliver', 'shutdown'],
};

export interface Privilege {
  readonly name: string;
  readonly canDelegate: boolean;
}

/** The default privileges for a credential about an object of `type` (SFA's determine_rights). */
export function defaultPrivilegeNames(type: string): string[] {
  switch (type) {
    case 'user':
      return ['refresh', 'resolve', 'info'];
    case 'sa':
    case 'authority+sa':
      return ['authority', 'sa'];
    case 'ma':
    case 'authority+ma':
    case 'cm':
    case 'authority+cm':
    case 'sm':
    case 'authority+sm':
    case 'authority+am':
      return ['authority', 'ma'];
    case 'authority':
      return ['authority', 'sa', 'ma'];
    case 'slice':
      return ['refresh', 'embed', 'bind', 'control', 'info'];
    case 'component':
    case 'node':
      return ['operator'];
    default:
      return [];
  }
}

/**
 * Expand `*` (as ProtoGENI writes on slice credentials) into the default privileges of the
 * target's type, each inheriting the `*`'s delegation bit, as SFA reads it.
 */
export function expandPrivileges(
  privileges: readonly Privilege[],
  targetType: string,
): Privilege[] {
  const out: Privilege[] = [];
  for (const p of privileges) {
    if (p.name === '*') {
      for (const name of defaultPrivilegeNames(targetType))
        out.push({ name, canDelegate: p.canDelegate });
    } else {
      out.push(p);
    }
  }
  return out;
}

function operationsOf(name: string): readonly string[] | undefined {
  return PRIVILEGE_TABLE[name.toLowerCase()];
}

/** True when one of `privileges` allows `operation` (case-insensitive). */
export function canPerform(privileges: readonly Privilege[], operation: string): boolean {
  const op = operation.toLowerCase();
  return privileges.some((p) => {
    const ops = operationsOf(p.name);
    return ops !== undefined && (ops.includes('*') || ops.includes(op));
  });
}

/**
 * May a parent holding `parent` privileges delegate `child`? Each child privilege needs a
 * parent privilege that can be delegated and allows every operation the child's allows.
 * Returns the first child privilege that is not covered, or undefined when all are.
 */
export function uncoveredPrivilege(
  parent: readonly Privilege[],
  child: readonly Privilege[],
): Privilege | undefined {
  return child.find((c) => {
    const childOps = operationsOf(c.name);
    return !parent.some((p) => {
      if (!p.canDelegate) return false;
      const parentOps = operationsOf(p.name);
      if (!parentOps) return false;
      if (parentOps.includes('*')) return true;
      // An unknown child privilege is covered only by a parent privilege of the same name.
      if (!childOps) return p.name.toLowerCase() === c.name.toLowerCase();
      return childOps.every((op) => parentOps.includes(op));
    });
  });
}
