// The suite runs against a real lem node (LEM_NODE_WS) and the app as built, served by
// `vite preview`; tests/tests/market_ui.rs starts the chain, meters and gateways and then
// this. Playwright drives Debian's Chromium (it cannot download its own browser here), which
// @playwright/test 1.64 is built for.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.UI_PORT ?? 4173);

export default defineConfig({
  testDir: "e2e",
  // One chain for the suite: tests share its slots, in order.
  workers: 1,
  fullyParallel: false,
  timeout: 300_000,
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1200, height: 900 },
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      // Without these Chromium keeps calling Google's hosts, which this network refuses.
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  webServer: {
    command: `npx vite build && npx vite preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
