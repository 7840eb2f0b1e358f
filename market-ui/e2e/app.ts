// What the suite does through the app, as a person would: open a view as an account, confirm
// a transaction's fee and wait for its block, and keep a screenshot of what it saw.
import { expect, type Locator, type Page } from "@playwright/test";

export const NODE = process.env.LEM_NODE_WS ?? "ws://127.0.0.1:9944";

export async function open(page: Page, view: string, account: string, extra = "") {
  await page.goto(`/?dev&node=${encodeURIComponent(NODE)}${extra}#${view}`);
  await expect(page.getByTestId("status")).toContainText("best #");
  await actAs(page, account);
}

export async function actAs(page: Page, account: string) {
  await page.getByTestId("account").selectOption({ label: `${account} (development key)` });
}

/** Switches view the way a person does, keeping the page (and its pending transactions). */
export async function go(page: Page, view: string) {
  await page.locator(`nav a[href="#${view}"]`).click();
}

/** The newest transaction row saying `what`, once its fee is shown. */
export async function confirmable(page: Page, what: string): Promise<Locator> {
  const tx = page.getByTestId("tx").filter({ hasText: what }).first();
  await expect(tx.getByTestId("fee")).toContainText(/\d/);
  return tx;
}

/** Confirms the fee, signs, and waits until the transaction is in a block. */
export async function sign(page: Page, what: string): Promise<Locator> {
  const tx = await confirmable(page, what);
  await tx.getByRole("button", { name: "Sign and send" }).click();
  await expect(tx.getByTestId("progress")).toContainText(/in block|finalized/, { timeout: 60_000 });
  return tx;
}

/** A runtime API's SCALE-encoded answer at the node's best block, over its HTTP JSON-RPC. */
async function runtimeCall(method: string): Promise<Buffer> {
  const response = await fetch(NODE.replace(/^ws/, "http"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "state_call", params: [method, "0x"] }),
  });
  const { result, error } = await response.json();
  if (error) throw new Error(`${method}: ${JSON.stringify(error)}`);
  return Buffer.from(result.slice(2), "hex");
}

/** The chain's clock at its best block (`MarketApi_clock`): the suite waits on the chain's
 * time, as the market's gates do, not on this machine's. */
export async function chainClock(): Promise<{ nowSeconds: bigint; currentSlot: bigint; firstOpenSlot: bigint }> {
  const b = await runtimeCall("MarketApi_clock");
  return { nowSeconds: b.readBigUInt64LE(0), currentSlot: b.readBigUInt64LE(8), firstOpenSlot: b.readBigUInt64LE(16) };
}

/** The community's slot length in seconds (`MarketApi_community`'s first field). */
export async function slotSeconds(): Promise<number> {
  return Number((await runtimeCall("MarketApi_community")).readBigUInt64LE(0));
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}
