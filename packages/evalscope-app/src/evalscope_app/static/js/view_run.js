// One evaluation run: its reports per benchmark, metric, category and subset, each figure with its
// uncertainty; bar and radar charts; judge, collection and arena figures; the config (secrets removed).
"use strict";
(function (ES) {
  const { h, fmt, interval, isNum } = ES.dom;
  const t = (...a) => ES.t(...a);

  function figureCells(f) {
    return [
      h("td", { class: "num score" }, fmt.num(f.score)),
      h("td", { class: "num" }, isNum(f.stderr) ? "± " + fmt.num(f.stderr) : "–"),
      h("td", { class: "num ci" }, fmt.ci(f) || "–"),
    ];
  }

  /** Metric → category → subset rows of one report. */
  function reportTable(report) {
    const head = h("tr", null, [t("col.metric"), t("col.category"), t("col.subset"), "N", t("col.score"), t("col.stderr"), t("col.ci")]
      .map((c, i) => h("th", { class: i >= 3 ? "num" : null }, c)));
    const rows = [];
    for (const m of report.metrics) {
      rows.push(h("tr", { class: "overall" }, h("td", null, m.name, h("span", { class: "muted" }, " (" + m.aggregation + ")")),
        h("td", null, "–"), h("td", null, "OVERALL"), h("td", { class: "num" }, fmt.int(m.num)), figureCells(m)));
      for (const c of m.categories) {
        if (m.categories.length > 1) {
          rows.push(h("tr", { class: "category" }, h("td", null, ""), h("td", null, c.name), h("td", null, "–"),
            h("td", { class: "num" }, fmt.int(c.num)), figureCells(c)));
        }
        for (const s of c.subsets) {
          rows.push(h("tr", null, h("td", null, ""), h("td", null, c.name), h("td", null, s.name), h("td", { class: "num" }, fmt.int(s.num)), figureCells(s)));
        }
      }
    }
    return h("table", { class: "grid-table report-table" }, h("thead", null, head), h("tbody", null, rows));
  }

  function kvTable(obj) {
    return h("table", { class: "grid-table kv" }, h("tbody", null, Object.entries(obj).map(([k, v]) =>
      h("tr", null, h("th", null, k), h("td", null, typeof v === "number" ? fmt.num(v) : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? "–"))))));
  }

  function collectionSection(col) {
    const level = (name, rows, keyField) => {
      if (!Array.isArray(rows) || !rows.length) return null;
      const keys = Object.keys(rows[0]);
      return h("div", null,
        ES.table.simple(keys.map((k) => ({ key: k, label: k, num: typeof rows[0][k] === "number",
          render: (r) => (typeof r[k] === "number" && !Number.isInteger(r[k]) ? fmt.num(r[k]) : String(r[k] ?? "–")) })), rows),
        keyField ? ES.charts.bars({ labels: rows.map((r) => r[keyField]), title: name,
          series: [{ name: "micro_avg.", values: rows.map((r) => r["micro_avg."]),
            intervals: rows.map((r) => (isNum(r.micro_stderr) ? [r["micro_avg."] - 1.96 * r.micro_stderr, r["micro_avg."] + 1.96 * r.micro_stderr] : null)) }] }) : null);
    };
    return h("section", { class: "collection", id: "collection" },
      h("h3", null, t("collection.bytag")),
      level("tags", col.tag_level, "tags"),
      ...["category_level", "task_level", "dataset_level", "subset_level"].map((k) =>
        col[k] ? h("details", null, h("summary", null, k), level(k, col[k], null)) : null));
  }

  function arenaSection(run, report) {
    const a = report.extra.arena;
    const src = report._source;
    return h("section", { class: "arena-summary" },
      h("h3", null, t("arena.title")),
      ES.arenaBoard(a.overall || [], a.baseline),
      h("p", null, h("a", { href: ES.href("arena", { run: run.summary.id, model: src.model, bench: src.bench }), class: "button-link", id: "open-arena" }, t("arena.open"))));
  }

  function reportSection(run, report, open) {
    const src = report._source;
    const first = report.metrics[0];
    const subsets = first ? first.categories.flatMap((c) => c.subsets) : [];
    const hasReviews = run.summary.sources.some((s) => s.model === src.model && s.bench === src.bench && s.reviews);
    const p = new URLSearchParams({ r0: run.summary.id, m0: src.model, bench: report.dataset_name });
    return h("details", { class: "report", open, dataset: { bench: report.dataset_name, model: report.model_name } },
      h("summary", null, h("b", null, report.pretty_name || report.dataset_name), " · ", report.model_name, " · ",
        first ? fmt.figure(first) : "–", report.benchmark_version ? h("span", { class: "muted" }, " v" + report.benchmark_version) : null),
      h("div", { class: "report-body" },
        hasReviews ? h("p", null, h("a", { href: ES.href("compare", p), class: "button-link" }, t("run.samples"))) : null,
        reportTable(report),
        subsets.length > 1 ? ES.charts.bars({ labels: subsets.map((s) => s.name), title: first.name,
          series: [{ name: report.model_name, values: subsets.map((s) => s.score), intervals: subsets.map(interval) }] }) : null,
        report.num_errors ? h("details", null, h("summary", null, t("run.errors", report.num_errors)),
          h("ul", null, report.errors.slice(0, 200).map((e) => h("li", null, h("code", null, e.id), " ", e.error)))) : null,
        report.num_unscored ? h("details", null, h("summary", null, t("run.unscored", report.num_unscored)),
          h("ul", null, report.unscored.slice(0, 200).map((e) => h("li", null, h("code", null, e.id), " ", e.error)))) : null,
        report.extra.judge ? h("section", null, h("h3", null, t("judge.title")), kvTable(report.extra.judge)) : null,
        report.extra.collection ? collectionSection(report.extra.collection) : null,
        report.extra.arena ? arenaSection(run, report) : null));
  }

  ES.views.run = async (main, params, seq) => {
    const id = params.get("id") || "";
    const run = await ES.data.run(id);
    if (ES.stale(seq)) return;
    if (!run) {
      main.appendChild(h("div", { class: "error-box" }, t("error.norun", id)));
      return;
    }
    if (run.summary.kind === "perf") return ES.views.perf(main, params, seq);
    const S = run.summary;
    main.appendChild(h("h1", null, S.id));
    main.appendChild(h("p", { class: "meta" }, fmt.date(S.date), " · ", S.backend, " · ", S.models.join(", "), " · ", fmt.int(S.num_samples), " ", t("col.samples")));
    const models = [...new Set(S.sources.map((s) => s.model))];
    const actions = h("p", { class: "actions" });
    if (S.sources.some((s) => s.reviews)) {
      actions.appendChild(h("a", { href: ES.href("compare", ES.sourcesOf([S])), class: "button-link", id: "run-samples" },
        models.length > 1 ? t("run.comparemodels") : t("run.samples")));
    }
    for (const f of run.files || []) {
      const href = ES.data.fileHref(f);
      if (href) actions.appendChild(h("a", { href, class: "file-link", target: "_blank", rel: "noopener" }, f.split("/").pop()));
    }
    main.appendChild(actions);
    // Figures a benchmark drew next to its report (needle_haystack's heat maps), shown inline.
    const figures = (run.files || []).filter((f) => /\.png$/i.test(f) && ES.data.fileHref(f));
    if (figures.length) {
      main.appendChild(h("section", { class: "run-figures" }, figures.map((f) => h("figure", null,
        h("img", { src: ES.data.fileHref(f), alt: f.split("/").pop(), loading: "lazy" }),
        h("figcaption", null, f.split("/").pop())))));
    }
    if (S.problems.length) {
      main.appendChild(h("details", { class: "warn-box", open: true }, h("summary", null, t("problems.title", S.problems.length)),
        h("ul", null, S.problems.map((p) => h("li", null, h("code", null, p.file), " — ", p.error)))));
    }
    const reports = run.reports;
    if (!reports.length) main.appendChild(h("div", { class: "empty-box" }, t("run.noreports")));
    // Headline table: one row per model and benchmark.
    const columns = [
      { key: "model_name", label: t("col.model") },
      { key: "dataset_name", label: t("col.benchmark") },
      { key: "metric", label: t("col.metric"), value: (r) => (r.metrics[0] || {}).name, render: (r) => (r.metrics[0] || {}).name || "–" },
      { key: "score", label: t("col.score"), num: true, value: (r) => (r.metrics[0] || {}).score, render: (r) => fmt.figure(r.metrics[0]) },
      { key: "ci", label: t("col.ci"), sortable: false, render: (r) => fmt.ci(r.metrics[0]) || "–" },
      { key: "num_samples", label: "N", num: true },
      { key: "num_errors", label: t("col.errors"), num: true },
      { key: "num_unscored", label: t("col.unscored"), num: true },
    ];
    let sort = { key: params.get("sort") || "", dir: params.get("dir") || "desc" };
    const headline = h("div", { class: "table-box", id: "headline" });
    const drawHeadline = () => {
      ES.dom.clear(headline).appendChild(ES.table.simple(columns, reports, { sort, onSort: (key, dir) => {
        sort = { key, dir };
        ES.replaceParams(new URLSearchParams({ id, sort: key, dir }));
        drawHeadline();
      } }));
    };
    drawHeadline();
    main.appendChild(headline);
    // Charts: headline per benchmark, a series per model.
    const benches = [...new Set(reports.map((r) => r.dataset_name))];
    const names = [...new Set(reports.map((r) => r.model_name))];
    const find = (m, b) => reports.find((r) => r.model_name === m && r.dataset_name === b);
    const series = names.map((m, i) => ({ name: m, colorIndex: i,
      values: benches.map((b) => (find(m, b) && find(m, b).metrics[0] ? find(m, b).metrics[0].score : null)),
      intervals: benches.map((b) => (find(m, b) ? interval(find(m, b).metrics[0]) : null)) }));
    if (benches.length) {
      const charts = h("div", { class: "charts" }, ES.charts.bars({ labels: benches, series, title: t("run.headline") }));
      if (benches.length >= 3) charts.appendChild(ES.charts.radar({ axes: benches, series }));
      main.appendChild(charts);
    }
    main.appendChild(h("h2", null, t("run.details")));
    reports.forEach((r, i) => main.appendChild(reportSection(run, r, i === 0 || reports.length <= 3)));
    if (S.config) {
      main.appendChild(h("details", { class: "config", id: "config" }, h("summary", null, t("run.config")),
        h("pre", null, JSON.stringify(S.config, null, 2))));
    }
  };
})(window.ES);
