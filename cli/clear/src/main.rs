//! `lem-clear`: clears one slot given as JSON (stdin or a file) and prints the result as JSON.

use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "\
usage: lem-clear [FILE]

Clears one slot of the lem energy market. Reads the instance as JSON from FILE, or from
standard input when FILE is missing or `-`, and writes the result as JSON to standard output.

Input:  {\"zones\": [{\"id\": 0}, {\"id\": 1, \"parent\": 0, \"fee_per_kwh\": 20000, \"capacity_wh\": 50000}],
         \"orders\": [{\"id\": 7, \"side\": \"bid\", \"zone\": 1, \"energy_wh\": 1500, \"limit_per_kwh\": 300000}],
         \"pricing\": \"pay-as-clear\"}
Output: {\"zone_prices\": [...], \"fills\": [...], \"flows\": [...], \"welfare\": ..., \"dso_revenue\": ..., \"remainder\": ...}

Exit status: 0 cleared, 1 the instance was refused (the message names the field), 2 usage or I/O error.";

fn main() -> ExitCode {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let input = match args.as_slice() {
		[flag] if flag == "-h" || flag == "--help" => {
			println!("{USAGE}");
			return ExitCode::SUCCESS;
		}
		[] => read_stdin(),
		[path] if path == "-" => read_stdin(),
		[path] => std::fs::read(path).map_err(|e| format!("{path}: {e}")),
		_ => Err(format!("expected at most one file argument\n\n{USAGE}")),
	};
	let input = match input {
		Ok(bytes) => bytes,
		Err(message) => {
			eprintln!("lem-clear: {message}");
			return ExitCode::from(2);
		}
	};
	match lem_clear::run(&input) {
		Ok(json) => {
			let mut out = std::io::stdout().lock();
			if let Err(e) = writeln!(out, "{json}").and_then(|()| out.flush()) {
				eprintln!("lem-clear: writing the result: {e}");
				return ExitCode::from(2);
			}
			ExitCode::SUCCESS
		}
		Err(e) => {
			eprintln!("lem-clear: {e}");
			ExitCode::from(1)
		}
	}
}

fn read_stdin() -> Result<Vec<u8>, String> {
	let mut bytes = Vec::new();
	std::io::stdin().read_to_end(&mut bytes).map_err(|e| format!("reading standard input: {e}"))?;
	Ok(bytes)
}
