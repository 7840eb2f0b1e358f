//! `lem-demo`: the demo community's people at the command line.
//!
//! ```sh
//! lem-demo setup --gateway 1001=0x<key> ...   # the technician registers the boxes' keys, the households accept them
//! lem-demo watch                              # each slot read, cleared and settled
//! ```

use clap::{Parser, Subcommand};
use lem_demo::{dev_pair, Chain, Error};
use lem_runtime::{AccountId, RuntimeCall};
use pallet_market::{demo::HOUSEHOLD_METERING_POINTS, runtime_api::SlotClock, ClearedSlot, Slot};
use pallet_metering::Metered;
use pallet_settlement::{SettledSlot, SettlementsPage};
use sp_core::{bytes, ed25519, H256};
use std::{collections::BTreeMap, process::ExitCode, time::Duration};

#[derive(Parser)]
#[command(
	name = "lem-demo",
	about = "The demo community's technician and households, and a view of its slots"
)]
struct Args {
	/// JSON-RPC (HTTP) endpoint of a node of the demo chain.
	#[arg(long, default_value = "http://127.0.0.1:9944", global = true)]
	rpc: String,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Registers gateway keys as the demo's technician, each accepted by the household whose
	/// metering point it serves. (Each box then keeps its household's standing order in place
	/// and trades for it.)
	Setup {
		/// A metering point's gateway key, `<point>=<hex public key>`; repeat for each box.
		#[arg(long = "gateway", value_parser = parse_gateway)]
		gateways: Vec<(u64, [u8; 32])>,
	},
	/// Prints each slot as it is read, cleared and settled, until interrupted.
	Watch,
}

fn parse_gateway(text: &str) -> Result<(u64, [u8; 32]), String> {
	let (point, key) = text.split_once('=').ok_or("expected <point>=<key>")?;
	let point = point.parse().map_err(|_| format!("{point:?} is not a metering point"))?;
	let key =
		bytes::from_hex(key).ok().and_then(|k| k.try_into().ok()).ok_or("not a 32-byte hex key")?;
	Ok((point, key))
}

fn main() -> ExitCode {
	let args = Args::parse();
	let chain = Chain::new(args.rpc);
	let done = match args.command {
		Command::Setup { gateways } => setup(&chain, &gateways),
		Command::Watch => watch(&chain),
	};
	match done {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("lem-demo: {e}");
			ExitCode::FAILURE
		}
	}
}

fn setup(chain: &Chain, gateways: &[(u64, [u8; 32])]) -> Result<(), Error> {
	let key_of = |point: u64| -> Result<Option<ed25519::Public>, Error> {
		chain.call("MeteringApi_gateway_key", point, None)
	};
	let proposed_of = |point: u64| -> Result<Option<ed25519::Public>, Error> {
		chain.call("MeteringApi_proposed_key", point, None)
	};
	// The technician proposes each key; the household that owns the point accepts it, as a
	// household does in the app once its box shows the key.
	let mut proposals = Vec::new();
	let mut acceptances = Vec::new();
	for &(metering_point, key) in gateways {
		let key = ed25519::Public::from_raw(key);
		let owner = HOUSEHOLD_METERING_POINTS
			.iter()
			.position(|p| p.id == metering_point)
			.map(|i| dev_pair(&format!("Household{}", i + 1)))
			.ok_or_else(|| format!("metering point {metering_point} is no demo household's"))?;
		let current = key_of(metering_point)?;
		if current == Some(key) {
			continue;
		}
		if proposed_of(metering_point)? != Some(key) {
			proposals.push(RuntimeCall::Metering(match current {
				Some(_) => pallet_metering::Call::rotate_key { metering_point, new: key },
				None => pallet_metering::Call::register_key { metering_point, key },
			}));
		}
		let accept = pallet_metering::Call::accept_key { metering_point, key };
		acceptances.push((owner, vec![RuntimeCall::Metering(accept)]));
	}
	if !proposals.is_empty() {
		chain.submit_all(&[(dev_pair("Technician"), proposals)])?;
	}
	if !acceptances.is_empty() {
		chain.submit_all(&acceptances)?;
	}
	for &(point, key) in gateways {
		if key_of(point)? != Some(ed25519::Public::from_raw(key)) {
			return Err(format!("metering point {point}: the key was not registered").into());
		}
		println!("metering point {point}: gateway key {} registered", bytes::to_hex(&key, false));
	}
	Ok(())
}

/// Micro-euros as euros.
fn euros(amount: i128) -> String {
	format!(
		"{}{}.{:03} €",
		if amount < 0 { "-" } else { "" },
		amount.abs() / 1_000_000,
		amount.abs() % 1_000_000 / 1_000
	)
}

fn kwh(wh: u64) -> String {
	format!("{}.{:02} kWh", wh / 1000, wh % 1000 / 10)
}

/// A slot's start as UTC hh:mm:ss.
fn clock_time(seconds: u64) -> String {
	let s = seconds % 86_400;
	format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn watch(chain: &Chain) -> Result<(), Error> {
	let community: pallet_market::Community = chain.call("MarketApi_community", (), None)?;
	let slot_seconds = community.slot_seconds;
	let points = HOUSEHOLD_METERING_POINTS.len();
	let (mut next_cleared, mut next_settled): (Option<Slot>, Option<Slot>) = (None, None);
	let mut readings_seen: BTreeMap<Slot, usize> = BTreeMap::new();
	loop {
		let at: H256 = chain.finalized_head()?;
		let clock: SlotClock = chain.call("MarketApi_clock", (), Some(at))?;
		if clock.now_seconds == 0 {
			// Genesis has no time yet: no slot to show.
			std::thread::sleep(Duration::from_secs(3));
			continue;
		}
		let label = |slot: Slot| format!("slot {slot} ({} UTC)", clock_time(slot * slot_seconds));

		// Slots from the first the chain clears or settles after the watch starts.
		let cleared_to = clock.next_to_clear.unwrap_or(clock.current_slot);
		for slot in next_cleared.unwrap_or(cleared_to)..cleared_to {
			let cleared: Option<ClearedSlot> =
				chain.call("MarketApi_cleared_slot", slot, Some(at))?;
			let filled = cleared.as_ref().map_or(0, |c| c.filled);
			println!("{}  cleared at gate closure: {filled} orders filled", label(slot));
		}
		next_cleared = Some(cleared_to);

		let settled_to: Option<Slot> = chain.call("SettlementApi_next_to_settle", (), Some(at))?;
		let settled_to = settled_to.unwrap_or(clock.current_slot);
		for slot in settled_to.max(clock.current_slot.saturating_sub(3))..clock.current_slot {
			let mut read = 0;
			for p in HOUSEHOLD_METERING_POINTS.iter() {
				let reading: Option<Metered> =
					chain.call("MeteringApi_reading", (p.id, slot), Some(at))?;
				read += reading.is_some() as usize;
			}
			if readings_seen.insert(slot, read) != Some(read) && read > 0 {
				println!("{}  read: {read}/{points} gateways' readings final", label(slot));
			}
		}
		readings_seen.retain(|&s, _| s + 8 > clock.current_slot);

		for slot in next_settled.unwrap_or(settled_to)..settled_to {
			print_settled(chain, slot, at, &label(slot))?;
		}
		next_settled = Some(settled_to);
		std::thread::sleep(Duration::from_secs(3));
	}
}

fn print_settled(chain: &Chain, slot: Slot, at: H256, label: &str) -> Result<(), Error> {
	let Some(summary) =
		chain.call::<Option<SettledSlot>>("SettlementApi_settled_slot", slot, Some(at))?
	else {
		return Ok(());
	};
	let mut after: Option<AccountId> = None;
	let (mut local_wh, mut local_amount, mut from_utility, mut to_utility) =
		(0u64, 0i128, 0u64, 0u64);
	loop {
		let page: SettlementsPage<AccountId> = chain.call(
			"SettlementApi_settlements",
			(slot, slot, None::<AccountId>, after),
			Some(at),
		)?;
		for (_, _, r) in &page.records {
			local_wh += r.bought_wh + r.ex_post_bought_wh;
			local_amount += r.market_amount.min(0).abs();
			from_utility += r.from_utility_wh;
			to_utility += r.to_utility_wh;
		}
		match page.next {
			Some((_, Some(who))) => after = Some(who),
			_ => break,
		}
	}
	let price = match local_wh {
		0 => String::new(),
		wh => format!(" at {} per kWh", euros(local_amount * 1000 / wh as i128)),
	};
	println!(
		"{label}  settled: {} estimated · local market {}{price} · utility {} in, {} out",
		summary.estimated_readings,
		kwh(local_wh),
		kwh(from_utility),
		kwh(to_utility),
	);
	Ok(())
}
