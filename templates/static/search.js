/* 站内搜索. Everything loads as scripts (file:// pages cannot fetch): assets/search/site.js first, then the
   token shards a query needs (assets/search/t/XX.js), then the documents of the department-years that match
   (assets/search/u/KEY.js, KEY from the list in site.js). Queries are tokenised as generator/search.py
   tokenises documents. Results are built with DOM methods: no text becomes markup. */
(function () {
  "use strict";
  var TOKEN = /[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+/g;
  var WEIGHT = { department: 60, term: 50, table: 45, row: 40, project: 40, indicator: 20, overview: 10, text: 10 };
  var BATCH = 20;  // department-years whose documents are loaded at a time
  var loaded = {};

  // Character by character, so every position in the normalised text is the same position in the original
  // (NFKC alone turns “…” into “...” and would shift every highlight after it).
  function normalise(s) {
    return Array.from(s || "").map(function (c) {
      var n = c.normalize("NFKC").toLowerCase();
      return n.length === c.length ? n : c.toLowerCase();
    }).join("");
  }

  function isCode(run) { return !/^[0-9]+$/.test(run) || [3, 5, 7].indexOf(run.length) >= 0 || run.length >= 15; }

  function tokens(s) {
    var out = [], m, run, i;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(normalise(s)))) {
      run = m[0];
      if (/^[a-z0-9]/.test(run)) { if (isCode(run)) out.push(run); }
      else if (run.length === 1) out.push(run);
      else for (i = 0; i < run.length - 1; i++) out.push(run.slice(i, i + 2));
    }
    return out;
  }

  function shardOf(token) {  // FNV-1a over UTF-16 code units, as generator/search.py computes it
    var h = 0x811c9dc5;
    for (var i = 0; i < token.length; i++) { h ^= token.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return ("0" + (h % window.SEARCH_SITE.shards).toString(16)).slice(-2);
  }

  function load(src) {
    if (!loaded[src]) {
      loaded[src] = new Promise(function (resolve) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = resolve;
        s.onerror = resolve;  // a missing shard means no unit has the token
        document.head.appendChild(s);
      });
    }
    return loaded[src];
  }

  /* A department-year's documents, made whole from its file (generator/search.py's unit_file): each context is
     written once there, and each address from the department-year's folder. */
  function unitDocs(key) {
    var u = window.SEARCH_UNITS[key];
    if (!u) return [];
    if (!u.whole) {
      u.whole = u.docs.map(function (r) {
        return [r[0], r[1], u.where[r[2]] + (r[5] ? " · " + r[5] : ""), r[3].charAt(0) === "/" ? r[3].slice(1) : u.base + r[3], r[4]];
      });
    }
    return u.whole;
  }

  /* A token's department-years, as generator/search.py's encode writes them: a bitmap in base64 (bit u of byte
     u >> 3 for position u), or the positions as gaps, each from the one before ([3, 2] is 3 and 5). */
  function positions(row, units) {
    var out = [], u, at = 0;
    if (typeof row === "string") {
      var raw = atob(row);
      for (u = 0; u < units; u++) if (raw.charCodeAt(u >> 3) & (1 << (u & 7))) out.push(u);
    } else {
      for (u = 0; u < row.length; u++) { at += row[u]; out.push(at); }
    }
    return out;
  }

  /* A single Chinese character: documents are indexed by bigrams, and keep a character as a token of its own
     only where it stands alone (generator/search.py), so its bitmap, if any, misses every department-year that
     has it inside a longer run (档 in 档案). Gathering the bigrams that contain it would mean loading every token
     shard. Such a token does not narrow the candidates: the other words do, and every document is confirmed
     against its text in match(), a batch of department-years at a time. */
  function narrows(token) { return !(token.length === 1 && /^[\u3400-\u9fff\uf900-\ufaff]$/.test(token)); }

  /* The department-years whose index has every token of the query that narrows, in site order. */
  function candidates(root, words) {
    var site = window.SEARCH_SITE, all = [];
    words.forEach(function (w) { all = all.concat(tokens(w).filter(narrows)); });
    if (!all.length) return Promise.resolve(site.units.map(function (_, i) { return i; }));
    var shards = {};
    all.forEach(function (t) { shards[shardOf(t)] = true; });
    return Promise.all(Object.keys(shards).map(function (s) { return load(root + "assets/search/t/" + s + ".js"); })).then(function () {
      var result = null;
      all.forEach(function (t) {
        var rows = window.SEARCH_TOKENS[shardOf(t)] || {};
        var units = rows[t] ? positions(rows[t], site.units.length) : [];
        if (result === null) result = units;
        else {
          var has = {};
          units.forEach(function (u) { has[u] = true; });
          result = result.filter(function (u) { return has[u]; });
        }
      });
      return result || [];
    });
  }

  /* A table row whose figures are all zero: the index leaves zero cells out of a row's text (a 表9 item keeps its
     0.00), so the text has no printed figure (4.78, 1,215.99) other than 0.00. Codes have no decimal point.
     A figure the original could not show (#####) is not known to be zero. */
  var FIGURE = /(?:^|[^\d.,])(\d{1,3}(?:,\d{3})+|\d+)\.\d+/g;
  function allZero(doc) {
    if (doc[0] !== "row" || doc[4].indexOf("#") >= 0) return false;
    var m;
    FIGURE.lastIndex = 0;
    while ((m = FIGURE.exec(doc[4]))) if (/[1-9]/.test(m[0])) return false;
    return true;
  }

  function match(doc, words) {
    var title = normalise(doc[1]), hay = normalise(doc[1] + " " + doc[4]);
    if (!words.every(function (w) { return hay.indexOf(w) >= 0; })) return null;
    var score = WEIGHT[doc[0]] || 0;
    words.forEach(function (w) { if (title.indexOf(w) >= 0) score += 30; if (title === w) score += 50; });
    if (allZero(doc)) score -= 30;  // below the rows with figures that match as well (an exact title still wins)
    return score - title.length / 100;
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

  function item(root, kinds, doc, words) {
    var li = document.createElement("li"), kind = document.createElement("span"), a = document.createElement("a");
    kind.className = "tag";
    kind.textContent = kinds[doc[0]] || doc[0];
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
    return li;
  }

  function Search(root) {
    this.root = root;
    this.list = document.getElementById("search-results");
    this.status = document.getElementById("search-status");
    this.more = document.getElementById("search-more");
  }

  Search.prototype.run = function (query) {
    var self = this, site = window.SEARCH_SITE;
    this.query = query;
    this.words = normalise(query).split(/\s+/).filter(Boolean);
    this.list.textContent = "";
    this.more.hidden = true;
    this.results = [];
    if (!this.words.length) { this.status.textContent = "请输入要查找的科目名称、编码、项目、名词或文字。"; return Promise.resolve(); }
    this.status.textContent = "正在查找……";
    site.docs.forEach(function (doc, i) { var s = match(doc, self.words); if (s !== null) self.results.push({ doc: doc, score: s + 5, order: -site.docs.length + i }); });
    return candidates(this.root, this.words).then(function (units) {
      if (query !== self.query) return;
      self.units = units;
      self.next = 0;
      return self.page();
    });
  };

  /* Load the next batch of matching department-years and show everything found so far. */
  Search.prototype.page = function () {
    var self = this, site = window.SEARCH_SITE, batch = this.units.slice(this.next, this.next + BATCH);
    this.next += batch.length;
    var files = batch.map(function (u) { return load(self.root + "assets/search/u/" + site.units[u] + ".js"); });
    return Promise.all(files).then(function () {
      batch.forEach(function (u) {
        unitDocs(site.units[u]).forEach(function (doc, i) {
          var s = match(doc, self.words);
          if (s !== null) self.results.push({ doc: doc, score: s, order: u * 100000 + i });
        });
      });
      self.show();
    });
  };

  Search.prototype.show = function () {
    var self = this, site = window.SEARCH_SITE, shown = this.results.slice().sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    this.list.textContent = "";
    shown.slice(0, 100 + this.next * 5).forEach(function (r) { self.list.appendChild(item(self.root, site.kinds, r.doc, self.words)); });
    var rest = this.units.length - this.next;
    this.status.textContent = shown.length
      ? "找到 " + shown.length + " 条与“" + this.query + "”相关的结果" + (rest > 0 ? "（已查 " + this.next + " / " + this.units.length + " 个部门年度）" : "") + "。"
      : (rest > 0 ? "在已查的 " + this.next + " 个部门年度中没有找到“" + this.query + "”。" : "没有找到与“" + this.query + "”相关的内容。");
    this.more.hidden = rest <= 0;
    this.more.textContent = "继续查找其余 " + rest + " 个部门年度";
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-page-form");
    if (!window.SEARCH_SITE || !form) return;
    var input = document.getElementById("search-page-q"), search = new Search(form.getAttribute("data-root") || "");
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    search.run(query);
    search.more.addEventListener("click", function () { search.page(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = input.value.trim();
      try { history.replaceState(null, "", "?q=" + encodeURIComponent(q)); } catch (err) { /* some file:// pages refuse */ }
      search.run(q).then(function () { search.status.focus(); });
    });
  });
})();
