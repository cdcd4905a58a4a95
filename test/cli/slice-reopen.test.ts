/**
 * A shut-down slice can be reopened: GENI Shutdown over HTTPS, Allocate refused naming the
 * command to run, `sfa slice reopen` (recorded with the operator), Allocate accepted again,
 * `sfa slice history` shows both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { sfa } from '../support/cli.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const REQUEST =
  '<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"><node client_id="a" ' +
  'component_id="urn:publicid:IDN+ple:inria+node+node1.inria.fr" exclusive="false">' +
  '<sliver_type name="plab-vserver"/></node></rspec>';

let session: AliceSession;
let dir: string;
let am: AliceSession['am'];
let cred: XmlRpcStruct[];
const code = geniCode;

beforeAll(async () => {
  session = await aliceSession();
  ({ dir, am } = session);
  cred = await session.sliceCred('myslice');
});
afterAll(async () => {
  await session?.close();
});

describe('sfa slice reopen', () => {
  it('reopens a shut-down slice, says so, and records who did it', async () => {
    expect(code(await am('Allocate', SLICE, cred, REQUEST, {}))).toBe(0);
    expect((await am('Shutdown', SLICE, cred, {}))['value']).toBe(true);

    const refused = await am('Allocate', SLICE, cred, REQUEST, {});
    expect(code(refused)).toBe(7);
    expect(refused['output']).toContain(`sfa slice reopen ${SLICE}`);

    const r = sfa(['slice', 'reopen', 'ple.inria.myslice', '--dir', dir, '--note', 'ticket 42']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^reopened ${SLICE.replace(/\+/g, '\\+')} \\(shut down since 2026-11-25T12:00:00Z\\); recorded as operator \\S+`,
      ),
    );

    await am('Delete', [SLICE], cred, {});
    expect(code(await am('Allocate', SLICE, cred, REQUEST, {}))).toBe(0);

    const h = sfa(['slice', 'history', SLICE, '--dir', dir]);
    expect(h.status).toBe(0);
    // The slice's history: the AM calls that changed it (with the client program) and the
    // shutdown and reopening.
    const lines = h.stdout.trim().split('\n');
    const alice = 'by urn:publicid:IDN+ple:inria+user+alice';
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(`2026-11-25T12:00:00Z  Allocate  ${alice}  with sfa-ts-xmlrpc`);
    expect(lines[1]).toBe(`2026-11-25T12:00:00Z  shutdown  ${alice}`);
    expect(lines[2]).toMatch(/^\S+Z {2}reopen {2}by operator \S+ {2}\(ticket 42\)$/);
    expect(lines.slice(3)).toEqual([
      `2026-11-25T12:00:00Z  Delete  ${alice}  with sfa-ts-xmlrpc`,
      `2026-11-25T12:00:00Z  Allocate  ${alice}  with sfa-ts-xmlrpc`,
    ]);
  });

  it('says what is wrong for a slice that is not shut down, or not a slice, and changes nothing', () => {
    const open = sfa(['slice', 'reopen', 'ple.inria.myslice', '--dir', dir]);
    expect(open.status).not.toBe(0);
    expect(open.stderr).toContain('is not shut down');
    const unknown = sfa(['slice', 'reopen', 'ple.inria.nothing', '--dir', dir]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('has no resources at this aggregate');
    expect(
      sfa(['slice', 'history', 'ple.inria.myslice', '--dir', dir]).stdout.trim().split('\n'),
    ).toHaveLength(5);
    const help = sfa(['slice', 'reopen', '--help']);
    expect(help.stdout).toContain('shut down');
  });
});
