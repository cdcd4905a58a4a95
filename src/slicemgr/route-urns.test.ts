import { describe, expect, it } from 'vitest';
import { BadArgs, SearchFailed } from '../faults.js';
import { aggregateFor, routeUrns } from './route-urns.js';

const AGGREGATES = [
  { hrn: 'ple', url: 'https://ple.example.org:12346/' },
  { hrn: 'plc', url: 'https://plc.example.org:12346/' },
  { hrn: 'plc.princeton', url: 'https://princeton.example.org:12346/' },
];
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';

describe('routeUrns', () => {
  it('sends each sliver to the aggregate of its authority, case-insensitively', () => {
    const r = routeUrns(
      [SLICE, 'urn:publicid:IDN+ple+sliver+1', 'urn:publicid:IDN+PLC+sliver+2'],
      AGGREGATES,
    );
    expect(r.slice).toBe(SLICE);
    expect([...r.slivers]).toEqual([
      ['urn:publicid:IDN+ple+sliver+1', 'ple'],
      ['urn:publicid:IDN+PLC+sliver+2', 'plc'],
    ]);
  });

  it('picks the most specific aggregate, by whole HRN components', () => {
    expect(aggregateFor('plc.princeton', AGGREGATES)).toBe('plc.princeton');
    expect(aggregateFor('plc.prince', AGGREGATES)).toBe('plc');
    expect(aggregateFor('ple\\.x', AGGREGATES)).toBeUndefined();
    const r = routeUrns(['urn:publicid:IDN+plc:princeton+sliver+3'], AGGREGATES);
    expect(r.slivers.get('urn:publicid:IDN+plc:princeton+sliver+3')).toBe('plc.princeton');
  });

  it('names only slivers: no slice', () => {
    expect(routeUrns(['urn:publicid:IDN+ple+sliver+1'], AGGREGATES).slice).toBeUndefined();
  });

  it('refuses a sliver of an unknown authority (SEARCHFAILED naming it)', () => {
    expect(() => routeUrns(['urn:publicid:IDN+nowhere+sliver+7'], AGGREGATES)).toThrow(
      SearchFailed,
    );
    expect(() => routeUrns(['urn:publicid:IDN+nowhere+sliver+7'], AGGREGATES)).toThrow(
      /sliver urn:publicid:IDN\+nowhere\+sliver\+7 cannot be reached/,
    );
  });

  it('refuses two slices and URNs of other types (BADARGS)', () => {
    expect(() => routeUrns([SLICE, 'urn:publicid:IDN+ple:inria+slice+other'], AGGREGATES)).toThrow(
      BadArgs,
    );
    expect(routeUrns([SLICE, 'urn:publicid:IDN+PLE:INRIA+slice+myslice'], AGGREGATES).slice).toBe(
      SLICE,
    );
    expect(() => routeUrns(['urn:publicid:IDN+ple:inria+node+node1.inria.fr'], AGGREGATES)).toThrow(
      'urn:publicid:IDN+ple:inria+node+node1.inria.fr is a node URN',
    );
  });
});
