//! `lem-audit`: writes a period's settlements as CSV, each record checked with storage proofs
//! against a block whose finality the auditor checked itself, following GRANDPA from the raw
//! chain spec's genesis; every witness must have finalized that block too. Exits non-zero,
//! naming what failed, if no node's answer matches finalized state; nothing is written then.

use clap::Parser;
use lem_audit::Auditor;
use sp_core::{
	crypto::{AccountId32, Ss58Codec},
	H256,
};
use std::{
	net::{SocketAddr, TcpListener},
	path::PathBuf,
	process::ExitCode,
	str::FromStr,
};

#[derive(Parser)]
#[command(name = "lem-audit", version, about)]
struct Args {
	/// The community's raw chain spec (`lem-node export-chain-spec --raw`): the genesis and
	/// first GRANDPA set, from which the auditor checks finality itself.
	#[arg(long)]
	chain_spec: PathBuf,
	/// JSON-RPC endpoint of a node of the community (`wss://` or `ws://`; `https://` and
	/// `http://` are taken for them); repeat for more, asked in turn when one fails or lies.
	#[arg(long = "node", required = true)]
	nodes: Vec<String>,
	/// First slot of the period (`unix_seconds / slot_seconds`).
	#[arg(long, required_unless_present = "serve")]
	from: Option<u64>,
	/// Last slot of the period.
	#[arg(long, required_unless_present = "serve")]
	to: Option<u64>,
	/// Only this account's records (SS58).
	#[arg(long)]
	account: Option<String>,
	/// Check against this earlier block (hex hash) instead of the latest finalized one. It
	/// must be an ancestor of that one (one header asked per block back).
	#[arg(long)]
	at: Option<String>,
	/// JSON-RPC (WebSocket) endpoint of another utility's node that must have finalized the
	/// same block; repeat for more witnesses.
	#[arg(long = "witness")]
	witnesses: Vec<String>,
	/// Write the CSV here instead of to standard output.
	#[arg(long)]
	out: Option<PathBuf>,
	/// Instead of one export, answer exports over HTTP at this address (the app's auditor
	/// view asks it): `GET /settlements.csv?from=&to=[&account=][&at=]`, the same CSV.
	#[arg(long, conflicts_with_all = ["from", "to", "account", "at", "out"])]
	serve: Option<SocketAddr>,
}

fn run(args: Args) -> Result<(), String> {
	let account = args
		.account
		.as_deref()
		.map(|a| AccountId32::from_ss58check(a).map_err(|e| format!("--account: {e:?}")))
		.transpose()?;
	let at = args
		.at
		.as_deref()
		.map(|h| H256::from_str(h).map_err(|e| format!("--at: {e}")))
		.transpose()?;
	let spec = std::fs::read(&args.chain_spec)
		.map_err(|e| format!("--chain-spec {}: {e}", args.chain_spec.display()))?;
	let genesis = lem_light_client::chain_spec::genesis(&spec)
		.map_err(|e| format!("--chain-spec {}: {e}", args.chain_spec.display()))?;
	let nodes = args.nodes.iter().map(|u| websocket(u)).collect::<Result<Vec<_>, _>>()?;
	let witnesses = args.witnesses.iter().map(|u| websocket(u)).collect::<Result<Vec<_>, _>>()?;
	let mut auditor = Auditor::new(nodes, genesis);
	if let Some(address) = args.serve {
		let listener = TcpListener::bind(address).map_err(|e| format!("--serve {address}: {e}"))?;
		eprintln!("lem-audit: serving exports at http://{address}/settlements.csv");
		lem_audit::serve::serve(listener, &mut auditor, &witnesses);
		return Ok(());
	}
	let (from, to) = (args.from.unwrap_or_default(), args.to.unwrap_or_default());
	let export =
		auditor.export(&witnesses, from, to, account.as_ref(), at).map_err(|e| e.to_string())?;
	let csv = export.csv();
	match &args.out {
		Some(path) => std::fs::write(path, csv).map_err(|e| format!("{}: {e}", path.display()))?,
		None => print!("{csv}"),
	}
	eprintln!(
		"verified {} records of {} settled slots against block #{} {:?}, whose finality lem-audit \
		 checked and {} witness(es) confirmed",
		export.rows.len(),
		export.settled_slots,
		export.number,
		export.block,
		export.witnesses
	);
	Ok(())
}

/// A node's RPC URL as the WebSocket the auditor talks to: a node serves HTTP and WebSocket
/// on one port, so `https://` is taken for `wss://` and `http://` for `ws://`.
fn websocket(url: &str) -> Result<String, String> {
	for (given, ws) in
		[("wss://", "wss://"), ("ws://", "ws://"), ("https://", "wss://"), ("http://", "ws://")]
	{
		if let Some(rest) = url.strip_prefix(given) {
			return Ok(format!("{ws}{rest}"));
		}
	}
	Err(format!("{url}: not a ws://, wss://, http:// or https:// URL"))
}

fn main() -> ExitCode {
	match run(Args::parse()) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("lem-audit: {e}");
			ExitCode::FAILURE
		}
	}
}
