/*
 * 办事e点通 knowledge editor: entry list and structured form, review workflow, preview, versions with
 * diff and rollback, gap mining, dashboard charts (inline SVG), import/export, audit log.
 * Talks only to this origin's JSON API; builds the DOM with textContent only, so nothing typed by an
 * editor or a citizen can run here (the /guide preview is the server's escaped page in a sandboxed,
 * script-less iframe).
 */
(function () {
  'use strict';

  const KINDS = { bundle: '一件事', matter: '单个事项', faq: '常见问题' };
  const FORMS = ['原件', '复印件', '原件及复印件', '电子证照', '申请表'];
  const CHANNELS = { offline: '窗口办理', online: '网上办理', either: '网上或窗口' };
  const STATUS = { draft: '草稿', review: '待审核', published: '已发布', unpublished: '已下线' };
  const OPS = { added: '新增', removed: '删除', changed: '修改', reordered: '调整顺序' };
  const REASONS = { abstained: '未能回答', low_confidence: '低置信度', unhelpful: '被评没用', handoff: '转人工' };
  const ACTIONS = {
    create: '新建', edit: '修改', submit: '提交审核', reject: '退回修改', approve: '审核通过',
    publish: '发布', unpublish: '下线', rollback: '回滚', discard: '放弃修改', delete: '删除',
    import: '导入', add_question: '添加相似问法', dismiss_gaps: '忽略问题', mark_out_of_scope: '标记为超出范围'
  };
  const PART_LABELS = {
    name: '名称', form: '形式', copies: '份数', required: '必需', condition: '适用条件', condition_text: '条件说明',
    waivable: '可免提交', matters: '所属事项', notes: '备注', department: '部门', id: '编号', question: '问题',
    options: '选项', value: '值', label: '显示文字', title: '标题', channel: '渠道', description: '说明'
  };
  const ROLE_TITLES = { agent: '坐席', editor: '编辑', reviewer: '审核员', admin: '管理员' };
  const EDIT_ROLES = ['editor', 'admin'];
  const REVIEW_ROLES = ['reviewer', 'admin'];
  const TRIAGE_ROLES = ['editor', 'reviewer', 'admin'];
  const UNSURE = 'unsure';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const COLORS = { answered: '#1b7f3b', abstained: '#b35c00', handed_off: '#0b3d91', other: '#8a919c' };
  const OUTCOMES = { answered: '已回答', abstained: '未能回答', handed_off: '转人工', other: '其他' };

  const state = {
    me: null,
    csrf: '',
    view: 'entries',
    entries: [],
    ids: [],
    current: null,   // the loaded entry (EntryPublic), null for a new one
    isNew: false,
    dirty: false,
    pendingSave: null,
    filterTimer: 0,
    versions: null,
    gapNoise: false   // show the noise clusters too
  };

  /* ------------------------------------------------------------------ helpers */

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === 'className') node.setAttribute('class', v);
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'dataset') Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
      else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
  }

  function append(node, children) {
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function has(roles) { return !!state.me && roles.indexOf(state.me.role) >= 0; }

  function when(iso) {
    if (!iso) return '';
    const text = /[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + 'Z';
    const d = new Date(text);
    if (isNaN(d.getTime())) return String(iso);
    const pad = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  function isoDay(d) {
    const pad = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  }

  function show(text) {
    const n = $('notice');
    n.textContent = text;
    n.hidden = !text;
    clearTimeout(show.timer);
    if (text) show.timer = setTimeout(function () { n.hidden = true; }, 8000);
  }

  function pct(x) { return (x === null || x === undefined) ? '—' : (Math.round(x * 1000) / 10) + '%'; }

  function errorText(res) {
    const d = res && res.data;
    if (d && typeof d.detail === 'string') return d.detail;
    if (res && res.status === 0) return '网络连接失败，请稍后重试。';
    return '操作失败（' + (res ? res.status : '?') + '）。';
  }

  /** fetch wrapper: resolves {ok, status, data}; 401 sends the user back to the login form. */
  function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    return fetch(path, { method: method, headers: headers, body: payload, credentials: 'same-origin' })
      .then(function (r) {
        return r.text().then(function (t) {
          let data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { data = { detail: t }; }
          if (r.status === 401 && path !== '/api/auth/login' && path !== '/api/auth/me') loggedOut();
          return { ok: r.ok, status: r.status, data: data };
        });
      }, function () { return { ok: false, status: 0, data: null }; });
  }

  /* -------------------------------------------------------------- login */

  function loggedOut() {
    state.me = null;
    state.csrf = '';
    state.current = null;  // the next person starts from the list, not from the last one's entry
    state.dirty = false;
    $('editor').hidden = true;
    $('editor-empty').hidden = false;
    $('login-view').hidden = false;
    $('tabs').hidden = true;
    $('whoami').hidden = true;
    document.querySelectorAll('.view').forEach(function (v) { v.hidden = true; });
  }

  function start(session) {
    state.me = session.user;
    state.csrf = session.csrf_token;
    $('login-view').hidden = true;
    $('tabs').hidden = false;
    $('whoami').hidden = false;
    $('whoami-name').textContent = session.user.username + '（' + (ROLE_TITLES[session.user.role] || session.user.role) + '）';
    $('new-entry').hidden = !has(EDIT_ROLES);
    $('import-box').hidden = !has(EDIT_ROLES);
    $('import-publish-label').hidden = false;
    if (session.user.role === 'agent') show('坐席账号可以查看知识库，但不能修改。');
    switchView('entries');
  }

  function login(ev) {
    ev.preventDefault();
    $('login-error').textContent = '';
    const body = { username: $('login-username').value.trim(), password: $('login-password').value };
    if (!body.username || !body.password) { $('login-error').textContent = '请输入用户名和密码。'; return; }
    $('login-submit').disabled = true;
    api('POST', '/api/auth/login', body).then(function (res) {
      $('login-submit').disabled = false;
      if (!res.ok) { $('login-error').textContent = errorText(res); return; }
      $('login-password').value = '';
      start(res.data);
    });
  }

  function logout() {
    api('POST', '/api/auth/logout').then(function () { loggedOut(); });
  }

  /* -------------------------------------------------------------- views */

  function switchView(name) {
    if (name !== 'entries' && !confirmLeave()) return;
    state.view = name;
    document.querySelectorAll('#tabs .tab').forEach(function (t) {
      t.setAttribute('aria-pressed', String(t.dataset.view === name));
    });
    document.querySelectorAll('.view').forEach(function (v) { v.hidden = v.id !== 'view-' + name; });
    if (name === 'entries') loadList();
    if (name === 'gaps') loadGaps();
    if (name === 'dashboard') loadStats();
    if (name === 'audit') loadAudit();
    if (name === 'transfer') updateExportLinks();
  }

  function confirmLeave() {
    return !state.dirty || window.confirm('当前条目有未保存的修改，确定要离开吗？');
  }

  /* ----------------------------------------------------------- entry list */

  function loadList() {
    const params = new URLSearchParams();
    const q = $('entry-search').value.trim();
    if (q) params.set('q', q);
    [['kind', 'filter-kind'], ['category', 'filter-category'], ['status', 'filter-status'],
      ['reviewed_before_days', 'filter-reviewed']].forEach(function (pair) {
      const v = $(pair[1]).value;
      if (v) params.set(pair[0], v);
    });
    return api('GET', '/api/entries?' + params.toString()).then(function (res) {
      if (!res.ok) { show(errorText(res)); return; }
      state.entries = res.data.data;
      if (!params.toString()) {
        state.ids = res.data.data.map(function (e) { return { id: e.id, title: e.title }; });
        fillCategories(res.data.data);
        fillIdList();
      }
      renderList();
    });
  }

  function fillCategories(entries) {
    const select = $('filter-category');
    const chosen = select.value;
    const cats = Array.from(new Set(entries.map(function (e) { return e.category; }))).sort();
    while (select.options.length > 1) select.remove(1);
    cats.forEach(function (c) { select.appendChild(el('option', { value: c, text: c })); });
    select.value = chosen;
  }

  function fillIdList() {
    let list = $('entry-ids');
    if (!list) { list = el('datalist', { id: 'entry-ids' }); document.body.appendChild(list); }
    clear(list);
    state.ids.forEach(function (e) { list.appendChild(el('option', { value: e.id, label: e.title })); });
  }

  function renderList() {
    const list = $('entry-list');
    clear(list);
    $('entry-count').textContent = '共 ' + state.entries.length + ' 条';
    state.entries.forEach(function (e) {
      const selected = state.current && state.current.id === e.id;
      // a list item holding a button: the list stays a list for screen readers, the row is one control
      const row = el('button', {
        type: 'button',
        className: 'entry-row' + (selected ? ' selected' : ''),
        'aria-current': selected ? 'true' : null,
        dataset: { id: e.id },
        onclick: function () { openEntry(e.id); }
      }, [
        el('span', { className: 'row-title', text: e.title }),
        el('span', { className: 'badge badge-' + e.status, text: STATUS[e.status] || e.status }),
        el('span', { className: 'row-meta', text: e.id + ' · ' + (KINDS[e.kind] || e.kind) + ' · ' + e.category +
          (e.live_version ? ' · 线上 v' + e.live_version : '') + ' · ' + (e.reviewed_at ? '审核 ' + e.reviewed_at : '未审核') })
      ]);
      list.appendChild(el('li', {}, [row]));
    });
  }

  /* ----------------------------------------------------------- entry editor */

  function openEntry(id) {
    if (!confirmLeave()) return Promise.resolve();
    return api('GET', '/api/entries/' + encodeURIComponent(id)).then(function (res) {
      if (!res.ok) { show(errorText(res)); return; }
      loadEntry(res.data);
    });
  }

  function loadEntry(data) {
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

  function reviewing(c) { return !!(c && c.status === 'review' && has(REVIEW_ROLES)); }

  function newEntry(prefill) {
    if (!confirmLeave()) return;
    state.current = null;
    state.isNew = true;
    buildForm(Object.assign({
      id: '', title: '', kind: 'matter', category: '', audience: ['个人'], summary: '',
      source: '岳阳市行政审批服务局', sample: true, reviewed_at: null,
      online: { name: '湘易办', url: '', note: '' }
    }, prefill || {}));
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
    $('entry-status').textContent = state.isNew ? '未保存' : (STATUS[status] || status);
    $('entry-status').className = 'badge badge-' + (state.isNew ? 'new' : status);
    const meta = [];
    if (c) {
      meta.push(c.id);
      meta.push(c.live_status ? '线上版本 v' + c.live_version + (c.live_status === 'unpublished' ? '（已下线）' : '') : '尚未发布');
      if (c.has_draft) meta.push('有待发布的修改');
      if (c.updated_by) meta.push('最后操作：' + c.updated_by + ' ' + when(c.updated_at));
    }
    $('entry-meta').textContent = meta.join(' · ');
    const comment = c && c.comment && c.status === 'draft' ? c.comment : '';
    $('review-comment').hidden = !comment;
    $('review-comment').textContent = comment ? '审核退回意见：' + comment : '';

    const hasDraft = !!(c && c.has_draft);
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
    $('discard').textContent = hasDraft ? (c.live_status ? '放弃修改' : '删除草稿') : '删除条目';
    $('rollback-box').hidden = !canReview;
    $('workflow-hint').textContent = workflowHint(c, status, canEdit, canReview, hasDraft);
    const banner = $('review-banner');
    banner.hidden = !reviewing(c);
    banner.textContent = reviewing(c)
      ? (c.submitted_by ? c.submitted_by + ' 提交了这份修改。' : '这份修改等待审核。') +
        (c.live_version ? '“版本与对比”里列出了它与线上版本 v' + c.live_version + ' 的全部差别；“预览”可看市民将看到的卡片，“试一试”可测试问法。'
          : '这是新条目，尚未发布过：请在“内容”“预览”里检查，用“试一试”测试问法。') +
        (canEdit ? '' : '审核员不能直接修改内容，需要修改请“退回修改”并写明意见。')
      : '';
    document.querySelectorAll('#entry-form input, #entry-form select, #entry-form textarea, #entry-form button')
      .forEach(function (n) { n.disabled = !canEdit; });
    if (c) { const idInput = document.querySelector('#entry-form [data-path="id"] input'); if (idInput) idInput.readOnly = true; }
  }

  function workflowHint(c, status, canEdit, canReview, hasDraft) {
    if (!c) return canEdit ? '保存草稿后可以提交审核；发布前市民看到的仍是线上版本。' : '';
    const parts = [];
    if (canReview && status === 'review') {
      parts.push('“审核通过并发布”：这份修改立即成为线上新版本（几秒内对市民生效），并记录为经您审核；“退回修改”：附意见退给编辑，线上内容不变。');
    } else if (canReview && !hasDraft && c.live_status === 'unpublished') {
      parts.push('“重新上线”：把已下线的条目按最后发布的版本恢复上线。');
    }
    if (canEdit && status !== 'review') parts.push('修改后先“保存草稿”，可用“试一试”测试问法，再“提交审核”；审核员审核通过后才会发布。');
    if (canEdit && status === 'review') parts.push('这份修改在等待审核；再次保存会把它撤回为草稿。');
    return parts.join(' ');
  }

  function currentPanel() {
    const sel = document.querySelector('.subtab[aria-selected="true"]');
    return sel ? sel.dataset.panel : 'form';
  }

  function showPanel(name) {
    if (state.isNew && name === 'history') name = 'form';
    document.querySelectorAll('.subtab').forEach(function (t) { t.setAttribute('aria-selected', String(t.dataset.panel === name)); });
    document.querySelectorAll('.panel').forEach(function (p) { p.hidden = p.dataset.panel !== name; });
    if (name === 'preview') renderPreview();
    if (name === 'history') loadHistory();
    if (name === 'trial') trialExamples();
  }

  /* ---- the structured form ---- */

  function fieldError() { return el('p', { className: 'field-error', role: 'alert' }); }

  function input(key, value, attrs) {
    return el('input', Object.assign({ 'data-input': key, value: value === null || value === undefined ? '' : String(value) }, attrs || {}));
  }

  function field(label, path, control, hint) {
    return el('div', { className: 'field', 'data-path': path }, [
      el('label', {}, [el('span', { className: 'label', text: label }), control]),
      hint ? el('span', { className: 'hint', text: hint }) : null,
      fieldError()
    ]);
  }

  function sub(label, key, control, extraClass) {
    return el('div', { className: 'sub' + (extraClass ? ' ' + extraClass : ''), 'data-key': key }, [
      el('label', {}, [el('span', { className: 'label', text: label }), control]),
      fieldError()
    ]);
  }

  function select(key, value, options) {
    const s = el('select', { 'data-input': key });
    Object.keys(options).forEach(function (v) { s.appendChild(el('option', { value: v, text: options[v] })); });
    s.value = value;
    return s;
  }

  function rowControls(row) {
    return el('span', { className: 'row-controls' }, [
      el('button', { type: 'button', className: 'btn btn-small', title: '上移', 'aria-label': '上移', text: '↑',
        onclick: function () { if (row.previousElementSibling) { row.parentNode.insertBefore(row, row.previousElementSibling); changed(); } } }),
      el('button', { type: 'button', className: 'btn btn-small', title: '下移', 'aria-label': '下移', text: '↓',
        onclick: function () { if (row.nextElementSibling) { row.parentNode.insertBefore(row.nextElementSibling, row); changed(); } } }),
      el('button', { type: 'button', className: 'btn btn-small btn-remove', title: '删除此行', 'aria-label': '删除此行', text: '×',
        onclick: function () { row.parentNode.removeChild(row); changed(); } })
    ]);
  }

  /** A repeatable list: `make(item)` builds the inside of one row. */
  function list(label, path, items, make, empty, rowClass, hint) {
    const rows = el('ol', { className: 'rows' });
    function add(item) {
      const row = el('li', { className: 'row ' + (rowClass || '') });
      append(row, [el('div', { className: 'row-body' }, make(item)), rowControls(row), fieldError()]);
      rows.appendChild(row);
      return row;
    }
    (items || []).forEach(add);
    return el('fieldset', { className: 'field list-field', 'data-path': path }, [
      el('legend', { text: label }),
      hint ? el('p', { className: 'hint', text: hint }) : null,
      rows,
      el('button', { type: 'button', className: 'btn btn-small add-row', text: '＋ 添加',
        onclick: function () { const r = add(JSON.parse(JSON.stringify(empty))); const f = r.querySelector('input, textarea, select'); if (f) f.focus(); changed(); } }),
      fieldError()
    ]);
  }

  function textRow(item) { return [input('text', item, { 'aria-label': '内容' })]; }

  function buildForm(e) {
    const form = $('entry-form');
    clear(form);
    const kind = select('kind', e.kind || 'matter', KINDS);
    const audience = el('span', { className: 'checks', 'data-input': 'audience' }, ['个人', '法人'].map(function (a) {
      return el('label', { className: 'inline' }, [
        el('input', { type: 'checkbox', value: a, checked: (e.audience || []).indexOf(a) >= 0 }), a
      ]);
    }));
    const tl = e.time_limit || {};
    const loc = e.location || {};
    const online = e.online || {};
    append(form, [
      el('p', { className: 'field-error form-error', role: 'alert' }),
      section('基本信息', [
        field('编号', 'id', input('value', e.id, { placeholder: '如 dog-license', maxlength: '80' }), '小写字母、数字和连字符；保存后不能修改'),
        field('标题', 'title', input('value', e.title, { maxlength: '80' })),
        el('div', { className: 'field-row' }, [
          field('类型', 'kind', kind),
          field('主题分类', 'category', input('value', e.category, { maxlength: '80' })),
          field('服务对象', 'audience', audience)
        ]),
        field('概述', 'summary', el('textarea', { 'data-input': 'value', rows: '3', text: e.summary || '' })),
        el('div', { className: 'field-row' }, [
          field('来源', 'source', input('value', e.source)),
          field('审核日期', 'reviewed_at', input('value', e.reviewed_at, { type: 'date', readonly: true }), '审核通过发布时自动填写'),
          field('示例数据', 'sample', el('input', { type: 'checkbox', 'data-input': 'checked', checked: !!e.sample }), '待政务部门核实')
        ])
      ]),
      section('市民怎么问', [
        list('别名', 'aliases', e.aliases, textRow, ''),
        list('相似问法', 'similar_questions', e.similar_questions, textRow, '', '', '市民的原话，至少 5 条为宜')
      ]),
      section('联办事项与条件', [
        list('联办事项', 'bundled_matters', e.bundled_matters, function (m) {
          return [sub('事项名称', 'name', input('value', m.name)), sub('负责部门', 'department', input('value', m.department))];
        }, { name: '', department: '' }, 'grid-2', '“一件事”至少两个'),
        list('申请条件', 'conditions', e.conditions, textRow, '')
      ]),
      section('情形问题', [
        list('情形问题', 'situations', e.situations, situationRow,
          { id: '', question: '', options: [{ value: 'yes', label: '是' }, { value: 'no', label: '否' }] }, 'situation-row',
          '用于判断哪些材料需要提交；选项默认是/否')
      ]),
      section('申请材料', [
        list('申请材料', 'materials', e.materials, materialRow,
          { name: '', form: '原件', copies: 1, required: true, condition: {}, condition_text: '', waivable: false, matters: [], notes: '' },
          'material-row')
      ]),
      section('办理流程与时限', [
        list('办理流程', 'steps', e.steps, function (s) {
          return [sub('步骤', 'title', input('value', s.title)), sub('渠道', 'channel', select('channel', s.channel || 'offline', CHANNELS)),
            sub('说明', 'description', el('textarea', { 'data-input': 'value', rows: '2', text: s.description || '' }), 'wide')];
        }, { title: '', channel: 'offline', description: '' }, 'grid-3'),
        el('div', { className: 'field-row' }, [
          field('承诺时限（工作日，0 为即办）', 'time_limit.promised_days', input('value', tl.promised_days, { type: 'number', min: '0', step: '0.5' })),
          field('法定时限（工作日）', 'time_limit.legal_days', input('value', tl.legal_days, { type: 'number', min: '0', step: '0.5' }))
        ]),
        field('时限说明', 'time_limit.note', input('value', tl.note)),
        field('收费标准', 'fees', input('value', e.fees))
      ]),
      section('办理地点与联系方式', [
        field('办理窗口', 'location.window', input('value', loc.window)),
        field('地址', 'location.address', input('value', loc.address)),
        el('div', { className: 'field-row' }, [
          field('办公时间', 'location.hours', input('value', loc.hours)),
          field('地图链接', 'location.map_url', input('value', loc.map_url))
        ]),
        el('div', { className: 'field-row' }, [
          field('咨询电话', 'phone', input('value', e.phone)),
          field('网上办理平台', 'online.name', input('value', online.name)),
          field('网上办理网址', 'online.url', input('value', online.url))
        ]),
        field('网上办理说明', 'online.note', input('value', online.note))
      ]),
      section('依据与关联', [
        list('设定依据', 'legal_basis', e.legal_basis, textRow, ''),
        list('相关条目', 'related', e.related, function (r) { return [input('text', r, { list: 'entry-ids', 'aria-label': '条目编号' })]; }, '')
      ])
    ]);
    refreshSituationLists();
    state.dirty = false;
  }

  function section(title, children) {
    return el('section', { className: 'form-section' }, [el('h3', { text: title })].concat(children));
  }

  function situationRow(s) {
    const options = list('选项', 'options', s.options, function (o) {
      return [sub('值', 'value', input('value', o.value, { placeholder: 'yes' })), sub('显示文字', 'label', input('value', o.label, { placeholder: '是' }))];
    }, { value: '', label: '' }, 'grid-2');
    options.setAttribute('data-key', 'options');
    options.removeAttribute('data-path');
    return [
      sub('编号', 'id', input('value', s.id, { placeholder: '如 married', 'data-situation-id': '1' })),
      sub('问题', 'question', input('value', s.question, { placeholder: '如 父母是否已登记结婚？' }), 'wide'),
      options
    ];
  }

  function materialRow(m) {
    const conditions = [];
    Object.keys(m.condition || {}).forEach(function (k) {
      const v = m.condition[k];
      (Array.isArray(v) ? v : [v]).forEach(function (one) { conditions.push({ situation: k, value: one }); });
    });
    const cond = list('适用条件（全部满足时需要；不填表示都需要）', 'condition', conditions, function (c) {
      return [
        sub('情形编号', 'situation', input('value', c.situation, { list: 'situation-ids' })),
        sub('取值', 'value', input('value', c.value, { list: 'option-values' }))
      ];
    }, { situation: '', value: '' }, 'grid-2');
    cond.setAttribute('data-key', 'condition');
    cond.removeAttribute('data-path');
    return [
      sub('材料名称', 'name', input('value', m.name, { className: 'material-name' }), 'wide'),
      sub('形式', 'form', select('form', m.form || '原件', FORMS.reduce(function (o, f) { o[f] = f; return o; }, {}))),
      sub('份数', 'copies', input('value', m.copies, { type: 'number', min: '0', max: '20' })),
      sub('必需', 'required', el('input', { type: 'checkbox', 'data-input': 'checked', checked: m.required !== false })),
      sub('可免提交（数据共享）', 'waivable', el('input', { type: 'checkbox', 'data-input': 'checked', checked: !!m.waivable })),
      cond,
      sub('条件说明', 'condition_text', input('value', m.condition_text, { placeholder: '如 父母已登记结婚的' }), 'wide'),
      sub('所属联办事项（用“、”分隔）', 'matters', input('value', (m.matters || []).join('、')), 'wide'),
      sub('备注', 'notes', input('value', m.notes), 'wide')
    ];
  }

  function refreshSituationLists() {
    const ids = new Set();
    const values = new Set();
    document.querySelectorAll('#entry-form [data-path="situations"] > .rows > .row').forEach(function (row) {
      const id = valueOf(row, 'id');
      if (id) ids.add(id);
      rowsOf(row.querySelector('[data-key="options"]')).forEach(function (o) { const v = valueOf(o, 'value'); if (v) values.add(v); });
    });
    [['situation-ids', ids], ['option-values', values]].forEach(function (pair) {
      let dl = $(pair[0]);
      if (!dl) { dl = el('datalist', { id: pair[0] }); document.body.appendChild(dl); }
      clear(dl);
      pair[1].forEach(function (v) { dl.appendChild(el('option', { value: v })); });
    });
  }

  function changed() {
    state.dirty = true;
    refreshSituationLists();
  }

  /* ---- reading the form back ---- */

  function rowsOf(container) {
    if (!container) return [];
    const rows = container.querySelector(':scope > .rows');
    return rows ? Array.from(rows.children) : [];
  }

  function control(scope, key) {
    const wrap = scope.querySelector('[data-key="' + key + '"]');
    return wrap ? wrap.querySelector('[data-input]') : null;
  }

  function valueOf(scope, key) {
    const c = control(scope, key);
    if (!c) return '';
    if (c.getAttribute('data-input') === 'checked') return c.checked;
    return c.value.trim();
  }

  function top(path) {
    const wrap = document.querySelector('#entry-form [data-path="' + path + '"]');
    const c = wrap ? wrap.querySelector('[data-input]') : null;
    if (!c) return '';
    if (c.getAttribute('data-input') === 'checked') return c.checked;
    return c.value.trim();
  }

  function topList(path) {
    return rowsOf(document.querySelector('#entry-form [data-path="' + path + '"]'))
      .map(function (r) { return r.querySelector('[data-input]').value.trim(); })
      .filter(function (v) { return v; });
  }

  function records(container, keys) {
    return rowsOf(container).map(function (r) {
      const out = {};
      keys.forEach(function (k) { out[k] = valueOf(r, k); });
      return out;
    }).filter(function (o) { return keys.some(function (k) { return o[k] !== '' && o[k] !== false; }); });
  }

  function number(v) { return v === '' ? null : Number(v); }

  function collect() {
    const form = $('entry-form');
    const e = {
      id: top('id'),
      title: top('title'),
      kind: top('kind'),
      category: top('category'),
      audience: Array.from(form.querySelectorAll('[data-path="audience"] input:checked')).map(function (c) { return c.value; }),
      aliases: topList('aliases'),
      similar_questions: topList('similar_questions'),
      summary: top('summary'),
      bundled_matters: records(form.querySelector('[data-path="bundled_matters"]'), ['name', 'department']),
      conditions: topList('conditions'),
      situations: rowsOf(form.querySelector('[data-path="situations"]')).map(function (r) {
        return { id: valueOf(r, 'id'), question: valueOf(r, 'question'),
          options: records(r.querySelector('[data-key="options"]'), ['value', 'label']) };
      }).filter(function (s) { return s.id || s.question; }),
      materials: rowsOf(form.querySelector('[data-path="materials"]')).map(function (r) {
        const condition = {};
        records(r.querySelector('[data-key="condition"]'), ['situation', 'value']).forEach(function (c) {
          if (!(c.situation in condition)) condition[c.situation] = c.value;
          else condition[c.situation] = [].concat(condition[c.situation], [c.value]);
        });
        const copies = valueOf(r, 'copies');
        return {
          name: valueOf(r, 'name'), form: valueOf(r, 'form'), copies: copies === '' ? '' : Number(copies),
          required: valueOf(r, 'required'), condition: condition, condition_text: valueOf(r, 'condition_text'),
          waivable: valueOf(r, 'waivable'),
          matters: valueOf(r, 'matters').split(/[、,，\n]+/).map(function (s) { return s.trim(); }).filter(Boolean),
          notes: valueOf(r, 'notes')
        };
      }).filter(function (m) { return m.name || m.condition_text || m.notes; }),
      steps: records(form.querySelector('[data-path="steps"]'), ['title', 'channel', 'description'])
        .filter(function (s) { return s.title || s.description; }),
      time_limit: { promised_days: number(top('time_limit.promised_days')), legal_days: number(top('time_limit.legal_days')), note: top('time_limit.note') },
      fees: top('fees'),
      location: { window: top('location.window'), address: top('location.address'), hours: top('location.hours'), map_url: top('location.map_url') },
      phone: top('phone'),
      online: { name: top('online.name'), url: top('online.url'), note: top('online.note') },
      legal_basis: topList('legal_basis'),
      related: topList('related'),
      source: top('source'),
      sample: top('sample'),
      reviewed_at: top('reviewed_at') || null
    };
    if (state.current) { e.status = state.current.entry.status; e.version = state.current.entry.version; }
    // fields this form does not edit yet (bureau profile / issue 18) are kept as loaded
    ['tags', 'pilot', 'departments', 'claims', 'sites', 'site_overrides', 'official_source'].forEach(function (k) {
      if (state.current && state.current.entry && k in state.current.entry) e[k] = state.current.entry[k];
    });
    return e;
  }

  /* ---- validation errors beside their field ---- */

  function clearErrors() {
    document.querySelectorAll('#entry-form .field-error').forEach(function (n) { n.textContent = ''; });
    document.querySelectorAll('#entry-form .invalid').forEach(function (n) { n.classList.remove('invalid'); });
  }

  function slotFor(path) {
    const form = $('entry-form');
    const exact = form.querySelector('[data-path="' + path + '"]');
    let node = exact;
    if (!node) {
      const parts = path.split('.');
      node = form.querySelector('[data-path="' + parts[0] + '"]');
      for (let i = 1; node && i < parts.length; i += 1) {
        const p = parts[i];
        let next = null;
        if (/^\d+$/.test(p)) next = rowsOf(node)[Number(p)] || null;
        else if (p === 'condition' || p === 'options') next = node.querySelector('[data-key="' + p + '"]');
        else next = node.querySelector(':scope > .row-body > [data-key="' + p + '"]') || node.querySelector('[data-key="' + p + '"]');
        if (!next) break;
        node = next;
      }
    }
    node = node || form;
    const slot = node.querySelector(':scope > .field-error') || form.querySelector('.form-error');
    return { node: node, slot: slot };
  }

  function showErrors(errors) {
    clearErrors();
    let first = null;
    (errors || []).forEach(function (err) {
      const path = err.field || (err.loc || []).filter(function (p) { return p !== 'body' && p !== 'entry'; }).join('.');
      const target = slotFor(path);
      target.slot.textContent = (target.slot.textContent ? target.slot.textContent + '；' : '') + (err.message || err.msg);
      target.node.classList.add('invalid');
      first = first || target.node;
    });
    if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center' });
    showPanel('form');
  }

  /* ---- workflow ---- */

  function busy(on) {
    document.querySelectorAll('.workflow button').forEach(function (b) { b.disabled = on; });
  }

  function afterWrite(res, message, fromSave) {
    busy(false);
    if (res.ok) {
      const data = res.data && res.data.entry && res.data.lock_version === undefined ? res.data.entry : res.data;
      if (data && data.id) loadEntry(data);
      show(message);
      loadList();
      return true;
    }
    if (res.status === 422 && res.data && res.data.errors) { showErrors(res.data.errors); $('editor-error').textContent = '内容有误，请按提示修改后再保存。'; return false; }
    if (res.status === 409 && res.data && res.data.conflict) { showConflict(res.data, !!fromSave); return false; }
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
      : api('PUT', '/api/entries/' + encodeURIComponent(state.current.id),
        { entry: entry, lock_version: lockOverride !== undefined ? lockOverride : state.current.lock_version });
    state.pendingSave = entry;
    return req.then(function (res) {
      const ok = afterWrite(res, state.isNew ? '已新建草稿。' : '已保存草稿。市民看到的仍是线上版本，发布后才会更新。', true);
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
      $('conflict-text').textContent = '条目「' + state.current.id + '」在您打开之后已被 ' + body.updated_by +
        ' 修改，操作没有执行。请载入最新版本，看过修改后再操作。';
      return;
    }
    $('conflict-text').textContent = body.detail;
    list.appendChild(el('li', { className: 'hint', text: '已保存的版本与您的版本的差别（您的内容 → 已保存的内容）：' }));
    (body.changes || []).forEach(function (c) { list.appendChild(changeItem(c)); });
    if (!(body.changes || []).length) list.appendChild(el('li', { text: '（内容相同，对方可能只提交或退回了审核）' }));
    $('conflict-overwrite').onclick = function () {
      if (!window.confirm('确定在最新版本上保存您的修改吗？对方的上述修改将被您的内容替换（仍可在版本记录中找到已发布的版本）。')) return;
      $('conflict').hidden = true;
      save(body.lock_version);
    };
  }

  function workflow(action, body, message) {
    const id = state.current.id;
    busy(true);
    return api('POST', '/api/entries/' + encodeURIComponent(id) + '/' + action, body || { lock_version: state.current.lock_version })
      .then(function (res) { return afterWrite(res, message); });
  }

  function submit() {
    const go = function () { workflow('submit', undefined, '已提交审核。'); };
    if (state.dirty) save().then(function (ok) { if (ok) go(); });
    else go();
  }

  function discard() {
    const c = state.current;
    const text = c.has_draft ? '确定放弃未发布的修改吗？' : '确定删除这个已下线的条目吗？（已发布的版本记录会保留）';
    if (!window.confirm(text)) return;
    busy(true);
    api('DELETE', '/api/entries/' + encodeURIComponent(c.id) + '?lock_version=' + c.lock_version).then(function (res) {
      busy(false);
      if (!res.ok) { $('editor-error').textContent = errorText(res); return; }
      state.dirty = false;
      if (res.data.entry) loadEntry(res.data.entry);
      else { state.current = null; $('editor').hidden = true; $('editor-empty').hidden = false; }
      show(c.has_draft ? '已放弃修改。' : '条目已删除。');
      loadList();
    });
  }

  /* ---- preview ---- */

  function renderPreview() {
    const entry = collect();
    const answersBox = $('preview-answers');
    const previous = {};
    answersBox.querySelectorAll('select').forEach(function (s) { previous[s.dataset.situation] = s.value; });
    clear(answersBox);
    (entry.situations || []).forEach(function (s) {
      const sel = el('select', { dataset: { situation: s.id }, onchange: renderPreview });
      sel.appendChild(el('option', { value: '', text: '（未回答）' }));
      s.options.forEach(function (o) { sel.appendChild(el('option', { value: o.value, text: o.label })); });
      sel.appendChild(el('option', { value: UNSURE, text: '不确定' }));
      sel.value = previous[s.id] || '';
      answersBox.appendChild(el('label', { className: 'inline' }, [s.question + ' ', sel]));
    });
    const answers = {};
    answersBox.querySelectorAll('select').forEach(function (s) { if (s.value) answers[s.dataset.situation] = s.value; });
    $('preview-error').textContent = '';
    api('POST', '/api/entries/preview', { entry: entry, answers: answers }).then(function (res) {
      if (!res.ok) {
        $('preview-error').textContent = res.data && res.data.errors ? '内容有误，无法预览：' + res.data.detail : errorText(res);
        return;
      }
      renderCard($('preview-card'), res.data.card);
      $('preview-guide').srcdoc = res.data.guide_html;  // server-rendered and escaped; sandboxed, no scripts
    });
  }

  function renderCard(box, card) {
    clear(box);
    append(box, [
      el('h4', { text: card.title }),
      card.summary ? el('p', { className: 'card-summary', text: card.summary }) : null,
      card.sample ? el('p', { className: 'card-sample', text: '示例数据：内容待核实' }) : null
    ]);
    card.sections.forEach(function (s) {
      const items = s.key === 'materials' && s.items
        ? s.items.map(function (m) {
          return el('li', {}, [
            el('strong', { text: m.name }), '（' + m.form + (m.copies > 1 ? '，' + m.copies + '份' : '') + '）',
            m.conditional ? el('span', { className: 'tag', text: '如属' + m.condition }) : null,
            m.waivable ? el('span', { className: 'tag tag-green', text: '可免提交' }) : null,
            m.notes ? el('span', { className: 'hint', text: ' ' + m.notes }) : null
          ]);
        })
        : s.lines.map(function (line) { return el('li', { text: line }); });
      append(box, [el('h5', { text: s.title }), el('ol', {}, items)]);
    });
    if (card.missing && card.missing.length) box.appendChild(el('p', { className: 'hint', text: '暂无：' + card.missing.join('、') }));
    box.appendChild(el('p', { className: 'card-source', text: '来源：' + card.source + '；' + (card.review_status || ('审核日期：' + card.reviewed_at)) + '；' + card.notice }));
  }

  /* ---- 试一试 ---- */

  function trialExamples() {
    const box = $('trial-examples');
    clear(box);
    const entry = collect();
    const examples = [entry.title].concat(entry.similar_questions || []).filter(Boolean).slice(0, 4);
    if (!examples.length) return;
    box.appendChild(el('span', { className: 'hint', text: '试试：' }));
    examples.forEach(function (q) {
      box.appendChild(el('button', { type: 'button', className: 'btn btn-small', text: q, onclick: function () {
        $('trial-question').value = q;
        runTrial();
      } }));
    });
  }

  function runTrial(ev) {
    if (ev) ev.preventDefault();
    const question = $('trial-question').value.trim();
    $('trial-error').textContent = '';
    const box = $('trial-result');
    if (!question) { $('trial-error').textContent = '请输入一个问题。'; return; }
    clear(box);
    box.appendChild(el('p', { className: 'hint', text: '正在测试…' }));
    api('POST', '/api/entries/try', { entry: collect(), question: question }).then(function (res) {
      clear(box);
      if (!res.ok) {
        $('trial-error').textContent = res.data && res.data.errors ? '内容有误，无法测试：' + res.data.detail : errorText(res);
        return;
      }
      const d = res.data;
      const good = d.rank === 1 && d.answerable && !d.ambiguous;
      append(box, [
        el('p', { className: 'trial-verdict ' + (good ? 'good' : 'bad'), text: d.verdict }),
        el('dl', { className: 'trial-facts' }, [
          el('dt', { text: '回答哪一部分' }), el('dd', { text: d.part_title }),
          el('dt', { text: '本条目匹配度' }), el('dd', { text: d.score === null ? '不在前 5 名' : pct(d.score) + '（第 ' + d.rank + ' 名）' }),
          el('dt', { text: '助手的做法' }), el('dd', { text: !d.answerable ? '说没找到，建议转人工' : d.ambiguous ? '请市民在前两名中选择' : '直接回答第 1 名' })
        ]),
        el('ol', { className: 'trial-ranking', 'aria-label': '排名' }, d.results.map(function (r) {
          return el('li', { className: r.this ? 'this' : '' }, [
            el('span', { text: r.title + (r.this ? '（本条目）' : '') }),
            el('span', { className: 'hint', text: ' ' + pct(r.score) })
          ]);
        }))
      ]);
    });
  }

  /* ---- versions, diff, rollback ---- */

  function loadHistory() {
    const c = state.current;
    if (!c) return;
    const id = encodeURIComponent(c.id);
    api('GET', '/api/entries/' + id + '/versions').then(function (res) {
      if (!res.ok) { $('editor-error').textContent = errorText(res); return; }
      state.versions = res.data;
      renderVersions(res.data);
    });
    api('GET', '/api/audit?entry_id=' + id).then(function (res) {
      const box = $('entry-audit');
      clear(box);
      if (!res.ok) return;
      res.data.data.forEach(function (a) { box.appendChild(auditItem(a)); });
      if (!res.data.data.length) box.appendChild(el('li', { className: 'hint', text: '暂无操作记录。' }));
    });
  }

  function renderVersions(v) {
    const box = $('versions');
    clear(box);
    v.data.forEach(function (ver, i) {
      const prev = v.data[i + 1];
      box.appendChild(el('li', { className: 'version' + (ver.live ? ' live' : ''), dataset: { version: String(ver.version) } }, [
        el('strong', { text: '版本 ' + ver.version }),
        ver.live ? el('span', { className: 'badge badge-published', text: '线上' }) : null,
        el('span', { className: 'hint', text: ' ' + when(ver.created_at) + ' · ' + ver.author }),
        ver.notes.length ? el('span', { className: 'hint', text: ' · ' + ver.notes.join('；') }) : null,
        prev ? el('button', { type: 'button', className: 'btn btn-small', text: '与上一版对比',
          onclick: function () { $('diff-a').value = String(prev.version); $('diff-b').value = String(ver.version); showDiff(); } }) : null
      ]));
    });
    if (!v.data.length) box.appendChild(el('li', { className: 'hint', text: '尚未发布过。' }));
    const refs = v.data.map(function (ver) { return [String(ver.version), '版本 ' + ver.version + (ver.live ? '（线上）' : '')]; });
    if (v.has_draft) refs.unshift(['draft', '待发布的修改']);
    ['diff-a', 'diff-b'].forEach(function (idn) {
      const s = $(idn);
      clear(s);
      refs.forEach(function (r) { s.appendChild(el('option', { value: r[0], text: r[1] })); });
    });
    if (v.has_draft && v.live_version) { $('diff-a').value = String(v.live_version); $('diff-b').value = 'draft'; }
    else if (v.data.length > 1) { $('diff-a').value = String(v.data[1].version); $('diff-b').value = String(v.data[0].version); }
    const rb = $('rollback-version');
    clear(rb);
    v.data.filter(function (ver) { return !ver.live; }).forEach(function (ver) {
      rb.appendChild(el('option', { value: String(ver.version), text: '版本 ' + ver.version + '（' + when(ver.created_at) + '）' }));
    });
    $('rollback').disabled = !rb.options.length;
    clear($('diff-view'));
    if ((v.has_draft && v.live_version) || v.data.length > 1) showDiff();
  }

  function changeItem(c) {
    const parts = [el('span', { className: 'op op-' + c.op, text: OPS[c.op] || c.op }), el('span', { className: 'change-label', text: c.label })];
    if (c.op === 'changed') {
      parts.push(el('span', { className: 'before', text: shown(c.before) }), ' → ', el('span', { className: 'after', text: shown(c.after) }));
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
    if (Array.isArray(v) && v.every(function (x) { return typeof x === 'string'; })) return v.join('、') || '（空）';
    if (typeof v === 'object' && !Array.isArray(v)) {
      return Object.keys(v).filter(function (k) { const x = v[k]; return x !== '' && x !== null && !(Array.isArray(x) && !x.length) && !(typeof x === 'object' && x && !Array.isArray(x) && !Object.keys(x).length); })
        .map(function (k) { return (PART_LABELS[k] || k) + '：' + shown(v[k]); }).join('；');
    }
    return JSON.stringify(v);
  }

  function showDiff() {
    const a = $('diff-a').value;
    const b = $('diff-b').value;
    const box = $('diff-view');
    clear(box);
    if (!a || !b) return;
    api('GET', '/api/entries/' + encodeURIComponent(state.current.id) + '/diff?a=' + encodeURIComponent(a) + '&b=' + encodeURIComponent(b))
      .then(function (res) {
        clear(box);
        if (!res.ok) { box.appendChild(el('p', { className: 'error', text: errorText(res) })); return; }
        if ($('diff-unified').checked) {
          const pre = el('pre', { className: 'unified' });
          res.data.unified.forEach(function (line) {
            const cls = line.charAt(0) === '+' ? 'add' : line.charAt(0) === '-' ? 'del' : line.slice(0, 2) === '@@' ? 'hunk' : '';
            pre.appendChild(el('span', { className: 'line ' + cls, text: line + '\n' }));
          });
          box.appendChild(pre);
          return;
        }
        if (!res.data.changes.length) { box.appendChild(el('p', { className: 'hint', text: '两个版本内容相同。' })); return; }
        box.appendChild(el('ul', { className: 'changes' }, res.data.changes.map(changeItem)));
      });
  }

  function rollback() {
    const version = $('rollback-version').value;
    if (!version) return;
    if (!window.confirm('确定回滚到版本 ' + version + ' 吗？该版本的内容将作为新版本立即发布，市民端几秒内生效。')) return;
    workflow('rollback', { version: Number(version), comment: $('rollback-comment').value.trim() },
      '已回滚到版本 ' + version + '（发布为新版本），市民端几秒内生效。').then(function () {
      $('rollback-comment').value = '';
      showPanel('history');
    });
  }

  function auditItem(a) {
    return el('li', {}, [
      el('span', { className: 'hint', text: when(a.created_at) + ' ' }),
      el('strong', { text: a.actor }), '（' + (ROLE_TITLES[a.role] || a.role) + '）',
      ' ' + (ACTIONS[a.action] || a.action),
      a.version ? ' → 版本 ' + a.version : '',
      a.comment ? el('span', { className: 'hint', text: '：' + a.comment }) : null
    ]);
  }

  /* ---------------------------------------------------------------- gaps */

  function loadGaps() {
    const params = new URLSearchParams({ days: $('gap-days').value });
    document.querySelectorAll('#gap-filters input[name="reason"]:checked').forEach(function (c) { params.append('reason', c.value); });
    if (state.gapNoise) params.set('include_noise', 'true');
    $('gap-error').textContent = '';
    $('gap-summary').textContent = '正在归类…';
    (state.ids.length ? Promise.resolve() : loadList()).then(function () {
      return api('GET', '/api/gaps?' + params.toString());
    }).then(function (res) {
      const box = $('gap-list');
      clear(box);
      if (!res.ok) { $('gap-error').textContent = errorText(res); $('gap-summary').textContent = ''; return; }
      $('gap-summary').textContent = '共 ' + res.data.open_gaps + ' 条待处理的提问，归为 ' + res.data.count + ' 类。';
      const hidden = res.data.noise_clusters;
      $('gap-noise').hidden = !hidden && !state.gapNoise;
      $('gap-noise-text').textContent = state.gapNoise ? '正在显示疑似噪音（只有号码、测试文字）。'
        : '已隐藏 ' + hidden + ' 类疑似噪音（' + res.data.noise_gaps + ' 条，只有号码或测试文字）。';
      $('gap-noise-toggle').textContent = state.gapNoise ? '隐藏噪音' : '显示';
      res.data.data.forEach(function (c) { box.appendChild(gapItem(c)); });
    });
  }

  /** Choose an entry by typing part of its title (or id): matching entries appear as buttons. */
  function entryPicker(c) {
    const chosen = { id: c.suggested_entry || '' };
    const top = c.top_entries[0];
    const titleOf = function (id) { const e = state.ids.find(function (x) { return x.id === id; }); return e ? e.title : id; };
    const search = el('input', { type: 'search', className: 'entry-search', placeholder: '搜索条目标题…', 'aria-label': '搜索目标条目', maxlength: '80', autocomplete: 'off' });
    const matches = el('ul', { className: 'entry-matches', 'aria-label': '匹配的条目' });
    const picked = el('span', { className: 'picked' });
    const note = el('span', { className: 'hint' });
    const listeners = [];
    function render() {
      picked.textContent = chosen.id ? '已选：' + titleOf(chosen.id) + '（' + chosen.id + '）' : '尚未选择条目';
      picked.classList.toggle('none', !chosen.id);
      listeners.forEach(function (f) { f(chosen.id); });
    }
    search.addEventListener('input', function () {
      clear(matches);
      const q = search.value.trim().toLowerCase();
      if (!q) return;
      state.ids.filter(function (e) { return e.title.toLowerCase().indexOf(q) >= 0 || e.id.indexOf(q) >= 0; })
        .slice(0, 6).forEach(function (e) {
          matches.appendChild(el('li', {}, [el('button', { type: 'button', className: 'btn btn-small entry-match', dataset: { id: e.id }, text: e.title + '（' + e.id + '）',
            onclick: function () { chosen.id = e.id; search.value = ''; clear(matches); render(); } })]));
        });
      if (!matches.firstChild) matches.appendChild(el('li', { className: 'hint', text: '没有标题包含“' + search.value.trim() + '”的条目。' }));
    });
    if (c.suggested_entry && top) {
      note.textContent = '已按助手的判断预选（匹配度 ' + pct(top.score) + '），如不对请搜索更换。';
    } else if (top) {
      note.textContent = '助手当时最接近「' + top.title + '」' + (top.score !== null && top.score !== undefined ? '（匹配度 ' + pct(top.score) + '）' : '') + '，把握不大，未预选。';
    }
    render();
    return {
      node: el('span', { className: 'entry-picker' }, [search, picked, note, matches]),
      value: function () { return chosen.id; },
      onChange: function (f) { listeners.push(f); f(chosen.id); }
    };
  }

  function gapItem(c) {
    const li = el('li', { className: 'gap' + (c.noise ? ' gap-noise' : ''), dataset: { id: String(c.id) } });
    const reasons = Object.keys(c.reasons).map(function (r) { return el('span', { className: 'tag', text: (REASONS[r] || r) + ' ' + c.reasons[r] }); });
    const questions = el('ul', { className: 'gap-questions' }, c.questions.map(function (q) {
      return el('li', {}, [q.text, el('span', { className: 'hint', text: ' ×' + q.count + ' · ' + when(q.last_seen) })]);
    }));
    const questionSel = el('select', { 'aria-label': '要添加的问法' }, c.questions.map(function (q) { return el('option', { value: q.text, text: q.text }); }));
    const newId = el('input', { placeholder: '新条目编号，如 dog-license', 'aria-label': '新条目编号', maxlength: '80' });
    const newTitle = el('input', { value: c.label.slice(0, 80), 'aria-label': '新条目标题', maxlength: '80' });
    const err = el('p', { className: 'error', role: 'alert' });
    const done = function (res, message) {
      if (!res.ok) { err.textContent = errorText(res); return false; }
      show(message);
      li.parentNode.removeChild(li);
      loadList();
      return true;
    };
    const actions = [];
    if (has(EDIT_ROLES) && !c.noise) {
      const picker = entryPicker(c);
      const add = el('button', { type: 'button', className: 'btn btn-small btn-primary gap-add', text: '加入（草稿）', onclick: function () {
        const target = picker.value();
        if (!target) { err.textContent = '请先搜索并选择条目。'; return; }
        api('POST', '/api/gaps/add-question', { gap_ids: c.gap_ids, entry_id: target, question: questionSel.value })
          .then(function (res) { done(res, '已把“' + questionSel.value + '”加为「' + target + '」的相似问法（草稿，待审核）。'); });
      } });
      picker.onChange(function (id) { add.disabled = !id; });
      actions.push(el('div', { className: 'gap-action' }, [
        el('span', { className: 'label', text: '加为相似问法：' }), questionSel, ' → ', picker.node, add
      ]));
      actions.push(el('div', { className: 'gap-action' }, [
        el('span', { className: 'label', text: '新建条目：' }), newId, newTitle,
        el('button', { type: 'button', className: 'btn btn-small', text: '新建草稿', onclick: function () {
          api('POST', '/api/gaps/new-entry', { gap_ids: c.gap_ids, entry_id: newId.value.trim(), title: newTitle.value.trim() })
            .then(function (res) {
              if (done(res, '已新建草稿，请补全内容后提交审核。') && res.data.entry) { switchView('entries'); loadEntry(res.data.entry); }
            });
        } })
      ]));
    }
    if (has(TRIAGE_ROLES)) {
      const triage = [];
      if (!c.noise) {
        triage.push(el('button', { type: 'button', className: 'btn btn-small gap-oos', text: '标记为超出范围', onclick: function () {
          if (!window.confirm('确定这类提问不属于政务服务吗？助手以后遇到类似问题会直接说明不能回答（几秒内生效）。')) return;
          api('POST', '/api/gaps/out-of-scope', { gap_ids: c.gap_ids }).then(function (res) {
            done(res, '已标记为超出范围：助手以后会直接说明不能回答这类问题。');
          });
        } }));
      }
      triage.push(el('button', { type: 'button', className: 'btn btn-small btn-light-dark', text: '忽略', onclick: function () {
        api('POST', '/api/gaps/dismiss', { gap_ids: c.gap_ids }).then(function (res) { done(res, '已忽略这一类提问。'); });
      } }));
      actions.push(el('div', { className: 'gap-action' }, triage));
    }
    append(li, [
      el('div', { className: 'gap-head' }, [
        el('strong', { text: c.label }),
        el('span', { className: 'badge', text: c.count + ' 次' }),
        c.noise ? el('span', { className: 'tag', text: '疑似噪音' }) : null,
        el('span', { className: 'hint', text: '最近 ' + when(c.last_seen) + ' · 最早 ' + when(c.first_seen) })
      ]),
      el('div', { className: 'tags' }, reasons.concat(c.top_entries.map(function (t) {
        return el('span', { className: 'tag tag-blue', text: '接近：' + t.title + ' ×' + t.count + (t.score !== null && t.score !== undefined ? '（' + pct(t.score) + '）' : '') });
      }))),
      questions
    ].concat(actions, [err]));
    return li;
  }

  /* ----------------------------------------------------------- dashboard */

  function setRange(days) {
    const to = new Date();
    const from = new Date(to.getTime() - (days - 1) * 86400000);
    $('dash-from').value = isoDay(from);
    $('dash-to').value = isoDay(to);
    loadStats();
  }

  function loadStats() {
    if (!$('dash-to').value) { setRange(30); return; }
    const params = new URLSearchParams({ from: $('dash-from').value, to: $('dash-to').value });
    $('dash-error').textContent = '';
    api('GET', '/api/stats?' + params.toString()).then(function (res) {
      if (!res.ok) { $('dash-error').textContent = errorText(res); return; }
      renderStats(res.data);
    });
  }

  function kpi(label, value, note) {
    return el('div', { className: 'kpi' }, [el('span', { className: 'kpi-value', text: value }), el('span', { className: 'kpi-label', text: label }),
      note ? el('span', { className: 'hint', text: note }) : null]);
  }

  function renderStats(d) {
    const k = $('dash-kpis');
    clear(k);
    const fb = d.feedback;
    append(k, [
      kpi('提问', String(d.totals.questions), d.conversations + ' 个会话'),
      kpi('已回答', pct(d.shares.answered), d.totals.answered + ' 次'),
      kpi('未能回答', pct(d.shares.abstained), d.totals.abstained + ' 次'),
      kpi('转人工', pct(d.shares.handed_off), d.totals.handed_off + ' 次'),
      kpi('有用率', pct(fb.useful_share), fb.useful + ' 有用 / ' + fb.not_useful + ' 没用'),
      kpi('满意度', fb.rating_average === null ? '—' : fb.rating_average + ' / 5', fb.rating_count + ' 次评价')
    ]);
    dayChart($('chart-days'), d.days);
    sharesChart($('chart-shares'), d.totals);
    feedbackChart($('chart-feedback'), fb);
    hbars($('chart-matters'), d.top_matters.map(function (m) { return { label: m.title, value: m.count }; }), '#0b3d91', '期间没有回答过事项。');
    hbars($('chart-gaps'), d.top_gaps.map(function (g) { return { label: g.label, value: g.count }; }), '#b35c00', '期间没有未答好的问题。');
  }

  function legend(keys) {
    return el('div', { className: 'legend' }, keys.map(function (key) {
      return el('span', {}, [el('span', { className: 'swatch', style: null, dataset: { color: key } }), OUTCOMES[key]]);
    }));
  }

  function dayChart(box, days) {
    clear(box);
    const W = 760, H = 240, L = 36, B = 28, T = 10;
    const max = Math.max(1, Math.max.apply(null, days.map(function (d) { return d.questions; })));
    const bw = (W - L - 8) / Math.max(1, days.length);
    const chart = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, className: 'chart', role: 'img', 'aria-label': '每日提问量，按回答结果分段' });
    const y = function (v) { return H - B - (H - B - T) * v / max; };
    [0, 0.5, 1].forEach(function (f) {
      const v = Math.round(max * f);
      chart.appendChild(svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), className: 'grid' }));
      chart.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', className: 'axis', text: String(v) }));
    });
    const every = Math.ceil(days.length / 10);
    days.forEach(function (d, i) {
      let base = 0;
      const x = L + i * bw + bw * 0.15;
      ['answered', 'abstained', 'handed_off', 'other'].forEach(function (key) {
        const v = d[key];
        if (!v) return;
        const rect = svg('rect', { x: x, y: y(base + v), width: Math.max(1, bw * 0.7), height: y(base) - y(base + v), fill: COLORS[key] });
        rect.appendChild(svg('title', { text: d.date + ' ' + OUTCOMES[key] + ' ' + v }));
        chart.appendChild(rect);
        base += v;
      });
      if (i % every === 0) chart.appendChild(svg('text', { x: x + bw * 0.35, y: H - 8, 'text-anchor': 'middle', className: 'axis', text: d.date.slice(5) }));
    });
    box.appendChild(chart);
    box.appendChild(legend(['answered', 'abstained', 'handed_off', 'other']));
    colorSwatches(box);
  }

  function colorSwatches(box) {
    box.querySelectorAll('.swatch').forEach(function (s) { s.style.background = COLORS[s.dataset.color]; });
  }

  function sharesChart(box, totals) {
    clear(box);
    const keys = ['answered', 'abstained', 'handed_off', 'other'];
    const sum = keys.reduce(function (a, k) { return a + totals[k]; }, 0);
    const chart = svg('svg', { viewBox: '0 0 200 200', className: 'chart donut', role: 'img', 'aria-label': '回答结果占比' });
    const R = 70, C = 2 * Math.PI * R;
    let offset = 0;
    chart.appendChild(svg('circle', { cx: 100, cy: 100, r: R, fill: 'none', stroke: '#e6e8eb', 'stroke-width': 28 }));
    if (sum) {
      keys.forEach(function (k) {
        const part = totals[k] / sum * C;
        if (!part) return;
        const arc = svg('circle', { cx: 100, cy: 100, r: R, fill: 'none', stroke: COLORS[k], 'stroke-width': 28,
          'stroke-dasharray': part + ' ' + (C - part), 'stroke-dashoffset': -offset, transform: 'rotate(-90 100 100)' });
        arc.appendChild(svg('title', { text: OUTCOMES[k] + ' ' + totals[k] + '（' + pct(totals[k] / sum) + '）' }));
        chart.appendChild(arc);
        offset += part;
      });
    }
    chart.appendChild(svg('text', { x: 100, y: 96, 'text-anchor': 'middle', className: 'donut-value', text: sum ? pct(totals.answered / sum) : '—' }));
    chart.appendChild(svg('text', { x: 100, y: 118, 'text-anchor': 'middle', className: 'axis', text: '已回答' }));
    box.appendChild(chart);
    box.appendChild(legend(keys));
    colorSwatches(box);
  }

  function feedbackChart(box, fb) {
    clear(box);
    hbars(box, [{ label: '有用', value: fb.useful, color: '#1b7f3b' }, { label: '没用', value: fb.not_useful, color: '#a4161a' }], '#1b7f3b', null, true);
    box.appendChild(el('p', { className: 'hint', text: '会话满意度（1–5 分）' }));
    hbars(box, ['5', '4', '3', '2', '1'].map(function (n) { return { label: n + ' 分', value: fb.ratings[n] || 0 }; }), '#0b3d91', null, true);
  }

  /** Horizontal bars as HTML rows: the label wraps in full (no cut-off), the bar and count beside it. */
  function hbars(box, items, color, emptyText, keep) {
    if (!keep) clear(box);
    if (!items.length) { box.appendChild(el('p', { className: 'hint', text: emptyText || '暂无数据。' })); return; }
    const max = Math.max(1, Math.max.apply(null, items.map(function (i) { return i.value; })));
    const list = el('ol', { className: 'hbars' });
    items.forEach(function (item) {
      const fill = el('span', { className: 'hbar-fill' });
      fill.style.width = (100 * item.value / max) + '%';
      fill.style.minWidth = item.value ? '2px' : '0';
      fill.style.background = item.color || color;
      list.appendChild(el('li', { className: 'hbar' }, [
        el('span', { className: 'hbar-label', text: item.label }),
        el('span', { className: 'hbar-track', 'aria-hidden': 'true' }, [fill]),
        el('span', { className: 'hbar-value', text: String(item.value) })
      ]));
    });
    box.appendChild(list);
  }

  /* ------------------------------------------------------- import / export */

  function updateExportLinks() {
    const source = document.querySelector('input[name="export-source"]:checked').value;
    ['xlsx', 'yaml', 'jsonl'].forEach(function (f) {
      $('export-' + f).setAttribute('href', '/api/entry-transfer/export?format=' + f + '&source=' + source);
    });
  }

  function importFile(ev) {
    ev.preventDefault();
    const file = $('import-file').files[0];
    const result = $('import-result');
    const problems = $('import-problems');
    clear(problems);
    result.textContent = '';
    if (!file) { result.textContent = '请选择文件。'; return; }
    const data = new FormData();
    data.append('file', file);
    if ($('import-publish').checked) data.append('submit', 'true');
    $('import-submit').disabled = true;
    result.textContent = '正在校验…';
    api('POST', '/api/entry-transfer/import', data).then(function (res) {
      $('import-submit').disabled = false;
      if (res.ok) {
        const d = res.data;
        result.textContent = '导入完成：新建 ' + d.created.length + ' 条，更新 ' + d.updated.length + ' 条，未变 ' + d.unchanged.length + ' 条' +
          (d.published.length ? '，已发布 ' + d.published.length + ' 条。' : '（均为草稿，待审核）。');
        loadList();
        return;
      }
      result.textContent = errorText(res);
      ((res.data && res.data.problems) || []).forEach(function (p) { problems.appendChild(el('li', { text: p.text })); });
    });
  }

  /* ---------------------------------------------------------------- audit */

  function loadAudit() {
    api('GET', '/api/audit?limit=500').then(function (res) {
      const body = $('audit-rows');
      clear(body);
      if (!res.ok) { show(errorText(res)); return; }
      res.data.data.forEach(function (a) {
        body.appendChild(el('tr', {}, [
          el('td', { text: when(a.created_at) }),
          el('td', { text: a.actor + '（' + (ROLE_TITLES[a.role] || a.role) + '）' }),
          el('td', { text: ACTIONS[a.action] || a.action }),
          el('td', { text: a.entry_id || '' }),
          el('td', { text: a.version ? 'v' + a.version : '' }),
          el('td', { text: a.comment })
        ]));
      });
    });
  }

  /* ---------------------------------------------------------------- wiring */

  function init() {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    document.querySelectorAll('#tabs .tab').forEach(function (t) { t.addEventListener('click', function () { switchView(t.dataset.view); }); });
    $('filters').addEventListener('submit', function (ev) { ev.preventDefault(); loadList(); });
    $('entry-search').addEventListener('input', function () { clearTimeout(state.filterTimer); state.filterTimer = setTimeout(loadList, 250); });
    ['filter-kind', 'filter-category', 'filter-status', 'filter-reviewed'].forEach(function (idn) { $(idn).addEventListener('change', loadList); });
    $('new-entry').addEventListener('click', function () { newEntry(); });
    $('entry-form').addEventListener('input', changed);
    $('entry-form').addEventListener('change', changed);
    $('entry-form').addEventListener('submit', function (ev) { ev.preventDefault(); });
    $('save').addEventListener('click', function () { save(); });
    $('submit').addEventListener('click', submit);
    $('approve').addEventListener('click', function () {
      if (window.confirm('审核通过后将立即发布为新版本，市民端几秒内生效。确定吗？')) workflow('approve', undefined, '已审核通过并发布，市民端几秒内生效。');
    });
    $('publish').addEventListener('click', function () {
      if (state.dirty && !window.confirm('表单里有未保存的修改，发布的是已保存的内容。继续吗？')) return;
      workflow('publish', undefined, '已发布，市民端几秒内生效。');
    });
    $('reject').addEventListener('click', function () { $('reject-box').hidden = false; $('reject-comment').focus(); });
    $('reject-cancel').addEventListener('click', function () { $('reject-box').hidden = true; });
    $('reject-confirm').addEventListener('click', function () {
      const comment = $('reject-comment').value.trim();
      if (!comment) { $('editor-error').textContent = '请填写退回意见。'; return; }
      workflow('reject', { comment: comment, lock_version: state.current.lock_version }, '已退回给编辑。').then(function (ok) { if (ok) $('reject-comment').value = ''; });
    });
    $('unpublish').addEventListener('click', function () {
      if (window.confirm('下线后助手将不再使用这个条目（几秒内生效），所有版本仍会保留。确定吗？')) workflow('unpublish', {}, '已下线。');
    });
    $('discard').addEventListener('click', discard);
    $('conflict-reload').addEventListener('click', function () { state.dirty = false; openEntry(state.current.id); });
    document.querySelectorAll('.subtab').forEach(function (t) { t.addEventListener('click', function () { showPanel(t.dataset.panel); }); });
    $('diff-show').addEventListener('click', showDiff);
    $('diff-unified').addEventListener('change', showDiff);
    $('rollback').addEventListener('click', rollback);
    $('gap-refresh').addEventListener('click', loadGaps);
    $('gap-noise-toggle').addEventListener('click', function () { state.gapNoise = !state.gapNoise; loadGaps(); });
    $('trial-form').addEventListener('submit', runTrial);
    $('gap-days').addEventListener('change', loadGaps);
    $('dash-refresh').addEventListener('click', loadStats);
    document.querySelectorAll('#dash-filters [data-range]').forEach(function (b) { b.addEventListener('click', function () { setRange(Number(b.dataset.range)); }); });
    document.querySelectorAll('input[name="export-source"]').forEach(function (r) { r.addEventListener('change', updateExportLinks); });
    $('import-form').addEventListener('submit', importFile);
    window.addEventListener('beforeunload', function (ev) { if (state.dirty) { ev.preventDefault(); ev.returnValue = ''; } });
    api('GET', '/api/auth/me').then(function (res) { if (res.ok) start(res.data); else loggedOut(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
