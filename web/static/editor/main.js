/*
 * 办事e点通 knowledge editor: entry list and structured form, review workflow, preview, versions with
 * diff and rollback, gap mining, dashboard charts (inline SVG), import/export, audit log.
 * Talks only to this origin's JSON API; builds the DOM with textContent only, so nothing typed by an
 * editor or a citizen can run here (the /guide preview is the server's escaped page in a sandboxed,
 * script-less iframe). Names of fields, statuses and roles come from GET /api/schema/labels.
 *
 * This module logs in and out and wires the views: list.js, entry.js (head and workflow), form.js,
 * preview.js (预览 and 试一试), history.js, gaps.js, stats.js, transfer.js and audit.js.
 */
import { loginForm, logout, onExpired, restore } from '../lib/auth.js';
import { $ } from '../lib/dom.js';
import { loadLabels } from '../lib/labels.js';
import { loadAudit } from './audit.js';
import { EDIT_ROLES, has, show, state } from './common.js';
import { initEntry } from './entry.js';
import { initGaps, loadGaps } from './gaps.js';
import { initList, loadList } from './list.js';
import { initStats, loadStats } from './stats.js';
import { initTransfer, updateExportLinks } from './transfer.js';
import { registerView, switchView } from './views.js';

function loggedOut(message) {
  state.current = null; // the next person starts from the list, not from the last one's entry
  state.dirty = false;
  $('editor').hidden = true;
  $('editor-empty').hidden = false;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('tabs').hidden = true;
  $('whoami').hidden = true;
  document.querySelectorAll('.view').forEach((v) => {
    v.hidden = true;
  });
}

function start(session) {
  const user = session.user;
  $('login-view').hidden = true;
  $('tabs').hidden = false;
  $('whoami').hidden = false;
  $('whoami-name').textContent = `${user.username}（${user.role_title || user.role}）`;
  $('new-entry').hidden = !has(EDIT_ROLES);
  $('import-box').hidden = !has(EDIT_ROLES);
  $('import-publish-label').hidden = false;
  if (user.role === 'agent') show('坐席账号可以查看知识库，但不能修改。');
  switchView('entries');
}

// The form, the filters and the gap reasons are named by the labels: the views are wired once they are here.
const ready = loadLabels().then(() => {
  initList();
  initEntry();
  initGaps();
  initStats();
  initTransfer();
});

registerView('entries', loadList);
registerView('gaps', loadGaps);
registerView('dashboard', loadStats);
registerView('transfer', updateExportLinks);
registerView('audit', loadAudit);
document.querySelectorAll('#tabs .tab').forEach((t) => {
  t.addEventListener('click', () => switchView(t.dataset.view));
});
loginForm((session) => ready.then(() => start(session)));
onExpired(loggedOut);
$('logout').addEventListener('click', () => {
  logout().then(() => loggedOut(''));
});
Promise.all([restore(), ready]).then(([session]) => {
  if (session) start(session);
  else loggedOut('');
});
