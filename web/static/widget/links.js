/*
 * Links in the widget: only http(s) and tel (relative URLs resolve against the embedding page), and
 * text with its http(s) URLs turned into such links.
 */
import { el } from '../lib/dom.js';

/** Only http(s) and tel links (relative URLs resolve against this page). */
export function safeHref(url) {
  if (typeof url !== 'string' || !url.trim()) return null;
  try {
    const u = new URL(url.trim(), window.location.href);
    return ['http:', 'https:', 'tel:'].indexOf(u.protocol) >= 0 ? u.href : null;
  } catch (_e) {
    return null;
  }
}

/** An external link opening in a new tab, or a plain span when the URL is not allowed. */
export function link(url, text, newTab) {
  const href = safeHref(url);
  if (!href) return el('span', { text: text });
  const a = el('a', { href: href, text: text });
  if (newTab && href.indexOf('tel:') !== 0) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.appendChild(el('span', { className: 'banshi-sr', text: '（新窗口打开）' }));
  }
  return a;
}

export function telLink(number, text) {
  const digits = String(number || '').replace(/[^\d+-]/g, '');
  return digits ? link(`tel:${digits}`, text || digits) : el('span', { text: text || '' });
}

/** Text with http(s) URLs turned into safe links; newlines kept by CSS. */
export function richText(text) {
  const frag = document.createDocumentFragment();
  String(text || '')
    .split(/(https?:\/\/[^\s<>"'，。；）)]+)/)
    .forEach((part, i) => {
      if (i % 2 === 1) frag.appendChild(link(part, part, true));
      else if (part) frag.appendChild(document.createTextNode(part));
    });
  return frag;
}
