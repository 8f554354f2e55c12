// Compare N runs or models: a side-by-side table and charts of their reports, then a per-sample diff
// (where one passes and another fails) filterable by benchmark, subset, outcome, score, tag and a
// regular expression, exportable as CSV or JSONL. Sources are (run, model) pairs: r0/m0, r1/m1, ...
"use strict";
(function (ES) {
  const { h, clear, fmt, interval, isNum } = ES.dom;
  const t = (...a) => ES.t(...a);
  const FILTERS = ["bench", "subset", "outcome", "ref", "thr", "min", "max", "tag", "re", "order"];

  function sourcesFrom(params) {
    const out = [];
    for (let i = 0; params.has("r" + i); i++) out.push({ run: params.get("r" + i), model: params.get("m" + i) || "" });
    return out;
  }

  function paramsFor(sources, extra) {
    const p = new URLSearchParams();
    sources.forEach((s, i) => { p.set("r" + i, s.run); p.set("m" + i, s.model); });
    for (const [k, v] of Object.entries(extra || {})) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
    return p;
  }
  ES.compareParams = paramsFor;
  ES.compareSources = sourcesFrom;

  async function picker(main) {
    const data = await ES.data.runs();
    const boxes = [];
    const list = h("ul", { class: "picker" });
    for (const run of data.runs.filter((r) => r.kind === "eval")) {
      for (const model of [...new Set(run.sources.map((s) => s.model))]) {
        const cb = h("input", { type: "checkbox", dataset: { run: run.id, model } });
        boxes.push(cb);
        list.appendChild(h("li", null, h("label", null, cb, " ", model, " · ", h("span", { class: "muted" }, run.id, " · ", run.benchmarks.join(", ")))));
      }
    }
    const go = h("button", { type: "button", id: "compare-go", on: { click: () => {
      const chosen = boxes.filter((b) => b.checked).map((b) => ({ run: b.dataset.run, model: b.dataset.model }));
      if (chosen.length) ES.go("compare", paramsFor(chosen));
    } } }, t("overview.compare"));
    main.append(h("h1", null, t("compare.title")), h("p", null, t("compare.pick")), list, go);
  }

  /** Side-by-side: per benchmark the overall figure and every subset, a column per source. */
  function sideBySide(sources, reportsOf) {
    const benches = [...new Set(sources.flatMap((s, i) => reportsOf[i].map((r) => r.dataset_name)))];
    const head = h("tr", null, h("th", null, t("col.benchmark")), h("th", null, t("col.subset")),
      sources.map((s, i) => h("th", { class: "num" }, h("span", { class: "swatch", style: { background: ES.dom.color(i) } }), s.label)),
      sources.length === 2 ? h("th", { class: "num" }, "Δ") : null);
    const rows = [];
    for (const b of benches) {
      const reps = reportsOf.map((rs) => rs.find((r) => r.dataset_name === b));
      const subsetNames = [...new Set(reps.flatMap((r) => (r && r.metrics[0] ? r.metrics[0].categories.flatMap((c) => c.subsets.map((x) => x.name)) : [])))];
      const lines = [[t("compare.overall"), (r) => r && r.metrics[0]]];
      if (subsetNames.length > 1) {
        for (const sn of subsetNames) lines.push([sn, (r) => r && r.metrics[0] && r.metrics[0].categories.flatMap((c) => c.subsets).find((x) => x.name === sn)]);
      }
      for (const [label, pick] of lines) {
        const figs = reps.map(pick);
        const scores = figs.filter((f) => f && isNum(f.score)).map((f) => f.score);
        // The best figure is marked only where the sources differ.
        const best = scores.length > 1 && scores.some((v) => v !== scores[0]) ? Math.max(...scores) : NaN;
        rows.push(h("tr", { class: label === t("compare.overall") ? "overall" : null },
          h("td", null, label === t("compare.overall") ? h("b", null, b) : ""), h("td", null, label),
          figs.map((f) => h("td", { class: "num" + (f && f.score === best ? " best" : ""), title: f ? fmt.ci(f) : null },
            f ? fmt.figure(f) : "–", f ? h("span", { class: "muted" }, " n=" + f.num) : null)),
          sources.length === 2 ? h("td", { class: "num delta" }, figs[0] && figs[1] && isNum(figs[0].score) && isNum(figs[1].score)
            ? (figs[1].score - figs[0].score >= 0 ? "+" : "") + fmt.num(figs[1].score - figs[0].score) : "–") : null));
      }
    }
    const charts = h("div", { class: "charts" });
    const series = sources.map((s, i) => ({ name: s.label, colorIndex: i,
      values: benches.map((b) => { const r = reportsOf[i].find((x) => x.dataset_name === b); return r && r.metrics[0] ? r.metrics[0].score : null; }),
      intervals: benches.map((b) => { const r = reportsOf[i].find((x) => x.dataset_name === b); return r ? interval(r.metrics[0]) : null; }) }));
    if (benches.length) charts.appendChild(ES.charts.bars({ labels: benches, series, title: t("compare.title") }));
    if (benches.length >= 3) charts.appendChild(ES.charts.radar({ axes: benches, series }));
    return h("section", { id: "side-by-side" },
      h("table", { class: "grid-table compare-table" }, h("thead", null, head), h("tbody", null, rows)), charts);
  }

  function scoreBadge(A, s, k) {
    const c = ES.samples.cell(A, s, k);
    if (!c) return h("span", { class: "badge missing" }, "—");
    const st = c.file.status[c.row], v = c.file.score[c.row];
    const cls = st === ES.samples.STATUS_ERROR ? "error" : st === ES.samples.STATUS_UNSCORED || !isNum(v) ? "unscored" : null;
    return h("span", { class: "badge " + (cls || (v >= ES.compareThr ? "pass" : "fail")) }, isNum(v) ? fmt.num(v, 2) : cls === "error" ? "err" : "n/a");
  }

  /** The per-sample browser: filters, count, export, virtual table; state lives in the URL. */
  function sampleBrowser(main, sources, A, params) {
    const f = {};
    for (const k of FILTERS) f[k] = params.get(k) || "";
    if (!f.outcome) f.outcome = "all";
    ES.compareThr = isNum(parseFloat(f.thr)) ? parseFloat(f.thr) : 0.5;
    const S = sources.length;
    const sel = (id, options, value) => h("select", { id }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
    const outcomes = S > 1
      ? ["all", "flip", "differ", "ref_pass_other_fail", "ref_fail_other_pass", "all_pass", "all_fail", "error", "unscored", "missing"]
      : ["all", "pass", "fail", "error", "unscored"];
    const ctl = {
      bench: sel("f-bench", [["", t("filter.allbench")], ...A.benches.map((b) => [b, b])], f.bench),
      subset: sel("f-subset", [["", t("filter.allsubset")], ...A.subsets.map((b) => [b, b])], f.subset),
      outcome: sel("f-outcome", outcomes.map((o) => [o, t("outcome." + o)]), f.outcome),
      ref: sel("f-ref", sources.map((s, i) => [String(i), t("filter.ref") + ": " + s.label]), f.ref || "0"),
      thr: h("input", { id: "f-thr", type: "number", step: "any", placeholder: "0.5", value: f.thr, title: t("filter.thr"), class: "narrow" }),
      min: h("input", { id: "f-min", type: "number", step: "any", placeholder: t("filter.min"), value: f.min, class: "narrow" }),
      max: h("input", { id: "f-max", type: "number", step: "any", placeholder: t("filter.max"), value: f.max, class: "narrow" }),
      tag: sel("f-tag", [["", t("filter.alltags")], ...A.tags.map((x) => [x, x])], f.tag),
      re: h("input", { id: "f-re", type: "search", placeholder: t("filter.re"), value: f.re, "aria-label": t("filter.re") }),
      order: sel("f-order", [["", t("order.natural")], ["score_asc", t("order.score_asc")], ["score_desc", t("order.score_desc")], ["spread", t("order.spread")]], f.order),
    };
    if (S === 1) ctl.ref.classList.add("hidden");
    const count = h("span", { id: "sample-count", class: "muted" });
    const reError = h("span", { id: "re-error", class: "bad" });
    const pageInfo = h("span", { id: "page-info", class: "muted" });
    const exportCsv = h("button", { type: "button", id: "export-csv" }, "CSV");
    const exportJsonl = h("button", { type: "button", id: "export-jsonl" }, "JSONL");
    if (!ES.data.samplesIncluded) { exportCsv.disabled = true; exportJsonl.disabled = true; }
    let keys = new Int32Array(0);
    const columns = [
      { label: "#", width: "56px", className: "num muted", cell: (i) => String(i + 1) },
      { label: t("col.benchmark"), width: "minmax(70px, 0.7fr)", cell: (i) => A.benches[A.kBench[keys[i]]] },
      { label: t("col.subset"), width: "minmax(70px, 0.7fr)", cell: (i) => A.subsets[A.kSubset[keys[i]]] },
      { label: "id", width: "minmax(70px, 0.8fr)", className: "mono", cell: (i) => A.kId[keys[i]] },
      { label: t("col.question"), width: "2fr", cell: (i) => A.kQ[keys[i]] },
      ...sources.map((src, s) => ({ label: src.label, width: "1.4fr", className: "src", cell: (i) => {
        const k = keys[i], c = ES.samples.cell(A, s, k);
        return [scoreBadge(A, s, k), " ", c ? c.file.ext[c.row] || c.file.pred[c.row] : ""];
      } })),
    ];
    let table = null; // assigned below; the table calls onScroll once while it is built
    table = ES.table.virtual({ columns, count: 0, height: 520,
      onRow: (i) => {
        const k = keys[i];
        ES.lastList = { sig: sig(sources), keys, A, at: i, back: location.hash };
        ES.go("sample", paramsFor(sources, { bench: A.benches[A.kBench[k]], subset: A.subsets[A.kSubset[k]], id: A.kId[k] }));
      },
      onScroll: (first) => {
        if (!table) return;
        pageInfo.textContent = keys.length ? t("page.info", first + 1, Math.min(keys.length, first + table.pageSize), keys.length) : "";
        saveSoon(first);
      } });
    table.el.id = "sample-table";
    const prev = h("button", { type: "button", id: "page-prev", on: { click: () => table.scrollToRow(table.firstRow() - table.pageSize) } }, "◀");
    const next = h("button", { type: "button", id: "page-next", on: { click: () => table.scrollToRow(table.firstRow() + table.pageSize) } }, "▶");
    let saveTimer = null;
    function save(first) {
      const extra = {};
      for (const k of FILTERS) extra[k] = f[k];
      if (extra.outcome === "all") extra.outcome = "";
      if (first) extra.row = first;
      ES.replaceParams(paramsFor(sources, extra));
    }
    function saveSoon(first) {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => save(first), 150);
    }
    function apply() {
      try {
        keys = ES.samples.filter(A, f);
        reError.textContent = "";
      } catch (err) {
        reError.textContent = t("filter.bad_re") + " " + err.message;
      }
      ES.compareThr = isNum(parseFloat(f.thr)) ? parseFloat(f.thr) : 0.5;
      count.textContent = t("samples.count", keys.length, A.size);
      table.setCount(keys.length);
      save(table.firstRow());
    }
    for (const [k, el] of Object.entries(ctl)) {
      el.addEventListener(el.tagName === "SELECT" ? "change" : "input", () => { f[k] = el.value; apply(); });
    }
    async function doExport(format) {
      const btn = format === "csv" ? exportCsv : exportJsonl;
      btn.disabled = true;
      try {
        const text = await ES.samples.exportRows(A, keys, format);
        ES.dom.download("samples." + format, text, format === "csv" ? "text/csv" : "application/x-ndjson");
      } finally {
        btn.disabled = false;
      }
    }
    exportCsv.addEventListener("click", () => doExport("csv"));
    exportJsonl.addEventListener("click", () => doExport("jsonl"));
    main.append(
      h("h2", { id: "samples" }, t("samples.title")),
      h("div", { class: "toolbar filters" }, Object.values(ctl), reError),
      h("div", { class: "toolbar" }, count, h("span", { class: "spacer" }), prev, pageInfo, next, h("span", { class: "muted" }, t("samples.export")), exportCsv, exportJsonl),
      table.el);
    apply();
    const row = parseInt(params.get("row") || "0", 10);
    if (row > 0) table.scrollToRow(row);
  }

  const sig = (sources) => sources.map((s) => s.run + "\u0000" + s.model).join("\u0001");
  ES.compareSig = sig;

  ES.views.compare = async (main, params, seq) => {
    const wanted = sourcesFrom(params);
    if (!wanted.length) return picker(main);
    const loaded = await ES.samples.load(wanted);
    if (ES.stale(seq)) return;
    const details = await Promise.all(wanted.map((w) => ES.data.run(w.run)));
    if (ES.stale(seq)) return;
    const reportsOf = details.map((d, i) => (d && d.reports ? d.reports.filter((r) => r._source.model === wanted[i].model) : []));
    main.appendChild(h("h1", null, t("compare.title")));
    const chips = h("div", { class: "chips", id: "sources" }, loaded.map((src, i) => h("span", { class: "chip source" },
      h("span", { class: "swatch", style: { background: ES.dom.color(i) } }),
      h("a", { href: ES.href("run", { id: src.run }) }, src.label), h("span", { class: "muted" }, " " + src.run),
      h("a", { href: ES.href("compare", paramsFor(wanted.filter((_, j) => j !== i))), class: "remove", title: t("compare.remove") }, " ×"))));
    main.appendChild(chips);
    const missing = loaded.filter((s) => s.missing);
    if (missing.length) main.appendChild(h("div", { class: "warn-box" }, t("compare.missing", missing.map((m) => m.run).join(", "))));
    // Add a source from the runs under --outputs.
    const all = await ES.data.runs();
    if (ES.stale(seq)) return;
    const options = [];
    for (const run of all.runs.filter((r) => r.kind === "eval")) {
      for (const model of [...new Set(run.sources.map((s) => s.model))]) {
        if (!wanted.some((w) => w.run === run.id && w.model === model)) options.push([run.id, model]);
      }
    }
    if (options.length) {
      const add = h("select", { id: "add-source" }, h("option", { value: "" }, t("compare.add")),
        options.map(([r, m], i) => h("option", { value: String(i) }, m + " · " + r)));
      add.addEventListener("change", () => {
        if (add.value === "") return;
        const [r, m] = options[+add.value];
        ES.go("compare", paramsFor(wanted.concat([{ run: r, model: m }])));
      });
      main.appendChild(h("div", { class: "toolbar" }, add));
    }
    main.appendChild(sideBySide(loaded, reportsOf));
    const A = ES.samples.align(loaded);
    if (!A.size) {
      main.appendChild(h("div", { class: "empty-box" }, t("samples.none")));
      return;
    }
    const problems = loaded.flatMap((s) => s.files.flatMap((f) => f.cols.problems.map((p) => `${s.run}/reviews/${s.model}/${f.bench}.jsonl ${p}`)));
    if (problems.length) main.appendChild(h("details", { class: "warn-box", open: true }, h("summary", null, t("problems.title", problems.length)),
      h("ul", null, problems.slice(0, 100).map((p) => h("li", null, p)))));
    sampleBrowser(main, loaded, A, params);
  };
})(window.ES);
