// One transaction from the app, in the steps a person sees: its fee before signing, then
// signed, in a block, finalized — or refused, with the pallet's named error in words. Nothing
// is signed before the person confirms the fee.
import type { Transaction } from "polkadot-api";
import type { Account } from "./accounts";
import type { Block, Chain } from "./chain.svelte";
import { refusal, type Refusal } from "./errors";

export type TxState = "estimating" | "confirm" | "signing" | "broadcast" | "in-block" | "finalized" | "refused";

// The next nonce each account of this page uses: transactions sent in quick succession would
// otherwise all take the nonce of the block they are checked against.
const nextNonce = new Map<string, number>();

export class Tx {
  state = $state<TxState>("estimating");
  fee = $state<bigint>();
  error = $state<Refusal>();
  block = $state<Block>();
  private tx?: Transaction;

  constructor(
    private readonly chain: Chain,
    private readonly account: Account,
    /** What the person asked for, in words: "Bid 1.000 kWh at 0.250 EUR/kWh for 14:15". */
    readonly what: string,
    build: () => Transaction,
  ) {
    try {
      this.tx = build();
      this.tx.getEstimatedFees(account.address, this.chain.at).then(
        (fee) => {
          this.fee = fee;
          this.state = "confirm";
        },
        (e) => this.refuse(e),
      );
    } catch (e) {
      this.refuse(e);
    }
  }

  async send() {
    if (this.state !== "confirm" || !this.tx) return;
    this.state = "signing";
    const { at } = this.chain.at;
    const onChain = await this.chain.api.apis.AccountNonceApi.account_nonce(this.account.address, { at });
    const nonce = Math.max(onChain, nextNonce.get(this.account.address) ?? 0);
    nextNonce.set(this.account.address, nonce + 1);
    this.tx.signSubmitAndWatch(this.account.signer, { at, nonce }).subscribe({
      next: (event) => {
        if (event.type === "broadcasted") this.state = "broadcast";
        if ((event.type === "txBestBlocksState" && event.found) || event.type === "finalized") {
          this.block = { hash: event.block.hash, number: event.block.number };
          if (!event.ok) return this.refuse(event.dispatchError);
          this.state = event.type === "finalized" ? "finalized" : "in-block";
        }
      },
      error: (e) => {
        // A refused transaction used no nonce: the next one takes the chain's again.
        nextNonce.delete(this.account.address);
        this.refuse((e as { error?: unknown }).error ?? e);
      },
    });
  }

  private refuse(error: unknown) {
    this.error = refusal(error, this.chain.errors);
    this.state = "refused";
  }
}
