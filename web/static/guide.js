/*
 * 一次性告知单 (/guide/<id>): the 打印 button (shown only when scripts run; Ctrl+P works anyway).
 * Served from /static so that the page keeps its script-src 'self' policy.
 */
(() => {
  function init() {
    document.querySelectorAll('.guide-print').forEach((button) => {
      button.hidden = false;
      button.addEventListener('click', () => {
        window.print();
      });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
