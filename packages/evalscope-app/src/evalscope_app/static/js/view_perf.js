// A perf run (`evalscope perf`): the runs of a sweep side by side, throughput and latency against
// concurrency (or rate), each run's percentile table and curves, errors, an SLA search's probes.
"use strict";
(function (ES) {
  const { h, fmt, isNum } = ES.dom;
  const t = (...a) => ES.t(...a);
  const PCT_X = { min: 0, "1%": 1, "5%": 5, "10%": 10, "25%": 25, "50%": 50, "75%": 75, "90%": 90, "95%": 95, "99%": 99, max: 100 };

  const d = (s, key, stat) => (s[key] && isNum(s[key][stat]) ? s[key][stat] : null);

  function summaryTable(runs) {
    const num = (v, digits = 2) => fmt.num(v, digits);
    const columns = [
      { key: "label", label: t("perf.run"), value: (r) => r.label },
      { key: "parallel", label: t("perf.parallel"), num: true, value: (r) => r.summary.parallel, render: (r) => String(r.summary.parallel ?? "–") },
      { key: "rate", label: t("perf.rate"), num: true, value: (r) => r.summary.rate, render: (r) => (isNum(r.summary.rate) && r.summary.rate > 0 ? String(r.summary.rate) : "–") },
      { key: "ok", label: "OK", num: true, value: (r) => r.summary.succeeded, render: (r) => fmt.int(r.summary.succeeded) },
      { key: "failed", label: t("perf.failed"), num: true, value: (r) => r.summary.failed, render: (r) => (r.summary.failed ? h("span", { class: "bad" }, fmt.int(r.summary.failed)) : "0") },
      { key: "rps", label: "req/s", num: true, value: (r) => r.summary.request_throughput, render: (r) => num(r.summary.request_throughput) },
      { key: "otps", label: "out tok/s", num: true, value: (r) => r.summary.output_throughput, render: (r) => num(r.summary.output_throughput, 1) },
      { key: "ttft", label: "TTFT avg/p99 ms", num: true, value: (r) => d(r.summary, "ttft_ms", "mean"), render: (r) => num(d(r.summary, "ttft_ms", "mean")) + " / " + num(d(r.summary, "ttft_ms", "p99")) },
      { key: "tpot", label: "TPOT avg/p99 ms", num: true, value: (r) => d(r.summary, "tpot_ms", "mean"), render: (r) => num(d(r.summary, "tpot_ms", "mean")) + " / " + num(d(r.summary, "tpot_ms", "p99")) },
      { key: "itl", label: "ITL avg ms", num: true, value: (r) => d(r.summary, "itl_ms", "mean"), render: (r) => num(d(r.summary, "itl_ms", "mean")) },
      { key: "e2e", label: "E2E avg/p99 ms", num: true, value: (r) => d(r.summary, "e2el_ms", "mean"), render: (r) => num(d(r.summary, "e2el_ms", "mean"), 1) + " / " + num(d(r.summary, "e2el_ms", "p99"), 1) },
      { key: "goodput", label: "goodput", num: true, value: (r) => r.summary.goodput, render: (r) => num(r.summary.goodput) },
    ];
    return ES.table.simple(columns, runs, { className: "perf-table" });
  }

  function sweepCharts(runs) {
    const usable = runs.filter((r) => isNum(r.summary.parallel));
    if (usable.length < 2) return null;
    const byRate = new Set(usable.map((r) => r.summary.rate)).size > 1 && usable.every((r) => r.summary.rate > 0);
    const xOf = (r) => (byRate ? r.summary.rate : r.summary.parallel);
    const sorted = usable.slice().sort((a, b) => xOf(a) - xOf(b));
    const xs = sorted.map((_, i) => i), xLabels = sorted.map((r) => String(xOf(r)));
    const xTitle = byRate ? t("perf.rate") : t("perf.parallel");
    const line = (name, f) => ({ name, values: sorted.map(f) });
    return h("div", { class: "charts", id: "sweep-charts" },
      ES.charts.lines({ xs, xLabels, xTitle, yTitle: "req/s", title: t("perf.rps"), series: [line("req/s", (r) => r.summary.request_throughput)] }),
      ES.charts.lines({ xs, xLabels, xTitle, yTitle: "tok/s", title: t("perf.otps"), series: [
        line("output tok/s", (r) => r.summary.output_throughput), line("total tok/s", (r) => r.summary.total_token_throughput)] }),
      ES.charts.lines({ xs, xLabels, xTitle, yTitle: "ms", title: t("perf.latency"), series: [
        line("TTFT p50", (r) => d(r.summary, "ttft_ms", "p50")), line("TTFT p99", (r) => d(r.summary, "ttft_ms", "p99")),
        line("TPOT p50", (r) => d(r.summary, "tpot_ms", "p50")), line("TPOT p99", (r) => d(r.summary, "tpot_ms", "p99")),
        line("ITL p50", (r) => d(r.summary, "itl_ms", "p50")),
      ] }),
      ES.charts.lines({ xs, xLabels, xTitle, yTitle: "ms", title: "E2E", series: [
        line("E2E p50", (r) => d(r.summary, "e2el_ms", "p50")), line("E2E p99", (r) => d(r.summary, "e2el_ms", "p99")),
      ] }));
  }

  function percentiles(run) {
    const rows = run.percentiles || [];
    if (!rows.length) return h("p", { class: "muted" }, t("perf.nopercentiles"));
    const keys = Object.keys(rows[0]);
    const table = h("table", { class: "grid-table percentiles" },
      h("thead", null, h("tr", null, keys.map((k) => h("th", { class: k === "Percentiles" ? null : "num" }, k)))),
      h("tbody", null, rows.map((r) => h("tr", null, keys.map((k) => h("td", { class: k === "Percentiles" ? null : "num" },
        isNum(r[k]) ? fmt.num(r[k], 4) : String(r[k] ?? "–")))))));
    const known = rows.filter((r) => PCT_X[r.Percentiles] !== undefined);
    const xs = known.map((r) => PCT_X[r.Percentiles]);
    const series = ["TTFT (ms)", "TPOT (ms)", "ITL (ms)"].filter((k) => k in rows[0]).map((k) => ({ name: k, values: known.map((r) => r[k]) }));
    const lat = "Latency (s)" in rows[0] ? [{ name: "Latency (s)", values: known.map((r) => r["Latency (s)"]) }] : [];
    return h("div", null, h("div", { class: "table-box" }, table), h("div", { class: "charts" },
      series.length && xs.length ? ES.charts.lines({ xs, xTitle: t("perf.percentile"), yTitle: "ms", series, title: run.label }) : null,
      lat.length && xs.length ? ES.charts.lines({ xs, xTitle: t("perf.percentile"), yTitle: "s", series: lat, title: run.label }) : null));
  }

  ES.views.perf = async (main, params, seq) => {
    const id = params.get("id") || "";
    const run = await ES.data.run(id);
    if (ES.stale(seq)) return;
    if (!run || run.summary.kind !== "perf") {
      main.appendChild(h("div", { class: "error-box" }, t("error.norun", id)));
      return;
    }
    const S = run.summary;
    main.appendChild(h("h1", null, t("perf.title"), " ", h("span", { class: "muted" }, S.id)));
    main.appendChild(h("p", { class: "meta" }, fmt.date(S.date), " · ", S.models.join(", "), " · ", S.benchmarks.join(", "), " · ", run.runs.length, " ", t("perf.runs")));
    const links = h("p", { class: "actions" });
    for (const f of run.files || []) {
      const href = ES.data.fileHref(f);
      if (href) links.appendChild(h("a", { href, class: "file-link", target: "_blank", rel: "noopener" }, f.split("/").pop()));
    }
    main.appendChild(links);
    if (S.problems.length) {
      main.appendChild(h("details", { class: "warn-box", open: true }, h("summary", null, t("problems.title", S.problems.length)),
        h("ul", null, S.problems.map((p) => h("li", null, h("code", null, p.file), " — ", p.error)))));
    }
    main.appendChild(h("section", { id: "perf-summary" }, summaryTable(run.runs)));
    const charts = sweepCharts(run.runs);
    if (charts) main.appendChild(charts);
    main.appendChild(h("h2", null, t("perf.percentiles")));
    run.runs.forEach((r, i) => {
      const errors = r.summary.errors || [];
      main.appendChild(h("details", { class: "perf-run", open: i === 0, dataset: { label: r.label } }, h("summary", null, r.label,
        h("span", { class: "muted" }, ` · ${fmt.num(r.summary.request_throughput, 2)} req/s`)),
        percentiles(r),
        errors.length ? h("div", { class: "warn-box" }, h("b", null, t("perf.errors")),
          h("ul", null, errors.map((e) => h("li", null, `${e.count} × ${e.error}`)))) : null));
    });
    if (run.sla) {
      const sla = run.sla;
      main.appendChild(h("section", { id: "sla" }, h("h2", null, "SLA"),
        h("p", null, t("perf.slabest"), ": ", (sla.best || []).map((b) => (b === null ? "–" : String(b))).join(", "), " (", sla.variable, ")"),
        ES.table.simple([
          { key: "value", label: sla.variable || "value", num: true },
          { key: "passed", label: t("perf.passed"), render: (p) => (p.passed ? h("span", { class: "badge pass" }, "✓") : h("span", { class: "badge fail" }, "✗")) },
          { key: "metrics", label: t("perf.metrics"), render: (p) => Object.entries(p.metrics || {}).map(([k, v]) => `${k}=${fmt.num(v, 2)}`).join(" · ") },
          { key: "failed_requests", label: t("perf.failed"), num: true },
        ], sla.probes || [])));
    }
    if (S.config) {
      main.appendChild(h("details", { class: "config" }, h("summary", null, t("run.config")), h("pre", null, JSON.stringify(S.config, null, 2))));
    }
  };
})(window.ES);
