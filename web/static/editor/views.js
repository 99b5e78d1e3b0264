/*
 * The editor's views (办事指南, 问题挖掘, 数据看板, 导入导出, 操作日志): the top tabs switch between them;
 * each view registers what to load when it is shown.
 */
import { confirmLeave, state } from './common.js';

const loaders = {};

/** `load()` runs whenever the view `name` is shown. */
export function registerView(name, load) {
  loaders[name] = load;
}

export function switchView(name) {
  if (name !== 'entries' && !confirmLeave()) return;
  state.view = name;
  document.querySelectorAll('#tabs .tab').forEach((t) => {
    t.setAttribute('aria-pressed', String(t.dataset.view === name));
  });
  document.querySelectorAll('.view').forEach((v) => {
    v.hidden = v.id !== `view-${name}`;
  });
  if (loaders[name]) loaders[name]();
}
