// Slots in a person's time: the slot's start in local time and how long until a gate closes,
// ticking once a second. (The chain counts slots from the Unix epoch in UTC.)
import type { Chain } from "./chain.svelte";

export const clock = $state({ now: Date.now() });
setInterval(() => (clock.now = Date.now()), 1000);

const two = (n: number) => String(n).padStart(2, "0");

/** The slot's start, `14:15` (with seconds when slots are shorter than a minute, as in the demo). */
export function slotTime(chain: Chain, slot: bigint): string {
  const d = chain.slotStart(slot);
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return chain.slotSeconds() < 60n ? `${hm}:${two(d.getSeconds())}` : hm;
}

/** The local date of the slot's start, `2026-11-24`. */
export function slotDay(chain: Chain, slot: bigint): string {
  return localDay(chain.slotStart(slot));
}

export function localDay(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Monday 00:00, local time, of the week `d` falls in: "this week" as a household reads it. */
export function weekStart(d: Date): Date {
  const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  monday.setDate(monday.getDate() - ((monday.getDay() + 6) % 7));
  return monday;
}

/** `m:ss` until `unixSeconds`, or undefined once it has passed. */
export function countdown(unixSeconds: bigint, nowMs: number): string | undefined {
  const left = Math.ceil(Number(unixSeconds) - nowMs / 1000);
  if (left <= 0) return undefined;
  return `${Math.floor(left / 60)}:${two(left % 60)}`;
}
