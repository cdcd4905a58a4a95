import { describe, expect, it } from 'vitest';
import { writeAdvertisement } from '../rspec/advertisement.js';
import type { AdNode } from '../rspec/model.js';
import { validateRspec } from '../rspec/validate.js';
import { mergeRspecs } from './merge.js';
import type { RelayOutcome } from './relay.js';

const NOW = new Date('2026-11-25T12:00:00Z');

function ad(hrn: string): string {
  const node: AdNode = {
    componentId: `urn:publicid:IDN+${hrn}:inria+node+node1.inria.fr`,
    componentManagerId: `urn:publicid:IDN+${hrn}+authority+cm`,
    componentName: 'node1.inria.fr',
    exclusive: false,
    hardwareTypes: ['plab-pc'],
    interfaces: [],
    available: true,
    sliverTypes: [{ name: 'plab-vserver', initscripts: [] }],
    status: { slivers: 0 },
  };
  return writeAdvertisement({
    nodes: [node],
    leases: [],
    granularity: 3600,
    generated: NOW,
    expires: new Date(NOW.getTime() + 3_600_000),
  });
}

const outcome = (hrn: string, code = 0, message = ''): RelayOutcome => ({
  aggregate: { hrn, url: `https://${hrn}.example.org:12346/` },
  elapsedMs: 12,
  code,
  message,
});

describe('mergeRspecs', () => {
  it("holds every aggregate's nodes and one status per aggregate, in a valid advertisement", async () => {
    const merged = mergeRspecs({
      type: 'advertisement',
      parts: [
        { outcome: outcome('ple'), rspec: ad('ple'), urn: 'urn:publicid:IDN+ple+authority+am' },
        { outcome: outcome('plc'), rspec: ad('plc'), urn: 'urn:publicid:IDN+plc+authority+am' },
        {
          outcome: outcome('elc', 11, 'elc: unreachable'),
          rspec: undefined,
          urn: 'urn:publicid:IDN+elc+authority+am',
        },
      ],
      now: NOW,
      expires: new Date(NOW.getTime() + 3_600_000),
    });
    expect(merged.match(/<node /g)).toHaveLength(2);
    expect(merged).toContain('component_id="urn:publicid:IDN+plc:inria+node+node1.inria.fr"');
    expect(merged).toContain(
      '<sfa-ts:aggregate_status urn="urn:publicid:IDN+elc+authority+am" url="https://elc.example.org:12346/" elapsed_ms="12" status="error" message="elc: unreachable"/>',
    );
    // The nodes do not repeat the namespace declarations of the merged root.
    expect(merged).not.toMatch(/<node [^>]*xmlns=/);
    await expect(validateRspec(merged, 'ad')).resolves.toBeUndefined();
  });
});
