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
    s += numberAttr('bytes_in', st.bytesIn);
    s += numberAttr('bytes_out', st.bytesOut);
    s += numberAttr('packets_in', st.packetsIn);
    s += numberAttr('packets_out', st.packetsOut);
    s += '/>\n';
  }
  return s + '  </node>\n';
}

type Step = readonly [name: string, next: string, description: string];

/**
 * Every state a provisioned sliver shows and, in each, every action PerformOperationalAction
 * accepts (all four are accepted in every state) and what the node's reports move it to
 * (waits). This is what src/aggregate/engine/perform-action.ts and operational-state.ts do;
 * change them together.
 */
const OPSTATE_MACHINE: readonly {
  state: string;
  description: string;
  waits: readonly Step[];
}[] = [
  {
    state: 'geni_configuring',
    description:
      'Provisioned or started: the node is starting the sliver. On a node without a node manager this state is left at once for geni_ready.',
    waits: [
      ['geni_success', 'geni_ready', 'The node reports the sliver running.'],
      ['geni_failure', 'geni_failed', 'The node reports that the sliver failed.'],
    ],
  },
  {
    state: 'geni_ready',
    description: 'The sliver is running and ready to use.',
    waits: [['geni_failure', 'geni_failed', 'The node reports that the sliver died.']],
  },
  {
    state: 'geni_stopping',
    description:
      'Stop asked: the node is stopping the sliver. On a node without a node manager this state is left at once for geni_notready.',
    waits: [
      ['geni_success', 'geni_notready', 'The node reports the sliver stopped.'],
      ['geni_failure', 'geni_failed', 'The node reports that the sliver failed.'],
    ],
  },
  {
    state: 'geni_notready',
    description: 'The sliver is provisioned and stopped; its files are kept.',
    waits: [],
  },
  {
    state: 'geni_failed',
    description: "The node could not run the sliver; geni_error gives the node's reason.",
    waits: [],
  },
];

/** The actions, with the state each leads to (`null`: the state does not change). */
const OPSTATE_ACTIONS: readonly (readonly [name: string, next: string | null, what: string])[] = [
  ['geni_start', 'geni_configuring', 'Start the sliver'],
  ['geni_restart', 'geni_configuring', 'Restart the sliver'],
  ['geni_stop', 'geni_stopping', 'Stop the sliver, keeping its files'],
  ['geni_update_users', null, "Replace the slice's users and their keys"],
];

/**
 * The operational state machine of a sliver on this aggregate: Provision gives
 * geni_configuring, and the node's reports move it on (see OPSTATE_MACHINE).
 */
function opstate(aggregateManagerId: string, nodes: readonly AdNode[]): string {
  const types = new Set<string>();
  for (const n of nodes) for (const t of n.sliverTypes) types.add(t.name);
  if (types.size === 0) types.add('plab-vserver');
  let s = `  <opstate:rspec_opstate aggregate_manager_id="${a(aggregateManagerId)}" start="geni_configuring">\n`;
  for (const t of [...types].sort()) s += `    <opstate:sliver_type name="${a(t)}"/>\n`;
  for (const st of OPSTATE_MACHINE) {
    s += `    <opstate:state name="${st.state}">\n`;
    for (const [name, next, what] of OPSTATE_ACTIONS) {
      s += `      <opstate:action name="${name}" next="${next ?? st.state}">\n`;
      s += `        <opstate:description>${what}</opstate:description>\n`;
      s += '      </opstate:action>\n';
    }
    for (const [type, next, what] of st.waits) {
      s += `      <opstate:wait type="${type}" next="${next}">\n`;
      s += `        <opstate:description>${what}</opstate:description>\n`;
      s += '      </opstate:wait>\n';
    }
    s += `      <opstate:description>${st.description}</opstate:description>\n`;
    s += '    </opstate:state>\n';
  }
  return s + '  </opstate:rspec_opstate>\n';
}
