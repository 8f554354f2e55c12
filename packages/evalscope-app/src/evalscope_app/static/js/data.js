// Where the views get their data: the server's JSON routes, or — in an exported file — the JSON
// blocks embedded in the page. Both give the same shapes, so every view works the same way in both.
"use strict";
(function (ES) {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const exported = boot.mode === "export";
  let embedded = null; // the export's data block, parsed on first use
  const recordBlocks = new Map(); // element id -> parsed records (export)
  const cache = new Map(); // sample index columns and run details, per page session

  function data() {
    if (!embedded) embedded = JSON.parse(document.getElementById("data").textContent);
    return embedded;
  }

  function dig(obj, ...keys) {
    for (const k of keys) {
      if (!obj || !Object.prototype.hasOwnProperty.call(obj, k)) return null;
      obj = obj[k];
    }
    return obj;
  }

  async function getJSON(path, params) {
    const q = new URLSearchParams(params || {}).toString();
    const res = await fetch(path + (q ? "?" + q : ""), { cache: "no-store" });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(path + ": HTTP " + res.status);
    return res.json();
  }

  async function cached(key, load) {
    if (!cache.has(key)) {
      const p = load();
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return cache.get(key);
  }

  function block(id) {
    if (!recordBlocks.has(id)) {
      const el = document.getElementById(id);
      recordBlocks.set(id, el ? JSON.parse(el.textContent) : []);
    }
    return recordBlocks.get(id);
  }

  ES.data = {
    boot,
    exported,
    samplesIncluded: !exported || boot.samples_included !== false,

    /** {root, runs: [summary]}: always fresh from the server (new runs appear on reload). */
    async runs() {
      if (exported) return data().runs;
      return getJSON("/api/runs");
    },

    /** A run's detail: {summary, reports, files} (eval) or {summary, runs, sla, files} (perf). */
    async run(id) {
      if (exported) return dig(data(), "details", id);
      return cached("run\u0000" + id, () => getJSON("/api/run", { id }));
    },

    /** A review file's index columns (see reviews.py). */
    async samples(run, model, bench) {
      if (exported) return dig(data(), "samples", run, model, bench);
      return cached(["s", run, model, bench].join("\u0000"), () => getJSON("/api/samples", { run, model, bench }));
    },

    /** One full record (a SampleRecord, secrets scrubbed), or null. */
    async record(run, model, bench, line) {
      if (exported) {
        const id = dig(data(), "records", run, model, bench);
        return id ? block(id)[line] || null : null;
      }
      return getJSON("/api/record", { run, model, bench, line });
    },

    /** Full records for [[run, model, bench, line], ...], in that order. */
    async records(items) {
      if (exported) {
        return items.map(([run, model, bench, line]) => {
          const id = dig(data(), "records", run, model, bench);
          return id ? block(id)[line] || null : null;
        });
      }
      const res = await fetch("/api/records", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ items }),
      });
      if (!res.ok) throw new Error("/api/records: HTTP " + res.status);
      return res.json();
    },

    /** A link to a raw file under --outputs (the server only; the export has no files). */
    fileHref(rel) {
      return exported ? null : "/files/" + rel.split("/").map(encodeURIComponent).join("/");
    },
  };
})(window.ES);
