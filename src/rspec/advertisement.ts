/**
 * The GENI v3 advertisement RSpec (ListResources).
 *
 * Built as one string, not through a DOM: an ad lists every node of the testbed and is asked for
 * often, so a 10,000-node ad must take tens of milliseconds (see bench/rspec.ts). Every value
 * goes through escapeAttr; element and attribute names are constants.
 *
 * Output depends only on the content of the input: nodes are sorted by component_id and leases
 * by time, so two calls over the same database state give the same bytes (caches, ETags, diffs).
 */
import { formatRfc3339 } from '../credentials/time.js';
import { escapeAttr as a } from './escape.js';
import type { AdNode, Lease } from './model.js';
import {
  OPSTATE_NS,
  OPSTATE_SCHEMA,
  PLANETLAB_NS,
  PLANETLAB_SCHEMA,
  RSPEC3_AD_SCHEMA,
  RSPEC3_NS,
  SFATS_NS,
  SFATS_SCHEMA,
  XSI_NS,
} from './namespaces.js';
import { compareLeases, DocumentBuffer, leaseXml, numberAttr } from './write-common.js';

export interface AdvertisementInput {
  nodes: readonly AdNode[];
  /** Current and future leases of reservable nodes. */
  leases: readonly Lease[];
  /** Lease granularity in seconds (written as `<sfa-ts:granularity seconds>`). */
  granularity: number;
  generated: Date;
  expires: Date;
  /**
   * The aggregate's URN. When given, the ad carries the GENI operational state machine
   * (`opstate:rspec_opstate`) that PerformOperationalAction clients such as jFed read.
   */
  aggregateManagerId?: string;
}

const ROOT_OPEN =
  `<rspec xmlns="${RSPEC3_NS}" xmlns:xsi="${XSI_NS}" xmlns:planetlab="${PLANETLAB_NS}"` +
  ` xmlns:sfa-ts="${SFATS_NS}" xmlns:opstate="${OPSTATE_NS}" type="advertisement"` +
  ` xsi:schemaLocation="${RSPEC3_NS} ${RSPEC3_AD_SCHEMA} ${PLANETLAB_NS} ${PLANETLAB_SCHEMA}` +
  ` ${SFATS_NS} ${SFATS_SCHEMA} ${OPSTATE_NS} ${OPSTATE_SCHEMA}"`;

/** Write a GENI v3 advertisement RSpec. */
export function writeAdvertisement(input: AdvertisementInput): string {
  if (!Number.isInteger(input.granularity) || input.granularity <= 0) {
    throw new RangeError(
      `granularity must be a positive number of seconds, not ${input.granularity}`,
    );
  }
  const nodes = [...input.nodes].sort((x, y) =>
    x.componentId < y.componentId ? -1 : x.componentId > y.componentId ? 1 : 0,
  );
  // About 800 bytes per node with status, location and an interface.
  const out = new DocumentBuffer(4096 + nodes.length * 1024 + input.leases.length * 256);
  out.add(
    `<?xml version="1.0" encoding="UTF-8"?>\n${ROOT_OPEN}` +
      ` generated="${formatRfc3339(input.generated)}" generated_by="sfa-ts"` +
      ` expires="${formatRfc3339(input.expires)}">\n`,
  );
  if (input.aggregateManagerId !== undefined) out.add(opstate(input.aggregateManagerId, nodes));
  out.add(`  <sfa-ts:granularity seconds="${input.granularity}"/>\n`);
  for (const node of nodes) out.add(nodeXml(node));
  for (const lease of [...input.leases].sort(compareLeases)) out.add(leaseXml(lease));
  out.add('</rspec>\n');
  return out.toString();
}

function nodeXml(n: AdNode): string {
  let s =
    `  <node component_id="${a(n.componentId)}" component_manager_id="${a(n.componentManagerId)}"` +
    ` component_name="${a(n.componentName)}" exclusive="${n.exclusive ? 'true' : 'false'}"`;
  if (n.siteName !== undefined) s += ` sfa-ts:site_name="${a(n.siteName)}"`;
  s += '>\n';
  for (const hw of n.hardwareTypes) s += `    <hardware_type name="${a(hw)}"/>\n`;
  const loc = n.location;
  if (loc) {
    s += `    <location country="${a(loc.country)}"`;
    s += numberAttr('latitude', loc.latitude);
    s += numberAttr('longitude', loc.longitude);
    if (loc.city !== undefined) s += ` sfa-ts:city="${a(loc.city)}"`;
    s += '/>\n';
  }
  for (const iface of n.interfaces) {
    s += `    <interface component_id="${a(iface.componentId)}"`;
    s +=
      iface.ipv4 === undefined
        ? '/>\n'
        : `>\n      <ip address="${a(iface.ipv4)}" type="ipv4"/>\n    </interface>\n`;
  }
  s += `    <available now="${n.available ? 'true' : 'false'}"/>\n`;
  for (const st of n.sliverTypes) {
    if (st.initscripts.length === 0) {
      s += `    <sliver_type name="${a(st.name)}"/>\n`;
      continue;
    }
    s += `    <sliver_type name="${a(st.name)}">\n`;
    for (const init of st.initscripts) s += `      <planetlab:initscript name="${a(init)}"/>\n`;
    s += '    </sliver_type>\n';
  }
  const st = n.status;
  if (st) {
    const slivers = Number.isFinite(st.slivers) ? Math.max(0, Math.trunc(st.slivers)) : 0;
    s += `    <sfa-ts:node_status`;
    s += numberAttr('load_average', st.loadAverage);
    s += ` slivers="${slivers}"`;
    s += numberAttr('reliability', st.reliability);
    s += '/>\n';
  }
  return s + '  </node>\n';
}

/**
 * The operational state machine of a PlanetLab sliver, as SFA's PlanetLab aggregate advertises
 * it: a sliver starts not ready, geni_start makes it ready, and it may fail.
 */
function opstate(aggregateManagerId: string, nodes: readonly AdNode[]): string {
  const types = new Set<string>();
  for (const n of nodes) for (const t of n.sliverTypes) types.add(t.name);
  if (types.size === 0) types.add('plab-vserver');
  let s = `  <opstate:rspec_opstate aggregate_manager_id="${a(aggregateManagerId)}" start="geni_notready">\n`;
  for (const t of [...types].sort()) s += `    <opstate:sliver_type name="${a(t)}"/>\n`;
  s +=
    '    <opstate:state name="geni_notready">\n' +
    '      <opstate:action name="geni_start" next="geni_ready">\n' +
    '        <opstate:description>Start the sliver</opstate:description>\n' +
    '      </opstate:action>\n' +
    '      <opstate:description>The sliver is provisioned but not started.</opstate:description>\n' +
    '    </opstate:state>\n' +
    '    <opstate:state name="geni_ready">\n' +
    '      <opstate:description>The sliver is up and ready to use.</opstate:description>\n' +
    '    </opstate:state>\n' +
    '    <opstate:state name="geni_failed">\n' +
    '      <opstate:description>The sliver failed and needs operator attention.</opstate:description>\n' +
    '    </opstate:state>\n' +
    '  </opstate:rspec_opstate>\n';
  return s;
}
