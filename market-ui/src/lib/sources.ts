// Where a household's energy came from and went, and what it cost, from its settlement
// records alone: the numbers the day view draws and the totals it sums. Pure functions, so
// that the view, its table and the tests read the same arithmetic.

/** The fields of a settlement record (pallet-settlement's `SettlementRecord`) used here. */
export type Record = {
  bought_wh: bigint;
  sold_wh: bigint;
  price_per_kwh?: bigint;
  ex_post_bought_wh: bigint;
  ex_post_sold_wh: bigint;
  ex_post_price_per_kwh?: bigint;
  market_amount: bigint;
  metered: { import_wh: bigint; export_wh: bigint };
  estimated: { import_wh: bigint; export_wh: bigint };
  estimated_readings: number;
  from_utility_wh: bigint;
  to_utility_wh: bigint;
  retail_per_kwh: bigint;
  feed_in_per_kwh: bigint;
  utility_amount: bigint;
  correction_amount: bigint;
};

/**
 * CO₂ a kWh from the grid emits, in grams: the Umweltbundesamt's emission factor of
 * Germany's electricity mix for 2024 (363 g/kWh). Energy the household took that the utility
 * did not supply came from the community's own generation, which emits none when it runs; so
 * each such kWh avoids this much. A community elsewhere would put its own grid's factor here.
 */
export const GRID_CO2_GRAMS_PER_KWH = 363n;

/** One slot of the day view: energy by source (import) and by destination (export), and its money. */
export type SlotSources = {
  /** Bought on the local market ahead of the slot, after it on metered energy, and from the utility. */
  localExAnte: bigint;
  localExPost: bigint;
  utility: bigint;
  /** Energy taken: imported, metered or estimated. */
  taken: bigint;
  /**
   * Of it, what the utility did not supply: neighbours' through the market, or the household's
   * own export in the slot, which settlement nets against it. Energy bought locally and sold
   * on is not counted: a household that bought 1 kWh and took 0.1 kWh used 0.1 kWh of it.
   */
  takenLocal: bigint;
  /** Sold the same three ways. */
  soldExAnte: bigint;
  soldExPost: bigint;
  toUtility: bigint;
  /** What the slot's energy cost (negative: earned): market and utility amounts, not corrections of earlier slots. */
  cost: bigint;
  /** What the same metered energy would have cost bought from and sold to the utility alone. */
  utilityOnlyCost: bigint;
  /** The local market's price, ex ante if it traded then, else ex post; undefined if it traded neither way. */
  localPrice?: bigint;
  retailPrice: bigint;
  estimated: boolean;
};

/** The amount for `wh` at `perKwh`, rounded up: what the utility would charge, never in the household's favour. */
function amountUp(wh: bigint, perKwh: bigint): bigint {
  const product = wh * perKwh;
  return product >= 0n ? (product + 999n) / 1000n : -(-product / 1000n);
}

export function slotSources(r: Record): SlotSources {
  // Energy settled on: metered, or the estimate of a point without a reading.
  const imported = r.metered.import_wh + r.estimated.import_wh;
  const exported = r.metered.export_wh + r.estimated.export_wh;
  const net = imported - exported;
  const utilityOnlyCost =
    net >= 0n ? amountUp(net, r.retail_per_kwh) : -((-net * r.feed_in_per_kwh) / 1000n);
  return {
    localExAnte: r.bought_wh,
    localExPost: r.ex_post_bought_wh,
    utility: r.from_utility_wh,
    taken: imported,
    // A household that sold more than it had gets the shortfall from the utility, so the
    // utility's energy may exceed what it took itself.
    takenLocal: imported > r.from_utility_wh ? imported - r.from_utility_wh : 0n,
    soldExAnte: r.sold_wh,
    soldExPost: r.ex_post_sold_wh,
    toUtility: r.to_utility_wh,
    cost: -(r.market_amount + r.utility_amount),
    utilityOnlyCost,
    localPrice: r.price_per_kwh ?? r.ex_post_price_per_kwh,
    retailPrice: r.retail_per_kwh,
    estimated: r.estimated_readings > 0,
  };
}

export type Totals = {
  slots: number;
  cost: bigint;
  /** Energy taken, and the part of it the utility did not supply. */
  taken: bigint;
  takenLocal: bigint;
  /** The local part of the energy taken, in per mille (undefined if none was taken). */
  localShare?: number;
  saved: bigint;
  co2AvoidedGrams: bigint;
};

export function totals(slots: SlotSources[]): Totals {
  let cost = 0n,
    taken = 0n,
    takenLocal = 0n,
    saved = 0n;
  for (const s of slots) {
    cost += s.cost;
    taken += s.taken;
    takenLocal += s.takenLocal;
    saved += s.utilityOnlyCost - s.cost;
  }
  return {
    slots: slots.length,
    cost,
    taken,
    takenLocal,
    localShare: taken > 0n ? Number((takenLocal * 1000n) / taken) : undefined,
    saved,
    co2AvoidedGrams: (takenLocal * GRID_CO2_GRAMS_PER_KWH) / 1000n,
  };
}
