//! `chain-specs/` must hold what the runtime's presets make now. The Wasm code inside a spec
//! depends on the machine that built it (paths in panic messages), so it is compared only for
//! presence; everything else — names, ids, properties, the genesis patch — must be equal.

use serde_json::Value;
use std::process::Command;

fn without_code(mut spec: Value) -> Value {
	let genesis = spec["genesis"]["runtimeGenesis"].as_object_mut().expect("runtimeGenesis");
	let code = genesis.remove("code").expect("the spec carries the runtime code");
	assert!(code.as_str().is_some_and(|c| c.starts_with("0x") && c.len() > 1000));
	spec
}

#[test]
fn chain_specs_are_fresh() {
	let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
	for chain in ["dev", "local"] {
		let out = Command::new(lem_tests::node_binary())
			.args(["export-chain-spec", "--chain", chain])
			.output()
			.expect("run lem-node export-chain-spec");
		assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
		let made: Value = serde_json::from_slice(&out.stdout).unwrap();
		let path = root.join("chain-specs").join(format!("{chain}.json"));
		let committed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
		assert!(
			without_code(made) == without_code(committed),
			"{} is stale: run scripts/make-chain-specs.sh",
			path.display()
		);
	}
}
