//! `lem-gateway`: the box at the meter.
//!
//! ```sh
//! lem-gateway --config gateway.toml             # run
//! lem-gateway keygen --out device.key           # a new device key; prints its public half
//! lem-gateway journal --config gateway.toml     # what the journal holds, slot by slot,
//!                                               # the orders placed for the owner and
//!                                               # its bills
//! lem-gateway plan --problem day.json           # the planner's plan for a home (JSON)
//! ```

use clap::{Parser, Subcommand};
use lem_gateway::{
	config::Config,
	gateway::Gateway,
	journal::Journal,
	key,
	metrics::{self, Metrics},
};
use lem_gateway_core::entry::{OrderState, State};
use std::{path::PathBuf, process::ExitCode, sync::Arc};

#[derive(Parser)]
#[command(
	about = "The box at the meter: reads it, signs every slot's reading, loses nothing offline"
)]
struct Args {
	/// The gateway's configuration (see gateway.toml in the crate).
	#[arg(long, global = true)]
	config: Option<PathBuf>,
	/// Log debug detail too.
	#[arg(long, global = true)]
	verbose: bool,
	#[command(subcommand)]
	command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
	/// Writes a new device key and prints its public half, for the technician to register.
	Keygen {
		#[arg(long)]
		out: PathBuf,
	},
	/// Prints the journal, one slot per line (the gateway must be stopped).
	Journal {
		/// The first slot to print.
		#[arg(long, default_value_t = 0)]
		from: u64,
	},
	/// Plans a home's devices as the box would: reads the problem as JSON (lem-planner's
	/// `Problem`) from the file, or from standard input if it is `-`, and prints the plan, the
	/// same home's cost with its devices in their own modes and the saving, as JSON.
	Plan {
		#[arg(long)]
		problem: PathBuf,
	},
}

fn main() -> ExitCode {
	let args = Args::parse();
	tracing_subscriber::fmt()
		.with_max_level(if args.verbose { tracing::Level::DEBUG } else { tracing::Level::INFO })
		.with_target(false)
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.with_writer(std::io::stderr)
		.init();
	let result = match args.command {
		Some(Command::Keygen { out }) => keygen(out),
		Some(Command::Journal { from }) => config(args.config).and_then(|c| journal(c, from)),
		Some(Command::Plan { problem }) => plan(problem),
		None => config(args.config).and_then(run),
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			tracing::error!("{e}");
			ExitCode::FAILURE
		}
	}
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn plan(path: PathBuf) -> Result<()> {
	use std::io::Read;
	let mut text = String::new();
	if path.as_os_str() == "-" {
		std::io::stdin().read_to_string(&mut text)?;
	} else {
		text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
	}
	let problem: lem_planner::Problem =
		serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
	let plan = lem_planner::plan(&problem)?;
	let own = lem_planner::own_modes(&problem)?;
	// Judged as the planner judges: the cost less what the battery holds at the end is worth.
	let saving = (own.cost - own.value_left) - (plan.cost - plan.value_left);
	let out = serde_json::json!({ "plan": plan, "own_modes": { "cost": own.cost, "value_left": own.value_left }, "saving": saving });
	println!("{}", serde_json::to_string_pretty(&out)?);
	Ok(())
}

fn config(path: Option<PathBuf>) -> Result<Config> {
	let path = path.ok_or("--config <gateway.toml> is needed")?;
	Ok(Config::load(&path)?)
}

fn keygen(out: PathBuf) -> Result<()> {
	let key = key::generate(&out).map_err(|e| format!("{}: {e}", out.display()))?;
	println!("{}", lem_light_client::hex::encode(&key.verifying_key().to_bytes()));
	Ok(())
}

fn journal(config: Config, from: u64) -> Result<()> {
	let journal = Journal::open(&config.journal)?;
	for e in journal.entries_from(from)? {
		let mut line = format!(
			"slot={} state={} import_register_wh={} export_register_wh={}",
			e.slot,
			e.state.name(),
			e.registers.import_wh,
			e.registers.export_wh
		);
		if let Some(r) = e.reading {
			line +=
				&format!(" import_wh={} export_wh={}", r.reading.import_wh, r.reading.export_wh);
		}
		match e.state {
			State::Finalized { block } => {
				line += &format!(" block={}", lem_light_client::hex::encode(&block))
			}
			State::Refused { reason } => line += &format!(" reason={reason:?}"),
			_ => {}
		}
		println!("{line}");
	}
	for o in journal.orders_from(from)? {
		let mut line = format!(
			"order slot={} state={} side={} energy_wh={} limit_per_kwh={} nonce={}",
			o.slot,
			o.state.name(),
			o.side.name(),
			o.energy_wh,
			o.limit_per_kwh,
			o.nonce
		);
		match o.state {
			OrderState::Placed { orders } => {
				let ids: Vec<String> = orders.iter().map(u64::to_string).collect();
				line += &format!(" orders={}", ids.join(","));
			}
			OrderState::Refused { reason } => line += &format!(" reason={reason:?}"),
			_ => {}
		}
		println!("{line}");
	}
	for b in journal.bills_from(from)? {
		let mut line = format!("bill slot={} state={}", b.slot, b.state());
		if let Some(c) = b.checked() {
			let r = &c.record;
			line +=
				&format!(" market_amount={} utility_amount={}", r.market_amount, r.utility_amount);
			if !c.differences.is_empty() {
				line += &format!(" differences={:?}", c.differences.join(" "));
			}
		}
		println!("{line}");
	}
	Ok(())
}

fn run(config: Config) -> Result<()> {
	let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
	runtime.block_on(async {
		let metrics = Arc::new(Metrics::default());
		// The owner's asks through HTTP, answered by the gateway's loop between its rounds.
		let (ask, asks) = tokio::sync::mpsc::channel(8);
		if let Some(address) = config.metrics {
			metrics::serve(address, metrics.clone(), Some(ask), config.app_origin.clone())
				.await
				.map_err(|e| format!("metrics at {address}: {e}"))?;
		}
		let gateway = Gateway::start(config, metrics).await?;
		tokio::select! {
			stopped = gateway.run(asks) => stopped?,
			_ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
			_ = terminate() => tracing::info!("stopping"),
		}
		Ok(())
	})
}

/// SIGTERM, as systemd stops a service. Everything sent is journaled already; stopping loses
/// nothing.
async fn terminate() {
	match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
		Ok(mut s) => {
			s.recv().await;
		}
		Err(_) => std::future::pending().await,
	}
}
