/*
 * 预览 (the chat card and the printed 一次性告知 of the form as it is, saved or not) and 试一试 (which
 * entry and part the assistant would answer a question with).
 */
import { api, errorText } from '../lib/api.js';
import { $, append, clear, el } from '../lib/dom.js';
import { field } from '../lib/labels.js';
import { pct } from './common.js';
import { collect } from './form.js';

const UNSURE = 'unsure'; // the answer 不确定 (knowledge.checklist.UNSURE)

/* ---- preview ---- */

export function renderPreview() {
  const entry = collect();
  const answersBox = $('preview-answers');
  const previous = {};
  answersBox.querySelectorAll('select').forEach((s) => {
    previous[s.dataset.situation] = s.value;
  });
  clear(answersBox);
  (entry.situations || []).forEach((s) => {
    const sel = el('select', { dataset: { situation: s.id }, onchange: renderPreview });
    sel.appendChild(el('option', { value: '', text: '（未回答）' }));
    s.options.forEach((o) => {
      sel.appendChild(el('option', { value: o.value, text: o.label }));
    });
    sel.appendChild(el('option', { value: UNSURE, text: '不确定' }));
    sel.value = previous[s.id] || '';
    answersBox.appendChild(el('label', { className: 'inline' }, [`${s.question} `, sel]));
  });
  const answers = {};
  answersBox.querySelectorAll('select').forEach((s) => {
    if (s.value) answers[s.dataset.situation] = s.value;
  });
  $('preview-error').textContent = '';
  api('POST', '/api/entries/preview', { entry: entry, answers: answers }).then((res) => {
    if (!res.ok) {
      $('preview-error').textContent = res.data?.errors ? `内容有误，无法预览：${res.data.detail}` : errorText(res);
      return;
    }
    renderCard($('preview-card'), res.data.card);
    $('preview-guide').srcdoc = res.data.guide_html; // server-rendered and escaped; sandboxed, no scripts
  });
}

function renderCard(box, card) {
  clear(box);
  append(box, [
    el('h4', { text: card.title }),
    card.summary ? el('p', { className: 'card-summary', text: card.summary }) : null,
    card.sample ? el('p', { className: 'card-sample', text: '示例数据：内容待核实' }) : null,
  ]);
  card.sections.forEach((s) => {
    const items =
      s.key === 'materials' && s.items
        ? s.items.map((m) =>
            el('li', {}, [
              el('strong', { text: m.name }),
              `（${m.form}${m.copies > 1 ? `，${m.copies}份` : ''}）`,
              m.conditional ? el('span', { className: 'tag', text: `如属${m.condition}` }) : null,
              m.waivable ? el('span', { className: 'tag tag-green', text: field('materials', 'waivable') }) : null,
              m.notes ? el('span', { className: 'hint', text: ` ${m.notes}` }) : null,
            ]),
          )
        : s.lines.map((line) => el('li', { text: line }));
    append(box, [el('h5', { text: s.title }), el('ol', {}, items)]);
  });
  if (card.missing?.length) box.appendChild(el('p', { className: 'hint', text: `暂无：${card.missing.join('、')}` }));
  box.appendChild(
    el('p', {
      className: 'card-source',
      text: `来源：${card.source}；${card.review_status || `审核日期：${card.reviewed_at}`}；${card.notice}`,
    }),
  );
}

/* ---- 试一试 ---- */

export function trialExamples() {
  const box = $('trial-examples');
  clear(box);
  const entry = collect();
  const examples = [entry.title]
    .concat(entry.similar_questions || [])
    .filter(Boolean)
    .slice(0, 4);
  if (!examples.length) return;
  box.appendChild(el('span', { className: 'hint', text: '试试：' }));
  examples.forEach((q) => {
    box.appendChild(
      el('button', {
        type: 'button',
        className: 'btn btn-small',
        text: q,
        onclick: () => {
          $('trial-question').value = q;
          runTrial();
        },
      }),
    );
  });
}

export function runTrial(ev) {
  if (ev) ev.preventDefault();
  const question = $('trial-question').value.trim();
  $('trial-error').textContent = '';
  const box = $('trial-result');
  if (!question) {
    $('trial-error').textContent = '请输入一个问题。';
    return;
  }
  clear(box);
  box.appendChild(el('p', { className: 'hint', text: '正在测试…' }));
  api('POST', '/api/entries/try', { entry: collect(), question: question }).then((res) => {
    clear(box);
    if (!res.ok) {
      $('trial-error').textContent = res.data?.errors ? `内容有误，无法测试：${res.data.detail}` : errorText(res);
      return;
    }
    const d = res.data;
    const good = d.rank === 1 && d.answerable && !d.ambiguous;
    append(box, [
      el('p', { className: `trial-verdict ${good ? 'good' : 'bad'}`, text: d.verdict }),
      el('dl', { className: 'trial-facts' }, [
        el('dt', { text: '回答哪一部分' }),
        el('dd', { text: d.part_title }),
        el('dt', { text: '本条目匹配度' }),
        el('dd', { text: d.score === null ? '不在前 5 名' : `${pct(d.score)}（第 ${d.rank} 名）` }),
        el('dt', { text: '助手的做法' }),
        el('dd', {
          text: !d.answerable ? '说没找到，建议转人工' : d.ambiguous ? '请市民在前两名中选择' : '直接回答第 1 名',
        }),
      ]),
      el(
        'ol',
        { className: 'trial-ranking', 'aria-label': '排名' },
        d.results.map((r) =>
          el('li', { className: r.this ? 'this' : '' }, [
            el('span', { text: r.title + (r.this ? '（本条目）' : '') }),
            el('span', { className: 'hint', text: ` ${pct(r.score)}` }),
          ]),
        ),
      ),
    ]);
  });
}
