/* 站内搜索. The index (search-index.js) is a script that sets window.SEARCH_INDEX: file:// pages cannot fetch.
   Queries are tokenised as the index was (generator/search.py): Chinese as overlapping bigrams, Latin letters
   and digits as whole tokens matched by prefix. Results are built with DOM methods: no text becomes markup. */
(function () {
  "use strict";
  var TOKEN = /[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+/g;
  var WEIGHT = { department: 60, term: 50, table: 45, row: 40, project: 40, indicator: 20, overview: 10, text: 10 };

  // Character by character, so every position in the normalised text is the same position in the original
  // (NFKC alone turns “…” into “...” and would shift every highlight after it).
  function normalise(s) {
    return Array.from(s || "").map(function (c) {
      var n = c.normalize("NFKC").toLowerCase();
      return n.length === c.length ? n : c.toLowerCase();
    }).join("");
  }

  function tokens(s) {
    var out = [], m, run, i;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(normalise(s)))) {
      run = m[0];
      if (/^[a-z0-9]/.test(run) || run.length === 1) out.push(run);
      else for (i = 0; i < run.length - 1; i++) out.push(run.slice(i, i + 2));
    }
    return out;
  }

  function postings(index, keys, token) {
    if (/^[a-z0-9]/.test(token)) {  // a code or number: every indexed token that starts with it
      var ids = {};
      keys.forEach(function (k) { if (k.lastIndexOf(token, 0) === 0) index[k].forEach(function (d) { ids[d] = true; }); });
      return Object.keys(ids).map(Number);
    }
    return index[token] || [];
  }

  function search(data, keys, query) {
    var words = normalise(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    var candidates = null;
    words.forEach(function (word) {
      tokens(word).forEach(function (t) {
        var set = {};
        postings(data.index, keys, t).forEach(function (d) { set[d] = true; });
        candidates = candidates === null ? set : Object.keys(candidates).reduce(function (acc, d) { if (set[d]) acc[d] = true; return acc; }, {});
      });
    });
    if (!candidates) return [];
    var results = [];
    Object.keys(candidates).forEach(function (id) {
      var doc = data.docs[id], title = normalise(doc[1]), hay = normalise(doc[1] + " " + doc[4]);
      // Bigrams may all occur without the word itself (行政…运行): keep only documents containing every word.
      if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) return;
      var score = WEIGHT[doc[0]] || 0;
      words.forEach(function (w) { if (title.indexOf(w) >= 0) score += 30; if (title === w) score += 50; });
      results.push({ doc: doc, score: score - title.length / 100, order: Number(id) });
    });
    results.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    return results;
  }

  function snippet(text, words) {
    var low = normalise(text), at = -1;
    words.some(function (w) { at = low.indexOf(w); return at >= 0; });
    var start = Math.max(0, at - 30), end = Math.min(text.length, (at < 0 ? 0 : at) + 90);
    return (start > 0 ? "…" : "") + text.slice(start, end) + (end < text.length ? "…" : "");
  }

  function highlight(parent, text, words) {
    var low = normalise(text), pos = 0;
    while (pos < text.length) {
      var next = -1, len = 0;
      words.forEach(function (w) { var i = low.indexOf(w, pos); if (i >= 0 && (next < 0 || i < next)) { next = i; len = w.length; } });
      if (next < 0) { parent.appendChild(document.createTextNode(text.slice(pos))); break; }
      parent.appendChild(document.createTextNode(text.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(next, next + len);
      parent.appendChild(mark);
      pos = next + len;
    }
  }

  function render(data, root, query) {
    var list = document.getElementById("search-results"), status = document.getElementById("search-status");
    list.textContent = "";
    var words = normalise(query).split(/\s+/).filter(Boolean);
    if (!words.length) { status.textContent = "请输入要查找的科目名称、编码、项目、名词或文字。"; return; }
    var results = search(data, Object.keys(data.index), query);
    status.textContent = results.length ? "找到 " + results.length + " 条与“" + query + "”相关的结果" + (results.length > 100 ? "，显示前 100 条" : "") + "。" : "没有找到与“" + query + "”相关的内容。";
    results.slice(0, 100).forEach(function (r) {
      var doc = r.doc, li = document.createElement("li"), kind = document.createElement("span"), a = document.createElement("a");
      kind.className = "tag";
      kind.textContent = data.kinds[doc[0]] || doc[0];
      a.href = root + doc[3];
      highlight(a, doc[1], words);
      var where = document.createElement("p");
      where.className = "result-where";
      where.textContent = doc[2];
      var text = document.createElement("p");
      text.className = "result-text";
      highlight(text, snippet(doc[4], words), words);
      li.appendChild(kind); li.appendChild(document.createTextNode(" ")); li.appendChild(a);
      li.appendChild(where); li.appendChild(text);
      list.appendChild(li);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = window.SEARCH_INDEX, form = document.getElementById("search-page-form");
    if (!data || !form) return;
    var input = document.getElementById("search-page-q"), root = form.getAttribute("data-root") || "";
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    render(data, root, query);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = input.value.trim();
      try { history.replaceState(null, "", "?q=" + encodeURIComponent(q)); } catch (err) { /* some file:// pages refuse */ }
      render(data, root, q);
      document.getElementById("search-status").focus();
    });
  });
})();
