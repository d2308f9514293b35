//! The HTML page around the plots: inline CSS, an error hook that runs
//! before anything else, and a closing script that checks every plot drew,
//! wires the Gantt chart's zoom and pan, and sets the page's status.
//!
//! No network: no external script, style, font or image. The status the
//! browser test reads: `<body data-fabsim="ready">` when every `svg.plot`
//! has a size and content and no error was reported; errors (script
//! errors, `console.error`) each add a `<pre class="fabsim-error">`.

use super::svg::esc;

const STYLE: &str = r#"
body { font-family: sans-serif; margin: 16px 24px; color: #222; max-width: 1240px; }
h1 { font-size: 22px; margin-bottom: 2px; }
h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
p.note { color: #555; font-size: 13px; margin: 4px 0 8px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: right; }
td:first-child, th:first-child { text-align: left; }
th { background: #f4f4f4; }
table.facts td { text-align: left; }
svg.plot { display: block; margin: 6px 0; background: white; }
.fabsim-error { color: #b00; background: #fee; padding: 6px; }
#fabsim-status { color: #777; font-size: 12px; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
"#;

/// Installed first: any later script error or `console.error` call
/// becomes a visible marker in the page.
const HOOK: &str = r#"
(function () {
  function fail(msg) {
    var d = document.createElement('pre');
    d.className = 'fabsim-error';
    d.textContent = 'error: ' + msg;
    (document.body || document.documentElement).appendChild(d);
    document.documentElement.setAttribute('data-fabsim-errors', 'yes');
  }
  window.addEventListener('error', function (e) {
    fail((e.message || 'resource failed to load') + ' (line ' + (e.lineno || '?') + ')');
  }, true);
  var original = console.error;
  console.error = function () {
    fail(Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
"#;

/// Runs last: zoom and pan for `svg.zoomable` (wheel zooms around the
/// pointer, drag pans, double-click resets; the time ticks follow), then
/// the rendered check.
const CLOSE: &str = r#"
(function () {
  document.querySelectorAll('svg.zoomable').forEach(function (inner) {
    var outer = inner.ownerSVGElement;
    var full = inner.viewBox.baseVal.width, h = inner.viewBox.baseVal.height;
    var t0 = parseFloat(outer.getAttribute('data-t0')), t1 = parseFloat(outer.getAttribute('data-t1'));
    var x = 0, w = full, drag = null;
    function unit(s) {
      var a = Math.abs(s);
      if (a === 0) return '0 s';
      if (a < 1e-3) return (s * 1e6).toPrecision(3) + ' us';
      if (a < 1) return (s * 1e3).toPrecision(3) + ' ms';
      return s.toPrecision(3) + ' s';
    }
    function show() {
      inner.setAttribute('viewBox', x + ' 0 ' + w + ' ' + h);
      outer.querySelectorAll('text.tick').forEach(function (t) {
        var f = parseFloat(t.getAttribute('data-f'));
        t.textContent = unit(t0 + (t1 - t0) * (x + f * w) / full);
      });
    }
    function clamp() { w = Math.min(full, Math.max(full / 2000, w)); x = Math.min(full - w, Math.max(0, x)); }
    outer.addEventListener('wheel', function (e) {
      e.preventDefault();
      var r = inner.getBoundingClientRect();
      var f = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
      var at = x + f * w;
      w = w * (e.deltaY > 0 ? 1.25 : 0.8);
      x = at - f * w;
      clamp(); show();
    }, { passive: false });
    outer.addEventListener('mousedown', function (e) { drag = { cx: e.clientX, x: x }; });
    window.addEventListener('mouseup', function () { drag = null; });
    window.addEventListener('mousemove', function (e) {
      if (!drag) return;
      var r = inner.getBoundingClientRect();
      x = drag.x - (e.clientX - drag.cx) / r.width * w;
      clamp(); show();
    });
    outer.addEventListener('dblclick', function () { x = 0; w = full; show(); });
    show();
  });
  var plots = document.querySelectorAll('svg.plot'), ok = 0;
  plots.forEach(function (p) {
    var b = p.getBoundingClientRect();
    if (b.width > 0 && b.height > 0 && p.querySelectorAll('rect, polyline, circle, line').length > 0) ok++;
  });
  var status = document.getElementById('fabsim-status');
  status.textContent = 'rendered ' + ok + ' of ' + plots.length + ' plots';
  var errors = document.documentElement.getAttribute('data-fabsim-errors') === 'yes';
  document.body.setAttribute('data-fabsim', ok === plots.length && ok > 0 && !errors ? 'ready' : 'broken');
})();
"#;

/// A whole page: `title`, then `body` (sections of HTML and inline SVG).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"generator\" content=\"fabsim {}\"><title>{}</title>\
         <script>{HOOK}</script><style>{STYLE}</style></head>\n<body>\n{body}\n\
         <p id=\"fabsim-status\">plots not checked (scripts off?)</p>\n<script>{CLOSE}</script>\n</body></html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

/// A two-column table of (label, value) rows.
pub fn facts(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<table class=\"facts\">");
    for (k, v) in rows {
        s += &format!("<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    s + "</table>"
}

/// A table with a header row; cells are escaped.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in header {
        s += &format!("<th>{}</th>", esc(h));
    }
    s += "</tr>";
    for r in rows {
        s += "<tr>";
        for c in r {
            s += &format!("<td>{}</td>", esc(c));
        }
        s += "</tr>";
    }
    s + "</table>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_needs_no_network() {
        let p = page("a <b>", "<p>x</p>");
        assert!(p.contains("<title>a &lt;b&gt;</title>"));
        for banned in ["src=", "href=", "http://", "https://", "@import", "url("] {
            assert!(!p.contains(banned), "{banned}");
        }
    }
}
