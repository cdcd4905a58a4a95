/* global document, window, fetch */
/**
 * World map of the sites: country outlines from the vendored world-atlas
 * topojson, one circle per site, in an equirectangular projection
 * (x = longitude, y = latitude, scaled to a 960 × 480 viewBox).
 */
import { s, clear } from './dom.js';

const WIDTH = 960;
const HEIGHT = 480;
const TOPOJSON_URL = '/static/vendor/topojson-client.js';
const ATLAS_URL = '/static/vendor/countries-110m.json';

/** @param {number} lon */
const px = (lon) => ((lon + 180) / 360) * WIDTH;
/** @param {number} lat */
const py = (lat) => ((90 - lat) / 180) * HEIGHT;

/** @type {Promise<any> | null} */
let topojsonPromise = null;

/**
 * Load topojson-client. The vendored file may be an ES module or the
 * package's UMD browser build. A UMD build imported as a module still runs
 * and, finding no CommonJS/AMD, sets `self.topojson`; so try `import()`
 * first and look at the module's exports, then at `window.topojson`, and as
 * a last resort add a classic `<script src>` (allowed by script-src 'self')
 * and wait for its load event.
 * @returns {Promise<{feature: Function}>}
 */
export function loadTopojson() {
  if (topojsonPromise) return topojsonPromise;
  topojsonPromise = (async () => {
    try {
      const mod = await import(TOPOJSON_URL);
      if (mod && typeof mod.feature === 'function') return mod;
      if (mod?.default && typeof mod.default.feature === 'function') return mod.default;
    } catch {
      // not loadable as a module: fall through to the classic script
    }
    if (window.topojson && typeof window.topojson.feature === 'function') return window.topojson;
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = TOPOJSON_URL;
      script.addEventListener('load', resolve, { once: true });
      script.addEventListener('error', () => reject(new Error(`cannot load ${TOPOJSON_URL}`)), {
        once: true,
      });
      document.head.appendChild(script);
    });
    if (window.topojson && typeof window.topojson.feature === 'function') return window.topojson;
    throw new Error('topojson-client did not define topojson.feature');
  })();
  return topojsonPromise;
}

/**
 * SVG path data for a GeoJSON geometry. A ring segment that jumps more than
 * 180° of longitude crosses the antimeridian: start a new subpath there
 * instead of drawing a line across the whole map.
 * @param {any} geometry
 */
function pathData(geometry) {
  if (!geometry) return '';
  /** @type {number[][][]} */
  let rings = [];
  if (geometry.type === 'Polygon') rings = geometry.coordinates;
  else if (geometry.type === 'MultiPolygon') rings = geometry.coordinates.flat();
  else if (geometry.type === 'GeometryCollection') {
    return geometry.geometries.map(pathData).join('');
  }
  let d = '';
  for (const ring of rings) {
    let prevLon = null;
    ring.forEach(([lon, lat], i) => {
      const jump = prevLon !== null && Math.abs(lon - prevLon) > 180;
      d += `${i === 0 || jump ? 'M' : 'L'}${px(lon).toFixed(1)},${py(lat).toFixed(1)}`;
      prevLon = lon;
    });
    d += 'Z';
  }
  return d;
}

/**
 * @typedef {object} Site
 * @property {string} site
 * @property {string} name
 * @property {number} lat  mean latitude of its nodes
 * @property {number} lon
 * @property {number} total
 * @property {number} available
 * @property {number} exclusive
 */

/**
 * Group nodes with a position into sites.
 * @param {any[]} nodes
 * @returns {Site[]}
 */
export function groupSites(nodes) {
  /** @type {Map<string, Site>} */
  const sites = new Map();
  for (const n of nodes) {
    if (typeof n.latitude !== 'number' || typeof n.longitude !== 'number') continue;
    const key = String(n.site ?? '');
    let site = sites.get(key);
    if (!site) {
      site = {
        site: key,
        name: n.site_name ?? key,
        lat: 0,
        lon: 0,
        total: 0,
        available: 0,
        exclusive: 0,
      };
      sites.set(key, site);
    }
    site.lat += n.latitude;
    site.lon += n.longitude;
    site.total += 1;
    if (n.available) site.available += 1;
    if (n.exclusive) site.exclusive += 1;
  }
  for (const site of sites.values()) {
    site.lat /= site.total;
    site.lon /= site.total;
  }
  return [...sites.values()];
}

/**
 * Class of a site's marker: `exclusive` when all its nodes are exclusive,
 * otherwise `up` (all available), `down` (none) or `partial`.
 * @param {Site} site
 */
export function siteClass(site) {
  if (site.exclusive === site.total) return 'exclusive';
  if (site.available === site.total) return 'up';
  if (site.available === 0) return 'down';
  return 'partial';
}

/**
 * Draw the map into `holder`. Sites are drawn at once; countries are added
 * behind them when the atlas and topojson-client have loaded.
 * @param {HTMLElement} holder
 * @param {any[]} nodes
 * @returns {(matching: Set<string>|null) => void} a function that dims the
 *   sites not in `matching` (null: none dimmed)
 */
export function renderMap(holder, nodes) {
  clear(holder);
  const sites = groupSites(nodes);
  const countriesGroup = s('g', { class: 'countries' });
  const sitesGroup = s('g', { class: 'sites' });
  const svg = s(
    'svg',
    {
      id: 'map',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: 'img',
      'aria-label': `Map of ${sites.length} sites`,
      preserveAspectRatio: 'xMidYMid meet',
    },
    s('rect', { class: 'sea', x: 0, y: 0, width: WIDTH, height: HEIGHT }),
    countriesGroup,
    sitesGroup,
  );
  /** @type {Map<string, SVGElement>} */
  const circles = new Map();
  // Bigger sites are drawn first so small ones on top stay clickable/hoverable.
  for (const site of sites.slice().sort((a, b) => b.total - a.total)) {
    const r = Math.min(9, 3 + Math.sqrt(site.total));
    const circle = s(
      'circle',
      {
        class: `site ${siteClass(site)}`,
        'data-site': site.site,
        cx: px(site.lon).toFixed(1),
        cy: py(site.lat).toFixed(1),
        r: r.toFixed(1),
      },
      s(
        'title',
        {},
        `${site.name} (${site.site}): ${site.available} of ${site.total} node${site.total === 1 ? '' : 's'} available` +
          (site.exclusive ? `, ${site.exclusive} exclusive` : ''),
      ),
    );
    circles.set(site.site, circle);
    sitesGroup.appendChild(circle);
  }
  holder.append(
    svg,
    s(
      'svg',
      { class: 'legend', viewBox: '0 0 440 20', role: 'img', 'aria-label': 'Legend' },
      ['up', 'partial', 'down', 'exclusive'].map((cls, i) =>
        s(
          'g',
          {},
          s('circle', { class: `site ${cls}`, cx: 8 + i * 110, cy: 10, r: 5 }),
          s(
            'text',
            { x: 18 + i * 110, y: 14 },
            { up: 'all up', partial: 'some up', down: 'all down', exclusive: 'exclusive' }[cls],
          ),
        ),
      ),
    ),
  );

  const dim = (/** @type {Set<string>|null} */ matching) => {
    for (const [site, circle] of circles) {
      circle.classList.toggle('dim', matching !== null && !matching.has(site));
    }
  };

  // Countries load in the background; a failure leaves the sites on a plain
  // background with a note, it does not break the page.
  drawCountries(countriesGroup).catch((err) => {
    const note = document.createElement('p');
    note.className = 'muted map-note';
    note.textContent = `Country outlines unavailable: ${String(err?.message ?? err)}`;
    holder.appendChild(note);
  });
  return dim;
}

/**
 * Fetch the atlas and topojson-client and draw the countries.
 * @param {SVGElement} countriesGroup
 */
async function drawCountries(countriesGroup) {
  const [topojson, atlas] = await Promise.all([
    loadTopojson(),
    fetch(ATLAS_URL).then((r) => {
      if (!r.ok) throw new Error(`${ATLAS_URL}: ${r.status}`);
      return r.json();
    }),
  ]);
  const collection = topojson.feature(atlas, atlas.objects.countries);
  const frag = document.createDocumentFragment();
  for (const f of collection.features ?? [collection]) {
    const d = pathData(f.geometry);
    if (!d) continue;
    frag.appendChild(s('path', { class: 'country', d }, s('title', {}, f.properties?.name ?? '')));
  }
  countriesGroup.appendChild(frag);
}
