// Drives the local runtime's live dashboard in headless Chromium (Debian's package, not a downloaded
// browser): sign in with an API key, wait for the live stream, post one hit through the API, and wait
// for the page's counter to show it. Any console error fails the run, Content-Security-Policy
// violations included. Run by DashboardE2EIT, which starts the runtime; it prints "hit-posted <before>"
// once the hit is accepted and "dashboard-ok <after>" at the end.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = required("BASE_URL");
const apiKey = required("API_KEY");
const screenshot = required("SCREENSHOT");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const wait = Number(process.env.WAIT_MS || 45000);

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(name + " is not set");
  return value;
}

const profile = mkdtempSync(join(tmpdir(), "dashboard-e2e-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1100, height: 1100 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const problems = [];
page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
page.on("pageerror", (e) => problems.push(String(e)));
try {
  await page.goto(base + "/dashboard");
  await page.fill("#api-key", apiKey);
  await page.click("#sign-in-button");
  await page.waitForFunction(() => document.getElementById("live-status").textContent === "live", null, { timeout: wait });
  const bars = await page.locator("#chart rect.bar").count();
  if (bars !== 7) throw new Error("the chart has " + bars + " bars, not 7");
  const before = Number(await page.textContent("#live-count"));

  const posted = await fetch(base + "/api/logs", {
    method: "POST",
    headers: { "X-API-Key": apiKey, "Content-Type": "application/json" },
    body: JSON.stringify({ hits: [
      { ip: "203.0.113.50", endpoint: "/dashboard-e2e", method: "GET", status: 200, duration_ms: 20 },
      { ip: "203.0.113.50", endpoint: "/dashboard-e2e", method: "GET", status: 503, duration_ms: 20 } ] }),
  });
  if (posted.status !== 202) throw new Error("the hit was not accepted: " + posted.status + " " + (await posted.text()));
  console.log("hit-posted " + before);

  await page.waitForFunction((n) => Number(document.getElementById("live-count").textContent) === n, before + 2, { timeout: wait });
  const feed = await page.textContent("#feed");
  if (!feed.includes("→ " + (before + 2))) throw new Error("the live feed does not show the update: " + feed);
  // Analytics: the last 24 hours by hour (current hour last) and the top endpoints, both with the new hit.
  await page.waitForFunction(() => {
    const bars = document.querySelectorAll("#hourly-chart rect.hbar");
    return bars.length === 24 && Number(bars[23].getAttribute("data-count")) >= 1
        && document.querySelector("#endpoints tbody").textContent.includes("/dashboard-e2e");
  }, null, { timeout: wait });
  // Per endpoint: one of the two hits failed (50 % errors) and both took 20 ms (p95 within 1 %).
  const shown = await page.evaluate(() => {
    const row = [...document.querySelectorAll("#endpoints tbody tr")].find((tr) => tr.textContent.includes("/dashboard-e2e"));
    return { errors: row.querySelector("td.errors").textContent, p95: row.querySelector("td.p95").textContent,
      line: document.querySelector("#hourly-chart path.error-line").getAttribute("d") };
  });
  if (shown.errors !== "50 %" || shown.p95 !== "20 ms") throw new Error("endpoint row shows errors " + shown.errors + ", p95 " + shown.p95);
  if (!shown.line.startsWith("M")) throw new Error("no hourly error-rate line: " + shown.line);
  console.log("analytics-shown");
  // This month's gauge counts the hit too (no quota on the default plan: the count and the month are shown).
  await page.waitForFunction(() => Number(document.getElementById("quota-used").textContent) >= 1
      && document.getElementById("quota-detail").textContent.length > 0, null, { timeout: wait });
  console.log("quota-shown");
  await page.screenshot({ path: screenshot, fullPage: true });

  // The admin sees every client, and the ranking with this client in it.
  const adminKey = process.env.ADMIN_KEY;
  if (adminKey) {
    const clientId = (await page.textContent("#who")).trim();
    await page.click("#sign-out");
    await page.fill("#api-key", adminKey);
    await page.click("#sign-in-button");
    await page.waitForFunction(() => document.getElementById("live-status").textContent === "live", null, { timeout: wait });
    await page.waitForFunction((id) => !document.getElementById("top-card").hidden
        && document.querySelector("#top tbody").textContent.includes(id), clientId, { timeout: wait });
    // The admin picks the client whose hours and endpoints to see.
    await page.waitForFunction((id) => [...document.querySelectorAll("#endpoints-client option")].some((o) => o.value === id),
        clientId, { timeout: wait });
    await page.selectOption("#endpoints-client", clientId);
    await page.waitForFunction(() => document.querySelector("#endpoints tbody").textContent.includes("/dashboard-e2e")
        && document.getElementById("hourly-scope").textContent.includes(document.getElementById("endpoints-client").value),
        null, { timeout: wait });
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-admin.png"), fullPage: true });
  }
  if (problems.length > 0) throw new Error("the page logged errors: " + problems.join(" | "));
  console.log("dashboard-ok " + (before + 1));
} catch (e) {
  await page.screenshot({ path: screenshot.replace(/\.png$/, "-failure.png"), fullPage: true }).catch(() => {});
  console.error(String(e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
