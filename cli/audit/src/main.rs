//! `lem-audit`: writes a period's settlements as CSV, each record checked with storage proofs
//! against the finalized block's state root, that block confirmed finalized by the node and by
//! every witness. Exits non-zero, naming what failed, if the node's answer does not match
//! finalized state; nothing is written then.

use clap::Parser;
use lem_audit::{export, Rpc};
use sp_core::{
	crypto::{AccountId32, Ss58Codec},
	H256,
};
use std::{path::PathBuf, process::ExitCode, str::FromStr};

#[derive(Parser)]
#[command(name = "lem-audit", version, about)]
struct Args {
	/// JSON-RPC (HTTP) endpoint of any node of the community.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,
	/// First slot of the period (`unix_seconds / slot_seconds`).
	#[arg(long)]
	from: u64,
	/// Last slot of the period.
	#[arg(long)]
	to: u64,
	/// Only this account's records (SS58).
	#[arg(long)]
	account: Option<String>,
	/// Check against this block (hex hash) instead of the node's finalized head. The node must
	/// have finalized it.
	#[arg(long)]
	at: Option<String>,
	/// JSON-RPC (HTTP) endpoint of another utility's node that must have finalized the same
	/// block; repeat for more witnesses.
	#[arg(long = "witness")]
	witnesses: Vec<String>,
	/// Write the CSV here instead of to standard output.
	#[arg(long)]
	out: Option<PathBuf>,
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
	let witnesses: Vec<Rpc> = args.witnesses.iter().map(Rpc::new).collect();
	let export = export(&Rpc::new(&args.rpc), &witnesses, args.from, args.to, account.as_ref(), at)
		.map_err(|e| e.to_string())?;
	let csv = export.csv();
	match &args.out {
		Some(path) => std::fs::write(path, csv).map_err(|e| format!("{}: {e}", path.display()))?,
		None => print!("{csv}"),
	}
	eprintln!(
		"verified {} records of {} settled slots against block #{} {:?}, finalized by the node \
		 and {} witness(es)",
		export.rows.len(),
		export.settled_slots,
		export.number,
		export.block,
		export.witnesses
	);
	Ok(())
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
