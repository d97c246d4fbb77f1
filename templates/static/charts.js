/* 部门决算公开 — draws the charts. Every chart's data is also a table on the page, so nothing is lost without it.
   Each spec is JSON in <script type="application/json" class="chart-spec">, inline because file:// forbids
   fetching; the runtime (assets/vendor/vega-runtime.js, loaded just before this file) sets window.vegaEmbed.
   The pages' Content-Security-Policy allows no eval and no inline style, hence the options:
   ast: true      Vega evaluates expressions with its interpreter instead of new Function();
   defaultStyle   false: vega-embed would add a <style> element (the look is in site.css instead);
   tooltip        vega-tooltip without its <style> element (styled in site.css), escaping what it shows,
                  placed by the mark rather than the pointer so it stays on a phone's screen;
   actions        false: no menu, no "open in editor" (that would post the spec to another site);
   renderer       "svg": sharp at any zoom and in print, and each mark is an element a test can find.
   大字 (site.js's switch) scales every chart's text and the room made for it: the specs' "textScale" parameter
   is set before drawing, each switch ("textsizechange") draws the chart again, and its canvas says its scale. */
(function () {
  "use strict";
  var OPTIONS = {
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true, theme: "custom", anchor: "mark" }
  };

  var LARGE = 1.25;  // html.large-text's --text-size in site.css

  function textScale() {
    return document.documentElement.classList.contains("large-text") ? LARGE : 1;
  }

  // Drawn anew at each scale, not re-run with the new parameter: Vega would keep the legend's entries where the
  // old text size put them.
  function embed(canvas, spec, previous) {
    var scale = textScale();
    (spec.params || []).forEach(function (p) { if (p.name === "textScale") p.value = scale; });
    canvas.setAttribute("data-state", "drawing");
    if (previous) previous.finalize();
    window.vegaEmbed(canvas, spec, OPTIONS).then(function (result) {
      // The SVG is named by its figure's description (set in the spec); the figure's heading titles it.
      canvas.setAttribute("data-text-scale", String(scale));
      canvas.setAttribute("data-state", "drawn");
      var again = function () {
        if (textScale() === scale) return;
        document.removeEventListener("textsizechange", again);
        embed(canvas, spec, result);
      };
      document.addEventListener("textsizechange", again);
      again();  // 大字 switched while it was being drawn
      return result;
    }, function (error) {
      canvas.setAttribute("data-state", "failed");
      console.error("图表未能绘制：" + canvas.id + "：" + error);
    });
  }

  function draw(node) {
    var canvas = document.getElementById(node.getAttribute("data-canvas"));
    if (!canvas) return;
    var spec;
    try {
      spec = JSON.parse(node.textContent || "");
    } catch (e) {
      canvas.setAttribute("data-state", "failed");
      console.error("图表数据无法读取：" + canvas.id);
      return;
    }
    embed(canvas, spec, null);
  }

  function drawAll() {
    if (typeof window.vegaEmbed !== "function") return;
    var nodes = document.querySelectorAll("script.chart-spec");
    Array.prototype.forEach.call(nodes, draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
}());
