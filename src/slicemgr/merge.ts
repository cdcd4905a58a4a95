/**
 * One RSpec from many: the slice manager's merged advertisement or manifest holds every
 * aggregate's nodes, links and leases, and one `sfa-ts:aggregate_status` element per aggregate
 * saying how it answered (namespaced, so the document stays valid).
 */
import { XMLSerializer, type Element } from '@xmldom/xmldom';
import { childElements, parseXml } from '../credentials/xml.js';
import { formatRfc3339 } from '../credentials/time.js';
import { RSPEC3_NS, SFATS_NS, XSI_NS } from '../rspec/namespaces.js';
import { escapeAttr } from '../rspec/escape.js';
import type { RelayOutcome } from './relay.js';

/** Large merged ads are fine; a hostile peer still cannot send us an unbounded document. */
const MAX_RSPEC_LENGTH = 64 * 1024 * 1024;

function statusElement(o: RelayOutcome, urn: string): string {
  return (
    `  <sfa-ts:aggregate_status urn="${escapeAttr(urn)}" url="${escapeAttr(o.aggregate.url)}"` +
    ` elapsed_ms="${o.elapsedMs}" status="${o.code === 0 ? 'ok' : 'error'}"` +
    (o.message ? ` message="${escapeAttr(o.message)}"` : '') +
    '/>\n'
  );
}

export interface MergeInput {
  type: 'advertisement' | 'manifest';
  /** Each aggregate's outcome and the RSpec it answered (undefined when it failed). */
  parts: readonly { outcome: RelayOutcome; rspec: string | undefined; urn: string }[];
  now: Date;
  expires: Date;
}

/**
 * A child serialized on its own carries declarations of every namespace it uses; drop from its
 * start tag those the merged root declares identically (prefix and URI), keeping the rest.
 */
function withoutRootDeclarations(xml: string, declared: ReadonlyMap<string, string>): string {
  const end = xml.indexOf('>');
  if (end < 0) return xml;
  const start = xml
    .slice(0, end)
    .replace(/ (xmlns(?::[\w.-]+)?)="([^"]*)"/g, (whole, name: string, value: string) =>
      declared.get(name) !== undefined && escapeAttr(declared.get(name)!) === value ? '' : whole,
    );
  return start + xml.slice(end);
}

export function mergeRspecs(input: MergeInput): string {
  const serializer = new XMLSerializer();
  const declared = new Map<string, string>([
    ['xmlns', RSPEC3_NS],
    ['xmlns:xsi', XSI_NS],
    ['xmlns:sfa-ts', SFATS_NS],
  ]);
  const schemaLocations = new Set<string>();
  const bodies: string[] = [];
  for (const part of input.parts) {
    if (part.rspec === undefined) continue;
    let root: Element;
    try {
      root = parseXml(part.rspec, `${part.outcome.aggregate.hrn}'s RSpec`, {
        maxLength: MAX_RSPEC_LENGTH,
      }).documentElement!;
    } catch {
      continue; // counted as answered, but its document is unusable: its status says ok, body skipped
    }
    for (let i = 0; i < root.attributes.length; i++) {
      const a = root.attributes.item(i)!;
      if (a.name.startsWith('xmlns') && !declared.has(a.name)) declared.set(a.name, a.value);
      if (a.localName === 'schemaLocation')
        a.value
          .split(/\s+/)
          .filter(Boolean)
          .forEach((s) => schemaLocations.add(s));
    }
    for (const child of childElements(root)) {
      bodies.push(
        '  ' + withoutRootDeclarations(serializer.serializeToString(child), declared) + '\n',
      );
    }
  }
  const locations = [...schemaLocations];
  const attrs = [...declared].map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<rspec${attrs} type="${input.type}"` +
    (locations.length ? ` xsi:schemaLocation="${escapeAttr(locations.join(' '))}"` : '') +
    ` generated="${formatRfc3339(input.now)}" generated_by="sfa-ts slice manager" expires="${formatRfc3339(input.expires)}">\n` +
    bodies.join('') +
    input.parts.map((p) => statusElement(p.outcome, p.urn)).join('') +
    '</rspec>\n'
  );
}
