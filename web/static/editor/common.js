/*
 * What the editor's views share: the state of the page, the roles that may do what, the notice line
 * and the formatting of dates and shares.
 */
import { hasRole } from '../lib/auth.js';
import { $ } from '../lib/dom.js';

export const EDIT_ROLES = ['editor', 'admin'];
export const REVIEW_ROLES = ['reviewer', 'admin'];
export const TRIAGE_ROLES = ['editor', 'reviewer', 'admin'];

export const state = {
  view: 'entries',
  entries: [],
  ids: [],
  current: null, // the loaded entry (EntryPublic), null for a new one
  isNew: false,
  dirty: false,
  pendingSave: null,
  filterTimer: 0,
  versions: null,
  gapNoise: false, // show the noise clusters too
};

/** Whether the logged-in account has one of these roles. */
export const has = hasRole;

/** Leaving an entry with unsaved changes: only when the editor agrees. */
export function confirmLeave() {
  return !state.dirty || window.confirm('当前条目有未保存的修改，确定要离开吗？');
}

let noticeTimer = 0;
/** The notice line under the top bar, for 8 seconds ('' hides it). */
export function show(text) {
  const n = $('notice');
  n.textContent = text;
  n.hidden = !text;
  clearTimeout(noticeTimer);
  if (text)
    noticeTimer = setTimeout(() => {
      n.hidden = true;
    }, 8000);
}

const pad = (n) => String(n).padStart(2, '0');

/** A server time (UTC) as local 2024-05-01 09:30. */
export function when(iso) {
  if (!iso) return '';
  const text = /[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${isoDay(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A local date as 2024-05-01. */
export function isoDay(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A share (0.123) as 12.3%; — when there is none. */
export function pct(x) {
  return x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10}%`;
}
