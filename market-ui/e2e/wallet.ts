// A browser wallet extension as the page sees one: `window.injectedWeb3[name].enable()` gives
// its accounts and a signer whose `signPayload` takes polkadot.js's JSON payload, as the
// polkadot.js extension, Talisman or SubWallet do. The key stays in the test process, which
// signs the payload's bytes (the call, then each transaction extension's value and implicit
// data, in the runtime's order) as such a wallet would.
import type { Page } from "@playwright/test";
import { sr25519CreateDerive } from "@polkadot-labs/hdkd";
import { blake2b256, DEV_MINI_SECRET, ss58Address } from "@polkadot-labs/hdkd-helpers";
import { compact, u32 } from "@polkadot-api/substrate-bindings";

type Payload = {
  method: string;
  era: string;
  nonce: string;
  tip: string;
  mode?: number;
  specVersion: string;
  transactionVersion: string;
  genesisHash: string;
  blockHash: string;
  metadataHash?: string;
};

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

/** What a wallet signs for a payload: its SCALE bytes, hashed when longer than 256 bytes. */
export function signingBytes(p: Payload): Uint8Array {
  const parts = [
    bytes(p.method),
    bytes(p.era),
    compact.enc(BigInt(p.nonce)),
    compact.enc(BigInt(p.tip)),
    Uint8Array.of(p.mode ?? 0),
    u32.enc(Number(p.specVersion)),
    u32.enc(Number(p.transactionVersion)),
    bytes(p.genesisHash),
    bytes(p.blockHash),
    p.metadataHash ? Uint8Array.of(1, ...bytes(p.metadataHash)) : Uint8Array.of(0),
  ];
  const all = Uint8Array.from(parts.flatMap((x) => [...x]));
  return all.length > 256 ? blake2b256(all) : all;
}

/** Installs the wallet `name` holding the development key `//keyName` as the account `label`. */
export async function installWallet(page: Page, name: string, keyName: string, label: string): Promise<string> {
  const pair = sr25519CreateDerive(DEV_MINI_SECRET)(`//${keyName}`);
  const address = ss58Address(pair.publicKey, 42);
  // A MultiSignature: 0x01 says sr25519.
  await page.exposeFunction("testWalletSign", (p: Payload) => hex(Uint8Array.of(1, ...pair.sign(signingBytes(p)))));
  await page.exposeFunction("testWalletSignRaw", (data: string) => hex(Uint8Array.of(1, ...pair.sign(bytes(data)))));
  await page.addInitScript(
    ({ name, address, label }) => {
      const account = { address, name: label, type: "sr25519" };
      (window as any).injectedWeb3 = {
        [name]: {
          version: "1.0.0",
          enable: async () => ({
            accounts: { get: async () => [account], subscribe: (cb: (a: unknown[]) => void) => (cb([account]), () => {}) },
            signer: {
              signPayload: async (payload: unknown) => ({ id: 1, signature: await (window as any).testWalletSign(payload) }),
              signRaw: async ({ data }: { data: string }) => ({ id: 1, signature: await (window as any).testWalletSignRaw(data) }),
            },
          }),
        },
      };
    },
    { name, address, label },
  );
  return address;
}
