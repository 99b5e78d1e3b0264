/*
 * What the widget remembers in this browser (localStorage; nothing in private mode).
 */

export const store = {
  get: (k) => {
    try {
      return window.localStorage.getItem(k);
    } catch (_e) {
      return null;
    }
  },
  set: (k, v) => {
    try {
      window.localStorage.setItem(k, v);
    } catch (_e) {
      /* private mode */
    }
  },
  getJSON: (k, dflt) => {
    try {
      return JSON.parse(store.get(k)) || dflt;
    } catch (_e) {
      return dflt;
    }
  },
  setJSON: (k, v) => {
    store.set(k, JSON.stringify(v));
  },
};

/** Remember a small bounded list (feedback given, callbacks left) in localStorage. */
export function remember(key, value) {
  const list = store.getJSON(key, []);
  if (list.indexOf(value) < 0) list.push(value);
  store.setJSON(key, list.slice(-200));
}
export function remembered(key, value) {
  return store.getJSON(key, []).indexOf(value) >= 0;
}
