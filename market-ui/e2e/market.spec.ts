// The app on the `dev-fast` chain's demo community, as its people use it. The steps share one
// chain and its slots, so they run in order: the DSO's red edge and the household's trade are
// cleared in the same slot, whose settlement the day view and the auditor then show.
import { expect, test, type Page } from "@playwright/test";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { sr25519CreateDerive } from "@polkadot-labs/hdkd";
import { DEV_MINI_SECRET, ss58Address } from "@polkadot-labs/hdkd-helpers";
import { actAs, chainClock, confirmable, go, NODE, open, shot, sign, slotSeconds } from "./app";
import { installWallet } from "./wallet";
import { kwh, money } from "../src/lib/units";

test.describe.configure({ mode: "serial" });

// The demo community (runtime/src/genesis_config_presets.rs): Household1's metering point is in
// zone 11, Household3's in zone 12. Its slot length and gate closure are the chain's: the suite
// reads them there (chainClock, slotSeconds).
const EUR = { symbol: "EUR", decimals: 6 };
const devAddress = (name: string) => ss58Address(sr25519CreateDerive(DEV_MINI_SECRET)(`//${name}`).publicKey, 42);
const HOUSEHOLD1 = devAddress("Household1");

/** The slot both households trade in, picked while its gate is still well open. */
let slot: number;
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test("a technician registers a gateway key; the manager admits a participant; others are refused by name", async () => {
  await open(page, "manager", "Technician");
  const key = `0x${"5e".repeat(32)}`;
  const row = page.locator('tr[data-point="1005"]');
  await row.locator('input[name="key"]').fill(key);
  await row.getByRole("button", { name: "Register" }).click();
  await sign(page, "Register the gateway key of metering point 1005");
  // It signs nothing until Household5, whose point it is, accepts it.
  await expect(row.locator(".proposed")).toHaveAttribute("title", key);
  await expect(row.locator(".key")).toHaveText("none");
  await actAs(page, "Household5");
  await go(page, "household");
  const waiting = page.locator('[data-testid="proposed-key"][data-point="1005"]');
  await expect(waiting.locator("code")).toHaveAttribute("title", key);
  await waiting.getByRole("button", { name: "Accept" }).click();
  await sign(page, "Accept the gateway key of metering point 1005");
  await expect(waiting).toHaveCount(0);
  await actAs(page, "Technician");
  await go(page, "manager");
  await expect(row.locator(".key")).toHaveAttribute("title", key);
  await expect(row.locator(".proposed")).toHaveText("–");

  // A technician may not admit anyone.
  const newcomer = devAddress("Newcomer");
  const admit = page.getByTestId("admit");
  await admit.locator('input[name="who"]').fill(newcomer);
  await admit.locator('input[name="point"]').fill("2001");
  await admit.locator('input[name="zone"]').fill("11");
  await admit.locator('input[name="deposit"]').fill("0");
  await admit.getByRole("button", { name: "Admit" }).click();
  const refused = await confirmable(page, "Admit");
  await refused.getByRole("button", { name: "Sign and send" }).click();
  await expect(refused.getByTestId("refusal")).toContainText("Market.NotManager — Only the community manager may do this.", {
    timeout: 60_000,
  });

  await actAs(page, "Manager");
  await admit.getByRole("button", { name: "Admit" }).click();
  await sign(page, "Admit");
  await expect(page.locator(`tr[data-account="${newcomer}"]`)).toContainText("2001");
  // The manager assigns the technician to the newcomer's metering point.
  const assign = page.getByTestId("assign");
  await assign.locator('input[name="point"]').fill("2001");
  await assign.locator('input[name="technician"]').fill(devAddress("Technician"));
  await assign.getByRole("button", { name: "Assign" }).click();
  await sign(page, "Metering point 2001: technician Technician");
  await expect(page.locator('tr[data-point="2001"]').locator("td").nth(4)).toHaveText("Technician");
  await shot(page, "manager-technician");

  await open(page, "utility", "Utility");
  await expect(page.getByTestId("tariffs")).toContainText("EUR/kWh");
});

test("the DSO turns an edge red and narrows another to the households' trade", async () => {
  await open(page, "dso", "Dso");
  const edge = page.locator('tr[data-edge="22"]');
  await edge.locator('select[name="light"]').selectOption("Red");
  await edge.getByRole("button", { name: "Set light" }).click();
  await sign(page, "Edge of zone 22: traffic light red");
  await expect(edge).toContainText("now red");
  // Household3's 1 kWh from zone 12 to Household1 in zone 11 fills this edge.
  const narrow = page.locator('tr[data-edge="12"]');
  await narrow.locator('input[name="capacity"]').fill("1");
  await narrow.getByRole("button", { name: "Set", exact: true }).click();
  await sign(page, "Edge of zone 12: fee 0.005 EUR/kWh, capacity 1.000 kWh");
  await shot(page, "dso");
});

test("a household places a bid, sees it in the order book and filled after gate closure; a late order is refused by name", async () => {
  await open(page, "household", "Household3");
  const form = page.getByTestId("order-form");
  // A slot whose gate closes in 25 s to 70 s: time for both orders, and little waiting.
  await expect(form.locator('select[name="slot"] option').first()).toContainText("gate closes in");
  const options = await form.locator('select[name="slot"] option').evaluateAll((os) =>
    os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent ?? "" })),
  );
  const pick = options.find((o) => {
    const m = /gate closes in (\d+):(\d\d)/.exec(o.text);
    const left = m ? Number(m[1]) * 60 + Number(m[2]) : 0;
    return left >= 25 && left <= 70;
  });
  expect(pick, JSON.stringify(options)).toBeDefined();
  slot = Number(pick!.value);

  const order = async (side: "Bid" | "Ask", energy: string, limit: string, at = slot) => {
    await form.locator('select[name="side"]').selectOption(side);
    await form.locator('select[name="slot"]').selectOption(String(at));
    await form.locator('input[name="energy"]').fill(energy);
    await form.locator('input[name="limit"]').fill(limit);
    await form.getByRole("button", { name: "Place order" }).click();
  };
  // A wrong field is named and nothing is sent.
  const sent = await page.getByTestId("tx").count();
  await order("Ask", "1.0001", "0.05");
  await expect(form.locator(".refusal")).toHaveText("energy: at most 3 decimals");
  expect(await page.getByTestId("tx").count()).toBe(sent);

  await order("Ask", "1", "0.05");
  await sign(page, "Ask 1.000 kWh at 0.050 EUR/kWh");

  await actAs(page, "Household1");
  await expect(page.getByTestId("metering-points")).toContainText("1001 in zone 11");
  await order("Bid", "1", "0.25");
  await sign(page, "Bid 1.000 kWh at 0.250 EUR/kWh");
  // A second bid, its fee shown but not yet signed when the gate closes.
  await order("Bid", "0.5", "0.25");
  const late = await confirmable(page, "Bid 0.500 kWh at 0.250 EUR/kWh");

  await go(page, "market");
  await page.getByTestId("book-slot").selectOption(String(slot));
  const book = page.getByTestId("order-book");
  await expect(book.locator("tr", { hasText: "Household1" })).toContainText("0.250 EUR/kWh");
  await expect(book.locator("tr", { hasText: "Household3" })).toContainText("0.050 EUR/kWh");
  await shot(page, "market-order-book");

  // Until the chain's best block has closed the slot's gate.
  await expect.poll(async () => (await chainClock()).firstOpenSlot, { timeout: 120_000 }).toBeGreaterThan(BigInt(slot));
  await late.getByRole("button", { name: "Sign and send" }).click();
  await expect(late.getByTestId("refusal")).toContainText("Market.GateClosed — The slot's gate has closed.", { timeout: 60_000 });

  await go(page, "household");
  // While the slot clears: a bid for a later slot, cancelled while its gate is open, leaves the book.
  await order("Bid", "2", "0.2", slot + 3);
  await sign(page, "Bid 2.000 kWh at 0.200 EUR/kWh");
  const later = page.getByTestId("own-orders").locator("tr", { hasText: "2.000 kWh" });
  await expect(later).toContainText("open · gate closes in");
  await later.getByRole("button", { name: "Cancel" }).click();
  await sign(page, "Cancel order");
  await expect(later).toHaveCount(0);

  const mine = page.getByTestId("own-orders").locator("tr", { hasText: "buy" }).filter({ hasText: "1.000 kWh" });
  await expect(mine).toContainText("filled 1.000 kWh at", { timeout: 90_000 });
});

test("the next cleared slot shows its welfare, the red edge closed and the narrow one full", async () => {
  await go(page, "market");
  await page.getByTestId("cleared-slot").selectOption(String(slot));
  await expect(page.getByTestId("cleared-facts")).toHaveAttribute("data-slot", String(slot));
  await expect(page.getByTestId("cleared-facts")).toContainText("1.000 kWh");
  // Welfare: the bid's limit less the ask's and the fees of edges 12 and 11, for 1 kWh.
  await expect(page.getByTestId("cleared-facts").locator("dt:has-text('Welfare') + dd")).toHaveText(money(250_000n - 50_000n - 2n * 5_000n, EUR));
  const tree = page.getByTestId("grid-tree");
  await expect(tree.locator('[data-edge="22"]')).toHaveClass(/red/);
  await expect(tree.locator('[data-edge="22"]')).toContainText("closed (red)");
  await expect(tree.locator('[data-edge="12"]')).toHaveClass(/full/);
  await expect(tree.locator('[data-edge="11"]')).not.toHaveClass(/full/);
  await shot(page, "market");

  await actAs(page, "Dso");
  await go(page, "dso");
  const edge = page.locator('tr[data-edge="22"]');
  await edge.locator('select[name="light"]').selectOption("Green");
  await edge.getByRole("button", { name: "Set light" }).click();
  await sign(page, "Edge of zone 22: traffic light green");
});

// While the slot's readings come in: the rest of every role's work, each change read back from
// the chain.
test("the DSO adds a zone, sets its edge and the yellow surcharge; the manager suspends and reinstates; the technician rotates and revokes; the utility sets tariffs", async () => {
  const addZone = page.getByTestId("add-zone");
  await addZone.locator('input[name="zone"]').fill("23");
  await addZone.locator('select[name="parent"]').selectOption("2");
  await addZone.locator('input[name="fee"]').fill("0.004");
  await addZone.locator('input[name="capacity"]').fill("");
  await addZone.getByRole("button", { name: "Add zone" }).click();
  await sign(page, "Add zone 23 below 2");
  const edge = page.locator('tr[data-edge="23"]');
  await expect(edge.locator("td").nth(1)).toHaveText("2");
  await edge.locator('input[name="fee"]').fill("0.006");
  await edge.locator('input[name="capacity"]').fill("40");
  await edge.getByRole("button", { name: "Set", exact: true }).click();
  await sign(page, "Edge of zone 23: fee 0.006 EUR/kWh, capacity 40.000 kWh");
  await edge.locator('select[name="light"]').selectOption("Yellow");
  await edge.getByRole("button", { name: "Set light" }).click();
  await sign(page, "Edge of zone 23: traffic light yellow");
  await expect(edge).toContainText("now yellow");
  await expect(page.locator('[data-testid="grid-tree"] [data-edge="23"]')).toHaveClass(/yellow/);
  const surcharge = page.getByTestId("surcharge");
  await surcharge.locator('input[name="surcharge"]').fill("0.03");
  await surcharge.getByRole("button", { name: "Set surcharge" }).click();
  await sign(page, "Yellow surcharge 0.030 EUR/kWh");
  await expect(page.getByText("Yellow adds the surcharge (0.030 EUR/kWh)")).toBeVisible();

  await actAs(page, "Manager");
  await go(page, "manager");
  const newcomer = page.locator(`tr[data-account="${devAddress("Newcomer")}"]`);
  await newcomer.getByRole("button", { name: "Suspend" }).click();
  await sign(page, "Suspend");
  await expect(newcomer).toContainText("suspended");
  await newcomer.getByRole("button", { name: "Reinstate" }).click();
  await sign(page, "Reinstate");
  await expect(newcomer).toContainText("active");

  await actAs(page, "Technician");
  const point = page.locator('tr[data-point="1005"]');
  const rotated = `0x${"6e".repeat(32)}`;
  await point.locator('input[name="key"]').fill(rotated);
  await point.getByRole("button", { name: "Rotate" }).click();
  await sign(page, "Rotate the gateway key of metering point 1005");
  // The old key signs on until the owner accepts the new one; revoking takes both at once.
  await expect(point.locator(".proposed")).toHaveAttribute("title", rotated);
  await expect(point.locator(".key")).toHaveAttribute("title", `0x${"5e".repeat(32)}`);
  await point.getByRole("button", { name: "Revoke" }).click();
  await sign(page, "Revoke the gateway key of metering point 1005");
  await expect(point.locator(".key")).toHaveText("none");
  await expect(point.locator(".proposed")).toHaveText("–");

  await actAs(page, "Utility");
  await go(page, "utility");
  const tariffs = page.getByTestId("tariff-form");
  await expect(tariffs.locator('input[name="green"]')).not.toHaveValue("");
  await tariffs.locator('input[name="green"]').fill("0.31");
  await tariffs.getByRole("button", { name: "Set tariffs" }).click();
  await sign(page, "Tariffs: green 0.310 EUR/kWh");
  await expect(page.getByTestId("tariffs").locator("tr").last()).toContainText("0.310 EUR/kWh");
  await shot(page, "utility");
});

/** `lem-audit`'s CSV of Household1's record of the slot, checked against `at` (or the latest finalized block). */
function audit(at?: string): string {
  const args = ["--chain-spec", process.env.LEM_CHAIN_SPEC!, "--node", NODE, "--from", String(slot), "--to", String(slot), "--account", HOUSEHOLD1];
  return execFileSync(process.env.LEM_AUDIT!, at ? [...args, "--at", at] : args, { encoding: "utf8", stdio: "pipe" });
}

test("the household's day view shows the settled slot's sources and costs as its record", async () => {
  await actAs(page, "Household1");
  await go(page, "household");
  // The slot's day in the household's time zone, as the chain counts slots: not "today" of
  // this machine, which may have turned since the slot.
  const start = slot * (await slotSeconds());
  const day = await page.evaluate((start) => {
    const d = new Date(start * 1000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }, start);
  await page.getByTestId("day").fill(day);
  const row = page.locator(`[data-testid="day-table"] tr[data-slot="${slot}"]`);
  await expect(row).toBeVisible({ timeout: 180_000 });

  // The app reads the best block; lem-audit only finalized ones.
  let head = "",
    line = "";
  await expect(() => {
    [head, line] = audit().trim().split("\n");
    expect(line).toBeDefined();
  }).toPass({ timeout: 60_000 });
  const record = Object.fromEntries(line.split(",").map((v, i) => [head.split(",")[i], v]));
  const cells = await row.locator("td").allTextContents();
  expect(cells.slice(1, 7)).toEqual(
    ["bought_wh", "ex_post_bought_wh", "from_utility_wh", "sold_wh", "ex_post_sold_wh", "to_utility_wh"].map((c) => kwh(BigInt(record[c]))),
  );
  expect(cells[8]).toBe(money(-(BigInt(record.market_amount) + BigInt(record.utility_amount)), EUR));
  expect(BigInt(record.bought_wh)).toBe(1000n);
  await shot(page, "household");
  // On a phone the page fits the screen's width; wide tables scroll inside their sections.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, "household-phone");
  await page.setViewportSize({ width: 1200, height: 900 });
});

test("the household view shows what its box did with the home's devices, read from the box", async () => {
  // Household 7's box runs its wallbox (tests/tests/market_ui.rs) and lets this page read it.
  await actAs(page, "Household7");
  await go(page, "household");
  const devices = page.getByTestId("home-devices");
  await devices.getByTestId("box-address").fill(process.env.LEM_BOX!);
  await devices.getByRole("button", { name: "Read" }).click();
  await expect(devices.locator('[data-testid="box-slots"] tbody tr[data-slot]').first()).toBeVisible({ timeout: 120_000 });
  await expect(devices.getByTestId("box-figures")).toContainText("Energy shifted");
  await expect(devices.getByTestId("box-error")).toHaveCount(0);
  await shot(page, "household-devices");
  // A box that does not answer is named, with what to check.
  await devices.getByTestId("box-address").fill("http://127.0.0.1:9");
  await devices.getByRole("button", { name: "Read" }).click();
  await expect(devices.getByTestId("box-error")).toContainText("does not answer");
});

test("the auditor view verifies the settled slot and its CSV is lem-audit's", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const service: ChildProcess = spawn(
    process.env.LEM_AUDIT!,
    ["--chain-spec", process.env.LEM_CHAIN_SPEC!, "--node", NODE, "--serve", `127.0.0.1:${port}`],
    { stdio: "inherit" },
  );
  try {
    await open(page, "auditor", "Household1", `&audit=${encodeURIComponent(`http://127.0.0.1:${port}`)}`);
    const form = page.getByTestId("audit-form");
    // The view proposes the last settled slots once it has read the chain; type over them after.
    await expect(form.locator('input[name="to"]')).not.toHaveValue("");
    await form.locator('input[name="from"]').fill(String(slot));
    await form.locator('input[name="to"]').fill(String(slot));
    await form.locator('input[name="account"]').fill(HOUSEHOLD1);
    await expect(async () => {
      await form.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByTestId("verified-block")).toContainText("verified against finalized block", { timeout: 5_000 });
    }).toPass({ timeout: 60_000 });
    await expect(page.locator(`[data-testid="audit-table"] tr[data-slot="${slot}"]`)).toContainText("✓");
    const block = (await page.getByTestId("verified-block").getAttribute("data-hash"))!;

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-csv").click()]);
    const exported = readFileSync((await download.path())!, "utf8");
    expect(exported).toBe(audit(block));
    await shot(page, "auditor");

    // Any address may be typed; one that is not an account is refused by name.
    await form.locator('input[name="account"]').fill("5Grw");
    await form.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByTestId("audit-error")).toHaveText("refused: Invalid: account");
  } finally {
    service.kill();
  }
});

test("a household signs with its wallet extension, without development keys", async ({ browser }) => {
  const context = await browser.newContext();
  const wallet = await context.newPage();
  const address = await installWallet(wallet, "test-wallet", "Household2", "My household");
  await wallet.goto(`/?dev=0&node=${encodeURIComponent(NODE)}#household`);
  await expect(wallet.getByTestId("account").locator("option")).toHaveText(["My household (test-wallet)"]);
  await expect(wallet.getByTestId("account")).toHaveValue(address);
  await expect(wallet.getByTestId("metering-points")).toContainText("1002 in zone 11");

  const form = wallet.getByTestId("standing-form");
  const fields = form.locator("input");
  await fields.nth(0).fill("0.2");
  await fields.nth(1).fill("0.1");
  await fields.nth(2).fill("5");
  await form.getByRole("button", { name: "Set standing order" }).click();
  await sign(wallet, "Standing order: buy up to 0.200 EUR/kWh, sell from 0.100 EUR/kWh, 5.00 EUR a day");
  await expect(wallet.getByTestId("retail")).toContainText("grey");
  await wallet.getByRole("button", { name: "Green power" }).click();
  const choice = await sign(wallet, "Choose green power");
  await expect(wallet.getByTestId("retail")).toContainText("green");
  await expect(choice.getByTestId("progress")).toContainText("finalized", { timeout: 60_000 });
  await context.close();
});
