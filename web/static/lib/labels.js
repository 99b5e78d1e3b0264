/*
 * The names of the app's codes (entry fields, parts, statuses, roles, reasons …), from the Python
 * models through GET /api/schema/labels: the pages hold no copy. loadLabels() once at start, then
 * label('entry_statuses', 'draft') → 草稿 (an unknown code is shown as it is).
 */
import { api } from './api.js';
import { el } from './dom.js';

/** Filled by loadLabels(): {parts, fields, records, kinds, entry_statuses, roles, …}. */
export const labels = {};
let loading = null;

/** Load the labels (once; again after a failure). Resolves to `labels`, which may stay empty offline. */
export function loadLabels() {
  if (!loading) {
    loading = api('GET', '/api/schema/labels').then((res) => {
      if (res.ok) Object.assign(labels, res.data);
      else loading = null;
      return labels;
    });
  }
  return loading;
}

/** The name of `code` in `group` ({} when the labels are not loaded): the code itself when unknown. */
export function label(group, code) {
  const names = labels[group];
  return names && typeof names[code] === 'string' ? names[code] : String(code);
}

/** The name of a field of a record inside an entry: field('materials', 'name') → 材料名称. */
export function field(path, name) {
  const records = labels.records || {};
  const names = records[path] || {};
  return typeof names[name] === 'string' ? names[name] : name;
}

/** The codes of a group, in the server's order. */
export function codes(group) {
  return Object.keys(labels[group] || {});
}

/** Add an <option> for each code of `group` (minus `except`) after the options the page wrote. */
export function addOptions(select, group, except) {
  codes(group)
    .filter((code) => (except || []).indexOf(code) < 0)
    .forEach((code) => {
      select.appendChild(el('option', { value: code, text: label(group, code) }));
    });
}
