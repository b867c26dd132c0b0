// Live updates: every 30 s the page reads /api/v1/status (the same snapshot the server renders from)
// and rewrites what changed, without a reload. Text only (textContent): nothing from the API becomes markup.
(function () {
  "use strict";
  if (location.protocol === "file:") return;  // a saved copy: there is no API to ask
  var EVERY_MS = 30000;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // Instants as the server writes them: "2026-09-12 09:05 +02:00" in the config's zone (seconds when
  // there are any), inside <time datetime="ISO"> for machines.
  var CLOCK = new Intl.DateTimeFormat("en-CA", { timeZone: document.body.dataset.timezone, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    timeZoneName: "longOffset" });
  function local(instant) {
    var part = {};
    CLOCK.formatToParts(new Date(instant)).forEach(function (p) { part[p.type] = p.value; });
    var offset = part.timeZoneName.replace("GMT", "") || "+00:00";
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute +
      (part.second === "00" ? "" : ":" + part.second) + " " + offset;
  }
  function when(instant) {
    var node = el("time", "", local(instant));
    node.dateTime = instant;
    return node;
  }
  function fixed(x, places) { return x === null || x === undefined ? "–" : x.toFixed(places); }
  function find(root, selector, name, value) {
    return root.querySelector(selector + "[" + name + '="' + CSS.escape(value) + '"]');
  }
  function detail(cell, last) {
    cell.textContent = "";
    if (last && last.error) cell.appendChild(el("span", last.cause ? "unknown-cause" : "error", last.error));
    else if (last && last.warning) cell.appendChild(el("span", "warning", last.warning));
  }

  function banner(slot, r, lost) {
    var o = r.outage, node;
    slot.textContent = "";
    if (o) {
      node = el("div", "banner " + o.status);
      node.dataset.status = o.status;
      node.appendChild(document.createTextNode("Unavailable since "));
      node.appendChild(when(o.start));
      node.appendChild(document.createTextNode(" (" + fixed(o.minutes, 1) + " min): "));
      node.appendChild(el("span", "reason", o.reason));
      if (o.status === "excluded" && o.earlier_counted) {
        node.appendChild(document.createTextNode(" (earlier part counted: " + fixed(o.counted_minutes, 1) + " min)"));
      }
      if (o.updates && o.updates.length) {
        var list = el("ul", "updates");
        o.updates.forEach(function (u) {
          var item = el("li");
          item.dataset.updateStatus = u.status;
          item.appendChild(when(u.at));
          item.appendChild(document.createTextNode(" "));
          item.appendChild(el("b", null, u.status));
          item.appendChild(document.createTextNode(" — " + u.message));
          list.appendChild(item);
        });
        node.appendChild(list);
      }
    } else if (r.state === "unknown") {
      node = el("div", "banner unknown");
      node.dataset.status = "unknown";
      node.appendChild(document.createTextNode("State unknown: "));
      node.appendChild(el("span", "reason", "no trustworthy sample now" + (lost ? " (this monitor lost its network)" : "")));
    }
    if (node) slot.appendChild(node);
  }

  function region(r, lost) {
    var section = find(document, "section.region", "data-region", r.region);
    if (!section) return;
    var o = r.outage, badge = section.querySelector(".badge"), m = r.month_to_date;
    badge.className = "badge " + (o ? o.status : r.state);
    badge.dataset.state = o ? "down-" + o.status : r.state;
    badge.textContent = o ? "down · " + o.status : r.state;
    banner(section.querySelector(".banner-slot"), r, lost);
    section.querySelector("b.availability").textContent =
      m.availability_percent !== null && m.availability_trusted ? fixed(m.availability_percent, 4) + " %" : "–";
    section.querySelector("b.coverage").textContent = m.coverage_percent === null ? "–" : fixed(m.coverage_percent, 1) + " %";
    section.querySelector("b.budget").textContent =
      r.environment !== "production" || m.error_budget_remaining_minutes === null ? "–" :
      fixed(m.error_budget_remaining_minutes, 1) + " of " + fixed(m.error_budget_minutes, 1) + " min";
    section.querySelector("small.verdict").textContent = r.verdict;
    section.querySelector("b.downtime").textContent = m.downtime_minutes === null ? "–" : fixed(m.downtime_minutes, 1) + " min";
    var coverage = section.querySelector(".coverage-slot");
    coverage.textContent = "";
    if (m.coverage_warning) {
      coverage.appendChild(el("div", "warn coverage-warning",
                              m.coverage_warning + (m.availability_trusted ? "" : ": availability not shown")));
    }
    r.uptime.forEach(function (u) {
      var sla = section.querySelector('td[data-window="' + u.window + '"][data-kind="sla"]');
      var raw = section.querySelector('td[data-window="' + u.window + '"][data-kind="raw"]');
      if (sla) sla.textContent = u.trusted ? fixed(u.sla_percent, 3) + " %" : "–";
      if (raw) raw.textContent = u.trusted && u.raw_percent !== null ? fixed(u.raw_percent, 3) + " %" : "–";
    });
    r.components.forEach(function (c) {
      c.probes.forEach(function (p) {
        var row = find(section, "tr", "data-probe", p.probe);
        if (!row) return;
        row.querySelector("td.state").textContent = p.last && p.last.ok === false ? "failing" : p.state;
        detail(row.querySelector("td.detail"), p.last);
      });
    });
  }

  function thirdParty(t) {
    var row = find(document, "tr", "data-third-party", t.third_party);
    if (!row) return;
    row.querySelector("td.state").textContent = t.state;
    var cell = row.querySelector("td.detail");
    cell.textContent = "";
    t.probes.forEach(function (p) {
      if (p && p.last && p.last.error) {
        cell.appendChild(el("span", "error", p.probe + ": " + p.last.error));
        cell.appendChild(document.createTextNode(" "));
      }
    });
  }

  function vantage(health) {
    var slot = document.getElementById("vantage-slot");
    slot.textContent = "";
    if (health && !health.healthy) {
      var node = el("div", "banner vantage", "This monitor cannot see the network (" + health.detail +
                    "): failures it sees now are unknown, not downtime.");
      node.id = "vantage-banner";
      slot.appendChild(node);
    }
  }

  // The bars, charts and outage list are recomputed every few minutes: when the API says they were,
  // take them from a fresh copy of this page (parsed, never executed) rather than reloading it.
  function history(asOf) {
    if (!asOf || document.body.dataset.history === asOf) return;
    fetch(location.pathname, { cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (text) {
      var fresh = new DOMParser().parseFromString(text, "text/html");
      fresh.querySelectorAll("section.region").forEach(function (section) {
        var mine = find(document, "section.region", "data-region", section.dataset.region);
        var old = mine && mine.querySelector(".history"), update = section.querySelector(".history");
        if (old && update) old.replaceWith(document.importNode(update, true));
      });
      document.body.dataset.history = asOf;
    }).catch(function () { /* the next round tries again */ });
  }

  function refresh() {
    fetch("/api/v1/status", { cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      var lost = !!(data.vantage_health && !data.vantage_health.healthy);
      data.regions.forEach(function (r) { region(r, lost); });
      data.third_parties.forEach(thirdParty);
      vantage(data.vantage_health);
      var overall = document.getElementById("overall");
      overall.textContent = data.overall.text;
      overall.dataset.state = data.overall.state;
      var asOf = document.getElementById("as-of");
      asOf.textContent = "";
      asOf.appendChild(data.as_of ? when(data.as_of) : document.createTextNode("pending"));
      history(data.history_as_of);
      document.getElementById("live-note").textContent = "live, updates every 30 s";
      document.body.dataset.live = "ok";
    }).catch(function (err) {
      document.getElementById("live-note").textContent = "live updates paused (" + err.message + "), retrying";
      document.body.dataset.live = "failed";
    });
  }

  refresh();
  setInterval(refresh, EVERY_MS);
})();
