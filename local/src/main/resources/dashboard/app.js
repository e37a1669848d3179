// The live dashboard: plain browser JavaScript, no build step, no third-party code, nothing inline
// (the page is served with a strict Content-Security-Policy). It uses only the public API:
// POST /api/token, GET /api/usage/daily and /api/usage/top, for the admin GET /api/clients and /api/usage/quota, POST /api/usage/stream/ticket and the
// SSE stream GET /api/usage/stream?ticket=… (EventSource cannot send an Authorization header).
"use strict";

(() => {
  const DAYS = 7;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    expiresAt: 0,
    clientId: null,
    admin: false,
    dates: [],            // the window, oldest first (from /api/usage/daily)
    counts: new Map(),    // "client|date" -> count; a day's count only grows
    lastEventId: null,    // resume point after a reconnection
    source: null,         // the EventSource
    retryMs: 1000,
    reopenTimer: null,
    topTimer: null,
    clientsCursor: null,  // next_cursor of the admin's client list (null: no further page)
    clientsPage: 0,
  };
  const CLIENTS_PAGE = 10;

  function api(path, options = {}) {
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
      const token = await api("/api/token", { method: "POST", headers: { "X-API-Key": input.value.trim() } });
      input.value = "";
      const c = claims(token.access_token);
      state.token = token.access_token;
      state.expiresAt = Date.now() + token.expires_in * 1000;
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
      if (state.admin) await loadTop();
      if (state.admin) await loadClients(null);
      openStream();
    } catch (e) {
      $("sign-in-error").textContent = e.status === 401 ? "That API key is not valid." : "Sign-in failed: " + e.message;
    } finally {
      button.disabled = false;
    }
  }

  function signOut(message) {
    closeStream();
    Object.assign(state, { token: null, clientId: null, admin: false, dates: [], lastEventId: null });
    state.counts.clear();
    $("dashboard").hidden = true;
    $("sign-in").hidden = false;
    $("sign-out").hidden = true;
    $("who").textContent = "";
    $("feed").replaceChildren();
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

  async function loadTop() {
    const top = await api("/api/usage/top?limit=10");
    const rows = top.top.map((t, i) => {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[String(i + 1)], [t.client_id], [t.name], [String(t.count), "num"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 4;
      td.textContent = "No hits in the last 24 hours.";
      tr.append(td);
      rows.push(tr);
    }
    $("top").tBodies[0].replaceChildren(...rows);
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
      const tr = document.createElement("tr");
      tr.dataset.clientId = c.client_id;
      const cells = [[c.client_id], [c.name], [c.plan], [c.disabled ? "disabled" : "active", c.disabled ? "disabled" : ""],
        [q ? String(q.used) : "?", "num"], [q && q.monthly_quota !== null ? String(q.monthly_quota) : "none", "num"]];
      for (const [text, cls] of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      return tr;
    });
    $("clients").tBodies[0].replaceChildren(...rows);
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
    if (Date.now() >= state.expiresAt) {
      signOut("Your session has expired; sign in again.");
      return;
    }
    setStatus("connecting");
    let ticket;
    try {
      ticket = await api("/api/usage/stream/ticket", { method: "POST" });
    } catch (e) {
      if (e.status === 401) {
        signOut("Your session has expired; sign in again.");
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
    source.addEventListener("usage", (e) => {
      if (e.lastEventId) state.lastEventId = e.lastEventId;
      apply(JSON.parse(e.data));
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
  });
})();
