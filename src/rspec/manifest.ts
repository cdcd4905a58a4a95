/**
 * The GENI v3 manifest RSpec (Allocate, Provision, Describe, Status): what a slice holds here.
 *
 * Each node is one sliver: the request's client_id with the sliver and component it got, how to
 * log in (`<services><login>`, plus the GENI login-user extension listing each user's keys, as
 * AM API v3 asks), and in our namespace the sliver's resolved attributes and granted ports.
 * Nodes are written in the order given; the caller keeps that stable (request order).
 */
import { formatRfc3339 } from '../credentials/time.js';
import { escapeAttr as a, escapeText } from './escape.js';
import type { Lease, ManifestNode } from './model.js';
import {
  PLANETLAB_NS,
  PLANETLAB_SCHEMA,
  RSPEC3_MANIFEST_SCHEMA,
  RSPEC3_NS,
  SFATS_NS,
  SFATS_SCHEMA,
  SSH_USER_NS,
  SSH_USER_SCHEMA,
  XSI_NS,
} from './namespaces.js';
import { compareLeases, leaseXml } from './write-common.js';

export interface ManifestInput {
  nodes: readonly ManifestNode[];
  /** The slice's leases at this aggregate. */
  leases: readonly Lease[];
  generated: Date;
  /** When the slice's slivers expire (the root's `expires`). */
  expires: Date;
}

const ROOT_OPEN =
  `<rspec xmlns="${RSPEC3_NS}" xmlns:xsi="${XSI_NS}" xmlns:planetlab="${PLANETLAB_NS}"` +
  ` xmlns:sfa-ts="${SFATS_NS}" xmlns:ssh-user="${SSH_USER_NS}" type="manifest"` +
  ` xsi:schemaLocation="${RSPEC3_NS} ${RSPEC3_MANIFEST_SCHEMA} ${PLANETLAB_NS} ${PLANETLAB_SCHEMA}` +
  ` ${SFATS_NS} ${SFATS_SCHEMA} ${SSH_USER_NS} ${SSH_USER_SCHEMA}"`;

/** Write a GENI v3 manifest RSpec. With no nodes it is an empty (and valid) manifest. */
export function writeManifest(input: ManifestInput): string {
  let s =
    `<?xml version="1.0" encoding="UTF-8"?>\n${ROOT_OPEN}` +
    ` generated="${formatRfc3339(input.generated)}" generated_by="sfa-ts"` +
    ` expires="${formatRfc3339(input.expires)}">\n`;
  for (const node of input.nodes) s += nodeXml(node);
  for (const lease of [...input.leases].sort(compareLeases)) s += leaseXml(lease);
  return s + '</rspec>\n';
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${what} must be a port number (1-65535), not ${port}`);
  }
  return port;
}

function nodeXml(n: ManifestNode): string {
  let s =
    `  <node client_id="${a(n.clientId)}" component_id="${a(n.componentId)}"` +
    ` component_manager_id="${a(n.componentManagerId)}" component_name="${a(n.componentName)}"` +
    ` exclusive="${n.exclusive ? 'true' : 'false'}" sliver_id="${a(n.sliverId)}"`;
  if (n.allocationStatus !== undefined) s += ` sfa-ts:allocation_status="${a(n.allocationStatus)}"`;
  if (n.operationalStatus !== undefined) {
    s += ` sfa-ts:operational_status="${a(n.operationalStatus)}"`;
  }
  s += '>\n';
  if (n.initscripts.length === 0) {
    s += `    <sliver_type name="${a(n.sliverType)}"/>\n`;
  } else {
    s += `    <sliver_type name="${a(n.sliverType)}">\n`;
    for (const init of n.initscripts) s += `      <planetlab:initscript name="${a(init)}"/>\n`;
    s += '    </sliver_type>\n';
  }
  const login = n.login;
  const port = checkPort(login.port, `login port of ${n.clientId}`);
  s +=
    '    <services>\n' +
    `      <login authentication="${a(login.authentication)}" hostname="${a(login.hostname)}"` +
    ` port="${port}" username="${a(login.username)}"/>\n`;
  // Every user logs in as the sliver's account (on PlanetLab, the slice name) with own keys.
  for (const user of n.users) {
    s += `      <ssh-user:services_user login="${a(login.username)}" user_urn="${a(user.urn)}"`;
    if (user.keys.length === 0) {
      s += '/>\n';
      continue;
    }
    s += '>\n';
    for (const key of user.keys) {
      s += `        <ssh-user:public_key>${escapeText(key.trim())}</ssh-user:public_key>\n`;
    }
    s += '      </ssh-user:services_user>\n';
  }
  s += '    </services>\n';
  for (const attr of n.attributes) {
    s += `    <sfa-ts:sliver_attribute name="${a(attr.name)}" value="${a(attr.value)}"/>\n`;
  }
  for (const p of n.ports) {
    const from = checkPort(p.from, `port range start of ${n.clientId}`);
    const to = checkPort(p.to, `port range end of ${n.clientId}`);
    if (from > to) throw new RangeError(`port range ${from}-${to} of ${n.clientId} is reversed`);
    if (p.proto !== 'tcp' && p.proto !== 'udp') {
      throw new RangeError(`port protocol of ${n.clientId} must be tcp or udp`);
    }
    s += `    <sfa-ts:ports proto="${p.proto}" from="${from}" to="${to}"/>\n`;
  }
  return s + '  </node>\n';
}
