// Tables: a small sortable one for summaries, and a virtualised one for 100,000 samples — only the
// rows in view exist in the DOM (fixed row height, a spacer for the scroll range), so a filter or a
// page change re-renders a few dozen rows whatever the count.
"use strict";
(function (ES) {
  const { h, clear, isNum } = ES.dom;

  /**
   * columns: [{key, label, render?(row) -> Node|string, value?(row) -> sortable, num?: bool, title?}]
   * opts: {sort: {key, dir}, onSort(key, dir), rowClass?(row), empty?: string}
   */
  function simple(columns, rows, opts = {}) {
    const sort = opts.sort || {};
    let sorted = rows;
    const col = columns.find((c) => c.key === sort.key);
    if (col) {
      const val = col.value || ((r) => r[col.key]);
      const dir = sort.dir === "asc" ? 1 : -1;
      sorted = rows.slice().sort((a, b) => {
        const va = val(a), vb = val(b);
        if (va === vb) return 0;
        if (va === null || va === undefined || va === "") return 1;
        if (vb === null || vb === undefined || vb === "") return -1;
        return (isNum(va) && isNum(vb) ? va - vb : String(va).localeCompare(String(vb))) * dir;
      });
    }
    const head = h("tr", null, columns.map((c) => {
      const active = c.key === sort.key;
      const th = h("th", { class: (c.num ? "num " : "") + (opts.onSort && c.sortable !== false ? "sortable" : ""), title: c.title || null,
        dataset: { key: c.key }, "aria-sort": active ? (sort.dir === "asc" ? "ascending" : "descending") : null },
        c.label, active ? (sort.dir === "asc" ? " ▲" : " ▼") : "");
      if (opts.onSort && c.sortable !== false) {
        th.addEventListener("click", () => opts.onSort(c.key, active && sort.dir === "desc" ? "asc" : "desc"));
      }
      return th;
    }));
    const body = sorted.length
      ? sorted.map((r) => h("tr", { class: opts.rowClass ? opts.rowClass(r) : null },
        columns.map((c) => h("td", { class: c.num ? "num" : null }, c.render ? c.render(r) : r[c.key] ?? "–"))))
      : [h("tr", null, h("td", { colspan: columns.length, class: "empty" }, opts.empty || ""))];
    return h("table", { class: "grid-table" + (opts.className ? " " + opts.className : "") }, h("thead", null, head), h("tbody", null, body));
  }

  /**
   * A virtualised list. columns: [{label, width: CSS grid track, cell(i) -> Node|string, className?}]
   * Returns {el, setCount(n), scrollToRow(i), firstRow(), refresh()}; `onRow(i)` on click/Enter,
   * `onScroll(first)` after each render.
   */
  function virtual({ columns, count, rowHeight = 30, height = 560, onRow, onScroll }) {
    const template = columns.map((c) => c.width || "1fr").join(" ");
    const header = h("div", { class: "vt-head", role: "row", style: { gridTemplateColumns: template } },
      columns.map((c) => h("div", { class: "vt-cell " + (c.className || ""), role: "columnheader" }, c.label)));
    const spacer = h("div", { class: "vt-spacer" });
    const windowEl = h("div", { class: "vt-window" });
    const viewport = h("div", { class: "vt-viewport", tabindex: "0", style: { height: height + "px" } }, spacer, windowEl);
    const el = h("div", { class: "vt", role: "table" }, header, viewport);
    let n = count, lastFirst = -1, lastCount = -1;

    // A short list gets a short box; a long one scrolls inside `height` pixels.
    const fit = () => { viewport.style.height = Math.min(height, Math.max(3, n) * rowHeight + 2) + "px"; };

    function render(force) {
      const first = Math.max(0, Math.min(Math.floor(viewport.scrollTop / rowHeight), Math.max(0, n - 1)));
      if (!force && first === lastFirst && n === lastCount) return;
      lastFirst = first;
      lastCount = n;
      const visible = Math.ceil(height / rowHeight) + 2;
      clear(windowEl);
      windowEl.style.transform = `translateY(${first * rowHeight}px)`;
      for (let i = first; i < Math.min(n, first + visible); i++) {
        const row = h("div", { class: "vt-row" + (i % 2 ? " odd" : ""), role: "row", dataset: { row: i },
          style: { gridTemplateColumns: template, height: rowHeight + "px" } },
          columns.map((c) => h("div", { class: "vt-cell " + (c.className || ""), role: "cell" }, c.cell(i))));
        if (onRow) row.addEventListener("click", () => onRow(i));
        windowEl.appendChild(row);
      }
      el.dataset.first = String(first);
      el.dataset.count = String(n);
      if (onScroll) onScroll(first);
    }
    let pending = false;
    viewport.addEventListener("scroll", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        render(false);
      });
    });
    viewport.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && onRow && n) onRow(lastFirst);
    });
    spacer.style.height = n * rowHeight + "px";
    fit();
    render(true);
    return {
      el,
      pageSize: Math.floor(height / rowHeight),
      setCount(m) {
        n = m;
        spacer.style.height = n * rowHeight + "px";
        fit();
        if (viewport.scrollTop > n * rowHeight) viewport.scrollTop = 0;
        render(true);
      },
      /** Jump so that row i is first, and draw now (not on the next scroll event). */
      scrollToRow(i) {
        viewport.scrollTop = Math.max(0, Math.min(i, n - 1)) * rowHeight;
        render(true);
      },
      firstRow: () => Math.max(0, lastFirst),
      refresh: () => render(true),
    };
  }

  ES.table = { simple, virtual };
})(window.ES);
