// The app's one connection: a lem node's standard JSON-RPC over WebSocket (the new
// `chainHead`/`transaction` groups, through polkadot-api), the community's parameters, and the
// best and finalized blocks that views read at. Views read at the best block, so that an order
// shows as soon as it is in a block; what needs finality says so.
import { createClient, type PolkadotClient, type TypedApi } from "polkadot-api";
import { getWsProvider } from "polkadot-api/ws";
import { lem } from "@polkadot-api/descriptors";
import { assetOf, type Asset } from "./units";
import { errorDocs, type ErrorDocs } from "./errors";

export type Api = TypedApi<typeof lem>;
type Apis = Api["apis"];
type Answer<F> = F extends (...args: any[]) => Promise<infer R> ? R : never;
export type Community = Answer<Apis["MarketApi"]["community"]>;
export type Clock = Answer<Apis["MarketApi"]["clock"]>;
export type Grid = Answer<Apis["MarketApi"]["grid"]>;
export type Zone = Grid["zones"][number];
export type Participant = NonNullable<Answer<Apis["MarketApi"]["participant"]>>;
export type BookEntry = Answer<Apis["MarketApi"]["order_book"]>[number];
export type Order = BookEntry[1];
export type OwnOrder = Answer<Apis["MarketApi"]["orders_of"]>[number];
export type ClearedSlot = NonNullable<Answer<Apis["MarketApi"]["cleared_slot"]>>;
export type SettlementsPage = Answer<Apis["SettlementApi"]["settlements"]>;
export type SettlementRecord = SettlementsPage["records"][number][2];
export type Tariffs = Answer<Apis["SettlementApi"]["tariffs"]>;
export type Block = { hash: string; number: number };

/** Which node: `?node=ws://…` in the address, else the one the app was last pointed at, else this host's port 9944. */
export function nodeUrl(): string {
  const fromAddress = new URLSearchParams(location.search).get("node");
  return fromAddress ?? localStorage.getItem("lem.node") ?? `ws://${location.hostname || "127.0.0.1"}:9944`;
}

export class Chain {
  readonly client: PolkadotClient;
  readonly api: Api;
  status = $state<"connecting" | "connected">("connecting");
  best = $state<Block>();
  finalized = $state<Block>();
  community = $state<Community>();
  asset = $state<Asset>({ symbol: "", decimals: 0 });
  genesis = $state<string>();
  chainName = $state<string>();
  errors: ErrorDocs = new Map();

  constructor(readonly url: string) {
    this.client = createClient(getWsProvider(url));
    this.api = this.client.getTypedApi(lem);
    this.client.bestBlocks$.subscribe((blocks) => {
      const b = blocks[0];
      if (b) this.best = { hash: b.hash, number: b.number };
    });
    this.client.finalizedBlock$.subscribe((b) => {
      this.finalized = { hash: b.hash, number: b.number };
      if (this.status === "connecting") this.start(b.hash);
    });
  }

  private async start(at: string) {
    const [community, spec, metadata] = await Promise.all([
      this.api.apis.MarketApi.community({ at }),
      this.client.getChainSpecData(),
      this.client.getMetadata(at),
    ]);
    this.errors = errorDocs(metadata);
    this.community = community;
    this.asset = assetOf(community);
    this.genesis = spec.genesisHash;
    this.chainName = spec.name;
    this.status = "connected";
  }

  /** Read at the best block the app knows. */
  get at(): { at: string } {
    return { at: this.best?.hash ?? "best" };
  }

  slotSeconds(): bigint {
    return this.community!.slot_seconds;
  }

  /** Unix seconds at which the slot's gate closes: orders for it are refused from then on. */
  gateClosure(slot: bigint): bigint {
    const c = this.community!;
    return slot * c.slot_seconds - c.gate_closure_lead_seconds;
  }

  slotStart(slot: bigint): Date {
    return new Date(Number(slot * this.community!.slot_seconds) * 1000);
  }

  destroy() {
    this.client.destroy();
  }
}
