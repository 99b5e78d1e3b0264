/*
 * One entry in the editor: its head (status, what the signed-in role may do), the 内容 / 预览 / 试一试 /
 * 版本与对比 panels, and the review workflow (save, submit, approve, reject, publish, unpublish,
 * discard, rollback) with its edit conflicts.
 */
import { api, errorText } from '../lib/api.js';
import { $, clear, el } from '../lib/dom.js';
import { label, labels } from '../lib/labels.js';
import { confirmLeave, EDIT_ROLES, has, REVIEW_ROLES, show, state, when } from './common.js';
import { buildForm, changed, clearErrors, collect, showErrors } from './form.js';
import { changeItem, loadHistory, showDiff } from './history.js';
import { loadList, renderList } from './list.js';
import { renderPreview, runTrial, trialExamples } from './preview.js';

export function openEntry(id) {
  if (!confirmLeave()) return Promise.resolve();
  return api('GET', `/api/entries/${encodeURIComponent(id)}`).then((res) => {
    if (!res.ok) {
      show(errorText(res));
      return;
    }
    loadEntry(res.data);
  });
}

export function loadEntry(data) {
  const other = !state.current || state.current.id !== data.id;
  state.current = data;
  state.isNew = false;
  state.versions = null;
  buildForm(data.entry);
  renderHead();
  renderList();
  // a reviewer opening a change in review sees what changed first (a new entry: its content)
  if (other && reviewing(data)) showPanel(data.live_version ? 'history' : 'form');
  else showPanel(currentPanel());
}

function reviewing(c) {
  return !!(c && c.status === 'review' && has(REVIEW_ROLES));
}

export function newEntry(prefill) {
  if (!confirmLeave()) return;
  state.current = null;
  state.isNew = true;
  buildForm(
    Object.assign(
      {
        id: '',
        title: '',
        kind: 'matter',
        category: '',
        audience: (labels.audiences || []).slice(0, 1),
        summary: '',
        source: '岳阳市行政审批服务局',
        sample: true,
        reviewed_at: null,
        online: { name: '湘易办', url: '', note: '' },
      },
      prefill || {},
    ),
  );
  renderHead();
  renderList();
  showPanel('form');
}

function renderHead() {
  const c = state.current;
  $('editor-empty').hidden = true;
  $('editor').hidden = false;
  $('editor-error').textContent = '';
  $('conflict').hidden = true;
  $('reject-box').hidden = true;
  $('entry-title').textContent = c ? c.title : '新建条目';
  const status = c ? c.status : 'draft';
  $('entry-status').textContent = state.isNew ? '未保存' : label('entry_statuses', status);
  $('entry-status').className = `badge badge-${state.isNew ? 'new' : status}`;
  const meta = [];
  if (c) {
    meta.push(c.id);
    meta.push(
      c.live_status ? `线上版本 v${c.live_version}${c.live_status === 'unpublished' ? '（已下线）' : ''}` : '尚未发布',
    );
    if (c.has_draft) meta.push('有待发布的修改');
    if (c.updated_by) meta.push(`最后操作：${c.updated_by} ${when(c.updated_at)}`);
  }
  $('entry-meta').textContent = meta.join(' · ');
  const comment = c?.comment && c.status === 'draft' ? c.comment : '';
  $('review-comment').hidden = !comment;
  $('review-comment').textContent = comment ? `审核退回意见：${comment}` : '';

  const hasDraft = !!c?.has_draft;
  const canEdit = has(EDIT_ROLES);
  const canReview = has(REVIEW_ROLES);
  $('save').hidden = !canEdit;
  $('submit').hidden = !(canEdit && c && status === 'draft');
  $('approve').hidden = !(canReview && c && status === 'review');
  $('reject').hidden = !(canReview && c && status === 'review');
  // a change in review is published by approving it (one button); 重新上线 puts an unpublished entry back
  $('publish').hidden = !(canReview && c && !hasDraft && c.live_status === 'unpublished');
  $('unpublish').hidden = !(canReview && c && c.live_status === 'published');
  const canDelete = has(['admin']) && c && !hasDraft && c.live_status === 'unpublished';
  $('discard').hidden = !(c && ((canEdit && hasDraft) || canDelete));
  $('discard').textContent = hasDraft ? (c.live_status ? label('audit_actions', 'discard') : '删除草稿') : '删除条目';
  $('rollback-box').hidden = !canReview;
  $('workflow-hint').textContent = workflowHint(c, status, canEdit, canReview, hasDraft);
  const banner = $('review-banner');
  banner.hidden = !reviewing(c);
  banner.textContent = reviewing(c)
    ? (c.submitted_by ? `${c.submitted_by} 提交了这份修改。` : '这份修改等待审核。') +
      (c.live_version
        ? `“版本与对比”里列出了它与线上版本 v${c.live_version} 的全部差别；“预览”可看市民将看到的卡片，“试一试”可测试问法。`
        : '这是新条目，尚未发布过：请在“内容”“预览”里检查，用“试一试”测试问法。') +
      (canEdit ? '' : '审核员不能直接修改内容，需要修改请“退回修改”并写明意见。')
    : '';
  document
    .querySelectorAll('#entry-form input, #entry-form select, #entry-form textarea, #entry-form button')
    .forEach((n) => {
      n.disabled = !canEdit;
    });
  if (c) {
    const idInput = document.querySelector('#entry-form [data-path="id"] input');
    if (idInput) idInput.readOnly = true;
  }
}

function workflowHint(c, status, canEdit, canReview, hasDraft) {
  if (!c) return canEdit ? '保存草稿后可以提交审核；发布前市民看到的仍是线上版本。' : '';
  const parts = [];
  if (canReview && status === 'review') {
    parts.push(
      '“审核通过并发布”：这份修改立即成为线上新版本（几秒内对市民生效），并记录为经您审核；“退回修改”：附意见退给编辑，线上内容不变。',
    );
  } else if (canReview && !hasDraft && c.live_status === 'unpublished') {
    parts.push('“重新上线”：把已下线的条目按最后发布的版本恢复上线。');
  }
  if (canEdit && status !== 'review')
    parts.push('修改后先“保存草稿”，可用“试一试”测试问法，再“提交审核”；审核员审核通过后才会发布。');
  if (canEdit && status === 'review') parts.push('这份修改在等待审核；再次保存会把它撤回为草稿。');
  return parts.join(' ');
}

function currentPanel() {
  const sel = document.querySelector('.subtab[aria-selected="true"]');
  return sel ? sel.dataset.panel : 'form';
}

export function showPanel(name) {
  if (state.isNew && name === 'history') name = 'form';
  document.querySelectorAll('.subtab').forEach((t) => {
    t.setAttribute('aria-selected', String(t.dataset.panel === name));
  });
  document.querySelectorAll('.panel').forEach((p) => {
    p.hidden = p.dataset.panel !== name;
  });
  if (name === 'preview') renderPreview();
  if (name === 'history') loadHistory();
  if (name === 'trial') trialExamples();
}

/* ---- workflow ---- */

function busy(on) {
  document.querySelectorAll('.workflow button').forEach((b) => {
    b.disabled = on;
  });
}

function afterWrite(res, message, fromSave) {
  busy(false);
  if (res.ok) {
    const data = res.data?.entry && res.data.lock_version === undefined ? res.data.entry : res.data;
    if (data?.id) loadEntry(data);
    show(message);
    loadList();
    return true;
  }
  if (res.status === 422 && res.data && res.data.errors) {
    showPanel('form');
    showErrors(res.data.errors);
    $('editor-error').textContent = '内容有误，请按提示修改后再保存。';
    return false;
  }
  if (res.status === 409 && res.data && res.data.conflict) {
    showConflict(res.data, !!fromSave);
    return false;
  }
  $('editor-error').textContent = errorText(res);
  return false;
}

function save(lockOverride) {
  $('editor-error').textContent = '';
  clearErrors();
  const entry = collect();
  busy(true);
  const req = state.isNew
    ? api('POST', '/api/entries', { entry: entry })
    : api('PUT', `/api/entries/${encodeURIComponent(state.current.id)}`, {
        entry: entry,
        lock_version: lockOverride !== undefined ? lockOverride : state.current.lock_version,
      });
  state.pendingSave = entry;
  return req.then((res) => {
    const ok = afterWrite(
      res,
      state.isNew ? '已新建草稿。' : '已保存草稿。市民看到的仍是线上版本，发布后才会更新。',
      true,
    );
    if (ok) state.dirty = false;
    return ok;
  });
}

function showConflict(body, fromSave) {
  $('conflict').hidden = false;
  const list = $('conflict-changes');
  clear(list);
  $('conflict-overwrite').hidden = !fromSave;
  if (!fromSave) {
    $('conflict-text').textContent =
      '条目「' +
      state.current.id +
      '」在您打开之后已被 ' +
      body.updated_by +
      ' 修改，操作没有执行。请载入最新版本，看过修改后再操作。';
    return;
  }
  $('conflict-text').textContent = body.detail;
  list.appendChild(el('li', { className: 'hint', text: '已保存的版本与您的版本的差别（您的内容 → 已保存的内容）：' }));
  (body.changes || []).forEach((c) => {
    list.appendChild(changeItem(c));
  });
  if (!(body.changes || []).length) list.appendChild(el('li', { text: '（内容相同，对方可能只提交或退回了审核）' }));
  $('conflict-overwrite').onclick = () => {
    if (
      !window.confirm(
        '确定在最新版本上保存您的修改吗？对方的上述修改将被您的内容替换（仍可在版本记录中找到已发布的版本）。',
      )
    )
      return;
    $('conflict').hidden = true;
    save(body.lock_version);
  };
}

function workflow(action, body, message) {
  const id = state.current.id;
  busy(true);
  return api(
    'POST',
    `/api/entries/${encodeURIComponent(id)}/${action}`,
    body || { lock_version: state.current.lock_version },
  ).then((res) => afterWrite(res, message));
}

function submit() {
  const go = () => {
    workflow('submit', undefined, '已提交审核。');
  };
  if (state.dirty)
    save().then((ok) => {
      if (ok) go();
    });
  else go();
}

function discard() {
  const c = state.current;
  const text = c.has_draft ? '确定放弃未发布的修改吗？' : '确定删除这个已下线的条目吗？（已发布的版本记录会保留）';
  if (!window.confirm(text)) return;
  busy(true);
  api('DELETE', `/api/entries/${encodeURIComponent(c.id)}?lock_version=${c.lock_version}`).then((res) => {
    busy(false);
    if (!res.ok) {
      $('editor-error').textContent = errorText(res);
      return;
    }
    state.dirty = false;
    if (res.data.entry) loadEntry(res.data.entry);
    else {
      state.current = null;
      $('editor').hidden = true;
      $('editor-empty').hidden = false;
    }
    show(c.has_draft ? '已放弃修改。' : '条目已删除。');
    loadList();
  });
}

function rollback() {
  const version = $('rollback-version').value;
  if (!version) return;
  if (!window.confirm(`确定回滚到版本 ${version} 吗？该版本的内容将作为新版本立即发布，市民端几秒内生效。`)) return;
  workflow(
    'rollback',
    { version: Number(version), comment: $('rollback-comment').value.trim() },
    `已回滚到版本 ${version}（发布为新版本），市民端几秒内生效。`,
  ).then(() => {
    $('rollback-comment').value = '';
    showPanel('history');
  });
}

/** The workflow buttons, the conflict banner and the panel tabs of the entry. */
export function initEntry() {
  $('new-entry').addEventListener('click', () => {
    newEntry();
  });
  $('entry-form').addEventListener('input', changed);
  $('entry-form').addEventListener('change', changed);
  $('entry-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
  });
  $('save').addEventListener('click', () => {
    save();
  });
  $('submit').addEventListener('click', submit);
  $('approve').addEventListener('click', () => {
    if (window.confirm('审核通过后将立即发布为新版本，市民端几秒内生效。确定吗？'))
      workflow('approve', undefined, '已审核通过并发布，市民端几秒内生效。');
  });
  $('publish').addEventListener('click', () => {
    if (state.dirty && !window.confirm('表单里有未保存的修改，发布的是已保存的内容。继续吗？')) return;
    workflow('publish', undefined, '已发布，市民端几秒内生效。');
  });
  $('reject').addEventListener('click', () => {
    $('reject-box').hidden = false;
    $('reject-comment').focus();
  });
  $('reject-cancel').addEventListener('click', () => {
    $('reject-box').hidden = true;
  });
  $('reject-confirm').addEventListener('click', () => {
    const comment = $('reject-comment').value.trim();
    if (!comment) {
      $('editor-error').textContent = '请填写退回意见。';
      return;
    }
    workflow('reject', { comment: comment, lock_version: state.current.lock_version }, '已退回给编辑。').then((ok) => {
      if (ok) $('reject-comment').value = '';
    });
  });
  $('unpublish').addEventListener('click', () => {
    if (window.confirm('下线后助手将不再使用这个条目（几秒内生效），所有版本仍会保留。确定吗？'))
      workflow('unpublish', {}, '已下线。');
  });
  $('discard').addEventListener('click', discard);
  $('conflict-reload').addEventListener('click', () => {
    state.dirty = false;
    openEntry(state.current.id);
  });
  document.querySelectorAll('.subtab').forEach((t) => {
    t.addEventListener('click', () => {
      showPanel(t.dataset.panel);
    });
  });
  $('diff-show').addEventListener('click', showDiff);
  $('diff-unified').addEventListener('change', showDiff);
  $('rollback').addEventListener('click', rollback);
  $('trial-form').addEventListener('submit', runTrial);
  window.addEventListener('beforeunload', (ev) => {
    if (state.dirty) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  });
}
