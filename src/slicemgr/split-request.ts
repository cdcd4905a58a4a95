/**
 * Split a request RSpec by aggregate: each node goes to the aggregate its component_manager_id
 * names (an ad says `…+authority+cm`, GetVersion `…+authority+am`: both name the same
 * aggregate); unbound nodes go to the local aggregate. Leases go with their nodes.
 */
import { XMLSerializer, type Element } from '@xmldom/xmldom';
import { BadArgs } from '../faults.js';
import { childElements, parseXml } from '../credentials/xml.js';
import { isUrn, Xrn } from '../credentials/xrn.js';

function authorityOf(urn: string | null): string | undefined {
  if (!urn || !isUrn(urn)) return undefined;
  try {
    const x = Xrn.fromUrn(urn);
    // A component manager names its authority; a node URN is under its site: the root of it.
    return (x.type.startsWith('authority') ? x.hrn : x.authorityHrn).split('.')[0]!.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * `request` split into one request per aggregate HRN (lower case). `known` are the aggregates
 * this slice manager can reach; a node for any other is refused with BADARGS naming it.
 */
export function splitRequest(
  request: string,
  localHrn: string,
  known: ReadonlySet<string>,
): Map<string, string> {
  const doc = parseXml(request, 'request RSpec');
  const root = doc.documentElement!;
  if (root.localName !== 'rspec') throw new BadArgs('the request is not an <rspec> document');
  const groups = new Map<string, Element[]>();
  const nodeOwner = new Map<string, string>();
  const add = (hrn: string, el: Element) => {
    const list = groups.get(hrn) ?? [];
    list.push(el);
    groups.set(hrn, list);
  };
  const leases: Element[] = [];
  for (const el of childElements(root)) {
    if (el.localName === 'node') {
      const hrn =
        authorityOf(el.getAttribute('component_manager_id')) ??
        authorityOf(el.getAttribute('component_id')) ??
        localHrn.toLowerCase();
      if (!known.has(hrn)) {
        throw new BadArgs(
          `node ${el.getAttribute('client_id') ?? '?'} is for aggregate '${hrn}', which this slice manager does not know`,
        );
      }
      add(hrn, el);
      const id = el.getAttribute('component_id');
      if (id) nodeOwner.set(id, hrn);
    } else if (el.localName === 'lease') {
      leases.push(el);
    }
    // Links and other top-level elements: a PlanetLab aggregate has no use for them.
  }
  for (const lease of leases) {
    const refs = childElements(lease).map((n) => n.getAttribute('component_id') ?? '');
    const owners = new Set(
      refs.map((r) => nodeOwner.get(r) ?? authorityOf(r) ?? localHrn.toLowerCase()),
    );
    for (const hrn of owners) add(hrn, lease);
  }
  if (groups.size === 0)
    throw new BadArgs('the request RSpec holds no <node>: ask for at least one node');
  const serializer = new XMLSerializer();
  const open = serializer.serializeToString(root.cloneNode(false));
  const start = open.endsWith('/>')
    ? open.slice(0, -2) + '>'
    : open.slice(0, open.lastIndexOf('</'));
  const out = new Map<string, string>();
  for (const [hrn, els] of groups) {
    out.set(
      hrn,
      `<?xml version="1.0" encoding="UTF-8"?>\n${start}${els.map((e) => serializer.serializeToString(e)).join('')}</rspec>`,
    );
  }
  return out;
}
