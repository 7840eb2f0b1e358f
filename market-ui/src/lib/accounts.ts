// Who signs. With development accounts on (the demo's keys `//Household1` … `//Dso`, derived
// from the well-known development phrase in the page) or from a browser wallet extension
// through the standard injected-accounts interface (`window.injectedWeb3`), which keeps the
// keys and asks its user before it signs.
import type { PolkadotSigner } from "polkadot-api";
import { getPolkadotSigner } from "polkadot-api/signer";
import { connectInjectedExtension, getInjectedExtensions } from "polkadot-api/pjs-signer";
import { sr25519CreateDerive } from "@polkadot-labs/hdkd";
import { DEV_MINI_SECRET, ss58Address } from "@polkadot-labs/hdkd-helpers";

export type Account = { name: string; address: string; signer: PolkadotSigner; source: string };

/** The demo community's accounts (runtime/src/genesis_config_presets.rs), in the order a demo uses them. */
export const DEV_NAMES = [
  ...Array.from({ length: 10 }, (_, i) => `Household${i + 1}`),
  "Manager",
  "Technician",
  "Dso",
  "Utility",
];

export function devAccounts(): Account[] {
  const derive = sr25519CreateDerive(DEV_MINI_SECRET);
  return DEV_NAMES.map((name) => {
    const pair = derive(`//${name}`);
    return {
      name,
      address: ss58Address(pair.publicKey, 42),
      signer: getPolkadotSigner(pair.publicKey, "Sr25519", pair.sign),
      source: "development key",
    };
  });
}

/** Every account of every wallet extension in the browser that lets the app in. */
export async function extensionAccounts(): Promise<Account[]> {
  const accounts: Account[] = [];
  for (const name of getInjectedExtensions()) {
    try {
      const extension = await connectInjectedExtension(name, "lem market");
      for (const a of extension.getAccounts()) {
        accounts.push({ name: a.name ?? a.address, address: a.address, signer: a.polkadotSigner, source: name });
      }
    } catch (e) {
      // The user declined this extension, or it is broken; the others may still be used.
      console.warn(`wallet extension ${name}:`, e);
    }
  }
  return accounts;
}

/** Development accounts: `?dev` in the address turns them on, `?dev=0` off; the choice is remembered. */
export function devMode(): boolean {
  const param = new URLSearchParams(location.search).get("dev");
  if (param !== null) localStorage.setItem("lem.dev", param === "0" ? "0" : "1");
  return localStorage.getItem("lem.dev") === "1";
}
