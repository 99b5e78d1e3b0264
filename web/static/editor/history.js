/*
 * 版本与对比: the published versions of an entry, the diff between any two (or the pending change),
 * and the entry's own audit records.
 */
import { api, errorText } from '../lib/api.js';
import { $, clear, el } from '../lib/dom.js';
import { label } from '../lib/labels.js';
import { state, when } from './common.js';

export function loadHistory() {
  const c = state.current;
  if (!c) return;
  const id = encodeURIComponent(c.id);
  api('GET', `/api/entries/${id}/versions`).then((res) => {
    if (!res.ok) {
      $('editor-error').textContent = errorText(res);
      return;
    }
    state.versions = res.data;
    renderVersions(res.data);
  });
  api('GET', `/api/audit?entry_id=${id}`).then((res) => {
    const box = $('entry-audit');
    clear(box);
    if (!res.ok) return;
    res.data.data.forEach((a) => {
      box.appendChild(auditItem(a));
    });
    if (!res.data.data.length) box.appendChild(el('li', { className: 'hint', text: '暂无操作记录。' }));
  });
}

function renderVersions(v) {
  const box = $('versions');
  clear(box);
  v.data.forEach((ver, i) => {
    const prev = v.data[i + 1];
    box.appendChild(
      el('li', { className: `version${ver.live ? ' live' : ''}`, dataset: { version: String(ver.version) } }, [
        el('strong', { text: `版本 ${ver.version}` }),
        ver.live ? el('span', { className: 'badge badge-published', text: '线上' }) : null,
        el('span', { className: 'hint', text: ` ${when(ver.created_at)} · ${ver.author}` }),
        ver.notes.length ? el('span', { className: 'hint', text: ` · ${ver.notes.join('；')}` }) : null,
        prev
          ? el('button', {
              type: 'button',
              className: 'btn btn-small',
              text: '与上一版对比',
              onclick: () => {
                $('diff-a').value = String(prev.version);
                $('diff-b').value = String(ver.version);
                showDiff();
              },
            })
          : null,
      ]),
    );
  });
  if (!v.data.length) box.appendChild(el('li', { className: 'hint', text: '尚未发布过。' }));
  const refs = v.data.map((ver) => [String(ver.version), `版本 ${ver.version}${ver.live ? '（线上）' : ''}`]);
  if (v.has_draft) refs.unshift(['draft', '待发布的修改']);
  ['diff-a', 'diff-b'].forEach((idn) => {
    const s = $(idn);
    clear(s);
    refs.forEach((r) => {
      s.appendChild(el('option', { value: r[0], text: r[1] }));
    });
  });
  if (v.has_draft && v.live_version) {
    $('diff-a').value = String(v.live_version);
    $('diff-b').value = 'draft';
  } else if (v.data.length > 1) {
    $('diff-a').value = String(v.data[1].version);
    $('diff-b').value = String(v.data[0].version);
  }
  const rb = $('rollback-version');
  clear(rb);
  v.data
    .filter((ver) => !ver.live)
    .forEach((ver) => {
      rb.appendChild(
        el('option', { value: String(ver.version), text: `版本 ${ver.version}（${when(ver.created_at)}）` }),
      );
    });
  $('rollback').disabled = !rb.options.length;
  clear($('diff-view'));
  if ((v.has_draft && v.live_version) || v.data.length > 1) showDiff();
}

export function changeItem(c) {
  const parts = [
    el('span', { className: `op op-${c.op}`, text: label('change_ops', c.op) }),
    el('span', { className: 'change-label', text: c.label }),
  ];
  if (c.op === 'changed') {
    parts.push(
      el('span', { className: 'before', text: shown(c.before) }),
      ' → ',
      el('span', { className: 'after', text: shown(c.after) }),
    );
  } else if (c.op === 'added' || c.op === 'reordered') {
    parts.push(el('span', { className: 'after', text: shown(c.after) }));
  } else {
    parts.push(el('span', { className: 'before', text: shown(c.before) }));
  }
  return el('li', { className: 'change' }, parts);
}

function shown(v) {
  if (v === null || v === undefined || v === '') return '（空）';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join('、') || '（空）';
  if (typeof v === 'object' && !Array.isArray(v)) {
    return Object.keys(v)
      .filter((k) => {
        const x = v[k];
        return (
          x !== '' &&
          x !== null &&
          !(Array.isArray(x) && !x.length) &&
          !(typeof x === 'object' && x && !Array.isArray(x) && !Object.keys(x).length)
        );
      })
      .map((k) => `${label('record_keys', k)}：${shown(v[k])}`)
      .join('；');
  }
  return JSON.stringify(v);
}

export function showDiff() {
  const a = $('diff-a').value;
  const b = $('diff-b').value;
  const box = $('diff-view');
  clear(box);
  if (!a || !b) return;
  api(
    'GET',
    `/api/entries/${encodeURIComponent(state.current.id)}/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`,
  ).then((res) => {
    clear(box);
    if (!res.ok) {
      box.appendChild(el('p', { className: 'error', text: errorText(res) }));
      return;
    }
    if ($('diff-unified').checked) {
      const pre = el('pre', { className: 'unified' });
      res.data.unified.forEach((line) => {
        const cls =
          line.charAt(0) === '+' ? 'add' : line.charAt(0) === '-' ? 'del' : line.slice(0, 2) === '@@' ? 'hunk' : '';
        pre.appendChild(el('span', { className: `line ${cls}`, text: `${line}\n` }));
      });
      box.appendChild(pre);
      return;
    }
    if (!res.data.changes.length) {
      box.appendChild(el('p', { className: 'hint', text: '两个版本内容相同。' }));
      return;
    }
    box.appendChild(el('ul', { className: 'changes' }, res.data.changes.map(changeItem)));
  });
}

export function auditItem(a) {
  return el('li', {}, [
    el('span', { className: 'hint', text: `${when(a.created_at)} ` }),
    el('strong', { text: a.actor }),
    `（${label('roles', a.role)}）`,
    ` ${label('audit_actions', a.action)}`,
    a.version ? ` → 版本 ${a.version}` : '',
    a.comment ? el('span', { className: 'hint', text: `：${a.comment}` }) : null,
  ]);
}
