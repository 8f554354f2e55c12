// Arena: the leaderboard with its bootstrap intervals, and the battle viewer — every judged pair with
// the verdicts of both orders side by side (a pair whose verdict flips with the order shows it).
"use strict";
(function (ES) {
  const { h, clear, fmt, isNum } = ES.dom;
  const t = (...a) => ES.t(...a);

  function board(rows, baseline) {
    const columns = [
      { key: "rank", label: "#", num: true, render: (r) => String(rows.indexOf(r) + 1) },
      { key: "model", label: t("col.model"), render: (r) => (r.model === baseline ? [r.model, h("span", { class: "muted" }, " (" + t("arena.baseline") + ")")] : r.model) },
      { key: "win_rate", label: t("arena.winrate"), num: true, render: (r) => fmt.pct(r.win_rate) },
      { key: "ci", label: t("col.ci"), render: (r) => `[${fmt.pct(r.win_rate_lower)}, ${fmt.pct(r.win_rate_upper)}]` },
      { key: "rating", label: t("arena.rating"), num: true, render: (r) => fmt.num(r.rating, 1) },
      { key: "elo", label: "Elo", num: true, render: (r) => fmt.num(r.elo, 1) },
      { key: "lc", label: t("arena.lc"), num: true, render: (r) => fmt.pct(r.length_controlled_win_rate) },
    ];
    return h("div", { class: "arena-board" }, ES.table.simple(columns, rows, { className: "leaderboard" }),
      rows.length ? ES.charts.intervals({ ref: 0.5, title: t("arena.winrate"),
        rows: rows.map((r) => ({ label: r.model, value: r.win_rate, lo: r.win_rate_lower, hi: r.win_rate_upper })) }) : null);
  }
  ES.arenaBoard = board;

  /** "A>>B" read with the names in that order: who it favours and how strongly. */
  function readVerdict(v, a, b) {
    const map = { "A>>B": [a, "≫"], "A>B": [a, ">"], "A=B": [null, "="], "B>A": [b, ">"], "B>>A": [b, "≫"] };
    const m = map[String(v || "").replace(/\s/g, "")];
    if (!m) return v ? String(v) : "–";
    return m[0] === null ? `${v} (${t("arena.tie")})` : `${v} (${m[0]} ${m[1]})`;
  }

  function attemptOf(rec, placement) {
    const attempts = (((rec.metadata || {}).judge || {}).attempts || []);
    return attempts.find((x) => (x.placement || "original") === placement) || null;
  }

  function orderColumn(title, first, second, attempt) {
    const parsed = (attempt && attempt.parsed) || {};
    return h("div", { class: "order" }, h("h4", null, title),
      h("div", { class: "field" }, h("div", { class: "field-label" }, "A · " + first[0]), h("pre", { class: "text answer" }, first[1] || "")),
      h("div", { class: "field" }, h("div", { class: "field-label" }, "B · " + second[0]), h("pre", { class: "text answer" }, second[1] || "")),
      h("div", { class: "field" }, h("div", { class: "field-label" }, t("arena.verdict")),
        h("div", { class: "verdict" }, attempt ? readVerdict(parsed.verdict, first[0], second[0]) : t("arena.noorder")),
        attempt && parsed.reasoning ? h("pre", { class: "text reasoning" }, String(parsed.reasoning)) : null,
        attempt && attempt.error ? h("div", { class: "bad" }, attempt.error) : null));
  }

  async function battleDetail(box, run, model, bench, line) {
    const rec = await ES.data.record(run, model, bench, line);
    clear(box);
    if (!rec) {
      box.appendChild(h("p", { class: "muted" }, ES.data.samplesIncluded ? t("sample.notfound") : t("export.nosamples")));
      return;
    }
    const m = rec.metadata || {};
    const q = (rec.input || []).filter((x) => x.role === "user").map((x) => x.content).pop();
    box.append(h("h3", null, t("arena.battle"), " ", h("code", null, rec.id)),
      h("div", { class: "field" }, h("div", { class: "field-label" }, t("col.question")), h("pre", { class: "text" }, q || "")),
      h("div", { class: "orders" },
        orderColumn(t("arena.original"), [m.model_1, m.answer_1], [m.model_2, m.answer_2], attemptOf(rec, "original")),
        orderColumn(t("arena.swapped"), [m.model_2, m.answer_2], [m.model_1, m.answer_1], attemptOf(rec, "swapped"))));
  }

  ES.views.arena = async (main, params, seq) => {
    const runId = params.get("run") || "", model = params.get("model") || "", bench = params.get("bench") || "";
    const run = await ES.data.run(runId);
    if (ES.stale(seq)) return;
    const report = run && run.reports ? run.reports.find((r) => r._source.model === model && r._source.bench === bench) : null;
    const arena = report && report.extra.arena;
    main.appendChild(h("h1", null, t("arena.title"), " ", h("span", { class: "muted" }, runId)));
    if (!arena) {
      main.appendChild(h("div", { class: "error-box" }, t("arena.none")));
      return;
    }
    main.appendChild(h("p", { class: "meta" }, t("arena.baseline"), ": ", h("b", null, arena.baseline || "–"), " · ", fmt.int(arena.battles), " ",
      t("arena.battles"), " · ", t("arena.rounds"), ": ", arena.bootstrap_rounds ?? "–",
      isNum(arena.length_coefficient) ? " · " + t("arena.lencoef") + ": " + fmt.num(arena.length_coefficient, 3) : ""));
    main.appendChild(h("section", { id: "leaderboard" }, h("h2", null, t("arena.leaderboard")), board(arena.overall || [], arena.baseline)));
    for (const [title, group] of [[t("arena.bydataset"), arena.datasets], [t("arena.bysubset"), arena.subsets]]) {
      if (group && Object.keys(group).length) {
        main.appendChild(h("details", null, h("summary", null, title),
          Object.entries(group).map(([name, rows]) => h("div", null, h("h4", null, name), board(rows, arena.baseline)))));
      }
    }
    if ((arena.skipped_questions || []).length) {
      main.appendChild(h("details", { class: "warn-box" }, h("summary", null, t("arena.skipped", arena.skipped_questions.length)),
        h("ul", null, arena.skipped_questions.slice(0, 200).map((q) => h("li", null, q)))));
    }
    const cols = await ES.data.samples(runId, model, bench);
    if (ES.stale(seq)) return;
    if (!cols || !cols.arena) return;
    const B = cols.arena;
    const pairs = [...new Set(B.m1.map((a, i) => B.models[a] + " vs " + B.models[B.m2[i]]))].sort();
    const state = { pair: params.get("pair") || "", agree: params.get("agree") || "", re: params.get("re") || "" };
    const pairSel = h("select", { id: "b-pair" }, h("option", { value: "" }, t("arena.allpairs")), pairs.map((p) => h("option", { value: p, selected: p === state.pair }, p)));
    const agreeSel = h("select", { id: "b-agree" }, [["", t("arena.allbattles")], ["flip", t("arena.flipped")], ["same", t("arena.consistent")]]
      .map(([v, l]) => h("option", { value: v, selected: v === state.agree }, l)));
    const reInput = h("input", { id: "b-re", type: "search", placeholder: t("filter.re"), value: state.re });
    const count = h("span", { class: "muted", id: "battle-count" });
    const detail = h("div", { class: "battle-detail", id: "battle-detail" });
    let rows = [];
    const table = ES.table.virtual({ height: 360, count: 0, columns: [
      { label: t("col.question"), width: "2fr", cell: (i) => cols.q[rows[i]] },
      { label: "A", width: "1fr", cell: (i) => B.models[B.m1[rows[i]]] },
      { label: "B", width: "1fr", cell: (i) => B.models[B.m2[rows[i]]] },
      { label: t("arena.original"), width: "0.8fr", className: "mono", cell: (i) => B.vo[rows[i]] || "–" },
      { label: t("arena.swapped"), width: "0.8fr", className: "mono", cell: (i) => B.vs[rows[i]] || "–" },
      { label: t("arena.flip"), width: "60px", cell: (i) => (B.flip[rows[i]] ? h("span", { class: "bad" }, "⇄") : "") },
    ], onRow: (i) => {
      const p = new URLSearchParams(location.hash.split("?")[1] || "");
      p.set("battle", String(rows[i]));
      ES.replaceParams(p);
      battleDetail(detail, runId, model, bench, rows[i]);
    } });
    table.el.id = "battle-table";
    function apply() {
      let re = null;
      try { re = state.re ? new RegExp(state.re, "i") : null; } catch (err) { re = null; }
      rows = [];
      for (let i = 0; i < B.m1.length; i++) {
        if (state.pair && B.models[B.m1[i]] + " vs " + B.models[B.m2[i]] !== state.pair) continue;
        if (state.agree === "flip" && !B.flip[i]) continue;
        if (state.agree === "same" && B.flip[i]) continue;
        if (re && !re.test(cols.q[i]) && !re.test(cols.id[i])) continue;
        rows.push(i);
      }
      count.textContent = t("samples.count", rows.length, B.m1.length);
      table.setCount(rows.length);
      const p = new URLSearchParams({ run: runId, model, bench });
      for (const [k, v] of Object.entries(state)) if (v) p.set(k, v);
      const b = new URLSearchParams(location.hash.split("?")[1] || "").get("battle");
      if (b) p.set("battle", b);
      ES.replaceParams(p);
    }
    pairSel.addEventListener("change", () => { state.pair = pairSel.value; apply(); });
    agreeSel.addEventListener("change", () => { state.agree = agreeSel.value; apply(); });
    reInput.addEventListener("input", () => { state.re = reInput.value; apply(); });
    main.append(h("h2", null, t("arena.battlelist")), h("div", { class: "toolbar" }, pairSel, agreeSel, reInput, count), table.el, detail);
    apply();
    const b = params.get("battle");
    if (b !== null && b !== "") await battleDetail(detail, runId, model, bench, parseInt(b, 10));
  };
})(window.ES);
