/*
 * The DOM helpers every page shares (widget, agent console, editor). The DOM is built with
 * createElement/textContent only (no HTML is ever parsed from a string), so nothing a citizen or an
 * editor typed can run.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/**
 * Set attributes: className, text (textContent), dataset (an object), on<event> handlers; any other
 * key is an attribute (true → present and empty; false, null and undefined → left out).
 */
export function setAttrs(node, attrs) {
  Object.keys(attrs || {}).forEach((k) => {
    const v = attrs[k];
    if (v === undefined || v === null || v === false) return;
    if (k === 'className') node.setAttribute('class', v);
    else if (k === 'text') node.textContent = String(v);
    else if (k === 'dataset')
      Object.keys(v).forEach((d) => {
        node.dataset[d] = v[d];
      });
    else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  });
}

/** Append children: nodes, or strings as text; null, undefined and false are skipped. */
export function append(node, children) {
  (children || []).forEach((c) => {
    if (c === null || c === undefined || c === false) return;
    node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  });
  return node;
}

/** Create an element: el('button', {type: 'button', text: '发送', onclick: send}, [children]). */
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** Create an SVG element (charts), with the same attributes as el(). */
export function svg(tag, attrs, children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** Remove every child. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}
