/*
 * 问题挖掘: the questions the assistant did not answer well, clustered; each cluster can become a
 * similar question of an entry (a draft), a new entry, out of scope, or be dismissed.
 */
import { api, errorText } from '../lib/api.js';
import { $, append, clear, el } from '../lib/dom.js';
import { codes, label } from '../lib/labels.js';
import { EDIT_ROLES, has, pct, show, state, TRIAGE_ROLES, when } from './common.js';
import { loadEntry } from './entry.js';
import { loadList } from './list.js';
import { switchView } from './views.js';

export function loadGaps() {
  const params = new URLSearchParams({ days: $('gap-days').value });
  document.querySelectorAll('#gap-filters input[name="reason"]:checked').forEach((c) => {
    params.append('reason', c.value);
  });
  if (state.gapNoise) params.set('include_noise', 'true');
  $('gap-error').textContent = '';
  $('gap-summary').textContent = '正在归类…';
  (state.ids.length ? Promise.resolve() : loadList())
    .then(() => api('GET', `/api/gaps?${params.toString()}`))
    .then((res) => {
      const box = $('gap-list');
      clear(box);
      if (!res.ok) {
        $('gap-error').textContent = errorText(res);
        $('gap-summary').textContent = '';
        return;
      }
      $('gap-summary').textContent = `共 ${res.data.open_gaps} 条待处理的提问，归为 ${res.data.count} 类。`;
      const hidden = res.data.noise_clusters;
      $('gap-noise').hidden = !hidden && !state.gapNoise;
      $('gap-noise-text').textContent = state.gapNoise
        ? '正在显示疑似噪音（只有号码、测试文字）。'
        : `已隐藏 ${hidden} 类疑似噪音（${res.data.noise_gaps} 条，只有号码或测试文字）。`;
      $('gap-noise-toggle').textContent = state.gapNoise ? '隐藏噪音' : '显示';
      res.data.data.forEach((c) => {
        box.appendChild(gapItem(c));
      });
    });
}

/** Choose an entry by typing part of its title (or id): matching entries appear as buttons. */
function entryPicker(c) {
  const chosen = { id: c.suggested_entry || '' };
  const top = c.top_entries[0];
  const titleOf = (id) => {
    const e = state.ids.find((x) => x.id === id);
    return e ? e.title : id;
  };
  const search = el('input', {
    type: 'search',
    className: 'entry-search',
    placeholder: '搜索条目标题…',
    'aria-label': '搜索目标条目',
    maxlength: '80',
    autocomplete: 'off',
  });
  const matches = el('ul', { className: 'entry-matches', 'aria-label': '匹配的条目' });
  const picked = el('span', { className: 'picked' });
  const note = el('span', { className: 'hint' });
  const listeners = [];
  function render() {
    picked.textContent = chosen.id ? `已选：${titleOf(chosen.id)}（${chosen.id}）` : '尚未选择条目';
    picked.classList.toggle('none', !chosen.id);
    listeners.forEach((f) => {
      f(chosen.id);
    });
  }
  search.addEventListener('input', () => {
    clear(matches);
    const q = search.value.trim().toLowerCase();
    if (!q) return;
    state.ids
      .filter((e) => e.title.toLowerCase().indexOf(q) >= 0 || e.id.indexOf(q) >= 0)
      .slice(0, 6)
      .forEach((e) => {
        matches.appendChild(
          el('li', {}, [
            el('button', {
              type: 'button',
              className: 'btn btn-small entry-match',
              dataset: { id: e.id },
              text: `${e.title}（${e.id}）`,
              onclick: () => {
                chosen.id = e.id;
                search.value = '';
                clear(matches);
                render();
              },
            }),
          ]),
        );
      });
    if (!matches.firstChild)
      matches.appendChild(el('li', { className: 'hint', text: `没有标题包含“${search.value.trim()}”的条目。` }));
  });
  if (c.suggested_entry && top) {
    note.textContent = `已按助手的判断预选（匹配度 ${pct(top.score)}），如不对请搜索更换。`;
  } else if (top) {
    note.textContent = `助手当时最接近「${top.title}」${top.score !== null && top.score !== undefined ? `（匹配度 ${pct(top.score)}）` : ''}，把握不大，未预选。`;
  }
  render();
  return {
    node: el('span', { className: 'entry-picker' }, [search, picked, note, matches]),
    value: () => chosen.id,
    onChange: (f) => {
      listeners.push(f);
      f(chosen.id);
    },
  };
}

function gapItem(c) {
  const li = el('li', { className: `gap${c.noise ? ' gap-noise' : ''}`, dataset: { id: String(c.id) } });
  const reasons = Object.keys(c.reasons).map((r) =>
    el('span', { className: 'tag', text: `${label('gap_reasons', r)} ${c.reasons[r]}` }),
  );
  const questions = el(
    'ul',
    { className: 'gap-questions' },
    c.questions.map((q) =>
      el('li', {}, [q.text, el('span', { className: 'hint', text: ` ×${q.count} · ${when(q.last_seen)}` })]),
    ),
  );
  const questionSel = el(
    'select',
    { 'aria-label': '要添加的问法' },
    c.questions.map((q) => el('option', { value: q.text, text: q.text })),
  );
  const newId = el('input', { placeholder: '新条目编号，如 dog-license', 'aria-label': '新条目编号', maxlength: '80' });
  const newTitle = el('input', { value: c.label.slice(0, 80), 'aria-label': '新条目标题', maxlength: '80' });
  const err = el('p', { className: 'error', role: 'alert' });
  const done = (res, message) => {
    if (!res.ok) {
      err.textContent = errorText(res);
      return false;
    }
    show(message);
    li.parentNode.removeChild(li);
    loadList();
    return true;
  };
  const actions = [];
  if (has(EDIT_ROLES) && !c.noise) {
    const picker = entryPicker(c);
    const add = el('button', {
      type: 'button',
      className: 'btn btn-small btn-primary gap-add',
      text: '加入（草稿）',
      onclick: () => {
        const target = picker.value();
        if (!target) {
          err.textContent = '请先搜索并选择条目。';
          return;
        }
        api('POST', '/api/gaps/add-question', {
          gap_ids: c.gap_ids,
          entry_id: target,
          question: questionSel.value,
        }).then((res) => {
          done(res, `已把“${questionSel.value}”加为「${target}」的相似问法（草稿，待审核）。`);
        });
      },
    });
    picker.onChange((id) => {
      add.disabled = !id;
    });
    actions.push(
      el('div', { className: 'gap-action' }, [
        el('span', { className: 'label', text: '加为相似问法：' }),
        questionSel,
        ' → ',
        picker.node,
        add,
      ]),
    );
    actions.push(
      el('div', { className: 'gap-action' }, [
        el('span', { className: 'label', text: '新建条目：' }),
        newId,
        newTitle,
        el('button', {
          type: 'button',
          className: 'btn btn-small',
          text: '新建草稿',
          onclick: () => {
            api('POST', '/api/gaps/new-entry', {
              gap_ids: c.gap_ids,
              entry_id: newId.value.trim(),
              title: newTitle.value.trim(),
            }).then((res) => {
              if (done(res, '已新建草稿，请补全内容后提交审核。') && res.data.entry) {
                switchView('entries');
                loadEntry(res.data.entry);
              }
            });
          },
        }),
      ]),
    );
  }
  if (has(TRIAGE_ROLES)) {
    const triage = [];
    if (!c.noise) {
      triage.push(
        el('button', {
          type: 'button',
          className: 'btn btn-small gap-oos',
          text: label('audit_actions', 'mark_out_of_scope'),
          onclick: () => {
            if (!window.confirm('确定这类提问不属于政务服务吗？助手以后遇到类似问题会直接说明不能回答（几秒内生效）。'))
              return;
            api('POST', '/api/gaps/out-of-scope', { gap_ids: c.gap_ids }).then((res) => {
              done(res, '已标记为超出范围：助手以后会直接说明不能回答这类问题。');
            });
          },
        }),
      );
    }
    triage.push(
      el('button', {
        type: 'button',
        className: 'btn btn-small btn-light-dark',
        text: '忽略',
        onclick: () => {
          api('POST', '/api/gaps/dismiss', { gap_ids: c.gap_ids }).then((res) => {
            done(res, '已忽略这一类提问。');
          });
        },
      }),
    );
    actions.push(el('div', { className: 'gap-action' }, triage));
  }
  append(
    li,
    [
      el('div', { className: 'gap-head' }, [
        el('strong', { text: c.label }),
        el('span', { className: 'badge', text: `${c.count} 次` }),
        c.noise ? el('span', { className: 'tag', text: '疑似噪音' }) : null,
        el('span', { className: 'hint', text: `最近 ${when(c.last_seen)} · 最早 ${when(c.first_seen)}` }),
      ]),
      el(
        'div',
        { className: 'tags' },
        reasons.concat(
          c.top_entries.map((t) =>
            el('span', {
              className: 'tag tag-blue',
              text: `接近：${t.title} ×${t.count}${t.score !== null && t.score !== undefined ? `（${pct(t.score)}）` : ''}`,
            }),
          ),
        ),
      ),
      questions,
    ].concat(actions, [err]),
  );
  return li;
}

/** The reason filters (one checkbox per gap reason, all on) and the refresh controls. */
export function initGaps() {
  const refresh = $('gap-refresh');
  codes('gap_reasons').forEach((code) => {
    refresh.before(
      el('label', { className: 'inline' }, [
        el('input', { type: 'checkbox', name: 'reason', value: code, checked: true }),
        ` ${label('gap_reasons', code)}`,
      ]),
    );
  });
  $('gap-refresh').addEventListener('click', loadGaps);
  $('gap-noise-toggle').addEventListener('click', () => {
    state.gapNoise = !state.gapNoise;
    loadGaps();
  });
  $('gap-days').addEventListener('change', loadGaps);
}
