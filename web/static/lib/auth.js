/*
 * The staff session both staff pages (agent console, editor) share: log in with their common login
 * form, restore the session of this browser, log out, notice an expired session, and the CSRF token
 * that lib/api.js sends as X-CSRF-Token on every state-changing request.
 *
 * The token is the readable cookie the server sets at login (it follows a new login in another tab),
 * else the csrf_token of the login or /api/auth/me answer.
 */
import { api, detail, errorText, onUnauthorized, setCsrfSource } from './api.js';
import { $ } from './dom.js';

const LOGIN = '/api/auth/login';
const CSRF_COOKIE = 'banshi_csrf';
const session = { user: null, csrf: '' };
let expired = null;

function cookie(name) {
  const parts = document.cookie ? document.cookie.split('; ') : [];
  for (let i = 0; i < parts.length; i += 1) {
    const eq = parts[i].indexOf('=');
    if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
  }
  return '';
}

setCsrfSource(() => cookie(CSRF_COOKIE) || session.csrf);

onUnauthorized((path, res) => {
  if (!session.user || path === LOGIN) return;
  end();
  if (expired) expired(detail(res, '登录已失效，请重新登录。'));
});

function begin(data) {
  session.user = data.user;
  session.csrf = data.csrf_token || '';
  return data;
}

function end() {
  session.user = null;
  session.csrf = '';
}

/** The logged-in account ({username, role, role_title}), or null. */
export function user() {
  return session.user;
}

/** Whether the logged-in account has one of these roles. */
export function hasRole(roles) {
  return !!session.user && roles.indexOf(session.user.role) >= 0;
}

/** `fn(message)` runs when the server answers 401 to a logged-in page (the session expired or ended). */
export function onExpired(fn) {
  expired = fn;
}

/** The session this browser already has ({user, csrf_token}), or null. */
export async function restore() {
  const res = await api('GET', '/api/auth/me');
  return res.ok && res.data.user ? begin(res.data) : null;
}

export async function logout() {
  end(); // first: the answer (even a 401 of an expired session) is not an expiry to report
  await api('POST', '/api/auth/logout');
}

/**
 * The login form of both staff pages (#login-form, #login-username, #login-password, #login-submit,
 * #login-error): checks the fields, logs in, shows the server's reason on failure and calls
 * `loggedIn(session)` on success.
 */
export function loginForm(loggedIn) {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = $('login-error');
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    if (!username || !password) {
      error.textContent = '请输入用户名和密码。';
      return;
    }
    $('login-submit').disabled = true;
    error.textContent = '';
    const res = await api('POST', LOGIN, { username, password });
    $('login-submit').disabled = false;
    $('login-password').value = '';
    if (!res.ok) {
      error.textContent = errorText(res, '登录失败，请稍后再试。');
      $('login-password').focus();
      return;
    }
    loggedIn(begin(res.data));
  });
}
