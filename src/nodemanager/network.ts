/**
 * A node's sliver networks (issue 11), made with the kernel's own tools: `ip` (network
 * namespaces, veth pairs, a bridge), `tc` (bandwidth) and `nft` (NAT, port forwarding,
 * isolation). What PlanetLab's VNET+ gave: a slice sees only its own traffic, receives only on
 * the ports reserved for it, is shaped to its `net_max_rate`, and is accounted.
 *
 * - The node: a bridge with the gateway address of the node's private range (node.json
 *   `network.subnet`), and one nftables table named after the node prefix, rewritten whole (one
 *   atomic `nft -f`) whenever what it says changes, so a restarted node manager never doubles a
 *   rule.
 * - Each sliver: its container's own network namespace (made by runc inside the sliver's user
 *   namespace: runc 1.1 cannot `exec` into a container whose network namespace belongs to the
 *   node's user namespace), given a veth pair to the bridge between `runc create` and `runc
 *   start` (the node's end named `sfv<tag><index>`, labelled `<prefix>-<login>` as its alias)
 *   and the address base + 2 + its uid range index. The sliver's root administers its own
 *   namespace, so everything that must hold is enforced on the node's side: bridge ports are
 *   isolated (`bridge link … isolated on`: slivers do not reach one another), a bridge-family
 *   table drops what a sliver sends from another address than its own (and IPv6), and both
 *   rate limits sit on the node's end of the veth.
 * - Inbound: a granted port (`ports`, TCP or UDP, ranges too) on any of the node's own
 *   addresses, loopback included, is forwarded to its sliver (DNAT); no other new connection
 *   reaches a sliver, from outside or from the node itself.
 * - Outbound: masqueraded behind the node's address when `network.nat` (default on).
 * - `net_max_rate` (kbit/s): token buckets on the node's side, for what the sliver receives on
 *   the node's end of its veth, for what it sends on an IFB device that end's ingress is
 *   redirected to; replaced in place when the value changes.
 * - Counters: the node's end of the veth counts the sliver's traffic (its rx is the sliver's
 *   out).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { PortGrant } from './reconcile.js';

/** What node.json may say of the network (all optional). */
export interface NetworkConfig {
  /** The private range of the slivers (`10.X.0.0/16` by default, X from the node prefix). */
  subnet?: string;
  /** Masquerade the slivers' outbound traffic behind the node's address (default true). */
  nat?: boolean;
}

/** One sliver as the network sees it. */
export interface SliverNet {
  name: string;
  /** Its uid range index: its address is base + 2 + index. */
  index: number;
  ports: readonly PortGrant[];
  /** `net_max_rate` in kbit/s, when set. */
  rateKbit?: number;
}

export interface TrafficCounters {
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
}

/** A network the node cannot set up; the message says what failed. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new NetworkError(`${JSON.stringify(ip)} is not an IPv4 address`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A private IPv4 range `A.B.C.D/L` (8 ≤ L ≤ 24): its base and size. */
export function parseSubnet(text: string): { base: number; prefixLength: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) throw new NetworkError(`network.subnet ${JSON.stringify(text)} is not A.B.C.D/L`);
  const prefixLength = Number(m[2]);
  if (prefixLength < 8 || prefixLength > 24) {
    throw new NetworkError(
      `network.subnet ${text}: the length must be 8 to 24 (/16 holds 65,533 slivers)`,
    );
  }
  const size = 2 ** (32 - prefixLength);
  const base = ipToInt(m[1]!);
  if (base % size !== 0)
    throw new NetworkError(`network.subnet ${text}: not the start of its range`);
  return { base, prefixLength, size };
}

/** A short tag of the node prefix, for interface names (15 characters at most). */
export function nodeTag(nodePrefix: string): string {
  return createHash('sha256').update(nodePrefix).digest('hex').slice(0, 6);
}

/** The default range of a node: one /16 of 10.128.0.0/9, chosen by its prefix. */
export function defaultSubnet(nodePrefix: string): string {
  const n = createHash('sha256').update(`subnet:${nodePrefix}`).digest().readUInt8(0) % 128;
  return `10.${128 + n}.0.0/16`;
}

/** Run a tool; its stdout, or a NetworkError with its own words. */
function run(file: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', timeout: 30_000 },
      (err, out, errOut) => {
        if (err) {
          const said = (errOut || out || err.message).trim().split('\n').slice(0, 3).join('; ');
          reject(new NetworkError(`${file} ${args.join(' ')}: ${said}`));
        } else resolve(out);
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** `proto:port` of every TCP and UDP port a process of the node listens on (any address). */
async function listeningPorts(): Promise<Set<string>> {
  const out = await run('ss', ['-Hlntu']).catch(() => '');
  const taken = new Set<string>();
  for (const line of out.split('\n')) {
    const [proto, , , , local] = line.trim().split(/\s+/);
    const port = /:(\d+)$/.exec(local ?? '')?.[1];
    if ((proto === 'tcp' || proto === 'udp') && port !== undefined) taken.add(`${proto}:${port}`);
  }
  return taken;
}

/** The ranges of `ports` with the `taken` ones cut out. */
function grantable(ports: readonly PortGrant[], taken: ReadonlySet<string>): PortGrant[] {
  const out: PortGrant[] = [];
  for (const p of ports) {
    let from = p.from;
    for (let port = p.from; port <= p.to + 1; port++) {
      if (port > p.to || taken.has(`${p.proto}:${port}`)) {
        if (port > from) out.push({ proto: p.proto, from, to: port - 1 });
        from = port + 1;
      }
    }
  }
  return out;
}

/** A burst of 20 ms at `kbit` kbit/s (at least 16 KiB). */
function burstBytes(kbit: number): number {
  return Math.max(16 * 1024, Math.ceil((kbit * 1000) / 8 / 50));
}

/** Token bucket of `kbit` kbit/s. */
function tbf(kbit: number): string[] {
  const burst = String(burstBytes(kbit));
  return ['root', 'tbf', 'rate', `${kbit}kbit`, 'burst', burst, 'latency', '50ms'];
}

export class NodeNetwork {
  readonly nodePrefix: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly nat: boolean;
  private readonly base: number;
  private readonly prefixLength: number;
  private readonly size: number;
  private readonly tag: string;
  /** The nftables rulesets last applied by this process (rewritten only when they change). */
  private appliedRules: string | undefined;
  private appliedBridgeRules: string | undefined;
  /** The rate applied to each sliver by this process (undefined: none). */
  private readonly appliedRates = new Map<string, number | undefined>();

  constructor(nodePrefix: string, config: NetworkConfig = {}) {
    // It names the nftables tables: a letter first, then letters, digits and '-'.
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(nodePrefix)) {
      throw new NetworkError(
        `the node prefix ${JSON.stringify(nodePrefix)} must start with a letter (lowercase letters, digits and '-')`,
      );
    }
    this.nodePrefix = nodePrefix;
    this.tag = nodeTag(nodePrefix);
    this.bridge = `sfb${this.tag}`;
    this.subnet = config.subnet ?? defaultSubnet(nodePrefix);
    const { base, prefixLength, size } = parseSubnet(this.subnet);
    this.base = base;
    this.prefixLength = prefixLength;
    this.size = size;
    this.nat = config.nat ?? true;
  }

  /** The gateway: the bridge's address. */
  get gateway(): string {
    return intToIp(this.base + 1);
  }

  /** Sliver `index`'s address. */
  addressOf(index: number): string {
    if (index + 3 >= this.size) {
      throw new NetworkError(`no address left in ${this.subnet} for sliver range ${index}`);
    }
    return intToIp(this.base + 2 + index);
  }

  /** The label of sliver `name`'s veth (its alias): how cleanup knows it. */
  label(name: string): string {
    return `${this.nodePrefix}-${name}`;
  }

  /** The node's end of sliver `index`'s veth. */
  hostVeth(index: number): string {
    return `sfv${this.tag}${index.toString(16)}`;
  }

  /**
   * The fixed MAC of sliver `index`'s `eth0` (locally administered, from the node tag and the
   * index): pinned on the bridge, so no sliver can take another's frames.
   */
  macOf(index: number): string {
    const t = this.tag;
    const i = index.toString(16).padStart(4, '0');
    return `02:${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}:${i.slice(0, 2)}:${i.slice(2, 4)}`;
  }

  /** The bridge with the gateway address, up; its loopback forwards allowed. Idempotent. */
  async ensureNode(): Promise<void> {
    const made = !existsSync(`/sys/class/net/${this.bridge}`);
    if (made) {
      await run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    }
    await run('ip', ['link', 'set', this.bridge, 'alias', this.nodePrefix, 'up']);
    await run('ip', [
      'addr',
      'replace',
      `${this.gateway}/${this.prefixLength}`,
      'dev',
      this.bridge,
    ]);
    // Forwards from 127.0.0.1 leave through the bridge: allowed on the bridge only.
    await run('sysctl', ['-qw', `net.ipv4.conf.${this.bridge}.route_localnet=1`]);
    if (this.nat && readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') {
      // Outbound NAT needs forwarding; it stays on (other nodes of the machine may need it).
      await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    }
    // A bridge made again (someone deleted it): the running slivers' veths join it again.
    if (made) {
      for (const index of this.vethIndexes()) await this.bridgePort(index);
    }
  }

  /**
   * Whether what this process set up is still there: the bridge, and its tables once applied
   * (an operator's `nft flush ruleset` or a deleted bridge would silently drop the isolation).
   * When not, the caches are dropped: the next pass sets everything up again.
   */
  async intact(): Promise<boolean> {
    let ok = existsSync(`/sys/class/net/${this.bridge}`);
    if (ok && (this.appliedRules !== undefined || this.appliedBridgeRules !== undefined)) {
      const tables = await run('nft', ['list', 'tables']).catch(() => '');
      ok =
        tables.includes(`table ip ${this.nodePrefix}\n`) &&
        tables.includes(`table bridge ${this.nodePrefix}\n`);
    }
    if (!ok) {
      this.appliedRules = undefined;
      this.appliedBridgeRules = undefined;
      this.appliedRates.clear();
    }
    return ok;
  }

  /** Sliver `index`'s veth as a port of the bridge: isolated, its MAC pinned. */
  private async bridgePort(index: number): Promise<void> {
    await run('ip', ['-batch', '-'], [...this.bridgePortIp(index), ''].join('\n'));
    await run('bridge', ['-batch', '-'], [...this.bridgePortBridge(index), ''].join('\n'));
  }

  /** The `ip` commands of a bridge port: enslaved and up; the node's neighbour entry fixed. */
  private bridgePortIp(index: number): string[] {
    const veth = this.hostVeth(index);
    return [
      `link set ${veth} master ${this.bridge} up`,
      `neigh replace ${this.addressOf(index)} lladdr ${this.macOf(index)} dev ${this.bridge} nud permanent`,
    ];
  }

  /**
   * The `bridge` commands of a bridge port: isolated, no learning, no flooding of unknown or
   * multicast frames to it (the bridge sends it only what is addressed to its pinned MAC, and
   * broadcasts such as ARP), its MAC a static entry.
   */
  private bridgePortBridge(index: number): string[] {
    const veth = this.hostVeth(index);
    return [
      `link set dev ${veth} isolated on learning off flood off mcast_flood off`,
      `fdb replace ${this.macOf(index)} dev ${veth} master static`,
    ];
  }

  /**
   * Give the container whose init is `pid` (created, not yet started) its veth pair and
   * address. A veth left by an earlier container of this sliver is replaced.
   */
  async attachSliver(name: string, index: number, pid: number): Promise<void> {
    const veth = this.hostVeth(index);
    const address = `${this.addressOf(index)}/${this.prefixLength}`;
    await this.deleteVeth(veth);
    const mac = this.macOf(index);
    // One `ip` and one `bridge` for the node's side (a process each, not one per step: at 500
    // slivers the steps add up).
    await run(
      'ip',
      ['-batch', '-'],
      [
        `link add ${veth} type veth peer name eth0 address ${mac} netns ${pid}`,
        `link set ${veth} alias ${this.label(name)}`,
        ...this.bridgePortIp(index),
        '',
      ].join('\n'),
    );
    await run('bridge', ['-batch', '-'], [...this.bridgePortBridge(index), ''].join('\n'));
    // Its allow-list entry before its container starts: until then its veth sends nothing.
    await this.allow(index);
    // Inside: as the node's root, in the container's network namespace only.
    await run(
      'nsenter',
      ['-t', String(pid), '-n', 'ip', '-batch', '-'],
      [
        `addr replace ${address} dev eth0`,
        'link set eth0 up',
        'link set lo up',
        `route replace default via ${this.gateway}`,
        '',
      ].join('\n'),
    );
    this.appliedRates.delete(name);
  }

  /** Delete a veth of this machine, if it is still there. */
  async deleteVeth(veth: string): Promise<void> {
    if (!existsSync(`/sys/class/net/${veth}`)) return;
    // Gone meanwhile (its namespace's end went with its container): nothing to do.
    await run('ip', ['link', 'del', veth]).catch((e: Error) => {
      if (!/Cannot find device/.test(e.message)) throw e;
    });
  }

  /** Remove sliver `index`'s veth (the container's end goes with its namespace). */
  async removeSliver(name: string, index: number | undefined): Promise<void> {
    if (index !== undefined) {
      await this.deleteVeth(this.hostVeth(index));
      await this.deleteVeth(this.ifb(index));
    }
    this.appliedRates.delete(name);
  }

  /**
   * The node's nftables table: NAT, the granted ports' forwards, the slivers' isolation. A port
   * of `taken` (the node's own services) is never forwarded.
   */
  rules(slivers: readonly SliverNet[], taken: ReadonlySet<string> = new Set()): string {
    const t = `ip ${this.nodePrefix}`;
    const br = `"${this.bridge}"`;
    const forwards = slivers.flatMap((s) =>
      grantable(s.ports, taken).map(
        (p) =>
          `fib daddr type local ${p.proto} dport ${p.from === p.to ? p.from : `${p.from}-${p.to}`} dnat to ${this.addressOf(s.index)}`,
      ),
    );
    const lines = [
      `table ${t} {`,
      '  chain prerouting {',
      '    type nat hook prerouting priority dstnat; policy accept;',
      ...forwards.map((f) => `    ${f}`),
      '  }',
      '  chain output {',
      '    type nat hook output priority -100; policy accept;',
      ...forwards.map((f) => `    ${f}`),
      '  }',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      `    oifname ${br} ip saddr 127.0.0.0/8 masquerade`,
      // A sliver reaching a forwarded port through the node's address: the answer must come
      // back through the node (isolated ports would drop it going straight to the sliver).
      `    oifname ${br} ip saddr ${this.subnet} ct status dnat masquerade`,
      ...(this.nat ? [`    ip saddr ${this.subnet} oifname != ${br} masquerade`] : []),
      '  }',
      // Toward a sliver: replies, and new connections to a granted port; nothing else.
      '  chain forward {',
      '    type filter hook forward priority filter; policy accept;',
      `    oifname ${br} ct state established,related accept`,
      `    oifname ${br} ct status dnat accept`,
      `    oifname ${br} drop`,
      '  }',
      '  chain output_filter {',
      '    type filter hook output priority filter; policy accept;',
      `    oifname ${br} ct state established,related accept`,
      `    oifname ${br} ct status dnat accept`,
      `    oifname ${br} ip daddr ${this.subnet} drop`,
      '  }',
      '}',
    ];
    return `${lines.join('\n')}\n`;
  }

  /**
   * The node's bridge table: an allow-list. A sliver's veth passes only frames from its pinned
   * MAC carrying its own address (IPv4 or ARP), never to 127.0.0.0/8 (the bridge lets loopback
   * forwards out, so a frame to 127.0.0.1 would reach the node's loopback-only services);
   * anything else from a veth of this node, a veth without an entry included, is dropped.
   */
  bridgeRules(indexes: readonly number[]): string {
    const elements = [...new Set(indexes)].sort((a, b) => a - b).map((i) => this.allowed(i));
    const set = (name: string) => [
      `  set ${name} {`,
      '    type ifname . ether_addr . ipv4_addr',
      ...(elements.length === 0 ? [] : [`    elements = { ${elements.join(', ')} }`]),
      '  }',
    ];
    const lines = [
      `table bridge ${this.nodePrefix} {`,
      ...set('allowed_ip'),
      ...set('allowed_arp'),
      '  chain prerouting {',
      '    type filter hook prerouting priority filter; policy accept;',
      `    iifname "sfv${this.tag}*" ip daddr 127.0.0.0/8 drop`,
      '    iifname . ether saddr . ip saddr @allowed_ip accept',
      '    iifname . ether saddr . arp saddr ip @allowed_arp accept',
      `    iifname "sfv${this.tag}*" drop`,
      '  }',
      '}',
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Sliver `index`'s entry in the allow-list sets: its veth, its pinned MAC, its address. */
  private allowed(index: number): string {
    return `"${this.hostVeth(index)}" . ${this.macOf(index)} . ${this.addressOf(index)}`;
  }

  /** The indexes of this node's sliver veths on the machine now (from /sys: no process). */
  private vethIndexes(): number[] {
    const prefix = `sfv${this.tag}`;
    let names: string[];
    try {
      names = readdirSync('/sys/class/net');
    } catch {
      names = [];
    }
    return names
      .filter((n) => n.startsWith(prefix))
      .map((n) => parseInt(n.slice(prefix.length), 16))
      .filter((i) => Number.isInteger(i));
  }

  /** Rewrite the bridge table (one transaction) for every veth of this node there is now. */
  private async applyBridgeTable(): Promise<void> {
    const rules = this.bridgeRules(this.vethIndexes());
    if (rules === this.appliedBridgeRules) return;
    const t = `bridge ${this.nodePrefix}`;
    await run('nft', ['-f', '-'], `table ${t}\ndelete table ${t}\n${rules}`);
    this.appliedBridgeRules = rules;
  }

  /**
   * Allow sliver `index` in the bridge table now (one element added, not the table rewritten):
   * the table is made whole first if this process has not written it yet.
   */
  private async allow(index: number): Promise<void> {
    if (this.appliedBridgeRules === undefined) return this.applyBridgeTable();
    const t = `bridge ${this.nodePrefix}`;
    const e = this.allowed(index);
    await run(
      'nft',
      ['-f', '-'],
      `add element ${t} allowed_ip { ${e} }\nadd element ${t} allowed_arp { ${e} }\n`,
    );
    // What is written now differs from the cache: the next apply writes the table whole.
    this.appliedBridgeRules = `${this.appliedBridgeRules}+${index}`;
  }

  /**
   * Make the node's tables and the slivers' rates what `slivers` say: each table rewritten
   * whole in one transaction when it changes, each rate replaced when it changes. Returns the
   * problems by sliver name (a failed rate fails that sliver's network alone), and notes (ports
   * not forwarded: the sliver runs, its error says why).
   */
  async apply(
    slivers: readonly SliverNet[],
  ): Promise<{ problems: Map<string, string>; notes: Map<string, string> }> {
    const problems = new Map<string, string>();
    const notes = new Map<string, string>();
    // A granted port a process of the node listens on stays the node's (its ssh logins, a
    // resolver, an aggregate on the same machine): never forwarded, the sliver told why.
    const taken = slivers.some((x) => x.ports.length > 0)
      ? await listeningPorts()
      : new Set<string>();
    for (const s of slivers) {
      const lost = s.ports.filter((p) => grantable([p], taken).length === 0);
      if (lost.length > 0) {
        const which = lost.map(
          (p) => `${p.proto}:${p.from === p.to ? p.from : `${p.from}-${p.to}`}`,
        );
        notes.set(
          s.name,
          `ports ${which.join(', ')} not forwarded: the node itself listens there (ask for other ports)`,
        );
      }
    }
    const rules = this.rules(slivers, taken);
    if (rules !== this.appliedRules) {
      // Made if missing so that the delete never fails; both in one transaction.
      const t = `ip ${this.nodePrefix}`;
      await run('nft', ['-f', '-'], `table ${t}\ndelete table ${t}\n${rules}`);
      this.appliedRules = rules;
    }
    await this.applyBridgeTable();
    for (const s of slivers) {
      if (this.appliedRates.has(s.name) && this.appliedRates.get(s.name) === s.rateKbit) continue;
      // A stopped sliver has no veth: its rate is set when it is attached again.
      if (!existsSync(`/sys/class/net/${this.hostVeth(s.index)}`)) continue;
      try {
        await this.setRate(s);
        this.appliedRates.set(s.name, s.rateKbit);
      } catch (e) {
        problems.set(s.name, (e as Error).message);
      }
    }
    return { problems, notes };
  }

  /** `nft` lines that make (if missing) then delete this node's tables. */
  private dropTables(): string {
    return ['ip', 'bridge']
      .map((f) => `table ${f} ${this.nodePrefix}\ndelete table ${f} ${this.nodePrefix}\n`)
      .join('');
  }

  /** The IFB device that shapes what sliver `index` sends (when it has a rate). */
  ifb(index: number): string {
    return `sfi${this.tag}${index.toString(16)}`;
  }

  private async setRate(s: SliverNet): Promise<void> {
    const veth = this.hostVeth(s.index);
    const ifb = this.ifb(s.index);
    // Back to none first (deleting what is not there is an error: ignored).
    await run('tc', ['qdisc', 'del', 'dev', veth, 'root']).catch(() => undefined);
    await run('tc', ['qdisc', 'del', 'dev', veth, 'ingress']).catch(() => undefined);
    if (s.rateKbit === undefined) {
      await this.deleteVeth(ifb);
      return;
    }
    // What the sliver receives leaves the node's end: a token bucket there.
    await run('tc', ['qdisc', 'add', 'dev', veth, ...tbf(s.rateKbit)]);
    // What it sends arrives at the node's end: redirected through an IFB device, shaped by a
    // token bucket on its way out of it (the sliver's own end of the veth is its root's).
    if (!existsSync(`/sys/class/net/${ifb}`)) await run('ip', ['link', 'add', ifb, 'type', 'ifb']);
    await run('ip', ['link', 'set', ifb, 'alias', this.label(s.name), 'up']);
    await run('tc', ['qdisc', 'replace', 'dev', ifb, ...tbf(s.rateKbit)]);
    await run('tc', ['qdisc', 'add', 'dev', veth, 'handle', 'ffff:', 'ingress']);
    await run('tc', [
      ...['filter', 'add', 'dev', veth, 'parent', 'ffff:', 'protocol', 'all'],
      ...['u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb],
    ]);
  }

  /**
   * Sliver `index`'s traffic so far (undefined when it has no veth): what the node's end of its
   * veth sent it, and what it sent as the node let it through (after its rate's shaper, when
   * it has one: what the shaper dropped and the sliver sent again is not counted twice).
   */
  counters(index: number): TrafficCounters | undefined {
    const read = (dev: string, f: string) =>
      Number(readFileSync(`/sys/class/net/${dev}/statistics/${f}`, 'utf8'));
    const veth = this.hostVeth(index);
    const ifb = this.ifb(index);
    try {
      const shaped = existsSync(`/sys/class/net/${ifb}`);
      return {
        bytesIn: read(veth, 'tx_bytes'),
        packetsIn: read(veth, 'tx_packets'),
        bytesOut: shaped ? read(ifb, 'tx_bytes') : read(veth, 'rx_bytes'),
        packetsOut: shaped ? read(ifb, 'tx_packets') : read(veth, 'rx_packets'),
      };
    } catch {
      return undefined;
    }
  }

  /** This node's sliver devices (veths, IFBs) and the sliver each belongs to (its label). */
  async sliverVeths(): Promise<{ veth: string; name: string }[]> {
    const out = await run('ip', ['-j', 'link', 'show']).catch(() => '[]');
    const links = JSON.parse(out.trim() || '[]') as { ifname: string; ifalias?: string }[];
    const p = `${this.nodePrefix}-`;
    return links
      .filter(
        (l) =>
          (l.ifname.startsWith(`sfv${this.tag}`) || l.ifname.startsWith(`sfi${this.tag}`)) &&
          (l.ifalias ?? '').startsWith(p),
      )
      .map((l) => ({ veth: l.ifname, name: l.ifalias!.slice(p.length) }));
  }

  /** Remove everything of this node's network: veths, bridge, tables. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    for (const { veth } of await this.sliverVeths()) {
      await this.deleteVeth(veth).catch((e: Error) => errors.push(e.message));
    }
    await this.deleteVeth(this.bridge).catch((e: Error) => errors.push(e.message));
    await run('nft', ['-f', '-'], this.dropTables()).catch((e: Error) => errors.push(e.message));
    this.appliedRules = undefined;
    this.appliedBridgeRules = undefined;
    this.appliedRates.clear();
    if (errors.length > 0) {
      throw new NetworkError(`network cleanup of ${this.nodePrefix}: ${errors.join('; ')}`);
    }
  }
}

/** `net_max_rate` from resolved attributes: kbit/s, a positive integer (else a problem). */
export function rateOf(attributes: readonly { name: string; value: string }[]): number | undefined {
  const a = [...attributes].reverse().find((x) => x.name === 'net_max_rate');
  if (a === undefined || a.value.trim() === '' || a.value.trim() === '-1') return undefined;
  const n = Number(a.value.trim());
  if (!Number.isInteger(n) || n < 8 || n > 100_000_000) {
    throw new NetworkError(
      `net_max_rate ${JSON.stringify(a.value)}: kbit/s, an integer from 8 to 100000000`,
    );
  }
  return n;
}
