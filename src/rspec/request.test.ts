/**
 * Request parsing: the GENI acceptance samples, what sfi sends to a PlanetLab aggregate (SFA's
 * planetlab extension and leases), our lease, and each refusal with its message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { resolveLease } from './lease.js';
import { PGV2_NS, PLANETLAB_NS, RSPEC3_NS, SFATS_NS } from './namespaces.js';
import { parseRequest } from './request.js';
import { GENI_ACCEPTANCE as ACCEPTANCE } from '../../test/support/paths.js';

const acceptance = (name: string): string => readFileSync(join(ACCEPTANCE, name), 'utf8');

/** The fault `fn` throws; fails the test if it throws nothing. */
function refusal(fn: () => unknown): BadArgs {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadArgs);
    return e as BadArgs;
  }
  throw new Error('expected BadArgs, nothing was thrown');
}

function refuses(xml: string, message: RegExp): void {
  const fault = refusal(() => parseRequest(xml));
  expect({ fault: fault.fault, code: fault.geniCode }).toEqual({ fault: 'BADARGS', code: 1 });
  expect(fault.message).toMatch(message);
}

const request = (body: string, rootAttrs = 'type="request"'): string =>
  `<?xml version="1.0"?>\n<rspec ${rootAttrs} xmlns="${RSPEC3_NS}" ` +
  `xmlns:planetlab="${PLANETLAB_NS}" xmlns:sfa-ts="${SFATS_NS}">\n${body}\n</rspec>`;

const CM = 'urn:publicid:IDN+ple+authority+cm';
const NODE1 = 'urn:publicid:IDN+ple:inria+node+node1.inria.fr';
const NODE2 = 'urn:publicid:IDN+ple:upmc+node+node2.upmc.fr';
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';

describe('GENI acceptance samples', () => {
  it.each([
    'request.xml.sample',
    'request1.xml.sample',
    'request2.xml.sample',
    'request3.xml.sample',
  ])('parses %s (GENI v3, bound node)', (name) => {
    const r = parseRequest(acceptance(name));
    expect(r.namespace).toBe(RSPEC3_NS);
    expect(r.nodes).toHaveLength(1);
    const node = r.nodes[0]!;
    expect(node.clientId).toMatch(/^ch\d?$/);
    expect(node.componentId).toMatch(/^urn:publicid:IDN\+utahddc\.geniracks\.net\+node\+pc\d$/);
    expect(node.componentManagerId).toBe('urn:publicid:IDN+utahddc.geniracks.net+authority+cm');
    expect(node.exclusive).toBe(false);
    expect(node.sliverType).toBe('emulab-xen');
    // The disk_image is core RSpec a PlanetLab aggregate has no use for: ignored, not kept.
    expect(node.extensions).toEqual([]);
    expect(r.leases).toEqual([]);
    expect(r.links).toBe(0);
  });

  it('parses request_pgv2.xml (ProtoGENI v2 namespace)', () => {
    const r = parseRequest(acceptance('request_pgv2.xml'));
    expect(r.namespace).toBe(PGV2_NS);
    expect(r.nodes.map((n) => [n.clientId, n.sliverType])).toEqual([['ch', 'emulab-xen']]);
  });

  it('refuses bad.xml.sample, a manifest sent as a request', () => {
    refuses(
      acceptance('bad.xml.sample'),
      /type="manifest"|"manifest".*must be type="request".*a manifest/,
    );
  });
});

describe('what sfi sends to a PlanetLab aggregate', () => {
  const sfi = request(
    `<node component_manager_id="${CM}" component_id="${NODE1}" client_id="node1.inria.fr"` +
      ` exclusive="false" component_name="node1.inria.fr">
    <sliver_type name="plab-vserver">
      <planetlab:initscript name="gpo"/>
      <planetlab:attribute name="vsys" value="pl-ps" scope="sliver"/>
    </sliver_type>
    <planetlab:attribute name="capabilities" value="CAP_NET_ADMIN"/>
  </node>
  <node component_manager_id="${CM}" component_id="${NODE2}" client_id="node2" exclusive="true">
    <sliver_type name="plab-vserver"/>
  </node>
  <lease slice_id="${SLICE}" start_time="1795593600" duration="2.0">
    <node component_id="${NODE2}"/>
  </lease>`,
  );

  it('reads nodes, planetlab attributes and initscripts (under sliver_type or the node)', () => {
    const r = parseRequest(sfi);
    expect(r.nodes).toEqual([
      {
        clientId: 'node1.inria.fr',
        componentId: NODE1,
        componentManagerId: CM,
        componentName: 'node1.inria.fr',
        exclusive: false,
        sliverType: 'plab-vserver',
        attributes: [
          { name: 'vsys', value: 'pl-ps' },
          { name: 'capabilities', value: 'CAP_NET_ADMIN' },
        ],
        initscripts: ['gpo'],
        extensions: [],
      },
      {
        clientId: 'node2',
        componentId: NODE2,
        componentManagerId: CM,
        exclusive: true,
        sliverType: 'plab-vserver',
        attributes: [],
        initscripts: [],
        extensions: [],
      },
    ]);
  });

  it("reads SFA's lease: start in epoch seconds, duration in granularity slots", () => {
    const [lease] = parseRequest(sfi).leases;
    expect(lease).toEqual({
      sliceUrn: SLICE,
      componentIds: [NODE2],
      start: new Date('2026-11-25T08:00:00Z'),
      length: { slots: 2 },
      source: 'sfa',
    });
    // plslices.py: t_until = start_time + duration * grain.
    expect(resolveLease(lease!, 1800)).toEqual({
      sliceUrn: SLICE,
      componentIds: [NODE2],
      start: new Date('2026-11-25T08:00:00Z'),
      end: new Date('2026-11-25T09:00:00Z'),
    });
  });

  it('accepts the planetlab namespace the published planetlab.xsd declares', () => {
    const xml = sfi.replace(PLANETLAB_NS, 'http://www.planet-lab.org/resources/ext/planetlab/1');
    expect(parseRequest(xml).nodes[0]!.initscripts).toEqual(['gpo']);
  });
});

describe('our lease', () => {
  const lease = (attrs: string, nodes = `<sfa-ts:node component_id="${NODE1}"/>`): string =>
    request(
      `<node client_id="n1" component_id="${NODE1}"/>\n<sfa-ts:lease ${attrs}>${nodes}</sfa-ts:lease>`,
    );

  it('takes a duration in seconds', () => {
    const [l] = parseRequest(
      lease(`slice_id="${SLICE}" start_time="2026-11-25T08:00:00Z" duration="5400"`),
    ).leases;
    expect(l).toMatchObject({ length: { seconds: 5400 }, source: 'sfa-ts' });
    expect(resolveLease(l!, 1800).end).toEqual(new Date('2026-11-25T09:30:00Z'));
  });

  it('takes an end time, with an offset', () => {
    const [l] = parseRequest(
      lease('start_time="2026-11-25T08:00:00Z" end_time="2026-11-25T11:00:00+02:00"'),
    ).leases;
    expect(l!.sliceUrn).toBeUndefined();
    expect(resolveLease(l!, 1800)).toEqual({
      componentIds: [NODE1],
      start: new Date('2026-11-25T08:00:00Z'),
      end: new Date('2026-11-25T09:00:00Z'),
    });
  });

  it.each([
    ['no start', 'duration="60"', /has no start_time/],
    [
      'a garbled start',
      'start_time="tomorrow" duration="60"',
      /start_time 'tomorrow' is not an RFC 3339 date/,
    ],
    [
      'neither duration nor end',
      'start_time="2026-11-25T08:00:00Z"',
      /needs a duration \(seconds\) or an end_time/,
    ],
    [
      'both duration and end',
      'start_time="2026-11-25T08:00:00Z" duration="60" end_time="2026-11-25T09:00:00Z"',
      /both duration and end_time/,
    ],
    [
      'an end before the start',
      'start_time="2026-11-25T08:00:00Z" end_time="2026-11-25T07:00:00Z"',
      /ends .* before it starts/,
    ],
    [
      'a zero duration',
      'start_time="2026-11-25T08:00:00Z" duration="0"',
      /duration "0" must be a positive whole number/,
    ],
    [
      'a fractional duration',
      'start_time="2026-11-25T08:00:00Z" duration="1.5"',
      /must be a positive whole number/,
    ],
  ])('refuses %s', (_, attrs, message) => refuses(lease(attrs), message));

  it('refuses a lease over no node', () =>
    refuses(lease('start_time="2026-11-25T08:00:00Z" duration="60"', ''), /names no node/));

  it('refuses a lease node without component_id', () =>
    refuses(
      lease('start_time="2026-11-25T08:00:00Z" duration="60"', '<sfa-ts:node/>'),
      /a <node> of the lease has no component_id/,
    ));

  it("refuses SFA's lease without duration", () =>
    refuses(
      request(
        `<lease slice_id="${SLICE}" start_time="1795593600"><node component_id="${NODE1}"/></lease>`,
      ),
      /<lease> has no duration \(the number of granularity slots\)/,
    ));
});

describe('unbound nodes, links and extensions', () => {
  it('takes a node with only a client_id, counts links and keeps unknown elements', () => {
    const r = parseRequest(
      request(
        `<node client_id="any" xmlns:emulab="http://www.protogeni.net/resources/rspec/ext/emulab/1">
          <sliver_type name="plab-vserver"><emulab:xen cores="2"/></sliver_type>
          <interface client_id="any:if0"/>
          <emulab:routable_control_ip/>
        </node>
        <link client_id="lan0"><interface_ref client_id="any:if0"/></link>
        <stitching xmlns="http://hpn.east.isi.edu/rspec/ext/stitch/0.1/" lastUpdateTime="x"/>`,
      ),
    );
    expect(r.nodes).toHaveLength(1);
    const node = r.nodes[0]!;
    expect(node.componentId).toBeUndefined();
    expect(node.exclusive).toBeUndefined();
    expect(node.extensions).toHaveLength(2);
    expect(node.extensions[0]).toMatch(/^<emulab:xen cores="2" xmlns:emulab="[^"]+emulab\/1"\/>$/);
    expect(node.extensions[1]).toMatch(/^<emulab:routable_control_ip/);
    expect(r.links).toBe(1);
    expect(r.extensions).toEqual([
      '<stitching xmlns="http://hpn.east.isi.edu/rspec/ext/stitch/0.1/" lastUpdateTime="x"/>',
    ]);
  });

  it('accepts a request without a type attribute, and an empty one', () => {
    expect(parseRequest(request('<node client_id="a"/>', '')).nodes).toHaveLength(1);
    expect(parseRequest(request('')).nodes).toEqual([]);
  });
});

describe('refusals say what to fix', () => {
  it.each([
    [
      'a node without client_id',
      `<node component_id="${NODE1}"/>`,
      /node 1 \(component_id "urn:publicid:IDN\+ple:inria\+node\+node1\.inria\.fr"\) has no client_id; give every node a client_id/,
    ],
    ['an empty client_id', '<node client_id=" "/>', /node 1 has no client_id/],
    [
      'a repeated client_id',
      '<node client_id="a"/><node client_id="b"/><node client_id="a"/>',
      /client_id "a" is used by more than one node/,
    ],
    [
      'exclusive="yes"',
      '<node client_id="a" exclusive="yes"/>',
      /node "a" has exclusive="yes"; use true or false/,
    ],
    [
      'a sliver_type without name',
      '<node client_id="a"><sliver_type/></node>',
      /the sliver_type of node "a" has no name/,
    ],
    [
      'two sliver types',
      '<node client_id="a"><sliver_type name="plab-vserver"/><sliver_type name="raw-pc"/></node>',
      /node "a" asks for two sliver types/,
    ],
    [
      'an initscript without name',
      '<node client_id="a"><planetlab:initscript/></node>',
      /planetlab:initscript of node "a" has no name/,
    ],
    [
      'an attribute without value',
      '<node client_id="a"><sliver_type name="plab-vserver"><planetlab:attribute name="x"/></sliver_type></node>',
      /planetlab:attribute of node "a" needs both name and value/,
    ],
  ])('refuses %s', (_, body, message) => refuses(request(body), message));

  it.each([
    ['an advertisement', request('', 'type="advertisement"'), /this is an advertisement/],
    ['an unknown type', request('', 'type="wish"'), /<rspec type="wish"> must be type="request"/],
    [
      'another root',
      `<RSpec type="SFA"><network name="ple"/></RSpec>`,
      /the root element is <RSpec> in namespace "\(none\)"; send a GENI v3 request/,
    ],
    [
      'ProtoGENI 0.1',
      '<rspec xmlns="http://www.protogeni.net/resources/rspec/0.1" type="request"/>',
      /namespace "http:\/\/www\.protogeni\.net\/resources\/rspec\/0\.1"/,
    ],
    ['not XML', 'node1.inria.fr, node2.upmc.fr', /not well-formed XML/],
    ['an empty string', '', /empty/],
    ['unclosed markup', request('<node client_id="a">'), /not well-formed XML/],
  ])('refuses %s', (_, xml, message) => refuses(xml, message));

  it.each([undefined, null, 42, {}, ['<rspec/>'], Buffer.from('<rspec/>')])(
    'refuses a %s instead of a string, with BadArgs',
    (value) => {
      const fault = refusal(() => parseRequest(value as unknown as string));
      expect(fault.message).toMatch(/must be a string holding an XML document/);
    },
  );
});
