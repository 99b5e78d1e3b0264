/*
 * 导入导出: export links (working copy or live content, three formats) and the all-or-nothing import.
 */
import { api, errorText } from '../lib/api.js';
import { $, clear, el } from '../lib/dom.js';
import { loadList } from './list.js';

export function updateExportLinks() {
  const source = document.querySelector('input[name="export-source"]:checked').value;
  ['xlsx', 'yaml', 'jsonl'].forEach((f) => {
    $(`export-${f}`).setAttribute('href', `/api/entry-transfer/export?format=${f}&source=${source}`);
  });
}

function importFile(ev) {
  ev.preventDefault();
  const file = $('import-file').files[0];
  const result = $('import-result');
  const problems = $('import-problems');
  clear(problems);
  result.textContent = '';
  if (!file) {
    result.textContent = '请选择文件。';
    return;
  }
  const data = new FormData();
  data.append('file', file);
  if ($('import-publish').checked) data.append('submit', 'true');
  $('import-submit').disabled = true;
  result.textContent = '正在校验…';
  api('POST', '/api/entry-transfer/import', data).then((res) => {
    $('import-submit').disabled = false;
    if (res.ok) {
      const d = res.data;
      result.textContent =
        '导入完成：新建 ' +
        d.created.length +
        ' 条，更新 ' +
        d.updated.length +
        ' 条，未变 ' +
        d.unchanged.length +
        ' 条' +
        (d.published.length ? `，已发布 ${d.published.length} 条。` : '（均为草稿，待审核）。');
      loadList();
      return;
    }
    result.textContent = errorText(res);
    (res.data?.problems || []).forEach((p) => {
      problems.appendChild(el('li', { text: p.text }));
    });
  });
}

export function initTransfer() {
  document.querySelectorAll('input[name="export-source"]').forEach((r) => {
    r.addEventListener('change', updateExportLinks);
  });
  $('import-form').addEventListener('submit', importFile);
}
