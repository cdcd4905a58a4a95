/**
 * What the slice manager saw of each aggregate it relays to: the last calls' durations,
 * outcomes and errors, kept in memory (a restart forgets them) in a bounded ring per aggregate
 * URL, so that a busy federation costs a fixed amount of memory. The web view's peers page
 * reads them.
 */

/** How many relayed calls are remembered per aggregate URL. */
export const RELAY_RING_SIZE = 200;

/** One relayed call, as the ring keeps it. */
export interface RelayRecord {
  readonly at: Date;
  readonly ms: number;
  readonly ok: boolean;
  /** The failure as the researcher was told it ('' on success). */
  readonly error: string;
}

/** A summary of an aggregate's (or a peer's) remembered calls. */
export interface RelaySummary {
  count: number;
  /** 0..1; null before any call. */
  success_rate: number | null;
  median_ms: number | null;
  p95_ms: number | null;
  last_error: string | null;
}

interface Ring {
  readonly hrn: string;
  readonly records: RelayRecord[];
  /** Where the next record goes once the ring is full. */
  next: number;
}

export class RelayStats {
  private readonly rings = new Map<string, Ring>();

  /** `clock` dates each record (the server's clock; tests pass a fixed one). */
  constructor(
    private readonly clock: () => Date = () => new Date(),
    private readonly size = RELAY_RING_SIZE,
  ) {}

  /** Remember one call to the aggregate at `url` (of authority `hrn`). */
  record(url: string, hrn: string, call: Omit<RelayRecord, 'at'>): void {
    const entry: RelayRecord = { at: this.clock(), ...call };
    let ring = this.rings.get(url);
    if (!ring) {
      ring = { hrn, records: [], next: 0 };
      this.rings.set(url, ring);
    }
    if (ring.records.length < this.size) ring.records.push(entry);
    else {
      ring.records[ring.next] = entry;
      ring.next = (ring.next + 1) % this.size;
    }
  }

  /** The remembered calls to these aggregate URLs, oldest first within each URL. */
  records(urls: readonly string[]): RelayRecord[] {
    return urls.flatMap((url) => {
      const ring = this.rings.get(url);
      return ring ? [...ring.records.slice(ring.next), ...ring.records.slice(0, ring.next)] : [];
    });
  }

  /** The URLs calls were relayed to for authority `hrn` (any case). */
  urlsOf(hrn: string): string[] {
    const want = hrn.toLowerCase();
    return [...this.rings].filter(([, r]) => r.hrn.toLowerCase() === want).map(([url]) => url);
  }

  /** Count, success rate, median and 95th percentile duration, last error of these calls. */
  summary(urls: readonly string[]): RelaySummary {
    const all = this.records(urls);
    if (all.length === 0) {
      return { count: 0, success_rate: null, median_ms: null, p95_ms: null, last_error: null };
    }
    const ms = all.map((r) => r.ms).sort((a, b) => a - b);
    // Nearest-rank percentiles: always a duration that was observed.
    const rank = (p: number) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!;
    const failed = all.filter((r) => !r.ok).sort((a, b) => a.at.getTime() - b.at.getTime());
    return {
      count: all.length,
      success_rate: (all.length - failed.length) / all.length,
      median_ms: rank(0.5),
      p95_ms: rank(0.95),
      last_error: failed.at(-1)?.error ?? null,
    };
  }
}
