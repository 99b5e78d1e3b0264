/*
 * The entry list (办事指南 view): search and filters, one row per entry with its status.
 */
import { api, errorText } from '../lib/api.js';
import { $, clear, el } from '../lib/dom.js';
import { addOptions, label } from '../lib/labels.js';
import { show, state } from './common.js';
import { openEntry } from './entry.js';

export function loadList() {
  const params = new URLSearchParams();
  const q = $('entry-search').value.trim();
  if (q) params.set('q', q);
  [
    ['kind', 'filter-kind'],
    ['category', 'filter-category'],
    ['status', 'filter-status'],
    ['reviewed_before_days', 'filter-reviewed'],
  ].forEach((pair) => {
    const v = $(pair[1]).value;
    if (v) params.set(pair[0], v);
  });
  return api('GET', `/api/entries?${params.toString()}`).then((res) => {
    if (!res.ok) {
      show(errorText(res));
      return;
    }
    state.entries = res.data.data;
    if (!params.toString()) {
      state.ids = res.data.data.map((e) => ({ id: e.id, title: e.title }));
      fillCategories(res.data.data);
      fillIdList();
    }
    renderList();
  });
}

function fillCategories(entries) {
  const select = $('filter-category');
  const chosen = select.value;
  const cats = Array.from(new Set(entries.map((e) => e.category))).sort();
  while (select.options.length > 1) select.remove(1);
  cats.forEach((c) => {
    select.appendChild(el('option', { value: c, text: c }));
  });
  select.value = chosen;
}

function fillIdList() {
  let list = $('entry-ids');
  if (!list) {
    list = el('datalist', { id: 'entry-ids' });
    document.body.appendChild(list);
  }
  clear(list);
  state.ids.forEach((e) => {
    list.appendChild(el('option', { value: e.id, label: e.title }));
  });
}

export function renderList() {
  const list = $('entry-list');
  clear(list);
  $('entry-count').textContent = `共 ${state.entries.length} 条`;
  state.entries.forEach((e) => {
    const selected = state.current && state.current.id === e.id;
    // a list item holding a button: the list stays a list for screen readers, the row is one control
    const row = el(
      'button',
      {
        type: 'button',
        className: `entry-row${selected ? ' selected' : ''}`,
        'aria-current': selected ? 'true' : null,
        dataset: { id: e.id },
        onclick: () => {
          openEntry(e.id);
        },
      },
      [
        el('span', { className: 'row-title', text: e.title }),
        el('span', { className: `badge badge-${e.status}`, text: label('entry_statuses', e.status) }),
        el('span', {
          className: 'row-meta',
          text:
            e.id +
            ' · ' +
            label('kinds', e.kind) +
            ' · ' +
            e.category +
            (e.live_version ? ` · 线上 v${e.live_version}` : '') +
            ' · ' +
            (e.reviewed_at ? `审核 ${e.reviewed_at}` : '未审核'),
        }),
      ],
    );
    list.appendChild(el('li', {}, [row]));
  });
}

/** The list's search box and filters (their kind and status options come from the labels). */
export function initList() {
  addOptions($('filter-kind'), 'kinds');
  addOptions($('filter-status'), 'entry_statuses');
  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadList();
  });
  $('entry-search').addEventListener('input', () => {
    clearTimeout(state.filterTimer);
    state.filterTimer = setTimeout(loadList, 250);
  });
  ['filter-kind', 'filter-category', 'filter-status', 'filter-reviewed'].forEach((idn) => {
    $(idn).addEventListener('change', loadList);
  });
}
