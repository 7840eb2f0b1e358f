// A refusal in words: the chain's own docs of its pallets' error variants, read from the
// metadata of the node the app talks to, so a new runtime's errors read right without a new app.
import { decAnyMetadata, unifyMetadata } from "@polkadot-api/substrate-bindings";

/** `Pallet.Variant` → the variant's docs. */
export type ErrorDocs = Map<string, string>;

export function errorDocs(metadata: Uint8Array): ErrorDocs {
  const unified = unifyMetadata(decAnyMetadata(metadata));
  const docs: ErrorDocs = new Map();
  for (const pallet of unified.pallets) {
    const ref = pallet.errors as unknown;
    const typeId = typeof ref === "number" ? ref : (ref as { type: number } | undefined)?.type;
    if (typeId === undefined) continue;
    const def = unified.lookup[typeId]?.def;
    if (def?.tag !== "variant") continue;
    for (const v of def.value) docs.set(`${pallet.name}.${v.name}`, v.docs.join(" ").trim());
  }
  return docs;
}

/** `NotYourMeteringPoint` → `Not your metering point`: the words of a variant without docs. */
export function words(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export type Refusal = { name: string; words: string };

/**
 * A dispatch error (`System.ExtrinsicFailed`) or a transaction pool's refusal, named and in
 * words: `Market.GateClosed` — "The slot's gate has closed."
 */
export function refusal(error: unknown, docs: ErrorDocs): Refusal {
  const e = error as { type?: string; value?: unknown } | undefined;
  if (e?.type === "Module") {
    const m = e.value as { type: string; value?: { type: string } };
    const name = `${m.type}.${m.value?.type ?? "?"}`;
    return { name, words: docs.get(name) || words(m.value?.type ?? name) };
  }
  if (e?.type === "Invalid" || e?.type === "Unknown") {
    const inner = (e.value as { type?: string } | undefined)?.type ?? "";
    const pool: Record<string, string> = {
      Payment: "The account cannot pay the transaction's fee.",
      Stale: "The transaction's nonce is used already; try again.",
      Future: "The transaction waits for an earlier one of the account.",
      BadProof: "The signature does not check.",
      ExhaustsResources: "The block is full; try again.",
    };
    return { name: `${e.type}.${inner}`, words: pool[inner] ?? words(inner || e.type) };
  }
  if (e?.type) {
    const inner = (e.value as { type?: string } | undefined)?.type;
    const name = inner ? `${e.type}.${inner}` : e.type;
    return { name, words: words(inner ?? e.type) };
  }
  return { name: "Error", words: String((error as Error)?.message ?? error) };
}
