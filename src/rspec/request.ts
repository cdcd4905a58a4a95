/**
 * Parse a request RSpec (Allocate, CreateSliver) into {@link RequestRspec}.
 *
 * Accepts GENI v3 and ProtoGENI v2 requests (the same shape in two namespaces), bound and
 * unbound nodes, SFA's PlanetLab extension (`planetlab:attribute`, `planetlab:initscript`, under
 * the node or its sliver_type), SFA's core-namespace `<lease>` and our `<sfa-ts:lease>`.
 * Extension elements we do not interpret are kept, serialized; they are never an error.
 *
 * Everything else is refused with BadArgs saying what to fix: no DOCTYPE or entities, bounded
 * size and depth (checked before a DOM is built), an `<rspec>` root of type request, a unique
 * client_id on every node, well-formed lease times. No input makes this throw anything else.
 */
import { XMLSerializer, type Element } from '@xmldom/xmldom';
import { childElements, parseXml, XmlRefused } from '../credentials/xml.js';
import { parseRfc3339 } from '../credentials/time.js';
import { CALL_LIMITS } from '../limits.js';
import { BadArgs } from '../faults.js';
import type { LeaseLength, RequestLease, RequestNode, RequestRspec } from './model.js';
import { PGV2_NS, PLANETLAB_NS, PLANETLAB_XSD_NS, RSPEC3_NS, SFATS_NS } from './namespaces.js';
import { nestedDeeperThan } from '../credentials/nesting.js';

export interface ParseRequestOptions {
  /** Refuse documents longer than this many characters (default 4 MiB). */
  maxLength?: number;
  /** Refuse element nesting deeper than this (default 64; real RSpecs stay under 15). */
  maxDepth?: number;
}

const DEFAULTS = { maxLength: 4 * 1024 * 1024, maxDepth: 64 };
const WHAT = 'request RSpec';

/** Quote a value from the request for a message, bounded. */
function show(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

/** An attribute's value, or undefined when absent or empty. */
function attr(el: Element, name: string): string | undefined {
  const v = el.getAttribute(name);
  return v === null || v.trim() === '' ? undefined : v;
}

function isPlanetlab(ns: string | null): boolean {
  return ns === PLANETLAB_NS || ns === PLANETLAB_XSD_NS;
}

function tooManyNodes(count: number): never {
  throw new BadArgs(
    `${WHAT} asks for ${count} nodes; one call may ask for at most ${CALL_LIMITS.requestNodes} ` +
      "(this aggregate's limits.requestNodes): with the AM API v3, split the request over " +
      'several Allocate calls, each adds to the slice; with v2, ask the operator for a higher limit',
  );
}

/** Parse a request RSpec. Throws BadArgs, naming the problem, for anything it cannot accept. */
export function parseRequest(xml: string, options: ParseRequestOptions = {}): RequestRspec {
  const maxLength = options.maxLength ?? DEFAULTS.maxLength;
  const maxDepth = options.maxDepth ?? DEFAULTS.maxDepth;
  if (typeof xml !== 'string') {
    throw new BadArgs(`${WHAT} must be a string holding an XML document, not ${typeof xml}`);
  }
  if (xml.length > maxLength) {
    throw new XmlRefused(`${WHAT} is too large (${xml.length} characters, limit ${maxLength})`);
  }
  // Before the DOM (building one for 40,000 nodes takes a tenth of a second): a count of the
  // node elements at any depth, in any namespace, can only overcount, so it refuses only far
  // over the limit; the exact count, once the document is known to be a request, is below.
  const roughNodes = xml.match(/<(?:[A-Za-z_][\w.-]*:)?node[\s/>]/g)?.length ?? 0;
  if (roughNodes > 10 * CALL_LIMITS.requestNodes) tooManyNodes(roughNodes);
  // Before the DOM: building one for a 100,000-deep document alone takes seconds.
  if (nestedDeeperThan(xml, maxDepth)) {
    throw new XmlRefused(`${WHAT} is nested deeper than ${maxDepth} elements`);
  }
  const doc = parseXml(xml, WHAT, { maxLength, maxDepth });
  const root = doc.documentElement;
  if (!root) throw new XmlRefused(`${WHAT} has no root element`);

  const ns = root.namespaceURI;
  if (root.localName !== 'rspec' || (ns !== RSPEC3_NS && ns !== PGV2_NS)) {
    throw new BadArgs(
      `${WHAT}: the root element is <${root.tagName.slice(0, 60)}> in namespace ${show(ns ?? '(none)')}; ` +
        `send a GENI v3 request: <rspec type="request" xmlns="${RSPEC3_NS}">`,
    );
  }
  const type = root.getAttribute('type')?.trim().toLowerCase();
  if (type !== undefined && type !== '' && type !== 'request') {
    const hint =
      type === 'manifest' || type === 'advertisement'
        ? ` (this is ${type === 'manifest' ? 'a manifest' : 'an advertisement'}; a request ` +
          'lists the nodes wanted, each with a client_id)'
        : '';
    throw new BadArgs(`${WHAT}: <rspec type=${show(type)}> must be type="request"${hint}`);
  }

  const elements = childElements(root);
  const count = (name: string) =>
    elements.filter(
      (e) => e.localName === name && (e.namespaceURI === ns || e.namespaceURI === SFATS_NS),
    ).length;
  if (count('node') > CALL_LIMITS.requestNodes) tooManyNodes(count('node'));
  if (count('lease') > CALL_LIMITS.requestLeases) {
    throw new BadArgs(
      `${WHAT} holds ${count('lease')} leases; one call may hold at most ${CALL_LIMITS.requestLeases}: split the request over several calls`,
    );
  }
  const request: RequestRspec = { namespace: ns, nodes: [], leases: [], links: 0, extensions: [] };
  const serializer = new XMLSerializer();
  const clientIds = new Set<string>();
  for (const child of elements) {
    const childNs = child.namespaceURI;
    const name = child.localName;
    if (childNs === ns && name === 'node') {
      const node = parseNode(child, ns, request.nodes.length, serializer);
      if (clientIds.has(node.clientId)) {
        throw new BadArgs(
          `${WHAT}: client_id ${show(node.clientId)} is used by more than one node; ` +
            'give each node its own client_id',
        );
      }
      clientIds.add(node.clientId);
      request.nodes.push(node);
    } else if (childNs === ns && name === 'link') {
      request.links++;
    } else if (childNs === ns && name === 'lease') {
      request.leases.push(parseSfaLease(child, ns));
    } else if (childNs === SFATS_NS && name === 'lease') {
      request.leases.push(parseOurLease(child));
    } else {
      request.extensions.push(serializer.serializeToString(child));
    }
  }
  return request;
}

function parseNode(el: Element, ns: string, index: number, serializer: XMLSerializer): RequestNode {
  const clientId = attr(el, 'client_id');
  const componentId = attr(el, 'component_id');
  if (clientId === undefined) {
    const which = componentId ? ` (component_id ${show(componentId)})` : '';
    throw new BadArgs(
      `${WHAT}: node ${index + 1}${which} has no client_id; ` +
        'give every node a client_id, unique in the request',
    );
  }
  const node: RequestNode = { clientId, attributes: [], initscripts: [], extensions: [] };
  if (componentId !== undefined) node.componentId = componentId;
  const cm = attr(el, 'component_manager_id');
  if (cm !== undefined) node.componentManagerId = cm;
  const cname = attr(el, 'component_name');
  if (cname !== undefined) node.componentName = cname;
  const exclusive = attr(el, 'exclusive');
  if (exclusive !== undefined) node.exclusive = parseBoolean(exclusive, clientId);

  for (const child of childElements(el)) {
    const childNs = child.namespaceURI;
    if (childNs === ns && child.localName === 'sliver_type') {
      const name = attr(child, 'name');
      if (name === undefined) {
        throw new BadArgs(`${WHAT}: the sliver_type of node ${show(clientId)} has no name`);
      }
      if (node.sliverType !== undefined && node.sliverType !== name) {
        throw new BadArgs(
          `${WHAT}: node ${show(clientId)} asks for two sliver types ` +
            `(${show(node.sliverType)} and ${show(name)}); a node is one sliver of one type`,
        );
      }
      node.sliverType = name;
      for (const inner of childElements(child)) {
        if (isPlanetlab(inner.namespaceURI)) planetlabElement(inner, node, serializer);
        // Core children (disk_image) mean nothing to a PlanetLab aggregate.
        else if (inner.namespaceURI !== ns) {
          node.extensions.push(serializer.serializeToString(inner));
        }
      }
    } else if (isPlanetlab(childNs)) {
      planetlabElement(child, node, serializer);
    } else if (childNs !== ns) {
      node.extensions.push(serializer.serializeToString(child));
    }
    // Other core children (interface, services, hardware_type, location, relation) are
    // accepted and ignored: a PlanetLab sliver has no per-request interfaces or images.
  }
  return node;
}

function planetlabElement(el: Element, node: RequestNode, serializer: XMLSerializer): void {
  if (el.localName === 'initscript') {
    const name = attr(el, 'name');
    if (name === undefined) {
      throw new BadArgs(
        `${WHAT}: a planetlab:initscript of node ${show(node.clientId)} has no name`,
      );
    }
    node.initscripts.push(name);
  } else if (el.localName === 'attribute') {
    const name = attr(el, 'name');
    const value = el.getAttribute('value');
    if (name === undefined || value === null) {
      throw new BadArgs(
        `${WHAT}: a planetlab:attribute of node ${show(node.clientId)} needs both name and value`,
      );
    }
    node.attributes.push({ name, value });
  } else {
    node.extensions.push(serializer.serializeToString(el));
  }
}

function parseBoolean(text: string, clientId: string): boolean {
  const t = text.trim();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw new BadArgs(
    `${WHAT}: node ${show(clientId)} has exclusive=${show(text)}; use true or false`,
  );
}

// Latest accepted time: 9999-12-31T23:59:59Z, in seconds.
const MAX_EPOCH = 253402300799;

/** A lease time: RFC 3339, or seconds since the epoch as SFA writes `start_time`. */
function parseTime(text: string, what: string): Date {
  const t = text.trim();
  if (t.length > 40) throw new BadArgs(`${what} ${show(text)} is not a time`);
  if (/^\d{1,12}$/.test(t)) {
    const seconds = Number(t);
    if (seconds <= MAX_EPOCH) return new Date(seconds * 1000);
  }
  const d = parseRfc3339(t, what);
  if (!(d.getTime() >= 0)) throw new BadArgs(`${what} ${show(text)} is before 1970`);
  return d;
}

/** A positive whole number; SFA (Python 3) writes `duration` as a float, so `2.0` is 2. */
function parsePositive(text: string, what: string): number {
  const m = /^\s*(\d{1,12})(?:\.0*)?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0)) throw new BadArgs(`${what} ${show(text)} must be a positive whole number`);
  return n;
}

/** The `component_id`s of a lease's `<node>` children (in `nodeNs`, or no namespace). */
function leaseNodes(el: Element, nodeNs: string, what: string): string[] {
  const ids: string[] = [];
  for (const child of childElements(el)) {
    const childNs = child.namespaceURI;
    if (child.localName !== 'node' || (childNs !== nodeNs && childNs !== null)) continue;
    const id = attr(child, 'component_id');
    if (id === undefined) throw new BadArgs(`${what}: a <node> of the lease has no component_id`);
    ids.push(id);
  }
  if (ids.length === 0) {
    throw new BadArgs(`${what} names no node; add <node component_id="..."/> children`);
  }
  return ids;
}

function leaseStart(el: Element, what: string): Date {
  const start = attr(el, 'start_time');
  if (start === undefined) throw new BadArgs(`${what} has no start_time`);
  return parseTime(start, `${what} start_time`);
}

/**
 * SFA's `<lease slice_id start_time duration>`: start_time in seconds since the epoch and
 * duration in granularity slots (sfa/planetlab/plslices.py: t_until = start + duration * grain).
 */
function parseSfaLease(el: Element, ns: string): RequestLease {
  const what = `${WHAT}: <lease>`;
  const start = leaseStart(el, what);
  const duration = attr(el, 'duration');
  if (duration === undefined) {
    throw new BadArgs(`${what} has no duration (the number of granularity slots)`);
  }
  const lease: RequestLease = {
    componentIds: leaseNodes(el, ns, what),
    start,
    length: { slots: parsePositive(duration, `${what} duration`) },
    source: 'sfa',
  };
  const slice = attr(el, 'slice_id');
  if (slice !== undefined) lease.sliceUrn = slice;
  return lease;
}

/** Our `<sfa-ts:lease slice_id start_time (duration | end_time)>`: seconds, or an end time. */
function parseOurLease(el: Element): RequestLease {
  const what = `${WHAT}: <sfa-ts:lease>`;
  const start = leaseStart(el, what);
  const duration = attr(el, 'duration');
  const endTime = attr(el, 'end_time');
  let length: LeaseLength;
  if (duration !== undefined && endTime !== undefined) {
    throw new BadArgs(`${what} has both duration and end_time; give one of them`);
  } else if (duration !== undefined) {
    length = { seconds: parsePositive(duration, `${what} duration`) };
  } else if (endTime !== undefined) {
    const end = parseTime(endTime, `${what} end_time`);
    if (end.getTime() <= start.getTime()) {
      throw new BadArgs(`${what} ends (${endTime}) before it starts`);
    }
    length = { end };
  } else {
    throw new BadArgs(`${what} needs a duration (seconds) or an end_time`);
  }
  const lease: RequestLease = {
    componentIds: leaseNodes(el, SFATS_NS, what),
    start,
    length,
    source: 'sfa-ts',
  };
  const slice = attr(el, 'slice_id');
  if (slice !== undefined) lease.sliceUrn = slice;
  return lease;
}
