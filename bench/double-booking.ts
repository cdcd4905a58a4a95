/**
 * Is anything double-booked? Read straight from the aggregate's tables, independently of the
 * admission code and of the store's triggers that are meant to prevent it.
 */
import { formatUtc } from '../src/store/database.js';
import type { SqlDatabase } from '../src/store/sql.js';

export interface BookingCheck {
  /** Exclusive nodes with live slivers of more than one slice (the benchmark makes no leases). */
  sharedExclusiveNodes: number;
  /** Pairs of leases of different slices overlapping in time on one node. */
  overlappingLeases: number;
  /** Pairs of port reservations of different slices overlapping on one node and protocol. */
  overlappingPorts: number;
  /** What was looked at, so that a clean result is not a vacuous one. */
  liveSlivers: number;
  exclusiveNodesHeld: number;
  portReservations: number;
}

export function checkBookings(db: SqlDatabase, now: Date): BookingCheck {
  const at = formatUtc(now);
  const count = (sql: string, ...params: unknown[]): number =>
    (db.prepare(sql).get(...params) as { n: number }).n;
  // One read transaction: every count sees the same state, even while a server writes.
  return db.read(() => ({
    sharedExclusiveNodes: count(
      `SELECT count(*) AS n FROM (
         SELECT v.node_id FROM slivers v JOIN nodes n ON n.id = v.node_id
          WHERE n.exclusive = 1 AND v.expires > ?
          GROUP BY v.node_id HAVING count(DISTINCT v.slice_id) > 1) AS shared`,
      at,
    ),
    overlappingLeases: count(
      `SELECT count(*) AS n FROM leases a JOIN leases b
          ON a.node_id = b.node_id AND a.slice_id < b.slice_id
         AND a.start_time < b.end_time AND b.start_time < a.end_time`,
    ),
    overlappingPorts: count(
      `SELECT count(*) AS n FROM port_reservations a JOIN port_reservations b
          ON a.node_id = b.node_id AND a.proto = b.proto AND a.slice_id < b.slice_id
         AND a.port_from <= b.port_to AND b.port_from <= a.port_to`,
    ),
    liveSlivers: count(`SELECT count(*) AS n FROM slivers WHERE expires > ?`, at),
    exclusiveNodesHeld: count(
      `SELECT count(DISTINCT v.node_id) AS n FROM slivers v JOIN nodes n ON n.id = v.node_id
        WHERE n.exclusive = 1 AND v.expires > ?`,
      at,
    ),
    portReservations: count(`SELECT count(*) AS n FROM port_reservations`),
  }));
}

export function isClean(c: BookingCheck): boolean {
  return c.sharedExclusiveNodes === 0 && c.overlappingLeases === 0 && c.overlappingPorts === 0;
}
