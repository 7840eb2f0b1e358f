import { describe, expect, it } from "vitest";
import { decimal, fromForm, InputError, kwh, money, parseDecimal, price } from "./units";

const eur = { symbol: "EUR", decimals: 6 };

describe("units", () => {
  it("writes money, prices and energy exactly", () => {
    expect(money(1_234_567n, eur)).toBe("1.234567 EUR");
    expect(money(-250_000n, eur, 2)).toBe("−0.25 EUR");
    expect(money(4_999n, eur, 2)).toBe("0.00 EUR");
    expect(money(5_000n, eur, 2)).toBe("0.01 EUR");
    expect(price(250_000n, eur)).toBe("0.250 EUR/kWh");
    expect(kwh(1_500n)).toBe("1.500 kWh");
    expect(kwh(-20n)).toBe("−0.020 kWh");
  });

  it("reads what a person typed without rounding it", () => {
    expect(parseDecimal("limit", "0.25", 6)).toBe(250_000n);
    expect(parseDecimal("limit", "1,5", 3)).toBe(1_500n);
    expect(parseDecimal("limit", "2", 3)).toBe(2_000n);
    expect(() => parseDecimal("energy", "0.0001", 3)).toThrow(InputError);
    expect(() => parseDecimal("energy", "-1", 3)).toThrow("energy: not a non-negative number");
    expect(() => parseDecimal("energy", "", 3)).toThrow(InputError);
  });

  it("names a form's wrong field and sends nothing", () => {
    let sent = false;
    expect(fromForm(() => ((sent = true), parseDecimal("limit", "0.25", 6)))).toBeUndefined();
    expect(sent).toBe(true);
    sent = false;
    expect(fromForm(() => (parseDecimal("limit", "cheap", 6), (sent = true)))).toBe("limit: not a non-negative number");
    expect(sent).toBe(false);
    expect(decimal(20_000_000n, eur)).toBe("20.000000");
  });
});
