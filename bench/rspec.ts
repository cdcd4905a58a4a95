/**
 * RSpec throughput: writing a 10,000-node advertisement (ListResources of a large testbed) and
 * parsing a 1,000-node request (Allocate of a large slice).
 *
 * Target: the ad in well under 150 ms on a 2-core machine. Python SFA for scale builds its ad
 * through lxml element by element and takes seconds for PlanetLab Europe's few hundred nodes.
 */
import { writeAdvertisement } from '../src/rspec/advertisement.js';
import type { AdNode } from '../src/rspec/model.js';
import { PLANETLAB_NS, RSPEC3_NS } from '../src/rspec/namespaces.js';
import { parseRequest } from '../src/rspec/request.js';
import { setCallLimits } from '../src/limits.js';

const CM = 'urn:publicid:IDN+ple+authority+cm';

function adNodes(count: number): AdNode[] {
  return Array.from({ length: count }, (_, i) => {
    const site = `site${i % 500}`;
    const host = `node${i}.${site}.example.org`;
    return {
      componentId: `urn:publicid:IDN+ple:${site}+node+${host}`,
      componentManagerId: CM,
      componentName: host,
      siteName: `Site ${i % 500}`,
      exclusive: i % 10 === 0,
      hardwareTypes: ['plab-pc', 'pc'],
      location: {
        country: 'FR',
        latitude: 43.6 + i / 1e4,
        longitude: 7.07,
        city: 'Sophia Antipolis',
      },
      interfaces: [
        {
          componentId: `urn:publicid:IDN+ple+interface+node${i}:eth0`,
          ipv4: `10.${(i >> 8) & 255}.${i & 255}.1`,
        },
      ],
      available: i % 7 !== 0,
      sliverTypes: [{ name: 'plab-vserver', initscripts: ['gpo', 'hello'] }],
      status: { loadAverage: (i % 40) / 10, slivers: i % 20, reliability: 98.5 },
    };
  });
}

function requestXml(count: number): string {
  let s = `<?xml version="1.0"?>\n<rspec type="request" xmlns="${RSPEC3_NS}" xmlns:planetlab="${PLANETLAB_NS}">\n`;
  for (let i = 0; i < count; i++) {
    const site = `site${i % 500}`;
    s +=
      `  <node client_id="node${i}" component_id="urn:publicid:IDN+ple:${site}+node+node${i}.${site}.example.org"` +
      ` component_manager_id="${CM}" exclusive="false">\n` +
      '    <sliver_type name="plab-vserver">\n' +
      '      <planetlab:initscript name="gpo"/>\n' +
      '      <planetlab:attribute name="vsys" value="pl-ps"/>\n' +
      '    </sliver_type>\n  </node>\n';
  }
  return s + '</rspec>\n';
}

/** Median wall time of `runs` calls of `fn`, in milliseconds, after two warm-up calls. */
function medianMs(fn: () => void, runs: number): number {
  fn();
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(runs / 2)]!;
}

export function benchRspec(): void {
  const nodes = adNodes(10_000);
  const input = {
    nodes,
    leases: [],
    granularity: 1800,
    generated: new Date('2026-11-25T12:00:00Z'),
    expires: new Date('2026-11-25T13:00:00Z'),
    aggregateManagerId: CM,
  };
  let ad = '';
  // Buffer.byteLength reads the whole string, so a lazily built one is paid for inside the timing.
  const adMs = medianMs(() => void Buffer.byteLength((ad = writeAdvertisement(input))), 15);
  const request = requestXml(1000);
  // Above the default limit (100 nodes), as an operator who raised limits.requestNodes has it.
  setCallLimits({ requestNodes: 1000 });
  let parseMs: number;
  try {
    parseMs = medianMs(() => void parseRequest(request), 15);
  } finally {
    setCallLimits();
  }
  console.log('rspec');
  console.log(
    `  ${'write a 10,000-node advertisement (median of 15)'.padEnd(58)} ${adMs.toFixed(1).padStart(7)} ms` +
      `  ${(Buffer.byteLength(ad) / 1e6).toFixed(2)} MB`,
  );
  console.log(
    `  ${'parse a 1,000-node request, limit raised (median of 15)'.padEnd(58)} ${parseMs.toFixed(1).padStart(7)} ms` +
      `  ${(request.length / 1e3).toFixed(0)} kB`,
  );
}
