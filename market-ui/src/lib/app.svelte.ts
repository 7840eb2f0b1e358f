// The page's state: the chain, the accounts it may sign with, the one acting, and the
// transactions it sent this visit.
import type { Transaction } from "polkadot-api";
import { devAccounts, devMode, extensionAccounts, type Account } from "./accounts";
import { Chain, nodeUrl } from "./chain.svelte";
import { Tx } from "./tx.svelte";

class App {
  chain = $state<Chain>(new Chain(nodeUrl()));
  dev = $state(devMode());
  accounts = $state<Account[]>([]);
  account = $state<Account>();
  txs = $state<Tx[]>([]);

  constructor() {
    this.loadAccounts();
  }

  async loadAccounts() {
    const fromExtensions = await extensionAccounts();
    this.accounts = [...fromExtensions, ...(this.dev ? devAccounts() : [])];
    const remembered = localStorage.getItem("lem.account");
    this.account = this.accounts.find((a) => a.address === remembered) ?? this.accounts[0];
  }

  /** An account as people know it: its name among this page's accounts, else its address shortened. */
  nameOf(address: string): string {
    return this.accounts.find((a) => a.address === address)?.name ?? `${address.slice(0, 6)}…${address.slice(-4)}`;
  }

  choose(address: string) {
    this.account = this.accounts.find((a) => a.address === address);
    if (this.account) localStorage.setItem("lem.account", address);
  }

  setDev(on: boolean) {
    this.dev = on;
    localStorage.setItem("lem.dev", on ? "1" : "0");
    this.loadAccounts();
  }

  connect(url: string) {
    localStorage.setItem("lem.node", url);
    this.chain.destroy();
    this.chain = new Chain(url);
  }

  /** Asks for `build()`'s fee, then waits for the person to confirm it before signing. */
  transact(what: string, build: () => Transaction): Tx | undefined {
    if (!this.account) return;
    const tx = new Tx(this.chain, this.account, what, build);
    this.txs = [tx, ...this.txs].slice(0, 8);
    return tx;
  }
}

export const app = new App();
