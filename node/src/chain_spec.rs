//! The built-in chain specs, made from the runtime's genesis presets.

use sc_service::ChainType;

pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm() -> Result<&'static [u8], String> {
	lem_runtime::WASM_BINARY.ok_or_else(|| "the runtime's Wasm was not built".to_string())
}

fn properties() -> sc_chain_spec::Properties {
	// The settlement asset of the demo community: euros with 6 decimals (1 unit = 1 µEUR).
	let mut p = sc_chain_spec::Properties::new();
	p.insert("tokenSymbol".into(), "EUR".into());
	p.insert("tokenDecimals".into(), 6.into());
	p.insert("ss58Format".into(), 42.into());
	p
}

/// One utility, one authority node: for development.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("lem development")
		.with_id("lem_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// Four utilities, four authority nodes on one machine: one may fail and finality goes on.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("lem local")
		.with_id("lem_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
