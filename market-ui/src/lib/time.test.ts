import { describe, expect, it } from "vitest";
import { weekStart } from "./time.svelte";

describe("this week", () => {
  it("starts on the Monday at midnight, local time, of the day's week", () => {
    const local = (d: Date) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes()];
    // Sunday 6 December 2026, late evening: the week began on Monday 30 November.
    expect(local(weekStart(new Date(2026, 11, 6, 23, 59)))).toEqual([2026, 11, 30, 0, 0]);
    // A Monday is its own week's start; a Wednesday goes back two days.
    expect(local(weekStart(new Date(2026, 11, 7, 0, 0)))).toEqual([2026, 12, 7, 0, 0]);
    expect(local(weekStart(new Date(2026, 11, 9, 12, 30)))).toEqual([2026, 12, 7, 0, 0]);
  });
});
