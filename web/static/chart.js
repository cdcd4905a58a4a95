/**
 * Minimal SVG line chart for a node's history.
 *
 * One `polyline` with exactly one point per history entry (x by time, y
 * scaled from 0 to the series maximum), so a test or a reader can match
 * points to reports; axis labels are plain `text` elements.
 */
import { s } from './dom.js';
import { formatShortTime, toMillis } from './format.js';

const W = 480;
const H = 160;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };

/**
 * @param {object} opts
 * @param {string} opts.id  id of the <svg>
 * @param {string} opts.title  accessible name
 * @param {Array<{at: unknown}>} opts.history
 * @param {(entry: any) => number|null} opts.value  y value of an entry (null is drawn as 0)
 * @param {(v: number) => string} [opts.format]  y label formatting
 * @returns {SVGElement}
 */
export function lineChart({ id, title, history, value, format = (v) => String(v) }) {
  const times = history.map((e, i) => toMillis(e.at) ?? i);
  const values = history.map((e) => {
    const v = value(e);
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  });
  const tMin = Math.min(...times);
  const tMax = Math.max(...times);
  const vMax = Math.max(0, ...values);
  const yTop = vMax > 0 ? vMax : 1;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (/** @type {number} */ t) =>
    PAD.left + (tMax > tMin ? ((t - tMin) / (tMax - tMin)) * plotW : plotW / 2);
  const y = (/** @type {number} */ v) => PAD.top + plotH - (v / yTop) * plotH;

  const points = times.map((t, i) => `${x(t).toFixed(1)},${y(values[i]).toFixed(1)}`).join(' ');
  const firstLabel = times.length && toMillis(history[0].at) !== null ? formatShortTime(tMin) : '';
  const lastLabel =
    times.length && toMillis(history[history.length - 1].at) !== null ? formatShortTime(tMax) : '';

  return s(
    'svg',
    {
      id,
      class: 'chart',
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-label': title,
      preserveAspectRatio: 'xMidYMid meet',
    },
    s('title', {}, title),
    s('line', {
      class: 'axis',
      x1: PAD.left,
      y1: PAD.top + plotH,
      x2: W - PAD.right,
      y2: PAD.top + plotH,
    }),
    s('line', { class: 'axis', x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + plotH }),
    s('line', { class: 'grid', x1: PAD.left, y1: PAD.top, x2: W - PAD.right, y2: PAD.top }),
    s(
      'text',
      { class: 'label y-max', x: PAD.left - 6, y: PAD.top + 4, 'text-anchor': 'end' },
      format(vMax),
    ),
    s(
      'text',
      { class: 'label y-min', x: PAD.left - 6, y: PAD.top + plotH + 4, 'text-anchor': 'end' },
      format(0),
    ),
    s(
      'text',
      { class: 'label x-first', x: PAD.left, y: H - 8, 'text-anchor': 'start' },
      firstLabel,
    ),
    s(
      'text',
      { class: 'label x-last', x: W - PAD.right, y: H - 8, 'text-anchor': 'end' },
      lastLabel,
    ),
    s('polyline', { class: 'series', points, fill: 'none' }),
    history.length === 1
      ? s('circle', {
          class: 'point',
          cx: x(times[0]).toFixed(1),
          cy: y(values[0]).toFixed(1),
          r: 3,
        })
      : null,
  );
}
