import { describe, expect, it } from 'vitest';
import { RelayStats } from './relay-stats.js';

const NOW = new Date('2026-11-25T12:00:00Z');

describe('RelayStats', () => {
  it('summarizes the calls of a peer: count, success rate, median, p95, last error', () => {
    const stats = new RelayStats(() => NOW);
    for (let ms = 1; ms <= 20; ms++) {
      stats.record('https://am.plc:12346/', 'plc', { ms, ok: ms % 10 !== 0, error: `e${ms}` });
    }
    const urls = stats.urlsOf('PLC');
    expect(urls).toEqual(['https://am.plc:12346/']);
    expect(stats.summary(urls)).toEqual({
      count: 20,
      success_rate: 0.9,
      median_ms: 10,
      p95_ms: 19,
      last_error: 'e20',
    });
    expect(stats.summary([]).count).toBe(0);
  });

  it('keeps a bounded ring per aggregate URL, oldest dropped first', () => {
    const stats = new RelayStats(() => NOW, 3);
    for (let ms = 1; ms <= 5; ms++) stats.record('u', 'plc', { ms, ok: true, error: '' });
    expect(stats.records(['u']).map((r) => r.ms)).toEqual([3, 4, 5]);
  });
});
