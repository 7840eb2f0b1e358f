// Integers from the chain, decimals for people. Energy is in Wh, money in the settlement
// asset's smallest unit, prices in units per kWh (DESIGN.md, "Units"); nothing here rounds
// on the way in, so what is signed is exactly what was typed.

export type Asset = { symbol: string; decimals: number };

export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** `amount` smallest units as a decimal, with `digits` decimals at most (rounded half away from zero). */
export function money(amount: bigint, asset: Asset, digits = asset.decimals): string {
  const scale = 10n ** BigInt(asset.decimals);
  const cut = 10n ** BigInt(Math.max(asset.decimals - digits, 0));
  const negative = amount < 0n;
  let abs = negative ? -amount : amount;
  abs = ((abs + cut / 2n) / cut) * cut;
  const whole = abs / scale;
  const fraction = (abs % scale).toString().padStart(asset.decimals, "0").slice(0, digits);
  const text = fraction ? `${whole}.${fraction}` : `${whole}`;
  return `${negative && abs !== 0n ? "−" : ""}${text} ${asset.symbol}`;
}

/** `amount` as a decimal without the symbol, as a form shows it for editing. */
export function decimal(amount: bigint, asset: Asset): string {
  return money(amount, { ...asset, symbol: "" }).trim();
}

/**
 * Runs `send`, which reads a form's fields and sends what they say; a wrong field comes back as
 * its named error (`energy: not a non-negative number`), and nothing is sent.
 */
export function fromForm(send: () => void): string | undefined {
  try {
    send();
    return undefined;
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}

/** A price per kWh, as `0.250 EUR/kWh`. */
export function price(perKwh: bigint, asset: Asset): string {
  return `${money(perKwh, asset, 3)}/kWh`;
}

/** Wh as kWh with three decimals: exact, since a Wh is a thousandth of a kWh. */
export function kwh(wh: bigint): string {
  const negative = wh < 0n;
  const abs = negative ? -wh : wh;
  return `${negative ? "−" : ""}${abs / 1000n}.${(abs % 1000n).toString().padStart(3, "0")} kWh`;
}

/** A decimal typed by a person, in smallest units; more decimals than the asset has is refused, not rounded. */
export function parseDecimal(field: string, text: string, decimals: number): bigint {
  const match = /^\s*(\d+)(?:[.,](\d*))?\s*$/.exec(text);
  if (!match) throw new InputError(field, "not a non-negative number");
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) throw new InputError(field, `at most ${decimals} decimals`);
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** kWh typed by a person, in Wh. */
export function parseKwh(field: string, text: string): bigint {
  return parseDecimal(field, text, 3);
}

/** The asset the community settles in, from its parameters. */
export function assetOf(community: { asset_symbol: Uint8Array; asset_decimals: number }): Asset {
  return { symbol: new TextDecoder().decode(community.asset_symbol), decimals: community.asset_decimals };
}
