/**
 * GET /api/home: who this authority is, how big it is, and how to point sfi and omni at it.
 */
import { formatRfc3339 } from '../../credentials/time.js';
import { Xrn } from '../../credentials/xrn.js';
import type { WebContext } from '../context.js';

export function homeView(ctx: WebContext, now: Date, operator: boolean) {
  const { config, keys, store, peerStore } = ctx.registry;
  const a = config.authority;
  const root = keys.get(a).gid;
  const nodes = ctx.engine.listNodes(now);
  const u = ctx.urls;
  // sfi speaks TLS whatever the scheme, and https:// trips its URL handling (see cli/banner.ts).
  const sfi = [
    '[sfi]',
    `auth = ${a}`,
    `user = ${a}.<your-name>`,
    `registry = ${u.registry}`,
    `sm = ${u.slicemgr.replace('https://', 'http://')}`,
    '',
  ].join('\n');
  const omni = [
    '[omni]',
    'default_cf = sfa',
    'users = <your-name>',
    '',
    '[sfa]',
    'type = sfa',
    `authority = ${a}`,
    `user = ${a}.<your-name>`,
    `cert = ~/.sfi/${a}.<your-name>.user.gid`,
    `key = ~/.sfi/${a}.<your-name>.pkey`,
    `registry = ${u.registry}`,
    `slicemgr = ${u.slicemgr}`,
    '',
  ].join('\n');
  return {
    authority: {
      hrn: a,
      urn: Xrn.fromHrn(a, 'authority').urn,
      root_fingerprint: root.fingerprint256,
      expires: formatRfc3339(root.notAfter),
      interfaces: { ...u },
    },
    totals: {
      sites: ctx.engine.listSites().length,
      nodes: nodes.length,
      nodes_up: nodes.filter((n) => n.bootState === 'boot').length,
      slices: store.all().filter((r) => r.type === 'slice').length,
      slivers: nodes.reduce((sum, n) => sum + n.slivers, 0),
      peers: peerStore.list().length,
    },
    sfi_config: sfi,
    omni_config: omni,
    operator,
  };
}
