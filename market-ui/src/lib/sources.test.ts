import { describe, expect, it } from "vitest";
import { slotSources, totals, type Record } from "./sources";

const zero = { import_wh: 0n, export_wh: 0n };
const record = (r: Partial<Record>): Record => ({
  bought_wh: 0n,
  sold_wh: 0n,
  ex_post_bought_wh: 0n,
  ex_post_sold_wh: 0n,
  market_amount: 0n,
  metered: zero,
  estimated: zero,
  estimated_readings: 0,
  from_utility_wh: 0n,
  to_utility_wh: 0n,
  retail_per_kwh: 300_000n,
  feed_in_per_kwh: 80_000n,
  utility_amount: 0n,
  correction_amount: 0n,
  ...r,
});

describe("a slot's sources", () => {
  it("splits an import into local ex ante, local ex post and utility energy", () => {
    // Bought 400 Wh ahead at 0.10, 100 Wh after at 0.12, took 600 Wh: 100 Wh from the utility.
    const s = slotSources(
      record({
        bought_wh: 400n,
        price_per_kwh: 100_000n,
        ex_post_bought_wh: 100n,
        ex_post_price_per_kwh: 120_000n,
        market_amount: -52_000n,
        metered: { import_wh: 600n, export_wh: 0n },
        from_utility_wh: 100n,
        utility_amount: -30_000n,
      }),
    );
    expect([s.localExAnte, s.localExPost, s.utility]).toEqual([400n, 100n, 100n]);
    expect(s.cost).toBe(82_000n);
    expect(s.utilityOnlyCost).toBe(180_000n);
    expect(s.localPrice).toBe(100_000n);
  });

  it("prices a net export at feed-in and never rounds the utility's side in the household's favour", () => {
    const s = slotSources(record({ metered: { import_wh: 0n, export_wh: 1001n }, to_utility_wh: 1001n, utility_amount: 80_080n }));
    expect(s.utilityOnlyCost).toBe(-80_080n);
    expect(s.cost).toBe(-80_080n);
    expect(slotSources(record({ metered: { import_wh: 1n, export_wh: 0n } })).utilityOnlyCost).toBe(300n);
  });

  it("counts an estimate as the energy settled on and marks the slot", () => {
    const s = slotSources(record({ estimated: { import_wh: 200n, export_wh: 0n }, estimated_readings: 1 }));
    expect(s.estimated).toBe(true);
    expect(s.utilityOnlyCost).toBe(60_000n);
  });

  it("leaves out a correction of earlier slots", () => {
    expect(slotSources(record({ correction_amount: -5_000n })).cost).toBe(0n);
  });
});

describe("totals", () => {
  it("sums cost, local share, savings and CO₂ avoided", () => {
    const slots = [
      slotSources(record({ bought_wh: 1000n, market_amount: -100_000n, metered: { import_wh: 1000n, export_wh: 0n } })),
      slotSources(record({ from_utility_wh: 1000n, utility_amount: -300_000n, metered: { import_wh: 1000n, export_wh: 0n } })),
    ];
    const t = totals(slots);
    expect(t.cost).toBe(400_000n);
    expect(t.localShare).toBe(500);
    expect(t.saved).toBe(200_000n);
    expect(t.co2AvoidedGrams).toBe(363n);
  });

  it("counts only the energy taken: bought and sold on is not local use, nor a shortfall the utility covered", () => {
    // Bought 1 kWh ahead, took 71 Wh: the rest went to the utility. All it took was local.
    const overbought = slotSources(
      record({ bought_wh: 1000n, metered: { import_wh: 71n, export_wh: 0n }, to_utility_wh: 929n }),
    );
    // Sold 500 Wh it did not have and took 100 Wh: the utility supplied all 600.
    const oversold = slotSources(
      record({ sold_wh: 500n, metered: { import_wh: 100n, export_wh: 0n }, from_utility_wh: 600n }),
    );
    // Took 500 Wh and exported 300 Wh in the slot: 200 Wh net from the utility.
    const prosumer = slotSources(
      record({ metered: { import_wh: 500n, export_wh: 300n }, from_utility_wh: 200n }),
    );
    expect([overbought.takenLocal, oversold.takenLocal, prosumer.takenLocal]).toEqual([71n, 0n, 300n]);
    const t = totals([overbought, oversold, prosumer]);
    expect([t.taken, t.takenLocal]).toEqual([671n, 371n]);
    expect(t.localShare).toBe(552);
    expect(t.co2AvoidedGrams).toBe(134n);
  });

  it("has no local share without imports", () => {
    expect(totals([]).localShare).toBeUndefined();
  });
});
