/**
 * Security: log forging. A method name with a newline used to write a forged line into the
 * server log, even without a certificate, and error messages echoed input without bound (a
 * 7.5 MB log line). Whatever comes from outside now stays on its call's one line, escaped and
 * bounded, and the message on the wire is bounded too.
 */
import { rmSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LOGGED_MESSAGE } from '../../src/server/log.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import { MAX_MESSAGE_LENGTH } from '../../src/text.js';
import { bootstrapUser, makeAuthorityDir } from '../support/authority.js';
import { NOW } from '../support/paths.js';

let running: RunningAuthority;
let dir: string;
const lines: string[] = [];
let registry: (method: string, ...params: unknown[]) => Promise<unknown>;

/** POST `body` with no client certificate, as an anonymous attacker would. */
function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: '/',
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const forgedCall = (method: string) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params/></methodCall>`;

beforeAll(async () => {
  const made = await makeAuthorityDir();
  dir = made.dir;
  running = await startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
    log: (line) => lines.push(line),
    clock: () => NOW,
  });
  const a = await bootstrapUser(running.urls.registry, made.alice);
  registry = a.registry as typeof registry;
});
afterAll(async () => {
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Security: log forging', () => {
  it.each([
    ['registry', () => running.urls.registry],
    ['aggregate', () => running.urls.aggregate],
    ['slice manager', () => running.urls.slicemgr],
  ])('a method name with a newline stays on its own line at the %s', async (_, url) => {
    lines.length = 0;
    const forged =
      '2026-11-25T12:00:00Z registry Register caller=urn:publicid:IDN+ple+user+admin code=0';
    await post(url(), forgedCall(`GetVersion&#10;${forged}&#13;X`));
    const logged = lines.join('\n').split('\n');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('\\u000a2026-11-25T12:00:00Z registry Register');
    expect(logged.some((l) => l.startsWith(forged))).toBe(false);
  });

  it('bounds what an error message echoes, on the wire and in the log', async () => {
    lines.length = 0;
    const huge = `ple.${'a'.repeat(7_500_000)}`;
    let fault = '';
    try {
      await registry('Resolve', huge, 'not a credential');
    } catch (e) {
      fault = (e as { faultString?: string }).faultString ?? String(e);
    }
    expect(fault).toMatch(/Resolve/);
    expect(fault.length).toBeLessThan(MAX_MESSAGE_LENGTH + 200);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(MAX_LOGGED_MESSAGE + 400);
  });

  it('answers a request with a character XML cannot carry with a well-formed fault', async () => {
    lines.length = 0;
    const answer = await post(running.urls.aggregate, forgedCall('Get&#1;Version'));
    expect(answer).toMatch(
      /^<\?xml[^>]*\?>\s*<methodResponse>\s*<fault>[\s\S]*<\/fault>\s*<\/methodResponse>\s*$/,
    );
    // eslint-disable-next-line no-control-regex
    expect(answer).not.toMatch(/[\u0000-\u0008]/);
  });
});
