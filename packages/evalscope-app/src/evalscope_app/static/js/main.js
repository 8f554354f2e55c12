// The router: every view is a URL hash (`#/compare?r0=…&m0=…&re=eggs`), so any view — filters and
// scroll position included — can be bookmarked, shared or reloaded. Views render into <main>;
// `body[data-view][data-ready="1"]` says when a view has finished (tests and the benchmark wait on it).
"use strict";
(function (ES) {
  const { h, clear } = ES.dom;
  const t = (...a) => ES.t(...a);
  let seq = 0;

  function parse() {
    const raw = location.hash.replace(/^#\/?/, "");
    const [name, query] = raw.split("?", 2);
    return { name: name || "overview", params: new URLSearchParams(query || "") };
  }

  ES.href = (name, params) => {
    const q = params instanceof URLSearchParams ? params : new URLSearchParams(params || {});
    const qs = q.toString();
    return "#/" + name + (qs ? "?" + qs : "");
  };
  ES.go = (name, params) => {
    location.hash = ES.href(name, params).slice(1);
  };
  /** Record view state (filters, scroll) in the URL without re-rendering. */
  ES.replaceParams = (params) => {
    const cur = parse();
    history.replaceState(null, "", ES.href(cur.name, params));
  };
  ES.stale = (mySeq) => mySeq !== seq;

  function header(current) {
    const nav = [
      h("a", { href: "#/", class: current === "overview" ? "active" : null }, t("nav.runs")),
      h("a", { href: "#/compare", class: current === "compare" ? "active" : null }, t("nav.compare")),
    ];
    const langSel = h("select", { class: "lang", "aria-label": "language", on: { change: (e) => {
      ES.setLang(e.target.value);
      render();
    } } }, ["en", "zh"].map((l) => h("option", { value: l, selected: l === ES.lang }, l === "en" ? "English" : "中文")));
    const mode = ES.data.exported ? h("span", { class: "badge" }, t("export.badge")) : null;
    return h("header", { class: "top" }, h("a", { href: "#/", class: "brand" }, "EvalScope"), h("nav", null, nav), mode, langSel);
  }

  async function render() {
    const mySeq = ++seq;
    const { name, params } = parse();
    const view = ES.views[name] ? name : "notfound";
    const app = document.getElementById("app");
    const main = h("main", { id: "view" });
    clear(app).append(header(view), main);
    document.body.dataset.view = view;
    document.body.dataset.ready = "0";
    delete document.body.dataset.error;
    try {
      await ES.views[view](main, params, mySeq);
    } catch (err) {
      if (ES.stale(mySeq)) return;
      console.error(err);
      main.appendChild(h("div", { class: "error-box" }, t("error.view"), " ", String(err && err.message ? err.message : err)));
      document.body.dataset.error = "1";
    }
    if (ES.stale(mySeq)) return;
    document.body.dataset.ready = "1";
    if (!window.__esTimings) window.__esTimings = { firstRender: performance.now(), view };
  }

  ES.views = ES.views || {};
  ES.views.notfound = async (main) => {
    main.appendChild(h("div", { class: "error-box" }, t("error.notfound")));
  };

  window.addEventListener("hashchange", render);
  ES.setLang(new URLSearchParams(location.hash.split("?")[1] || "").get("lang") || ES.data.boot.lang || "en");
  render();
})(window.ES);
