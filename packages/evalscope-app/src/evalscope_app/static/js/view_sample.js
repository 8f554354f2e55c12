// Sample drill-down: one sample as every source saw it, side by side — input messages, raw
// prediction(s), reasoning, extracted answer, target, every score, judge verdicts with their raw
// replies and explanations, code sandbox runs, usage and the rest of the metadata. All as text.
"use strict";
(function (ES) {
  const { h, fmt, isNum, color } = ES.dom;
  const t = (...a) => ES.t(...a);

  const block = (label, text, cls) => (text === null || text === undefined || text === "" ? null
    : h("div", { class: "field " + (cls || "") }, h("div", { class: "field-label" }, label), h("pre", { class: "text " + (cls || "") }, String(text))));

  function messages(input) {
    return h("div", { class: "messages" }, (input || []).map((m) => h("div", { class: "message role-" + m.role },
      h("div", { class: "field-label" }, m.role), h("pre", { class: "text" }, typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2)))));
  }

  function scoresTable(rec) {
    const rows = Object.entries(rec.scores || {}).map(([k, v]) => h("tr", null, h("th", null, k), h("td", { class: "num" }, fmt.num(v)),
      rec.weights && rec.weights[k] !== undefined ? h("td", { class: "muted" }, "w=" + rec.weights[k]) : h("td")));
    return rows.length ? h("table", { class: "grid-table kv scores" }, h("tbody", null, rows)) : h("p", { class: "muted" }, t("sample.noscores"));
  }

  function judgeSection(judge) {
    if (!judge || typeof judge !== "object") return null;
    const attempts = Array.isArray(judge.attempts) ? judge.attempts : [];
    return h("div", { class: "judge" }, h("h4", null, t("sample.judge"), h("span", { class: "muted" },
      ` · ${t("sample.validjudges")}: ${judge.valid_judges ?? "–"}` + (isNum(judge.position_flip) ? ` · flip: ${judge.position_flip}` : ""))),
      attempts.map((a) => {
        const parsed = a.parsed || {};
        return h("div", { class: "attempt" },
          h("div", { class: "attempt-head" }, h("b", null, a.judge || "judge"), ` · ${t("sample.repeat")} ${a.repeat ?? 0} · ${a.placement || "original"} · `,
            h("span", { class: "verdict" }, parsed.verdict !== undefined ? String(parsed.verdict) : a.values ? JSON.stringify(a.values) : "–"),
            a.error ? h("span", { class: "bad" }, " " + a.error) : null),
          block(t("sample.explanation"), parsed.reasoning),
          a.values ? h("div", { class: "muted" }, JSON.stringify(a.values)) : null,
          (a.replies || []).map((r, i) => block(t("sample.reply") + " " + (i + 1), r, "reply")));
      }),
      judge.failures && Object.keys(judge.failures).length ? block(t("sample.failures"), JSON.stringify(judge.failures, null, 2)) : null);
  }

  function executions(list) {
    if (!Array.isArray(list) || !list.length) return null;
    return h("div", { class: "executions" }, h("h4", null, t("sample.sandbox")), list.map((e) => h("div", { class: "execution" },
      h("div", { class: "attempt-head" }, h("span", { class: "badge " + (e.status === "passed" ? "pass" : "fail") }, e.status || "?"),
        ` exit ${e.exit_code ?? "–"} · ${e.detail || ""} · ${isNum(e.wall_s) ? e.wall_s + " s" : ""} · ${e.isolation || ""}` + (e.cached ? " · cached" : "")),
      block("stdout", e.stdout, "stdout"), block("stderr", e.stderr, "stderr"))));
  }

  function card(src, si, rec, sameInput) {
    if (!rec) return h("div", { class: "sample-card missing", dataset: { source: si } }, h("h3", null, src.label), h("p", { class: "muted" }, t("sample.absent")));
    const meta = { ...(rec.metadata || {}) };
    const judge = meta.judge, execs = meta.executions;
    delete meta.judge;
    delete meta.executions;
    const status = rec.error ? ["error", t("status.error")] : rec.unscored ? ["unscored", t("status.unscored")] : ["ok", t("status.ok")];
    return h("div", { class: "sample-card", dataset: { source: si } },
      h("h3", null, h("span", { class: "swatch", style: { background: color(si) } }), src.label, " ", h("span", { class: "badge " + status[0] }, status[1])),
      h("p", { class: "muted" }, src.run, " · ", rec.benchmark, " / ", rec.subset, " / ", rec.id),
      scoresTable(rec),
      block(t("sample.target"), Array.isArray(rec.target) ? rec.target.join("\n") : rec.target, "target"),
      block(t("sample.extracted"), rec.extracted, "extracted"),
      block(t("sample.prediction"), rec.prediction, "prediction"),
      (rec.predictions || []).length > 1 ? rec.predictions.map((p, i) => block(t("sample.prediction") + " " + (i + 1), p, "prediction-n")) : null,
      block(t("sample.reasoning"), rec.reasoning, "reasoning"),
      block(t("sample.explanation"), rec.explanation, "explanation"),
      block(t("status.unscored"), rec.unscored, "unscored-why"),
      block(t("status.error"), rec.error, "error-text"),
      judgeSection(judge),
      executions(execs),
      rec.choices ? block(t("sample.choices"), rec.choices.map((c, i) => String.fromCharCode(65 + i) + ". " + c).join("\n")) : null,
      sameInput ? null : h("details", null, h("summary", null, t("sample.input")), messages(rec.input)),
      h("details", null, h("summary", null, t("sample.more")),
        block("usage", rec.usage ? JSON.stringify(rec.usage) : null),
        block("attempts", rec.attempts),
        block("cache_key", rec.cache_key),
        Object.keys(meta).length ? block("metadata", JSON.stringify(meta, null, 2), "metadata") : null));
  }

  ES.views.sample = async (main, params, seq) => {
    const sources = ES.compareSources(params);
    const bench = params.get("bench"), subset = params.get("subset"), id = params.get("id");
    const sig = ES.compareSig(sources);
    const last = ES.lastList && ES.lastList.sig === sig ? ES.lastList : null;
    const A = last ? last.A : ES.samples.align(await ES.samples.load(sources));
    if (ES.stale(seq)) return;
    const k = A.find(bench, subset, id);
    const back = h("a", { href: last ? last.back : ES.href("compare", ES.compareParams(sources)), id: "back-to-list" }, "← " + t("sample.back"));
    const nav = h("div", { class: "toolbar" }, back);
    if (last) {
      const at = Array.prototype.indexOf.call(last.keys, k);
      const go = (j) => {
        const kk = last.keys[j];
        last.at = j;
        ES.go("sample", ES.compareParams(sources, { bench: A.benches[A.kBench[kk]], subset: A.subsets[A.kSubset[kk]], id: A.kId[kk] }));
      };
      if (at >= 0) {
        nav.append(h("button", { type: "button", id: "sample-prev", disabled: at <= 0, on: { click: () => go(at - 1) } }, "◀ " + t("sample.prev")),
          h("span", { class: "muted" }, ` ${at + 1} / ${last.keys.length} `),
          h("button", { type: "button", id: "sample-next", disabled: at >= last.keys.length - 1, on: { click: () => go(at + 1) } }, t("sample.next") + " ▶"));
      }
    }
    main.append(nav, h("h1", null, t("sample.title"), " ", h("code", null, id || "")), h("p", { class: "muted" }, bench, " / ", subset));
    if (k === undefined) {
      main.appendChild(h("div", { class: "error-box" }, t("sample.notfound")));
      return;
    }
    if (!ES.data.samplesIncluded) {
      main.appendChild(h("div", { class: "warn-box" }, t("export.nosamples")));
      return;
    }
    const recs = await Promise.all(A.sources.map((src, s) => {
      const c = ES.samples.cell(A, s, k);
      if (!c) return null;
      const file = src.files.find((f) => f.cols === c.file);
      return ES.data.record(src.run, src.model, file.bench, c.row);
    }));
    if (ES.stale(seq)) return;
    const first = recs.find(Boolean);
    const inputText = (r) => JSON.stringify(r ? r.input : null);
    if (first) main.appendChild(h("section", { class: "input" }, h("h2", null, t("sample.input")), messages(first.input)));
    main.appendChild(h("div", { class: "cards cols-" + Math.min(recs.length, 3) },
      A.sources.map((src, s) => card(src, s, recs[s], recs[s] && inputText(recs[s]) === inputText(first)))));
  };
})(window.ES);
