/*
 * The structured form of an entry (内容 panel): built from the entry, read back into an entry, and
 * the server's validation errors shown beside their fields. Field names are the model's titles
 * (GET /api/schema/labels); the form adds only its own hints.
 */
import { $, append, clear, el } from '../lib/dom.js';
import { label, labels, field as recordField } from '../lib/labels.js';
import { state } from './common.js';

/** An entry field's name: F('materials') → 申请材料. */
const F = (name) => label('fields', name);
/** A record field's name: R('materials', 'name') → 材料名称. */
const R = recordField;

/** {value: value} for a list of values (a select whose options read as their values). */
function same(values) {
  return (values || []).reduce((o, v) => {
    o[v] = v;
    return o;
  }, {});
}

function fieldError() {
  return el('p', { className: 'field-error', role: 'alert' });
}

function input(key, value, attrs) {
  return el(
    'input',
    Object.assign(
      { 'data-input': key, value: value === null || value === undefined ? '' : String(value) },
      attrs || {},
    ),
  );
}

function field(title, path, control, hint) {
  return el('div', { className: 'field', 'data-path': path }, [
    el('label', {}, [el('span', { className: 'label', text: title }), control]),
    hint ? el('span', { className: 'hint', text: hint }) : null,
    fieldError(),
  ]);
}

function sub(title, key, control, extraClass) {
  return el('div', { className: `sub${extraClass ? ` ${extraClass}` : ''}`, 'data-key': key }, [
    el('label', {}, [el('span', { className: 'label', text: title }), control]),
    fieldError(),
  ]);
}

function select(key, value, options) {
  const s = el('select', { 'data-input': key });
  Object.keys(options).forEach((v) => {
    s.appendChild(el('option', { value: v, text: options[v] }));
  });
  s.value = value;
  return s;
}

function rowControls(row) {
  return el('span', { className: 'row-controls' }, [
    el('button', {
      type: 'button',
      className: 'btn btn-small',
      title: '上移',
      'aria-label': '上移',
      text: '↑',
      onclick: () => {
        if (row.previousElementSibling) {
          row.parentNode.insertBefore(row, row.previousElementSibling);
          changed();
        }
      },
    }),
    el('button', {
      type: 'button',
      className: 'btn btn-small',
      title: '下移',
      'aria-label': '下移',
      text: '↓',
      onclick: () => {
        if (row.nextElementSibling) {
          row.parentNode.insertBefore(row.nextElementSibling, row);
          changed();
        }
      },
    }),
    el('button', {
      type: 'button',
      className: 'btn btn-small btn-remove',
      title: '删除此行',
      'aria-label': '删除此行',
      text: '×',
      onclick: () => {
        row.parentNode.removeChild(row);
        changed();
      },
    }),
  ]);
}

/** A repeatable list: `make(item)` builds the inside of one row. */
function list(title, path, items, make, empty, rowClass, hint) {
  const rows = el('ol', { className: 'rows' });
  function add(item) {
    const row = el('li', { className: `row ${rowClass || ''}` });
    append(row, [el('div', { className: 'row-body' }, make(item)), rowControls(row), fieldError()]);
    rows.appendChild(row);
    return row;
  }
  (items || []).forEach(add);
  return el('fieldset', { className: 'field list-field', 'data-path': path }, [
    el('legend', { text: title }),
    hint ? el('p', { className: 'hint', text: hint }) : null,
    rows,
    el('button', {
      type: 'button',
      className: 'btn btn-small add-row',
      text: '＋ 添加',
      onclick: () => {
        const r = add(JSON.parse(JSON.stringify(empty)));
        const f = r.querySelector('input, textarea, select');
        if (f) f.focus();
        changed();
      },
    }),
    fieldError(),
  ]);
}

/** A row of a list of texts, named for a screen reader by the list. */
function textRow(name) {
  return (item) => [input('text', item, { 'aria-label': name })];
}

export function buildForm(e) {
  const form = $('entry-form');
  clear(form);
  const kind = select('kind', e.kind || 'matter', labels.kinds || {});
  const audience = el(
    'span',
    { className: 'checks', 'data-input': 'audience' },
    (labels.audiences || []).map((a) =>
      el('label', { className: 'inline' }, [
        el('input', { type: 'checkbox', value: a, checked: (e.audience || []).indexOf(a) >= 0 }),
        a,
      ]),
    ),
  );
  const tl = e.time_limit || {};
  const loc = e.location || {};
  const online = e.online || {};
  append(form, [
    el('p', { className: 'field-error form-error', role: 'alert' }),
    section('基本信息', [
      field(
        F('id'),
        'id',
        input('value', e.id, { placeholder: '如 dog-license', maxlength: '80' }),
        '小写字母、数字和连字符；保存后不能修改',
      ),
      field(F('title'), 'title', input('value', e.title, { maxlength: '80' })),
      el('div', { className: 'field-row' }, [
        field(F('kind'), 'kind', kind),
        field(F('category'), 'category', input('value', e.category, { maxlength: '80' })),
        field(F('audience'), 'audience', audience),
      ]),
      field(F('summary'), 'summary', el('textarea', { 'data-input': 'value', rows: '3', text: e.summary || '' })),
      el('div', { className: 'field-row' }, [
        field(F('source'), 'source', input('value', e.source)),
        field(
          F('reviewed_at'),
          'reviewed_at',
          input('value', e.reviewed_at, { type: 'date', readonly: true }),
          '审核通过发布时自动填写',
        ),
        field(
          F('sample'),
          'sample',
          el('input', { type: 'checkbox', 'data-input': 'checked', checked: !!e.sample }),
          '待政务部门核实',
        ),
      ]),
    ]),
    section('市民怎么问', [
      list(F('aliases'), 'aliases', e.aliases, textRow(F('aliases')), ''),
      list(
        F('similar_questions'),
        'similar_questions',
        e.similar_questions,
        textRow(F('similar_questions')),
        '',
        '',
        '市民的原话，至少 5 条为宜',
      ),
    ]),
    section('联办事项与条件', [
      list(
        F('bundled_matters'),
        'bundled_matters',
        e.bundled_matters,
        (m) => [
          sub(R('bundled_matters', 'name'), 'name', input('value', m.name)),
          sub(R('bundled_matters', 'department'), 'department', input('value', m.department)),
        ],
        { name: '', department: '' },
        'grid-2',
        '“一件事”至少两个',
      ),
      list(F('conditions'), 'conditions', e.conditions, textRow(F('conditions')), ''),
    ]),
    section(F('situations'), [
      list(
        F('situations'),
        'situations',
        e.situations,
        situationRow,
        {
          id: '',
          question: '',
          options: [
            { value: 'yes', label: '是' },
            { value: 'no', label: '否' },
          ],
        },
        'situation-row',
        '用于判断哪些材料需要提交；选项默认是/否',
      ),
    ]),
    section(F('materials'), [
      list(
        F('materials'),
        'materials',
        e.materials,
        materialRow,
        {
          name: '',
          form: (labels.material_forms || [''])[0],
          copies: 1,
          required: true,
          condition: {},
          condition_text: '',
          waivable: false,
          matters: [],
          notes: '',
        },
        'material-row',
      ),
    ]),
    section('办理流程与时限', [
      list(
        F('steps'),
        'steps',
        e.steps,
        (s) => [
          sub(R('steps', 'title'), 'title', input('value', s.title)),
          sub(R('steps', 'channel'), 'channel', select('channel', s.channel || 'offline', labels.channels || {})),
          sub(
            R('steps', 'description'),
            'description',
            el('textarea', { 'data-input': 'value', rows: '2', text: s.description || '' }),
            'wide',
          ),
        ],
        { title: '', channel: 'offline', description: '' },
        'grid-3',
      ),
      el('div', { className: 'field-row' }, [
        field(
          `${R('time_limit', 'promised_days')}（工作日，0 为即办）`,
          'time_limit.promised_days',
          input('value', tl.promised_days, { type: 'number', min: '0', step: '0.5' }),
        ),
        field(
          `${R('time_limit', 'legal_days')}（工作日）`,
          'time_limit.legal_days',
          input('value', tl.legal_days, { type: 'number', min: '0', step: '0.5' }),
        ),
      ]),
      field(R('time_limit', 'note'), 'time_limit.note', input('value', tl.note)),
      field(F('fees'), 'fees', input('value', e.fees)),
    ]),
    section('办理地点与联系方式', [
      field(R('location', 'window'), 'location.window', input('value', loc.window)),
      field(R('location', 'address'), 'location.address', input('value', loc.address)),
      el('div', { className: 'field-row' }, [
        field(R('location', 'hours'), 'location.hours', input('value', loc.hours)),
        field(R('location', 'map_url'), 'location.map_url', input('value', loc.map_url)),
      ]),
      el('div', { className: 'field-row' }, [
        field(F('phone'), 'phone', input('value', e.phone)),
        field(R('online', 'name'), 'online.name', input('value', online.name)),
        field(R('online', 'url'), 'online.url', input('value', online.url)),
      ]),
      field(R('online', 'note'), 'online.note', input('value', online.note)),
    ]),
    section('依据与关联', [
      list(F('legal_basis'), 'legal_basis', e.legal_basis, textRow(F('legal_basis')), ''),
      list(
        F('related'),
        'related',
        e.related,
        (r) => [input('text', r, { list: 'entry-ids', 'aria-label': '条目编号' })],
        '',
      ),
    ]),
  ]);
  refreshSituationLists();
  state.dirty = false;
}

function section(title, children) {
  return el('section', { className: 'form-section' }, [el('h3', { text: title })].concat(children));
}

function situationRow(s) {
  const options = list(
    R('situations', 'options'),
    'options',
    s.options,
    (o) => [
      sub(R('situations.options', 'value'), 'value', input('value', o.value, { placeholder: 'yes' })),
      sub(R('situations.options', 'label'), 'label', input('value', o.label, { placeholder: '是' })),
    ],
    { value: '', label: '' },
    'grid-2',
  );
  options.setAttribute('data-key', 'options');
  options.removeAttribute('data-path');
  return [
    sub(R('situations', 'id'), 'id', input('value', s.id, { placeholder: '如 married', 'data-situation-id': '1' })),
    sub(
      R('situations', 'question'),
      'question',
      input('value', s.question, { placeholder: '如 父母是否已登记结婚？' }),
      'wide',
    ),
    options,
  ];
}

function materialRow(m) {
  const conditions = [];
  Object.keys(m.condition || {}).forEach((k) => {
    const v = m.condition[k];
    (Array.isArray(v) ? v : [v]).forEach((one) => {
      conditions.push({ situation: k, value: one });
    });
  });
  const cond = list(
    `${R('materials', 'condition')}（全部满足时需要；不填表示都需要）`,
    'condition',
    conditions,
    (c) => [
      sub('情形编号', 'situation', input('value', c.situation, { list: 'situation-ids' })),
      sub('取值', 'value', input('value', c.value, { list: 'option-values' })),
    ],
    { situation: '', value: '' },
    'grid-2',
  );
  cond.setAttribute('data-key', 'condition');
  cond.removeAttribute('data-path');
  return [
    sub(R('materials', 'name'), 'name', input('value', m.name, { className: 'material-name' }), 'wide'),
    sub(
      R('materials', 'form'),
      'form',
      select('form', m.form || (labels.material_forms || [''])[0], same(labels.material_forms)),
    ),
    sub(R('materials', 'copies'), 'copies', input('value', m.copies, { type: 'number', min: '0', max: '20' })),
    sub(
      R('materials', 'required'),
      'required',
      el('input', { type: 'checkbox', 'data-input': 'checked', checked: m.required !== false }),
    ),
    sub(
      `${R('materials', 'waivable')}（数据共享）`,
      'waivable',
      el('input', { type: 'checkbox', 'data-input': 'checked', checked: !!m.waivable }),
    ),
    cond,
    sub(
      R('materials', 'condition_text'),
      'condition_text',
      input('value', m.condition_text, { placeholder: '如 父母已登记结婚的' }),
      'wide',
    ),
    sub(
      `${R('materials', 'matters')}（联办事项，用“、”分隔）`,
      'matters',
      input('value', (m.matters || []).join('、')),
      'wide',
    ),
    sub(R('materials', 'notes'), 'notes', input('value', m.notes), 'wide'),
  ];
}

function refreshSituationLists() {
  const ids = new Set();
  const values = new Set();
  document.querySelectorAll('#entry-form [data-path="situations"] > .rows > .row').forEach((row) => {
    const id = valueIn(row, 'id');
    if (id) ids.add(id);
    rowsOf(row.querySelector('[data-key="options"]')).forEach((o) => {
      const v = valueIn(o, 'value');
      if (v) values.add(v);
    });
  });
  [
    ['situation-ids', ids],
    ['option-values', values],
  ].forEach((pair) => {
    let dl = $(pair[0]);
    if (!dl) {
      dl = el('datalist', { id: pair[0] });
      document.body.appendChild(dl);
    }
    clear(dl);
    pair[1].forEach((v) => {
      dl.appendChild(el('option', { value: v }));
    });
  });
}

export function changed() {
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
  const wrap = scope.querySelector(`[data-key="${key}"]`);
  return wrap ? wrap.querySelector('[data-input]') : null;
}

function valueIn(scope, key) {
  const c = control(scope, key);
  if (!c) return '';
  if (c.getAttribute('data-input') === 'checked') return c.checked;
  return c.value.trim();
}

function top(path) {
  const wrap = document.querySelector(`#entry-form [data-path="${path}"]`);
  const c = wrap ? wrap.querySelector('[data-input]') : null;
  if (!c) return '';
  if (c.getAttribute('data-input') === 'checked') return c.checked;
  return c.value.trim();
}

function topList(path) {
  return rowsOf(document.querySelector(`#entry-form [data-path="${path}"]`))
    .map((r) => r.querySelector('[data-input]').value.trim())
    .filter((v) => v);
}

function records(container, keys) {
  return rowsOf(container)
    .map((r) => {
      const out = {};
      keys.forEach((k) => {
        out[k] = valueIn(r, k);
      });
      return out;
    })
    .filter((o) => keys.some((k) => o[k] !== '' && o[k] !== false));
}

function number(v) {
  return v === '' ? null : Number(v);
}

export function collect() {
  const form = $('entry-form');
  const e = {
    id: top('id'),
    title: top('title'),
    kind: top('kind'),
    category: top('category'),
    audience: Array.from(form.querySelectorAll('[data-path="audience"] input:checked')).map((c) => c.value),
    aliases: topList('aliases'),
    similar_questions: topList('similar_questions'),
    summary: top('summary'),
    bundled_matters: records(form.querySelector('[data-path="bundled_matters"]'), ['name', 'department']),
    conditions: topList('conditions'),
    situations: rowsOf(form.querySelector('[data-path="situations"]'))
      .map((r) => ({
        id: valueIn(r, 'id'),
        question: valueIn(r, 'question'),
        options: records(r.querySelector('[data-key="options"]'), ['value', 'label']),
      }))
      .filter((s) => s.id || s.question),
    materials: rowsOf(form.querySelector('[data-path="materials"]'))
      .map((r) => {
        const condition = {};
        records(r.querySelector('[data-key="condition"]'), ['situation', 'value']).forEach((c) => {
          if (!(c.situation in condition)) condition[c.situation] = c.value;
          else condition[c.situation] = [].concat(condition[c.situation], [c.value]);
        });
        const copies = valueIn(r, 'copies');
        return {
          name: valueIn(r, 'name'),
          form: valueIn(r, 'form'),
          copies: copies === '' ? '' : Number(copies),
          required: valueIn(r, 'required'),
          condition: condition,
          condition_text: valueIn(r, 'condition_text'),
          waivable: valueIn(r, 'waivable'),
          matters: valueIn(r, 'matters')
            .split(/[、,，\n]+/)
            .map((s) => s.trim())
            .filter(Boolean),
          notes: valueIn(r, 'notes'),
        };
      })
      .filter((m) => m.name || m.condition_text || m.notes),
    steps: records(form.querySelector('[data-path="steps"]'), ['title', 'channel', 'description']).filter(
      (s) => s.title || s.description,
    ),
    time_limit: {
      promised_days: number(top('time_limit.promised_days')),
      legal_days: number(top('time_limit.legal_days')),
      note: top('time_limit.note'),
    },
    fees: top('fees'),
    location: {
      window: top('location.window'),
      address: top('location.address'),
      hours: top('location.hours'),
      map_url: top('location.map_url'),
    },
    phone: top('phone'),
    online: { name: top('online.name'), url: top('online.url'), note: top('online.note') },
    legal_basis: topList('legal_basis'),
    related: topList('related'),
    source: top('source'),
    sample: top('sample'),
    reviewed_at: top('reviewed_at') || null,
  };
  if (state.current) {
    e.status = state.current.entry.status;
    e.version = state.current.entry.version;
  }
  // fields this form does not edit yet (the bureau profile) are kept as loaded
  ['tags', 'pilot', 'departments', 'claims', 'sites', 'site_overrides', 'official_source'].forEach((k) => {
    if (state.current?.entry && k in state.current.entry) e[k] = state.current.entry[k];
  });
  return e;
}

/* ---- validation errors beside their field ---- */

export function clearErrors() {
  document.querySelectorAll('#entry-form .field-error').forEach((n) => {
    n.textContent = '';
  });
  document.querySelectorAll('#entry-form .invalid').forEach((n) => {
    n.classList.remove('invalid');
  });
}

function slotFor(path) {
  const form = $('entry-form');
  const exact = form.querySelector(`[data-path="${path}"]`);
  let node = exact;
  if (!node) {
    const parts = path.split('.');
    node = form.querySelector(`[data-path="${parts[0]}"]`);
    for (let i = 1; node && i < parts.length; i += 1) {
      const p = parts[i];
      let next = null;
      if (/^\d+$/.test(p)) next = rowsOf(node)[Number(p)] || null;
      else if (p === 'condition' || p === 'options') next = node.querySelector(`[data-key="${p}"]`);
      else
        next = node.querySelector(`:scope > .row-body > [data-key="${p}"]`) || node.querySelector(`[data-key="${p}"]`);
      if (!next) break;
      node = next;
    }
  }
  node = node || form;
  const slot = node.querySelector(':scope > .field-error') || form.querySelector('.form-error');
  return { node: node, slot: slot };
}

export function showErrors(errors) {
  clearErrors();
  let first = null;
  (errors || []).forEach((err) => {
    const path = err.field || (err.loc || []).filter((p) => p !== 'body' && p !== 'entry').join('.');
    const target = slotFor(path);
    target.slot.textContent =
      (target.slot.textContent ? `${target.slot.textContent}；` : '') + (err.message || err.msg);
    target.node.classList.add('invalid');
    first = first || target.node;
  });
  if (first?.scrollIntoView) first.scrollIntoView({ block: 'center' });
}
