/**
 * The manifest: schema-valid with users, attributes, ports and leases, and empty; login and
 * keys where GENI tools look (`<services><login>`, `ssh-user:services_user`); and the round trip
 * from a request.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { writeManifest } from './manifest.js';
import type { ManifestNode } from './model.js';
import { PLANETLAB_NS, RSPEC3_NS, SFATS_NS, SSH_USER_NS, XSI_NS } from './namespaces.js';
import { parseRequest } from './request.js';
import { validateRspec } from './validate.js';

const CM = 'urn:publicid:IDN+ple+authority+cm';
const GENERATED = new Date('2026-11-25T12:00:00Z');
const EXPIRES = new Date('2026-12-25T12:00:00Z');
const ALICE = 'urn:publicid:IDN+ple:inria+user+alice';
const BOB = 'urn:publicid:IDN+ple:inria+user+bob';
const ALICE_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7alice alice@laptop';
const BOB_KEYS = [
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbob bob@desk',
  'ssh-rsa AAAAB3Nzabob2 <bob>&co',
];

function sliver(i: number, overrides: Partial<ManifestNode> = {}): ManifestNode {
  const host = `node${i}.inria.fr`;
  return {
    clientId: `node${i}`,
    sliverId: `urn:publicid:IDN+ple:inria+sliver+${1000 + i}`,
    componentId: `urn:publicid:IDN+ple:inria+node+${host}`,
    componentManagerId: CM,
    componentName: host,
    exclusive: false,
    sliverType: 'plab-vserver',
    login: { authentication: 'ssh-keys', hostname: host, port: 22, username: 'inria_myslice' },
    users: [
      { urn: ALICE, keys: [ALICE_KEY] },
      { urn: BOB, keys: BOB_KEYS },
    ],
    attributes: [
      { name: 'vsys', value: 'pl-ps' },
      { name: 'capabilities', value: 'CAP_NET_ADMIN,CAP_NET_RAW' },
    ],
    initscripts: ['gpo'],
    ports: [
      { proto: 'tcp', from: 8000, to: 8010 },
      { proto: 'udp', from: 5353, to: 5353 },
    ],
    allocationStatus: 'geni_provisioned',
    operationalStatus: 'geni_ready',
    ...overrides,
  };
}

function parse(xml: string): Element {
  return new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
}

const sample = (): string =>
  writeManifest({
    nodes: [sliver(1), sliver(2, { exclusive: true, users: [], initscripts: [], ports: [] })],
    leases: [
      {
        sliceUrn: 'urn:publicid:IDN+ple:inria+slice+myslice',
        componentIds: ['urn:publicid:IDN+ple:inria+node+node2.inria.fr'],
        start: new Date('2026-11-25T14:00:00Z'),
        end: new Date('2026-11-25T15:00:00Z'),
      },
    ],
    generated: GENERATED,
    expires: EXPIRES,
  });

describe('writeManifest', () => {
  it('writes a manifest with users, attributes, ports and a lease that validates', async () => {
    await expect(validateRspec(sample(), 'manifest')).resolves.toBeUndefined();
  });

  it('writes an empty manifest (no slivers) that validates', async () => {
    const empty = writeManifest({ nodes: [], leases: [], generated: GENERATED, expires: EXPIRES });
    await expect(validateRspec(empty, 'manifest')).resolves.toBeUndefined();
    const root = parse(empty);
    expect(root.getAttribute('type')).toBe('manifest');
    expect(root.getAttribute('expires')).toBe('2026-12-25T12:00:00Z');
  });

  it('names manifest.xsd in xsi:schemaLocation and carries expires on the root', () => {
    const root = parse(sample());
    const locations = root.getAttributeNS(XSI_NS, 'schemaLocation')!.split(/\s+/);
    expect(locations[locations.indexOf(RSPEC3_NS) + 1]).toBe(
      'http://www.geni.net/resources/rspec/3/manifest.xsd',
    );
    expect(root.getAttribute('expires')).toBe('2026-12-25T12:00:00Z');
    expect(root.getAttribute('generated')).toBe('2026-11-25T12:00:00Z');
  });

  it('puts login and every user key where GENI tools read them', () => {
    const node = parse(sample()).getElementsByTagNameNS(RSPEC3_NS, 'node')[0]!;
    expect(node.getAttribute('sliver_id')).toBe('urn:publicid:IDN+ple:inria+sliver+1001');
    const login = node.getElementsByTagNameNS(RSPEC3_NS, 'login')[0]!;
    expect(
      ['authentication', 'hostname', 'port', 'username'].map((a) => login.getAttribute(a)),
    ).toEqual(['ssh-keys', 'node1.inria.fr', '22', 'inria_myslice']);
    const users = Array.from(node.getElementsByTagNameNS(SSH_USER_NS, 'services_user')).map(
      (u) => ({
        login: u.getAttribute('login'),
        urn: u.getAttribute('user_urn'),
        keys: Array.from(u.getElementsByTagNameNS(SSH_USER_NS, 'public_key')).map(
          (k) => k.textContent,
        ),
      }),
    );
    expect(users).toEqual([
      { login: 'inria_myslice', urn: ALICE, keys: [ALICE_KEY] },
      { login: 'inria_myslice', urn: BOB, keys: BOB_KEYS },
    ]);
  });

  it('writes initscripts, attributes, ports and statuses', () => {
    const node = parse(sample()).getElementsByTagNameNS(RSPEC3_NS, 'node')[0]!;
    expect(node.getElementsByTagNameNS(PLANETLAB_NS, 'initscript')[0]!.getAttribute('name')).toBe(
      'gpo',
    );
    expect(
      Array.from(node.getElementsByTagNameNS(SFATS_NS, 'sliver_attribute')).map((e) => [
        e.getAttribute('name'),
        e.getAttribute('value'),
      ]),
    ).toEqual([
      ['vsys', 'pl-ps'],
      ['capabilities', 'CAP_NET_ADMIN,CAP_NET_RAW'],
    ]);
    expect(
      Array.from(node.getElementsByTagNameNS(SFATS_NS, 'ports')).map((e) =>
        ['proto', 'from', 'to'].map((a) => e.getAttribute(a)),
      ),
    ).toEqual([
      ['tcp', '8000', '8010'],
      ['udp', '5353', '5353'],
    ]);
    expect(node.getAttributeNS(SFATS_NS, 'allocation_status')).toBe('geni_provisioned');
    expect(node.getAttributeNS(SFATS_NS, 'operational_status')).toBe('geni_ready');
  });

  it.each([
    [
      'a port out of range',
      { ports: [{ proto: 'tcp' as const, from: 0, to: 10 }] },
      /must be a port number/,
    ],
    [
      'a reversed range',
      { ports: [{ proto: 'udp' as const, from: 9000, to: 8000 }] },
      /is reversed/,
    ],
    ['another protocol', { ports: [{ proto: 'sctp' as 'tcp', from: 1, to: 2 }] }, /tcp or udp/],
    [
      'a login port out of range',
      { login: { authentication: 'ssh-keys' as const, hostname: 'h', port: 70000, username: 'u' } },
      /login port of node1 must be a port number/,
    ],
  ])(
    'refuses to write %s (a bug upstream, not a schema-invalid manifest)',
    (_, overrides, message) => {
      expect(() =>
        writeManifest({
          nodes: [sliver(1, overrides)],
          leases: [],
          generated: GENERATED,
          expires: EXPIRES,
        }),
      ).toThrow(message);
    },
  );
});

describe('round trip', () => {
  it('a request becomes a manifest that keeps every client_id, attribute and initscript', async () => {
    const request =
      parseRequest(`<rspec type="request" xmlns="${RSPEC3_NS}" xmlns:planetlab="${PLANETLAB_NS}">
      <node client_id="bound" component_id="urn:publicid:IDN+ple:inria+node+node1.inria.fr" exclusive="false">
        <sliver_type name="plab-vserver"><planetlab:initscript name="gpo"/>
          <planetlab:attribute name="vsys" value="pl-ps"/></sliver_type>
      </node>
      <node client_id="unbound &amp; &quot;quoted&quot;"><sliver_type name="plab-vserver"/></node>
    </rspec>`);
    const manifest = writeManifest({
      nodes: request.nodes.map((n, i) =>
        sliver(i + 1, {
          clientId: n.clientId,
          attributes: n.attributes,
          initscripts: n.initscripts,
          users: [],
          ports: [],
        }),
      ),
      leases: [],
      generated: GENERATED,
      expires: EXPIRES,
    });
    await expect(validateRspec(manifest, 'manifest')).resolves.toBeUndefined();
    const nodes = Array.from(parse(manifest).getElementsByTagNameNS(RSPEC3_NS, 'node'));
    expect(nodes.map((n) => n.getAttribute('client_id'))).toEqual(['bound', 'unbound & "quoted"']);
    expect(
      nodes[0]!.getElementsByTagNameNS(SFATS_NS, 'sliver_attribute')[0]!.getAttribute('value'),
    ).toBe('pl-ps');
    expect(
      nodes[0]!.getElementsByTagNameNS(PLANETLAB_NS, 'initscript')[0]!.getAttribute('name'),
    ).toBe('gpo');
  });
});
