/**
 * What the node's network says, without touching the machine: the nftables ruleset for given
 * slivers (NAT on and off, forwards, isolation, source checks), addresses from the range, the
 * range's checks, and `net_max_rate`'s.
 */
import { describe, expect, it } from 'vitest';
import {
  NetworkError,
  NodeNetwork,
  defaultSubnet,
  parseSubnet,
  rateOf,
} from '../../src/nodemanager/network.js';

const slivers = [
  {
    name: 'inria_a',
    index: 0,
    ports: [
      { proto: 'tcp' as const, from: 8080, to: 8080 },
      { proto: 'udp' as const, from: 5000, to: 5010 },
    ],
  },
  { name: 'inria_b', index: 5, ports: [] },
];

describe('the node’s nftables ruleset', () => {
  it('forwards each granted port from the node’s own addresses to its sliver, in prerouting and output', () => {
    const net = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16' });
    const rules = net.rules(slivers);
    expect(rules.match(/fib daddr type local tcp dport 8080 dnat to 10\.77\.0\.2/g)).toHaveLength(
      2,
    );
    expect(
      rules.match(/fib daddr type local udp dport 5000-5010 dnat to 10\.77\.0\.2/g),
    ).toHaveLength(2);
    expect(rules).not.toContain('dnat to 10.77.0.7');
    expect(rules.startsWith('table ip sfa-node1 {\n')).toBe(true);
    expect(net.bridgeRules([0]).startsWith('table bridge sfa-node1 {\n')).toBe(true);
  });

  it('masquerades outbound traffic with NAT on, not with NAT off; loopback forwards always', () => {
    const on = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16' }).rules(slivers);
    const off = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16', nat: false }).rules(slivers);
    const bridge = new NodeNetwork('sfa-node1').bridge;
    expect(on).toContain(`ip saddr 10.77.0.0/16 oifname != "${bridge}" masquerade`);
    expect(off).not.toContain('ip saddr 10.77.0.0/16 oifname');
    for (const r of [on, off])
      expect(r).toContain(`oifname "${bridge}" ip saddr 127.0.0.0/8 masquerade`);
  });

  it('lets nothing new reach a sliver but a forward; a sliver reaching a forward comes back through the node', () => {
    const net = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16' });
    const rules = net.rules(slivers);
    const br = `"${net.bridge}"`;
    expect(rules).toContain(`oifname ${br} ct status dnat accept\n    oifname ${br} drop`);
    expect(rules).toContain(`oifname ${br} ip daddr 10.77.0.0/16 drop`);
    expect(rules).toContain(`oifname ${br} ip saddr 10.77.0.0/16 ct status dnat masquerade`);
  });
});

describe('Security: what a sliver sends (the bridge table, an allow-list)', () => {
  const net = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16' });
  const rules = net.bridgeRules([0, 5]);
  const tag = net.hostVeth(0).slice(0, -1);

  it('passes only its pinned MAC with its own address, IPv4 or ARP', () => {
    expect(net.macOf(5)).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(net.macOf(5)).not.toBe(net.macOf(0));
    const entry = `"${net.hostVeth(5)}" . ${net.macOf(5)} . 10.77.0.7`;
    expect(rules.match(new RegExp(entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g'))).toHaveLength(
      2,
    );
    expect(rules).toContain('iifname . ether saddr . ip saddr @allowed_ip accept');
    expect(rules).toContain('iifname . ether saddr . arp saddr ip @allowed_arp accept');
  });

  it('drops anything else from any veth of the node, one without an entry included (spoofing, IPv6)', () => {
    const lines = rules.trim().split('\n');
    expect(lines.at(-3)!.trim()).toBe(`iifname "${tag}*" drop`);
  });

  it('drops frames to 127.0.0.0/8 before anything else (the bridge lets loopback forwards out)', () => {
    const chain = rules.slice(rules.indexOf('chain prerouting')).split('\n');
    expect(chain[2]!.trim()).toBe(`iifname "${tag}*" ip daddr 127.0.0.0/8 drop`);
  });
});

describe('Security: a granted port the node itself listens on', () => {
  it('is not forwarded (the node’s ssh logins, a resolver, an aggregate keep their ports)', () => {
    const net = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/16' });
    const grab = [
      {
        name: 'inria_grab',
        index: 1,
        ports: [
          { proto: 'tcp' as const, from: 20, to: 25 },
          { proto: 'udp' as const, from: 53, to: 53 },
        ],
      },
    ];
    const rules = net.rules(grab, new Set(['tcp:22', 'udp:53']));
    expect(rules).toContain('tcp dport 20-21 dnat to 10.77.0.3');
    expect(rules).toContain('tcp dport 23-25 dnat to 10.77.0.3');
    expect(rules).not.toMatch(/dport 22\b|dport 53\b/);
  });

  it('refuses a node prefix that cannot name an nftables table', () => {
    expect(() => new NodeNetwork('1node')).toThrow(/must start with a letter/);
  });
});

describe('addresses and names', () => {
  it('gives the gateway .1 and sliver i base + 2 + i; refuses past the range', () => {
    const net = new NodeNetwork('sfa-node1', { subnet: '10.77.0.0/24' });
    expect(net.gateway).toBe('10.77.0.1');
    expect(net.addressOf(0)).toBe('10.77.0.2');
    expect(net.addressOf(252)).toBe('10.77.0.254');
    expect(() => net.addressOf(253)).toThrow(NetworkError);
  });

  it('names interfaces within 15 characters, after the node prefix', () => {
    const net = new NodeNetwork('sfa-a-very-long-node-prefix-of-forty-ch');
    for (const n of [net.bridge, net.hostVeth(65535), net.ifb(65535)]) {
      expect(n.length).toBeLessThanOrEqual(15);
    }
    expect(new NodeNetwork('sfa-other').bridge).not.toBe(net.bridge);
  });

  it('picks a default /16 of 10.128.0.0/9 from the prefix, the same each time', () => {
    expect(defaultSubnet('sfa-node1')).toBe(defaultSubnet('sfa-node1'));
    expect(defaultSubnet('sfa-node1')).toMatch(/^10\.(1[2-9]\d|2[0-5]\d)\.0\.0\/16$/);
  });

  it('checks the range: the form, the length, its start', () => {
    expect(parseSubnet('10.77.0.0/16')).toEqual({
      base: 0x0a4d0000,
      prefixLength: 16,
      size: 65536,
    });
    expect(() => parseSubnet('10.77.0.0')).toThrow(/is not A\.B\.C\.D\/L/);
    expect(() => parseSubnet('10.0.0.0/30')).toThrow(/the length must be 8 to 24/);
    expect(() => parseSubnet('10.77.0.1/16')).toThrow(/not the start of its range/);
    expect(() => parseSubnet('10.300.0.0/16')).toThrow(/is not an IPv4 address/);
  });
});

describe('net_max_rate', () => {
  it('is kbit/s, the last value wins, -1 or empty means none; nonsense is refused', () => {
    const a = (...values: string[]) => values.map((value) => ({ name: 'net_max_rate', value }));
    expect(rateOf([])).toBeUndefined();
    expect(rateOf(a('10000'))).toBe(10_000);
    expect(rateOf(a('10000', '2000'))).toBe(2000);
    expect(rateOf(a('-1'))).toBeUndefined();
    expect(rateOf(a(''))).toBeUndefined();
    expect(() => rateOf(a('fast'))).toThrow(/net_max_rate "fast": kbit\/s, an integer from 8/);
    expect(() => rateOf(a('4'))).toThrow(NetworkError);
  });
});
