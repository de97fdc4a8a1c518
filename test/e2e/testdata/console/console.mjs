// Drives lamb's web console in headless chromium, as a user would: open it,
// pick the function, start from its live tail, invoke it from the page, and
// see the answer, its log and the tail update. LAMB_ENDPOINT is lamb,
// LAMB_FUNCTION the function (it prints "hello <who>"), SCREENSHOT where to
// save a screenshot (optional). Exits non-zero on the first failed check.
import { chromium } from "playwright-core";

const endpoint = process.env.LAMB_ENDPOINT;
const fn = process.env.LAMB_FUNCTION;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // With --credentials the page's first requests, unsigned, are refused (403):
  // only failures of requests that carried credentials count then.
  const signing = !!process.env.LAMB_CREDENTIALS;
  page.on("console", (m) => {
    if (m.type() === "error" && !(signing && m.text().includes("status of 403"))) problems.push("console: " + m.text());
  });
  page.on("response", async (r) => {
    if (r.status() < 400) return;
    if (signing && !(await r.request().allHeaders()).authorization) return;
    problems.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
  });
  await page.goto(endpoint + "/_lamb/ui/");
  await page.locator("#health").filter({ hasText: "backend" }).waitFor({ timeout: 10000 });
  if (process.env.LAMB_CREDENTIALS) {
    // lamb has --credentials: unsigned, the page is refused; with them it signs.
    await page.locator("#functions .error").filter({ hasText: "ListFunctions" }).waitFor({ timeout: 10000 });
    await page.fill("#credentials", process.env.LAMB_CREDENTIALS);
    await page.click("#use-credentials");
  }

  const button = page.locator(`#functions button[data-function="${fn}"]`);
  await button.waitFor({ timeout: 10000 });
  await button.click();
  await page.locator("#fn-config").filter({ hasText: "python3.12" }).waitFor({ timeout: 10000 });

  // First invocation: cold, and its answer and log show.
  await page.fill("#payload", JSON.stringify({ who: "browser" }));
  await page.click("#invoke");
  const first = page.locator("#invocations li").first();
  await first.locator("pre.result").filter({ hasText: '"who": "browser"' }).waitFor({ timeout: 20000 });
  await first.locator("pre.log").filter({ hasText: "hello browser" }).waitFor();
  const meta1 = await first.locator(".meta").textContent();
  if (!/cold, init [\d.]+ ms/.test(meta1) || !meta1.includes("success")) throw new Error("first invocation's summary: " + meta1);

  // The live tail got the same line, and the instance is listed warm.
  await page.locator("#tail").filter({ hasText: "hello browser" }).waitFor({ timeout: 10000 });
  await page.locator("#instances tbody tr").filter({ hasText: fn }).filter({ hasText: "idle" }).first().waitFor({ timeout: 10000 });

  // A second, failing invocation: warm, an error, its traceback in its log.
  await page.fill("#payload", JSON.stringify({ who: "again", fail: true }));
  await page.click("#invoke");
  const second = page.locator("#invocations li").first();
  await second.locator("pre.result.error").filter({ hasText: "ValueError" }).waitFor({ timeout: 20000 });
  const meta2 = await second.locator(".meta").textContent();
  if (!meta2.includes("warm") || !meta2.includes("error (Unhandled)")) throw new Error("second invocation's summary: " + meta2);
  // Text logs say "ValueError: boom"; JSON logs give errorType and errorMessage.
  await page.locator("#tail").filter({ hasText: "ValueError" }).filter({ hasText: "boom" }).waitFor({ timeout: 10000 });
  if ((await page.locator("#invocations li").count()) !== 2) throw new Error("want 2 invocations listed");

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  if (problems.length) throw new Error(problems.join("\n"));
  console.log("console: ok");
} finally {
  await browser.close();
}
