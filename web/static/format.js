/**
 * Formatting of values that come from the JSON API.
 *
 * Times may arrive as ISO strings or as numbers (Unix seconds, or
 * milliseconds when large); everything is shown in UTC so that what an
 * operator reads matches the server logs and `sfa` CLI output.
 */

/**
 * Parse a time value into milliseconds since the epoch, or null.
 * @param {unknown} value
 * @returns {number|null}
 */
export function toMillis(value) {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    // Below 1e11 a number is taken as seconds (1e11 s is year 5138).
    return value < 1e11 ? value * 1000 : value;
  }
  if (typeof value === 'string') {
    if (/^\d+(\.\d+)?$/.test(value)) return toMillis(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/**
 * "2026-12-06 15:04 UTC", or the original text when it does not parse.
 * @param {unknown} value
 */
export function formatTime(value) {
  const ms = toMillis(value);
  if (ms === null) return value === null || value === undefined ? '—' : String(value);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * Short time for chart axes: "12-06 15:04".
 * @param {number} ms
 */
export function formatShortTime(ms) {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/**
 * A ratio 0..1 as a percentage ("97.5%"); null as a dash.
 * @param {unknown} ratio
 */
export function formatPercent(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—';
  const pct = Math.round(ratio * 1000) / 10;
  return `${Number.isInteger(pct) ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/**
 * A number with at most `digits` decimals; null as a dash.
 * @param {unknown} value
 * @param {number} [digits]
 */
export function formatNumber(value, digits = 2) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/**
 * A load average, always with two decimals ("0.00", "1.50") so the column aligns.
 * @param {unknown} value
 */
export function formatLoad(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return value.toFixed(2);
}

/**
 * Availability text of a node, as in the nodes table:
 * "up", "down", "exclusive, free" or "exclusive, free from TIME".
 * @param {{available?: boolean, exclusive?: boolean, next_free?: unknown}} node
 */
export function availabilityText(node) {
  if (node.exclusive) {
    if (node.available) return 'exclusive, free';
    if (node.next_free !== null && node.next_free !== undefined) {
      return `exclusive, free from ${formatTime(node.next_free)}`;
    }
    return 'down';
  }
  return node.available ? 'up' : 'down';
}

/**
 * Percent-encode one path segment (hostnames, HRNs) for a same-origin link.
 * @param {string} segment
 */
export function seg(segment) {
  return encodeURIComponent(String(segment));
}
