/* global fetch */
/**
 * JSON fetch helper for the same-origin /api endpoints.
 */

/** An HTTP error carrying the status and the server's `{error}` text. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   */
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * GET a JSON document; throws ApiError with the server's `error` text on a
 * non-2xx answer. Credentials are same-origin cookies (the operator session).
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function getJSON(url) {
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(`Could not reach the server (${url}): ${String(err)}`, 0);
  }
  /** @type {any} */
  let body;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const text =
      body && typeof body.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    throw new ApiError(text, res.status);
  }
  if (body === null) throw new ApiError(`Invalid JSON from ${url}`, res.status);
  return body;
}
