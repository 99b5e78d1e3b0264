/*
 * 数据看板: questions per day and how they ended, 好差评, top matters and top gaps, as inline SVG and
 * HTML bar charts.
 */
import { api, errorText } from '../lib/api.js';
import { $, append, clear, el, svg } from '../lib/dom.js';
import { label } from '../lib/labels.js';
import { isoDay, pct } from './common.js';

const COLORS = { answered: '#1b7f3b', abstained: '#b35c00', handed_off: '#0b3d91', other: '#8a919c' };

function setRange(days) {
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  $('dash-from').value = isoDay(from);
  $('dash-to').value = isoDay(to);
  loadStats();
}

export function loadStats() {
  if (!$('dash-to').value) {
    setRange(30);
    return;
  }
  const params = new URLSearchParams({ from: $('dash-from').value, to: $('dash-to').value });
  $('dash-error').textContent = '';
  api('GET', `/api/stats?${params.toString()}`).then((res) => {
    if (!res.ok) {
      $('dash-error').textContent = errorText(res);
      return;
    }
    renderStats(res.data);
  });
}

function kpi(name, value, note) {
  return el('div', { className: 'kpi' }, [
    el('span', { className: 'kpi-value', text: value }),
    el('span', { className: 'kpi-label', text: name }),
    note ? el('span', { className: 'hint', text: note }) : null,
  ]);
}

function renderStats(d) {
  const k = $('dash-kpis');
  clear(k);
  const fb = d.feedback;
  append(k, [
    kpi('提问', String(d.totals.questions), `${d.conversations} 个会话`),
    kpi(label('outcomes', 'answered'), pct(d.shares.answered), `${d.totals.answered} 次`),
    kpi(label('outcomes', 'abstained'), pct(d.shares.abstained), `${d.totals.abstained} 次`),
    kpi(label('outcomes', 'handed_off'), pct(d.shares.handed_off), `${d.totals.handed_off} 次`),
    kpi('有用率', pct(fb.useful_share), `${fb.useful} 有用 / ${fb.not_useful} 没用`),
    kpi('满意度', fb.rating_average === null ? '—' : `${fb.rating_average} / 5`, `${fb.rating_count} 次评价`),
  ]);
  dayChart($('chart-days'), d.days);
  sharesChart($('chart-shares'), d.totals);
  feedbackChart($('chart-feedback'), fb);
  hbars(
    $('chart-matters'),
    d.top_matters.map((m) => ({ label: m.title, value: m.count })),
    '#0b3d91',
    '期间没有回答过事项。',
  );
  hbars(
    $('chart-gaps'),
    d.top_gaps.map((g) => ({ label: g.label, value: g.count })),
    '#b35c00',
    '期间没有未答好的问题。',
  );
}

function legend(keys) {
  return el(
    'div',
    { className: 'legend' },
    keys.map((key) =>
      el('span', {}, [
        el('span', { className: 'swatch', style: null, dataset: { color: key } }),
        label('outcomes', key),
      ]),
    ),
  );
}

function dayChart(box, days) {
  clear(box);
  const W = 760,
    H = 240,
    L = 36,
    B = 28,
    T = 10;
  const max = Math.max(
    1,
    Math.max.apply(
      null,
      days.map((d) => d.questions),
    ),
  );
  const bw = (W - L - 8) / Math.max(1, days.length);
  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    className: 'chart',
    role: 'img',
    'aria-label': '每日提问量，按回答结果分段',
  });
  const y = (v) => H - B - ((H - B - T) * v) / max;
  [0, 0.5, 1].forEach((f) => {
    const v = Math.round(max * f);
    chart.appendChild(svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), className: 'grid' }));
    chart.appendChild(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', className: 'axis', text: String(v) }));
  });
  const every = Math.ceil(days.length / 10);
  days.forEach((d, i) => {
    let base = 0;
    const x = L + i * bw + bw * 0.15;
    ['answered', 'abstained', 'handed_off', 'other'].forEach((key) => {
      const v = d[key];
      if (!v) return;
      const rect = svg('rect', {
        x: x,
        y: y(base + v),
        width: Math.max(1, bw * 0.7),
        height: y(base) - y(base + v),
        fill: COLORS[key],
      });
      rect.appendChild(svg('title', { text: `${d.date} ${label('outcomes', key)} ${v}` }));
      chart.appendChild(rect);
      base += v;
    });
    if (i % every === 0)
      chart.appendChild(
        svg('text', { x: x + bw * 0.35, y: H - 8, 'text-anchor': 'middle', className: 'axis', text: d.date.slice(5) }),
      );
  });
  box.appendChild(chart);
  box.appendChild(legend(['answered', 'abstained', 'handed_off', 'other']));
  colorSwatches(box);
}

function colorSwatches(box) {
  box.querySelectorAll('.swatch').forEach((s) => {
    s.style.background = COLORS[s.dataset.color];
  });
}

function sharesChart(box, totals) {
  clear(box);
  const keys = ['answered', 'abstained', 'handed_off', 'other'];
  const sum = keys.reduce((a, k) => a + totals[k], 0);
  const chart = svg('svg', {
    viewBox: '0 0 200 200',
    className: 'chart donut',
    role: 'img',
    'aria-label': '回答结果占比',
  });
  const R = 70,
    C = 2 * Math.PI * R;
  let offset = 0;
  chart.appendChild(svg('circle', { cx: 100, cy: 100, r: R, fill: 'none', stroke: '#e6e8eb', 'stroke-width': 28 }));
  if (sum) {
    keys.forEach((k) => {
      const part = (totals[k] / sum) * C;
      if (!part) return;
      const arc = svg('circle', {
        cx: 100,
        cy: 100,
        r: R,
        fill: 'none',
        stroke: COLORS[k],
        'stroke-width': 28,
        'stroke-dasharray': `${part} ${C - part}`,
        'stroke-dashoffset': -offset,
        transform: 'rotate(-90 100 100)',
      });
      arc.appendChild(svg('title', { text: `${label('outcomes', k)} ${totals[k]}（${pct(totals[k] / sum)}）` }));
      chart.appendChild(arc);
      offset += part;
    });
  }
  chart.appendChild(
    svg('text', {
      x: 100,
      y: 96,
      'text-anchor': 'middle',
      className: 'donut-value',
      text: sum ? pct(totals.answered / sum) : '—',
    }),
  );
  chart.appendChild(
    svg('text', { x: 100, y: 118, 'text-anchor': 'middle', className: 'axis', text: label('outcomes', 'answered') }),
  );
  box.appendChild(chart);
  box.appendChild(legend(keys));
  colorSwatches(box);
}

function feedbackChart(box, fb) {
  clear(box);
  hbars(
    box,
    [
      { label: '有用', value: fb.useful, color: '#1b7f3b' },
      { label: '没用', value: fb.not_useful, color: '#a4161a' },
    ],
    '#1b7f3b',
    null,
    true,
  );
  box.appendChild(el('p', { className: 'hint', text: '会话满意度（1–5 分）' }));
  hbars(
    box,
    ['5', '4', '3', '2', '1'].map((n) => ({ label: `${n} 分`, value: fb.ratings[n] || 0 })),
    '#0b3d91',
    null,
    true,
  );
}

/** Horizontal bars as HTML rows: the label wraps in full (no cut-off), the bar and count beside it. */
function hbars(box, items, color, emptyText, keep) {
  if (!keep) clear(box);
  if (!items.length) {
    box.appendChild(el('p', { className: 'hint', text: emptyText || '暂无数据。' }));
    return;
  }
  const max = Math.max(
    1,
    Math.max.apply(
      null,
      items.map((i) => i.value),
    ),
  );
  const list = el('ol', { className: 'hbars' });
  items.forEach((item) => {
    const fill = el('span', { className: 'hbar-fill' });
    fill.style.width = `${(100 * item.value) / max}%`;
    fill.style.minWidth = item.value ? '2px' : '0';
    fill.style.background = item.color || color;
    list.appendChild(
      el('li', { className: 'hbar' }, [
        el('span', { className: 'hbar-label', text: item.label }),
        el('span', { className: 'hbar-track', 'aria-hidden': 'true' }, [fill]),
        el('span', { className: 'hbar-value', text: String(item.value) }),
      ]),
    );
  });
  box.appendChild(list);
}

/** The period controls: a date range, or the last 7 / 30 / 90 days. */
export function initStats() {
  $('dash-refresh').addEventListener('click', loadStats);
  document.querySelectorAll('#dash-filters [data-range]').forEach((b) => {
    b.addEventListener('click', () => {
      setRange(Number(b.dataset.range));
    });
  });
}
