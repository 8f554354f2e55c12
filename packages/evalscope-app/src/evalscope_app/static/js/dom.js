// DOM helpers. Every piece of run data reaches the page through these as text: `h()` appends
// strings as text nodes and never sets innerHTML, so a model's `<script>` or `<img onerror>` is
// shown, not run. Links may only point inside the app (`#…`), to its own files (`/…`) or to a
// download (`blob:`).
"use strict";
window.ES = window.ES || {};
window.ES.views = window.ES.views || {};
(function (ES) {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const SAFE_HREF = /^(#|\/(?!\/)|blob:)/;

  function setAttrs(el, attrs, svg) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.setAttribute("class", String(v));
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "dataset") for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
      else if (k === "style") for (const [sk, sv] of Object.entries(v)) el.style[sk] = sv; // CSSOM: allowed by the CSP
      else if (k === "text") el.textContent = String(v);
      else if (k === "value") el.value = String(v);
      else if (!svg && (k === "checked" || k === "disabled" || k === "selected" || k === "open")) el[k] = Boolean(v);
      else if (k === "href") {
        if (SAFE_HREF.test(String(v))) el.setAttribute("href", String(v));
      } else if (k.startsWith("on") || k === "innerHTML" || k === "srcdoc") {
        throw new Error("refusing to set " + k);
      } else el.setAttribute(k, String(v));
    }
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** An HTML element: h("a", {href: "#/", class: "x"}, "text", child, ...). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs, false);
    return append(el, children);
  }

  /** An SVG element, same calling convention. */
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    setAttrs(el, attrs, true);
    return append(el, children);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  const isNum = (v) => typeof v === "number" && isFinite(v);
  const fmt = {
    num(v, digits = 4) {
      return isNum(v) ? v.toFixed(digits) : "–";
    },
    int(v) {
      return isNum(v) ? Math.round(v).toLocaleString("en-US") : "–";
    },
    pct(v, digits = 1) {
      return isNum(v) ? (v * 100).toFixed(digits) + "%" : "–";
    },
    /** "0.8333 ± 0.1667" or with a 95 % interval "[0.61, 0.95]". */
    figure(f, digits = 4) {
      if (!f || !isNum(f.score)) return "–";
      let text = f.score.toFixed(digits);
      if (isNum(f.stderr)) text += " ± " + f.stderr.toFixed(digits);
      return text;
    },
    ci(f, digits = 4) {
      if (!f) return "";
      if (isNum(f.ci_low) && isNum(f.ci_high)) return "[" + f.ci_low.toFixed(digits) + ", " + f.ci_high.toFixed(digits) + "]";
      if (isNum(f.score) && isNum(f.stderr) && f.stderr > 0) {
        return "≈[" + (f.score - 1.96 * f.stderr).toFixed(digits) + ", " + (f.score + 1.96 * f.stderr).toFixed(digits) + "]";
      }
      return "";
    },
    date(iso) {
      return iso ? String(iso).replace("T", " ").slice(0, 19) : "–";
    },
    bytes(n) {
      if (!isNum(n)) return "–";
      if (n < 1024) return n + " B";
      if (n < 1048576) return (n / 1024).toFixed(1) + " KB";
      return (n / 1048576).toFixed(1) + " MB";
    },
  };

  /** The 95 % interval of a figure: its own, else score ± 1.96 stderr, else none. */
  function interval(f) {
    if (!f || !isNum(f.score)) return null;
    if (isNum(f.ci_low) && isNum(f.ci_high)) return [f.ci_low, f.ci_high];
    if (isNum(f.stderr)) return [f.score - 1.96 * f.stderr, f.score + 1.96 * f.stderr];
    return null;
  }

  const PALETTE = ["#2f6fdf", "#e0752d", "#2a9d60", "#c7414b", "#8459c9", "#8c6d31", "#d65fb0", "#5f6b7a", "#1aa3b5", "#b8a21a"];
  const color = (i) => PALETTE[i % PALETTE.length];

  /** Save text as a file (CSV, JSONL): a blob URL on a temporary link, no network. */
  function download(name, text, mime) {
    const url = URL.createObjectURL(new Blob([text], { type: mime }));
    const a = h("a", { href: url, download: name, class: "hidden" });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  ES.dom = { h, s, clear, append, fmt, interval, color, isNum, download };
})(window.ES);
