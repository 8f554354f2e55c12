// Runs overview: every run under --outputs, sortable and filterable; tick runs to compare them.
"use strict";
(function (ES) {
  const { h, clear, fmt } = ES.dom;
  const t = (...a) => ES.t(...a);

  /** The settings that tell runs apart, in one line; the whole config (secrets removed) on hover. */
  function configSummary(run) {
    const c = run.config;
    if (!c) return "";
    const parts = [];
    const add = (k, v) => { if (v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)) parts.push(k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)); };
    if (run.kind === "perf") {
      for (const k of ["api", "dataset", "parallel", "number", "rate", "max_tokens", "stream"]) add(k, c[k]);
    } else {
      for (const k of ["limit", "eval_batch_size", "eval_type", "use_cache"]) add(k === "eval_batch_size" ? "batch" : k, c[k]);
      for (const [k, v] of Object.entries(c.generation_config || {})) if (k !== "n" || v !== 1) add(k, v);
      const judges = ((c.judge || {}).models || []).map((m) => m.model_id || m.judge_id).filter(Boolean);
      if (judges.length) add("judge", judges.join("+"));
    }
    return parts.join(" · ");
  }

  function matches(run, tokens) {
    const hay = [run.id, run.kind, run.backend, run.date, ...run.models, ...run.benchmarks, configSummary(run)].join(" ").toLowerCase();
    return tokens.every((tok) => hay.includes(tok));
  }

  function scoreChips(run) {
    if (run.kind === "perf") {
      const p = run.perf || {};
      return h("span", { class: "chip" }, t("perf.best"), " ", fmt.num(p.best_request_throughput, 2), " req/s · ", p.runs, " ", t("perf.runs"));
    }
    const many = run.models.length > 1;
    return run.scores.map((s) => h("span", { class: "chip", title: `${s.metric} (n=${s.num})` },
      (many ? s.model_name + " · " : "") + s.benchmark + " ", h("b", null, fmt.num(s.score, 3)),
      ES.dom.isNum(s.stderr) ? " ±" + fmt.num(s.stderr, 3) : ""));
  }

  /** The compare view's sources for the chosen runs: every model of each evaluation run. */
  function sourcesOf(runs) {
    const params = new URLSearchParams();
    let i = 0;
    for (const run of runs) {
      if (run.kind !== "eval") continue;
      for (const model of [...new Set(run.sources.filter((s) => s.reviews || s.has_report).map((s) => s.model))]) {
        params.set("r" + i, run.id);
        params.set("m" + i, model);
        i++;
      }
    }
    return params;
  }
  ES.sourcesOf = sourcesOf;

  ES.views.overview = async (main, params, seq) => {
    const data = await ES.data.runs();
    if (ES.stale(seq)) return;
    const runs = data.runs;
    const state = {
      q: params.get("q") || "",
      kind: params.get("kind") || "",
      sort: params.get("sort") || "date",
      dir: params.get("dir") || "desc",
      selected: new Set((params.get("sel") || "").split("\n").filter(Boolean)),
    };
    main.appendChild(h("h1", null, t("overview.title"), " ", h("span", { class: "muted" }, `(${runs.length})`)));
    main.appendChild(h("p", { class: "muted" }, t("overview.root"), " ", h("code", null, data.root)));
    if (!runs.length) {
      main.appendChild(h("div", { class: "empty-box", id: "no-runs" }, h("p", null, t("overview.empty", data.root)),
        h("p", null, h("code", null, "evalscope eval --model … --datasets … --work-dir " + data.root))));
      return;
    }
    const problems = runs.flatMap((r) => r.problems.map((p) => ({ ...p, run: r.id })));
    if (problems.length) {
      main.appendChild(h("details", { class: "warn-box", id: "problems", open: true },
        h("summary", null, t("problems.title", problems.length)),
        h("ul", null, problems.map((p) => h("li", null, h("code", null, p.file), " — ", p.error)))));
    }
    const filter = h("input", { type: "search", id: "runs-filter", placeholder: t("overview.filter"), value: state.q, "aria-label": t("overview.filter") });
    const kind = h("select", { id: "runs-kind" }, ["", "eval", "perf"].map((k) => h("option", { value: k, selected: k === state.kind }, k ? t("kind." + k) : t("kind.all"))));
    const compareBtn = h("button", { id: "compare-selected", type: "button" }, t("overview.compare"));
    const count = h("span", { class: "muted", id: "runs-count" });
    const tableBox = h("div", { class: "table-box" });
    main.appendChild(h("div", { class: "toolbar" }, filter, kind, compareBtn, count));
    main.appendChild(tableBox);

    function save() {
      const p = new URLSearchParams();
      if (state.q) p.set("q", state.q);
      if (state.kind) p.set("kind", state.kind);
      if (state.sort !== "date" || state.dir !== "desc") { p.set("sort", state.sort); p.set("dir", state.dir); }
      if (state.selected.size) p.set("sel", [...state.selected].join("\n"));
      ES.replaceParams(p);
    }

    function draw() {
      const tokens = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      const shown = runs.filter((r) => (!state.kind || r.kind === state.kind) && matches(r, tokens));
      count.textContent = t("overview.count", shown.length, runs.length);
      compareBtn.disabled = !runs.some((r) => state.selected.has(r.id) && r.kind === "eval");
      const columns = [
        { key: "sel", label: "", sortable: false, render: (r) => h("input", { type: "checkbox", "aria-label": r.id, checked: state.selected.has(r.id),
          disabled: r.kind !== "eval", dataset: { run: r.id }, on: { change: (e) => {
            if (e.target.checked) state.selected.add(r.id); else state.selected.delete(r.id);
            save();
            compareBtn.disabled = !runs.some((x) => state.selected.has(x.id) && x.kind === "eval");
          } } }) },
        { key: "date", label: t("col.date"), render: (r) => fmt.date(r.date) },
        { key: "id", label: t("col.run"), render: (r) => h("a", { href: ES.href(r.kind === "perf" ? "perf" : "run", { id: r.id }), class: "run-link" }, r.id) },
        { key: "kind", label: t("col.kind"), value: (r) => r.kind + " " + r.backend,
          render: (r) => (r.kind === "perf" ? t("kind.perf") : [t("kind.eval"), h("span", { class: "muted" }, " · " + r.backend)]) },
        { key: "models", label: t("col.models"), value: (r) => r.models.join(", "), render: (r) => r.models.join(", ") },
        { key: "benchmarks", label: t("col.benchmarks"), value: (r) => r.benchmarks.join(", "), render: (r) => r.benchmarks.join(", ") },
        { key: "score", label: t("col.scores"), value: (r) => (r.scores[0] ? r.scores[0].score : r.perf ? r.perf.best_request_throughput : null), render: scoreChips },
        { key: "num_samples", label: t("col.samples"), num: true, render: (r) => fmt.int(r.num_samples) },
        { key: "config", label: t("col.config"), value: configSummary, render: (r) => h("span", { class: "config-summary muted",
          title: r.config ? JSON.stringify(r.config, null, 2) : null }, configSummary(r) || "–") },
        { key: "problems", label: t("col.issues"), num: true, value: (r) => r.problems.length,
          render: (r) => (r.problems.length ? h("span", { class: "bad", title: r.problems.map((p) => p.file + ": " + p.error).join("\n") }, r.problems.length) : "") },
      ];
      clear(tableBox).appendChild(ES.table.simple(columns, shown, {
        className: "runs-table",
        sort: { key: state.sort, dir: state.dir },
        onSort: (key, dir) => { state.sort = key; state.dir = dir; save(); draw(); },
        empty: t("overview.nomatch"),
      }));
    }
    filter.addEventListener("input", () => { state.q = filter.value; save(); draw(); });
    kind.addEventListener("change", () => { state.kind = kind.value; save(); draw(); });
    compareBtn.addEventListener("click", () => ES.go("compare", sourcesOf(runs.filter((r) => state.selected.has(r.id)))));
    draw();
  };
})(window.ES);
