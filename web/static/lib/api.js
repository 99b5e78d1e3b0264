/*
 * The one fetch wrapper of the pages: same-origin JSON (or a FormData upload), a timeout, and one
 * answer shape — it never rejects except when the caller aborts:
 *
 *   {ok, status, data, retryAfter}   status 0: no answer (network error or timeout); data is {} when
 *                                    the body was not JSON
 *
 * State-changing requests carry the X-CSRF-Token header when a staff session supplies it (lib/auth.js
 * calls setCsrfSource); the citizens' widget has no session and sends none.
 */

const TIMEOUT_MS = 20000;
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];
export const CSRF_HEADER = 'X-CSRF-Token';
export const NETWORK_ERROR = '无法连接服务器，请检查网络后重试。';

let csrfToken = null; // a function returning the token, set by lib/auth.js
let unauthorized = null; // called with the path and the answer on a 401

/** Staff pages: send this function's token as X-CSRF-Token on every state-changing request. */
export function setCsrfSource(token) {
  csrfToken = token;
}

/** Staff pages: be told when the server answers 401 (the session ended). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

function linkSignal(ctrl, signal) {
  if (!signal) return;
  if (signal.aborted) ctrl.abort();
  else signal.addEventListener('abort', () => ctrl.abort(), { once: true });
}

/**
 * method, path, body (an object sent as JSON, or FormData), options {signal, timeout}.
 * Rejects only with the AbortError of the caller's own signal.
 */
export async function api(method, path, body, options) {
  const opts = options || {};
  const headers = { Accept: 'application/json' };
  let payload;
  if (typeof FormData !== 'undefined' && body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (csrfToken && SAFE_METHODS.indexOf(method) < 0) headers[CSRF_HEADER] = csrfToken();
  const ctrl = new AbortController();
  linkSignal(ctrl, opts.signal);
  const timer = setTimeout(() => ctrl.abort(), opts.timeout || TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal: ctrl.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    if (opts.signal?.aborted) throw e;
    return { ok: false, status: 0, data: {}, retryAfter: null };
  }
  let data = {};
  try {
    const text = await res.text();
    data = text ? JSON.parse(text) : {};
  } catch (_e) {
    data = {};
  } finally {
    clearTimeout(timer);
  }
  if (data === null || typeof data !== 'object') data = {};
  const answer = { ok: res.ok, status: res.status, data, retryAfter: res.headers.get('Retry-After') };
  if (res.status === 401 && unauthorized) unauthorized(path, answer);
  return answer;
}

/** The server's explanation (its `detail`), else `fallback`. */
export function detail(res, fallback) {
  const d = res?.data?.detail;
  return typeof d === 'string' && d ? d : fallback;
}

/** For staff pages: the server's explanation, else that the network failed, else `fallback`. */
export function errorText(res, fallback) {
  if (res && res.status === 0) return detail(res, NETWORK_ERROR);
  return detail(res, fallback || `操作失败（${res ? res.status : '?'}）。`);
}
