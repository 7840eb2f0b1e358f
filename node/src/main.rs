//! lem-node: the authority and full node of a lem energy-community chain.

mod admitted_peers;
mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
