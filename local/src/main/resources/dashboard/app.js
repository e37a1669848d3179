// The live dashboard: plain browser JavaScript, no build step, no third-party code, nothing inline
// (the page is served with a strict Content-Security-Policy). It uses only the public API:
// POST /api/token, GET /api/usage/daily, /api/usage/top, /api/usage/hourly and /api/usage/endpoints, for the admin
// GET /api/clients; for everyone GET /api/usage/quota (the month's gauge), POST /api/usage/stream/ticket and the
// SSE stream GET /api/usage/stream?ticket=… (EventSource cannot send an Authorization header).
// A stream ends at the exp of the token behind its ticket (and when access is revoked): the page then
// mints a fresh token with the API key it holds in memory (never in storage) and reconnects by itself.
"use strict";

(() => {
  // Only in this closure: not in the DOM, not in storage. Forgotten at sign-out.
  let apiKey = null;
  // A token this close to its exp is replaced before use: a minute, or a quarter of a short lifetime.
  const refreshBeforeMs = () => Math.min(60000, state.lifetimeMs / 4);
  const DAYS = 7;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    expiresAt: 0,
    lifetimeMs: 0,
    clientId: null,
    admin: false,
    dates: [],            // the window, oldest first (from /api/usage/daily)
    counts: new Map(),    // "client|date" -> count; a day's count only grows
    lastEventId: null,    // resume point after a reconnection
    source: null,         // the EventSource
    retryMs: 1000,
    reopenTimer: null,
    topTimer: null,
    analyticsTimer: null,
    quotaTimer: null,
    chosen: null,         // the client whose hours and endpoints are shown (admin: picked in the select)
    clientsCursor: null,  // next_cursor of the admin's client list (null: no further page)
    clientsPage: 0,
  };
  const CLIENTS_PAGE = 10;

  async function api(path, options = {}) {
    if (path !== "/api/token" && apiKey && Date.now() >= state.expiresAt - refreshBeforeMs()) await freshToken();
    const headers = Object.assign({}, options.headers || {});
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(path, Object.assign({}, options, { headers, cache: "no-store" })).then(async (response) => {
      const body = await response.text();
      const json = body ? JSON.parse(body) : null;
      if (!response.ok) {
        const error = new Error((json && (json.detail || json.title)) || response.statusText);
        error.status = response.status;
        throw error;
      }
      return json;
    });
  }

  function claims(token) {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $("api-key");
    const button = $("sign-in-button");
    $("sign-in-error").textContent = "";
    button.disabled = true;
    try {
      const key = input.value.trim();
      const token = await api("/api/token", { method: "POST", headers: { "X-API-Key": key } });
      input.value = "";
      apiKey = key;
      const c = claims(token.access_token);
      useToken(token);
      state.clientId = c.sub;
      state.admin = c.role === "admin";
      $("who").textContent = state.clientId + (state.admin ? " (admin)" : "");
      $("scope").textContent = state.admin ? "all clients" : "your client";
      $("sign-in").hidden = true;
      $("dashboard").hidden = false;
      $("sign-out").hidden = false;
      $("top-card").hidden = !state.admin;
      $("clients-card").hidden = !state.admin;
      await loadDaily();
      await loadQuota();
      if (state.admin) await loadTop();
      if (state.admin) await loadClients(null);
      state.chosen = state.clientId;
      $("endpoints-client").value = state.chosen;
      $("endpoints-picker").hidden = !state.admin;
      await loadAnalytics();
      openStream();
    } catch (e) {
      $("sign-in-error").textContent = e.status === 401 ? "That API key is not valid." : "Sign-in failed: " + e.message;
    } finally {
      button.disabled = false;
    }
  }

  function useToken(token) {
    state.token = token.access_token;
    state.lifetimeMs = token.expires_in * 1000;
    // The token's own exp when it is sooner: a slow answer must not make the page think it lasts longer.
    state.expiresAt = Math.min(Date.now() + state.lifetimeMs, claims(token.access_token).exp * 1000);
  }

  // A token with more than a minute left, minted anew from the key when needed; null if the key no
  // longer works (rotated away, client disabled or erased, address no longer allowed).
  async function freshToken() {
    if (state.token && Date.now() < state.expiresAt - refreshBeforeMs()) return state.token;
    if (!apiKey) return null;
    const previous = state.token;
    state.token = null; // /api/token takes the key, not the old token
    try {
      useToken(await api("/api/token", { method: "POST", headers: { "X-API-Key": apiKey } }));
      return state.token;
    } catch (e) {
      if (e.status === 401 || e.status === 403) return null;
      state.token = previous;
      throw e;
    }
  }

  function signOut(message) {
    apiKey = null;
    closeStream();
    Object.assign(state, { token: null, clientId: null, admin: false, dates: [], lastEventId: null });
    state.counts.clear();
    $("dashboard").hidden = true;
    $("sign-in").hidden = false;
    $("sign-out").hidden = true;
    $("who").textContent = "";
    $("feed").replaceChildren();
    $("endpoints-client").replaceChildren();
    state.chosen = null;
    $("sign-in-error").textContent = message || "";
  }

  async function loadDaily() {
    const daily = await api("/api/usage/daily?days=" + DAYS);
    // Merged, not replaced: a snapshot read before a live update arrived must not take it back.
    for (const client of daily.clients) {
      for (const day of client.days) {
        const key = client.client_id + "|" + day.date;
        state.counts.set(key, Math.max(state.counts.get(key) || 0, day.count));
      }
    }
    if (state.admin) fillClientPicker(daily.clients);
    const first = daily.clients[0];
    state.dates = first ? first.days.map((d) => d.date) : datesEndingAt(daily.to);
    render();
  }

  function datesEndingAt(to) {
    const end = new Date(to + "T00:00:00Z");
    const dates = [];
    for (let i = DAYS - 1; i >= 0; i--) dates.push(new Date(end.getTime() - i * 86400000).toISOString().slice(0, 10));
    return dates;
  }

  // A table row of [text, class?] cells; text goes in as text, never as markup.
  function tableRow(cells) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  // Replaces a table's body with the rows, or with one row saying emptyText across every column.
  function fillTable(id, rows, emptyText) {
    const table = $(id);
    if (rows.length === 0 && emptyText) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = table.tHead.rows[0].cells.length;
      td.textContent = emptyText;
      tr.append(td);
      rows = [tr];
    }
    table.tBodies[0].replaceChildren(...rows);
  }

  async function loadTop() {
    const top = await api("/api/usage/top?limit=10");
    fillTable("top", top.top.map((t, i) => tableRow([[String(i + 1)], [t.client_id], [t.name], [String(t.count), "num"]])),
      "No hits in the last 24 hours.");
  }

  // ---- analytics: the chosen client's last 24 hours and its top endpoints ----

  function fillClientPicker(clients) {
    const select = $("endpoints-client");
    const known = new Set([...select.options].map((o) => o.value));
    for (const c of clients) {
      if (known.has(c.client_id)) continue;
      const option = document.createElement("option");
      option.value = c.client_id;
      option.textContent = c.client_id + " — " + c.name;
      select.append(option);
    }
    if (state.chosen) select.value = state.chosen;
  }

  async function loadAnalytics() {
    if (!state.token || !state.chosen) return;
    const who = state.admin ? "&client_id=" + encodeURIComponent(state.chosen) : "";
    const [hourly, endpoints] = await Promise.all([
      api("/api/usage/hourly?hours=24" + who),
      api("/api/usage/endpoints?days=7&limit=10" + who),
    ]);
    const series = hourly.clients[0] ? hourly.clients[0].hours : [];
    $("hourly-scope").textContent = "(" + state.chosen + ")";
    drawHourly(series);
    drawEndpoints(endpoints);
  }

  function scheduleAnalytics() {
    clearTimeout(state.analyticsTimer);
    state.analyticsTimer = setTimeout(() => loadAnalytics().catch(() => {}), 1000);
  }

  function drawHourly(hours) {
    const svg = $("hourly-chart");
    const width = 720, height = 200, top = 16, bottom = 28, gap = 4;
    const max = Math.max(1, ...hours.map((h) => h.count));
    const slot = width / Math.max(1, hours.length);
    const nodes = [];
    const axis = document.createElementNS(SVG, "line");
    for (const [k, v] of [["x1", 0], ["x2", width], ["y1", height - bottom], ["y2", height - bottom], ["class", "axis"]]) axis.setAttribute(k, v);
    nodes.push(axis);
    hours.forEach((entry, i) => {
      const h = Math.round((height - top - bottom) * (entry.count / max));
      const x = i * slot + gap / 2;
      const bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", x.toFixed(1));
      bar.setAttribute("y", String(height - bottom - h));
      bar.setAttribute("width", (slot - gap).toFixed(1));
      bar.setAttribute("height", String(h));
      bar.setAttribute("class", i === hours.length - 1 ? "hbar now" : "hbar");
      bar.setAttribute("data-hour", entry.hour);
      bar.setAttribute("data-count", String(entry.count));
      const title = document.createElementNS(SVG, "title");
      title.textContent = entry.hour.slice(0, 13).replace("T", " ") + ":00 UTC: " + entry.count + " hits";
      bar.append(title);
      nodes.push(bar);
      if (i % 3 === 2 || i === hours.length - 1) {
        const label = document.createElementNS(SVG, "text");
        label.setAttribute("x", (x + (slot - gap) / 2).toFixed(1));
        label.setAttribute("y", String(height - 10));
        label.setAttribute("class", "label");
        label.textContent = entry.hour.slice(11, 13) + "h";
        nodes.push(label);
      }
    });
    // The error rate (4xx and 5xx among the hits whose status is known), as a line over the bars on a
    // 0-100 % scale; hours with no known status leave a gap.
    let path = "";
    let pen = false;
    hours.forEach((entry, i) => {
      const rate = errorRate(entry.statuses);
      if (rate === null) { pen = false; return; }
      const x = (i * slot + slot / 2).toFixed(1);
      const y = (height - bottom - (height - top - bottom) * rate).toFixed(1);
      path += (pen ? " L" : " M") + x + " " + y;
      pen = true;
    });
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("d", path.trim());
    line.setAttribute("class", "error-line");
    line.setAttribute("data-testid", "error-rate-line");
    const legend = document.createElementNS(SVG, "text");
    legend.setAttribute("x", String(width - 4));
    legend.setAttribute("y", "12");
    legend.setAttribute("class", "legend");
    legend.textContent = "— error rate (4xx+5xx), 0-100 %";
    nodes.push(line, legend);
    svg.replaceChildren(...nodes);
  }

  /** 4xx+5xx among the hits whose status is known, 0..1; null when none is known. */
  function errorRate(statuses) {
    if (!statuses) return null;
    const known = statuses["2xx"] + statuses["3xx"] + statuses["4xx"] + statuses["5xx"];
    return known === 0 ? null : (statuses["4xx"] + statuses["5xx"]) / known;
  }

  function drawEndpoints(report) {
    fillTable("endpoints", report.endpoints.map((e) => {
      const rate = errorRate(e.statuses);
      const errors = rate === null ? "–" : (100 * rate).toFixed(rate < 0.1 && rate > 0 ? 1 : 0) + " %";
      const p95 = e.duration_ms ? formatMs(e.duration_ms.p95) : "–";
      return tableRow([[e.endpoint], [String(e.count), "num"], [errors, "num errors"], [p95, "num p95"]]);
    }), "No hits in the last 7 days.");
    $("endpoints-other").textContent = String(report.other);
  }

  function formatMs(ms) {
    return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : ms >= 10 ? Math.round(ms) + " ms" : ms.toFixed(1) + " ms";
  }

  // The signed-in client's month: hits against its plan's quota, and which alert thresholds it reached.
  async function loadQuota() {
    const q = await api("/api/usage/quota");
    $("quota-used").textContent = String(q.used);
    $("quota-plan").textContent = "(plan " + q.plan + ")";
    const percent = q.monthly_quota ? Math.round((100 * q.used) / q.monthly_quota) : 0;
    $("quota-bar").style.width = Math.min(100, percent) + "%";
    $("quota-meter").classList.toggle("over", q.monthly_quota !== null && q.used >= q.monthly_quota);
    $("quota-meter").setAttribute("aria-valuenow", String(Math.min(100, percent)));
    $("quota-detail").textContent = q.monthly_quota === null
      ? "no monthly quota; " + q.period.start.slice(0, 7)
      : percent + " % of " + q.monthly_quota + " (" + q.enforcement + "), " + q.remaining + " left until " + q.period.end.slice(0, 10);
    const items = q.thresholds.map((t) => {
      const li = document.createElement("li");
      li.textContent = t.percent + " %: " + (t.reached_at ? "reached " + t.reached_at.slice(0, 16).replace("T", " ") + " UTC" : "not reached");
      if (t.reached_at) li.className = "reached";
      return li;
    });
    $("quota-thresholds").replaceChildren(...items);
  }

  function scheduleQuota() {
    clearTimeout(state.quotaTimer);
    state.quotaTimer = setTimeout(() => loadQuota().catch(() => {}), 1000);
  }

  // The admin's client list: one page of GET /api/clients, each row with GET /api/usage/quota for its month.
  async function loadClients(cursor) {
    const page = await api("/api/clients?limit=" + CLIENTS_PAGE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    state.clientsPage = cursor ? state.clientsPage + 1 : 1;
    state.clientsCursor = page.next_cursor;
    const quotas = await Promise.all(page.clients.map((c) =>
      api("/api/usage/quota?client_id=" + encodeURIComponent(c.client_id)).catch(() => null)));
    const rows = page.clients.map((c, i) => {
      const q = quotas[i];
      const tr = tableRow([[c.client_id], [c.name], [c.plan], [c.disabled ? "disabled" : "active", c.disabled ? "disabled" : ""],
        [q ? String(q.used) : "?", "num"], [q && q.monthly_quota !== null ? String(q.monthly_quota) : "none", "num"]]);
      tr.dataset.clientId = c.client_id;
      return tr;
    });
    fillTable("clients", rows, null);
    $("clients-next").disabled = !state.clientsCursor;
    $("clients-first").disabled = state.clientsPage <= 1;
    $("clients-status").textContent = "page " + state.clientsPage + (state.clientsCursor ? "" : " (last)");
  }

  function totals() {
    const perDate = new Map(state.dates.map((d) => [d, 0]));
    for (const [key, count] of state.counts) {
      const date = key.slice(key.lastIndexOf("|") + 1);
      if (perDate.has(date)) perDate.set(date, perDate.get(date) + count);
    }
    return perDate;
  }

  function render() {
    const perDate = totals();
    const today = state.dates[state.dates.length - 1];
    $("live-count").textContent = String(perDate.get(today) || 0);
    $("today-date").textContent = today ? "(" + today + " UTC)" : "";
    let week = 0;
    for (const n of perDate.values()) week += n;
    $("week-total").textContent = String(week);
    drawChart(perDate, today);
  }

  function drawChart(perDate, today) {
    const svg = $("chart");
    const width = 720, height = 260, top = 24, bottom = 36, gap = 18;
    const entries = [...perDate.entries()];
    const max = Math.max(1, ...entries.map(([, n]) => n));
    const slot = width / Math.max(1, entries.length);
    const nodes = [];
    const axis = document.createElementNS(SVG, "line");
    for (const [k, v] of [["x1", 0], ["x2", width], ["y1", height - bottom], ["y2", height - bottom], ["class", "axis"]]) axis.setAttribute(k, v);
    nodes.push(axis);
    entries.forEach(([date, n], i) => {
      const h = Math.round((height - top - bottom) * (n / max));
      const x = i * slot + gap / 2;
      const bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", x.toFixed(1));
      bar.setAttribute("y", String(height - bottom - h));
      bar.setAttribute("width", (slot - gap).toFixed(1));
      bar.setAttribute("height", String(h));
      bar.setAttribute("class", date === today ? "bar today" : "bar");
      bar.setAttribute("data-date", date);
      const title = document.createElementNS(SVG, "title");
      title.textContent = date + ": " + n + " hits";
      bar.append(title);
      const value = document.createElementNS(SVG, "text");
      value.setAttribute("x", (x + (slot - gap) / 2).toFixed(1));
      value.setAttribute("y", String(height - bottom - h - 6));
      value.setAttribute("class", "value");
      value.textContent = String(n);
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", (x + (slot - gap) / 2).toFixed(1));
      label.setAttribute("y", String(height - 12));
      label.setAttribute("class", "label");
      label.textContent = date.slice(5);
      nodes.push(bar, value, label);
    });
    svg.replaceChildren(...nodes);
  }

  function setStatus(text, cls) {
    $("live-status").textContent = text;
    $("live-dot").className = "dot" + (cls ? " " + cls : "");
  }

  async function openStream() {
    closeStream();
    if (!state.token) return;
    setStatus("connecting");
    let ticket;
    try {
      // The stream ends at this token's exp: a token about to expire is replaced first.
      if (!(await freshToken())) {
        signOut("Your access has ended (the key was rotated or revoked); sign in again.");
        return;
      }
      ticket = await api("/api/usage/stream/ticket", { method: "POST" });
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        signOut("Your access has ended; sign in again.");
        return;
      }
      scheduleReopen("stream unavailable (" + (e.status || "network") + ")");
      return;
    }
    let url = "/api/usage/stream?ticket=" + encodeURIComponent(ticket.ticket);
    if (state.lastEventId) url += "&last_event_id=" + encodeURIComponent(state.lastEventId);
    const source = new EventSource(url);
    state.source = source;
    source.addEventListener("open", () => {
      state.retryMs = 1000;
      setStatus("live", "live");
      // Counts may have moved while the stream was down: the snapshot is authoritative.
      loadDaily().catch(() => {});
    });
    // A threshold of the month was crossed (usage.threshold): the gauge shows when.
    source.addEventListener("threshold", () => loadQuota().catch(() => {}));
    source.addEventListener("usage", (e) => {
      if (e.lastEventId) state.lastEventId = e.lastEventId;
      apply(JSON.parse(e.data));
    });
    // The server ends a stream at its token's exp ("expired") or when access was revoked ("revoked"):
    // reconnect at once with a fresh token; a revoked key then signs the page out.
    source.addEventListener("end", (e) => {
      if (state.source !== source) return;
      const reason = JSON.parse(e.data).reason;
      closeStream();
      state.retryMs = 1000;
      setStatus(reason === "expired" ? "renewing" : "reconnecting", "down");
      clearTimeout(state.reopenTimer);
      state.reopenTimer = setTimeout(openStream, reason === "expired" ? 0 : 250);
    });
    source.addEventListener("error", () => {
      if (state.source !== source) return;
      // A ticket is single-use: the browser's own reconnection is refused, so open a new stream.
      if (source.readyState === EventSource.CLOSED || source.readyState === EventSource.CONNECTING) {
        scheduleReopen("reconnecting");
      }
    });
  }

  function scheduleReopen(why) {
    closeStream();
    setStatus(why, "down");
    clearTimeout(state.reopenTimer);
    state.reopenTimer = setTimeout(openStream, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 30000);
  }

  function closeStream() {
    if (state.source) state.source.close();
    state.source = null;
  }

  function apply(message) {
    const key = message.client_id + "|" + message.date;
    const known = state.counts.get(key) || 0;
    if (message.count <= known) return; // a late duplicate: counts of a day only grow
    state.counts.set(key, message.count);
    if (message.date > state.dates[state.dates.length - 1]) {
      loadDaily().catch(() => {}); // a new day began
    } else {
      render();
      const out = $("live-count");
      out.classList.add("bump");
      setTimeout(() => out.classList.remove("bump"), 600);
    }
    const feed = $("feed");
    const item = document.createElement("li");
    item.textContent = new Date().toISOString().slice(11, 19) + "  " + message.client_id + "  " + message.date + "  → " + message.count;
    feed.prepend(item);
    while (feed.children.length > 50) feed.lastElementChild.remove();
    if (message.client_id === state.chosen) scheduleAnalytics();
    if (message.client_id === state.clientId) scheduleQuota();
    if (state.admin) {
      clearTimeout(state.topTimer);
      state.topTimer = setTimeout(() => loadTop().catch(() => {}), 2000);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => signOut(""));
    $("clients-next").addEventListener("click", () => loadClients(state.clientsCursor).catch((e) => setStatus(e.message, "error")));
    $("clients-first").addEventListener("click", () => loadClients(null).catch((e) => setStatus(e.message, "error")));
    $("endpoints-client").addEventListener("change", (e) => {
      state.chosen = e.target.value;
      loadAnalytics().catch(() => {});
    });
  });
})();
