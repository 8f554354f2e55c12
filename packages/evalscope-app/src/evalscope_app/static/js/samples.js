// The per-sample model behind the compare view: load the review indexes of N sources (a run and one
// of its models), align them on (benchmark, subset, sample id), filter and sort the aligned keys.
// Everything is columnar (one array per field), so 100,000 samples filter in a few milliseconds.
"use strict";
(function (ES) {
  const { isNum } = ES.dom;
  const MISSING = 0, PASS = 1, FAIL = 2, UNSCORED = 3;
  const STATUS_ERROR = 1, STATUS_UNSCORED = 2;

  /** sources: [{run, model}] -> [{run, model, label, modelName, date, files: [{bench, benchmark, cols}]}] */
  async function load(sources) {
    const out = await Promise.all(sources.map(async (src) => {
      const detail = await ES.data.run(src.run);
      if (!detail || detail.summary.kind !== "eval") {
        return { ...src, label: src.model + " · " + src.run, modelName: src.model, files: [], missing: true };
      }
      const files = detail.summary.sources.filter((f) => f.model === src.model && f.reviews);
      const cols = await Promise.all(files.map((f) => ES.data.samples(src.run, f.model, f.bench)));
      const modelName = (files[0] && files[0].model_name) || src.model;
      return {
        ...src,
        modelName,
        date: detail.summary.date,
        label: modelName,
        files: files.map((f, i) => ({ bench: f.bench, benchmark: f.benchmark, cols: cols[i] })).filter((f) => f.cols),
      };
    }));
    // Two sources of the same model name (two runs of it) are told apart by their run's date.
    const names = out.map((o) => o.label);
    out.forEach((o) => {
      if (names.filter((n) => n === o.label).length > 1) o.label = o.modelName + " @ " + ES.dom.fmt.date(o.date || o.run);
    });
    return out;
  }

  function coder() {
    const names = [], index = new Map();
    return {
      names,
      index,
      code(v) {
        let c = index.get(v);
        if (c === undefined) {
          c = names.length;
          index.set(v, c);
          names.push(v);
        }
        return c;
      },
    };
  }

  /** Union of all sources' samples, keyed by benchmark + subset + id, in first-seen order. */
  function align(loaded) {
    const benches = coder(), subsets = coder(), keys = new Map();
    const kBench = [], kSubset = [], kId = [], kQ = [];
    const rows = loaded.map(() => []);
    const fileOf = loaded.map(() => []);
    loaded.forEach((src, si) => {
      for (const file of src.files) {
        const b = benches.code(file.benchmark), c = file.cols;
        fileOf[si][b] = c;
        const subCodes = c.subsets.map((name) => subsets.code(name));
        for (let r = 0; r < c.n; r++) {
          const sub = subCodes[c.subset[r]];
          const key = b + "\u0001" + sub + "\u0001" + c.id[r];
          let k = keys.get(key);
          if (k === undefined) {
            k = kId.length;
            keys.set(key, k);
            kBench.push(b);
            kSubset.push(sub);
            kId.push(c.id[r]);
            kQ.push(c.q[r]);
            for (const rs of rows) rs.push(-1);
          }
          rows[si][k] = r;
        }
      }
    });
    // Per source and key: the score (NaN when missing or unscored) and a state code, in typed arrays,
    // so a filter over 100,000 samples allocates nothing and touches a few contiguous arrays.
    const K = kId.length;
    const score = loaded.map(() => new Float64Array(K).fill(NaN));
    const state = loaded.map(() => new Uint8Array(K)); // 0 missing, 1 ok, 2 error, 3 unscored
    rows.forEach((rs, si) => {
      for (let k = 0; k < K; k++) {
        const r = rs[k];
        if (r < 0) continue;
        const c = fileOf[si][kBench[k]], v = c.score[r], st = c.status[r];
        state[si][k] = st === STATUS_ERROR ? 2 : st === STATUS_UNSCORED || !isNum(v) ? 3 : 1;
        if (st !== STATUS_UNSCORED && isNum(v)) score[si][k] = v;
      }
    });
    const tagNames = new Set();
    loaded.forEach((src) => src.files.forEach((f) => f.cols.tag_names.forEach((t) => tagNames.add(t))));
    return {
      sources: loaded,
      benches: benches.names,
      subsets: subsets.names,
      kBench, kSubset, kId, kQ,
      rows: rows.map((r) => Int32Array.from(r)),
      score,
      state,
      fileOf,
      tags: [...tagNames].sort(),
      size: kId.length,
      /** key index of (benchmark, subset, id), or undefined. */
      find(bench, subset, id) {
        const b = benches.index.get(bench), s = subsets.index.get(subset);
        return b === undefined || s === undefined ? undefined : keys.get(b + "\u0001" + s + "\u0001" + id);
      },
    };
  }

  /** The source's cell for key k: {file, row} or null when the source lacks the sample. */
  function cell(A, si, k) {
    const r = A.rows[si][k];
    return r < 0 ? null : { file: A.fileOf[si][A.kBench[k]], row: r };
  }

  function outcome(A, si, k, thr) {
    const st = A.state[si][k];
    if (st === 0) return MISSING;
    const v = A.score[si][k];
    if (v !== v) return UNSCORED; // NaN: unscored (an error has its 0)
    return v >= thr ? PASS : FAIL;
  }

  /** Does key k pass the outcome filter? (S sources, reference ref, pass threshold thr) */
  function outcomeKeeps(A, k, kind, ref, thr, S) {
    let pass = 0, fail = 0, missing = 0, errors = 0, unscored = 0, refOc = MISSING, first = NaN, differ = false, valued = 0;
    let otherPass = false, otherFail = false;
    for (let s = 0; s < S; s++) {
      const st = A.state[s][k];
      if (st === 2) errors++;
      if (st === 0) { missing++; continue; }
      const v = A.score[s][k];
      let oc;
      if (v !== v) { unscored++; oc = UNSCORED; } else {
        oc = v >= thr ? PASS : FAIL;
        if (oc === PASS) pass++; else fail++;
        if (valued++ === 0) first = v; else if (v !== first) differ = true;
      }
      if (s === ref) refOc = oc;
      else if (oc === PASS) otherPass = true;
      else if (oc === FAIL) otherFail = true;
    }
    switch (kind) {
      case "pass": return refOc === PASS;
      case "fail": return refOc === FAIL;
      case "flip": return pass > 0 && fail > 0;
      case "differ": return differ;
      case "ref_pass_other_fail": return refOc === PASS && otherFail;
      case "ref_fail_other_pass": return refOc === FAIL && otherPass;
      case "all_pass": return pass === S;
      case "all_fail": return fail === S;
      case "error": return errors > 0;
      case "unscored": return unscored > 0;
      case "missing": return missing > 0;
      default: return true;
    }
  }

  /**
   * Keys passing the filter f = {bench, subset, outcome, ref, thr, min, max, tag, re, order}, as an
   * Int32Array; throws SyntaxError for an invalid regular expression.
   */
  function filter(A, f) {
    const re = f.re ? new RegExp(f.re, "i") : null;
    const S = A.sources.length, ref = Math.min(Math.max(0, f.ref | 0), S - 1);
    const thr = isNum(parseFloat(f.thr)) ? parseFloat(f.thr) : 0.5;
    const min = f.min === "" || f.min == null || !isNum(parseFloat(f.min)) ? null : parseFloat(f.min);
    const max = f.max === "" || f.max == null || !isNum(parseFloat(f.max)) ? null : parseFloat(f.max);
    const bench = f.bench ? A.benches.indexOf(f.bench) : -2;
    const subset = f.subset ? A.subsets.indexOf(f.subset) : -2;
    const kind = f.outcome && f.outcome !== "all" ? f.outcome : null;
    const tagCodes = f.tag ? A.fileOf.map((files) => files.map((c) => (c ? c.tag_names.indexOf(f.tag) : -1))) : null;
    const refScore = A.score[ref];
    const out = new Int32Array(A.size);
    let m = 0;
    for (let k = 0; k < A.size; k++) {
      if (bench !== -2 && A.kBench[k] !== bench) continue;
      if (subset !== -2 && A.kSubset[k] !== subset) continue;
      if (kind && !outcomeKeeps(A, k, kind, ref, thr, S)) continue;
      if (min !== null || max !== null) {
        const v = refScore[k];
        if (v !== v || (min !== null && v < min) || (max !== null && v > max)) continue;
      }
      if (tagCodes) {
        let hit = false;
        for (let s = 0; s < S && !hit; s++) {
          const r = A.rows[s][k];
          if (r < 0) continue;
          const code = tagCodes[s][A.kBench[k]];
          if (code >= 0 && A.fileOf[s][A.kBench[k]].tags[r].includes(code)) hit = true;
        }
        if (!hit) continue;
      }
      if (re) {
        let hit = re.test(A.kId[k]) || re.test(A.kQ[k]);
        for (let s = 0; s < S && !hit; s++) {
          const r = A.rows[s][k];
          if (r < 0) continue;
          const c = A.fileOf[s][A.kBench[k]];
          hit = re.test(c.pred[r]) || re.test(c.ext[r]) || re.test(c.target[r]);
        }
        if (!hit) continue;
      }
      out[m++] = k;
    }
    const keys = out.subarray(0, m);
    if (f.order === "score_asc" || f.order === "score_desc" || f.order === "spread") {
      // Sort by a numeric key per sample (missing last), ties in dataset order: a typed-array sort.
      const val = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const k = keys[i];
        if (f.order === "spread") {
          let lo = Infinity, hi = -Infinity;
          for (let s = 0; s < S; s++) {
            const v = A.score[s][k];
            if (v === v) { if (v < lo) lo = v; if (v > hi) hi = v; }
          }
          val[i] = hi >= lo ? -(hi - lo) : 0;
        } else {
          const v = refScore[k];
          val[i] = v !== v ? Infinity : f.order === "score_asc" ? v : -v;
        }
      }
      const idx = new Int32Array(m);
      for (let i = 0; i < m; i++) idx[i] = i;
      idx.sort((a, b) => val[a] - val[b] || a - b);
      const sorted = new Int32Array(m);
      for (let i = 0; i < m; i++) sorted[i] = keys[idx[i]];
      return sorted;
    }
    return keys;
  }

  /** [[run, model, bench, line]] for the given keys and every source that has them. */
  function refs(A, keys) {
    const items = [];
    for (const k of keys) {
      A.sources.forEach((src, s) => {
        const c = cell(A, s, k);
        if (!c) return;
        const file = src.files.find((f) => f.cols === c.file);
        items.push([src.run, src.model, file.bench, c.row]);
      });
    }
    return items;
  }

  const csvCell = (v) => {
    const t = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
    return /[",\n\r]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  };

  function lastUser(input) {
    const users = (input || []).filter((m) => m.role === "user");
    return users.length ? users[users.length - 1].content : "";
  }

  /** The filtered samples' full records as CSV (one row per sample and source) or JSONL. */
  async function exportRows(A, keys, format) {
    const items = refs(A, keys);
    const records = await ES.data.records(items);
    const labels = new Map(A.sources.map((s) => [s.run + "\u0000" + s.model, s.label]));
    if (format === "jsonl") {
      return records.map((r, i) => r && JSON.stringify({ run: items[i][0], model: labels.get(items[i][0] + "\u0000" + items[i][1]), ...r }))
        .filter(Boolean).join("\n") + "\n";
    }
    const head = ["run", "model", "benchmark", "subset", "id", "status", "scores", "target", "extracted", "prediction", "question", "error", "unscored"];
    const lines = [head.join(",")];
    records.forEach((r, i) => {
      if (!r) return;
      const status = r.error ? "error" : r.unscored ? "unscored" : "ok";
      lines.push([items[i][0], labels.get(items[i][0] + "\u0000" + items[i][1]), r.benchmark, r.subset, r.id, status, r.scores,
        Array.isArray(r.target) ? r.target.join(" | ") : r.target, r.extracted, r.prediction, lastUser(r.input), r.error, r.unscored]
        .map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  ES.samples = { load, align, filter, cell, outcome, refs, exportRows, PASS, FAIL, MISSING, UNSCORED, STATUS_ERROR, STATUS_UNSCORED };
})(window.ES);
