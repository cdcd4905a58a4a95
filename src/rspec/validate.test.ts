/**
 * The validator itself: it accepts valid RSpecs of each kind, refuses invalid ones, checks SFA's
 * planetlab namespace against planetlab.xsd (mapped), and catches what lax wildcards let by.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { PLANETLAB_NS, RSPEC3_NS, SFATS_NS } from './namespaces.js';
import { DEFAULT_RSPEC_SCHEMA_DIR, validateRspec } from './validate.js';
import { GENI_ACCEPTANCE, ROOT, SCHEMAS } from '../../test/support/paths.js';

const acceptance = (name: string): string => readFileSync(join(GENI_ACCEPTANCE, name), 'utf8');

const request = (body: string): string =>
  `<rspec type="request" xmlns="${RSPEC3_NS}" xmlns:planetlab="${PLANETLAB_NS}" ` +
  `xmlns:sfa-ts="${SFATS_NS}">${body}</rspec>`;

async function refusal(xml: string, kind: 'ad' | 'request' | 'manifest'): Promise<BadArgs> {
  try {
    await validateRspec(xml, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(BadArgs);
    return e as BadArgs;
  }
  throw new Error('expected the document to be refused');
}

describe('validateRspec', () => {
  it("reads the package's own schemas/ by default, not anything beside the checkout", () => {
    expect(DEFAULT_RSPEC_SCHEMA_DIR).toBe(SCHEMAS);
    expect(DEFAULT_RSPEC_SCHEMA_DIR).toBe(join(ROOT, 'schemas'));
  });

  it.each([
    'request.xml.sample',
    'request1.xml.sample',
    'request2.xml.sample',
    'request3.xml.sample',
  ])('accepts the acceptance sample %s as a request', async (name) => {
    await expect(validateRspec(acceptance(name), 'request', SCHEMAS)).resolves.toBeUndefined();
  });

  it('accepts bad.xml.sample as what it is, a manifest, and refuses it as a request', async () => {
    await expect(validateRspec(acceptance('bad.xml.sample'), 'manifest')).resolves.toBeUndefined();
    expect((await refusal(acceptance('bad.xml.sample'), 'request')).message).toMatch(
      /request RSpec does not match the GENI v3 request schema: .*'manifest'/,
    );
  });

  it("checks SFA's planetlab namespace against planetlab.xsd (namespace mapped)", async () => {
    const ok = request(
      '<node client_id="a"><sliver_type name="plab-vserver"><planetlab:initscript name="gpo"/>' +
        '<planetlab:attribute name="vsys" value="pl-ps"/></sliver_type></node>',
    );
    await expect(validateRspec(ok, 'request')).resolves.toBeUndefined();
    const broken = ok.replace('<planetlab:initscript name="gpo"/>', '<planetlab:initscript/>');
    expect((await refusal(broken, 'request')).message).toMatch(/initscript.*'name' is required/);
  });

  it('refuses an element of our namespace that sfa-ts.xsd does not declare', async () => {
    const xml = request('<node client_id="a"/><sfa-ts:leaze start_time="2026-11-25T08:00:00Z"/>');
    expect((await refusal(xml, 'request')).message).toMatch(
      /extension elements their schema does not declare: sfa-ts:leaze/,
    );
  });

  it('checks our elements against sfa-ts.xsd', async () => {
    const lease = (attrs: string): string =>
      request(
        `<node client_id="a"/><sfa-ts:lease ${attrs}><sfa-ts:node component_id="x"/></sfa-ts:lease>`,
      );
    await expect(
      validateRspec(lease('start_time="2026-11-25T08:00:00Z" duration="60"'), 'request'),
    ).resolves.toBeUndefined();
    expect((await refusal(lease('start_time="1795593600"'), 'request')).message).toMatch(
      /start_time.*xs:dateTime/,
    );
  });

  it('refuses what GENI v3 refuses: SFA core-namespace lease, unprefixed city', async () => {
    expect(
      (
        await refusal(
          request(
            '<lease slice_id="s" start_time="1" duration="1"><node component_id="x"/></lease>',
          ),
          'request',
        )
      ).message,
    ).toMatch(/lease.*not expected/);
    const ad =
      `<rspec type="advertisement" xmlns="${RSPEC3_NS}"><node component_id="a" ` +
      'component_manager_id="b" exclusive="false"><location country="FR" city="Paris"/></node></rspec>';
    expect((await refusal(ad, 'ad')).message).toMatch(/attribute 'city'/);
  });

  it('refuses a DOCTYPE before libxml2 sees it', async () => {
    const xml = `<!DOCTYPE rspec [<!ENTITY x SYSTEM "file:///etc/passwd">]>${request('<node client_id="&x;"/>')}`;
    expect((await refusal(xml, 'request')).message).toMatch(/DOCTYPE or ENTITY/);
  });
});
