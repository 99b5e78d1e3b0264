/*
 * 操作日志: who did what to which entry, newest first (the log only grows).
 */
import { api, errorText } from '../lib/api.js';
import { $, clear, el } from '../lib/dom.js';
import { label } from '../lib/labels.js';
import { show, when } from './common.js';

export function loadAudit() {
  api('GET', '/api/audit?limit=500').then((res) => {
    const body = $('audit-rows');
    clear(body);
    if (!res.ok) {
      show(errorText(res));
      return;
    }
    res.data.data.forEach((a) => {
      body.appendChild(
        el('tr', {}, [
          el('td', { text: when(a.created_at) }),
          el('td', { text: `${a.actor}（${label('roles', a.role)}）` }),
          el('td', { text: label('audit_actions', a.action) }),
          el('td', { text: a.entry_id || '' }),
          el('td', { text: a.version ? `v${a.version}` : '' }),
          el('td', { text: a.comment }),
        ]),
      );
    });
  });
}
