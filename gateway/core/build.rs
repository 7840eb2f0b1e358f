//! The names of pallet-metering's and pallet-market's errors, in index order, from the
//! runtime's metadata (`market-ui/.papi/metadata/lem.scale`, which the test command checks is
//! the runtime's): the pool refuses a reading, and a dry run an order, with the index of its
//! error, and a box names it by the runtime it was built for.

use codec::Decode;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use scale_info::TypeDef;
use std::{env, fs, path::Path};

const METADATA: &str = "../../market-ui/.papi/metadata/lem.scale";

fn main() {
	println!("cargo:rerun-if-changed={METADATA}");
	let bytes = fs::read(METADATA).unwrap_or_else(|e| panic!("{METADATA}: {e}"));
	let RuntimeMetadataPrefixed(_, metadata) = RuntimeMetadataPrefixed::decode(&mut &bytes[..])
		.unwrap_or_else(|e| panic!("{METADATA}: not runtime metadata: {e}"));
	let RuntimeMetadata::V16(metadata) = metadata else {
		panic!("{METADATA}: metadata V16 expected");
	};
	let errors = |pallet: &str| -> Vec<String> {
		let ty = metadata
			.pallets
			.iter()
			.find(|p| p.name == pallet)
			.and_then(|p| p.error.as_ref())
			.unwrap_or_else(|| panic!("{METADATA}: no errors of {pallet}"))
			.ty;
		let TypeDef::Variant(errors) = &metadata.types.resolve(ty.id).expect("a type").type_def
		else {
			panic!("{METADATA}: {pallet}'s errors are not an enum");
		};
		let mut variants: Vec<_> = errors.variants.iter().collect();
		variants.sort_by_key(|v| v.index);
		// The pool's code is the index: they must run 0, 1, 2, …
		assert!(variants.iter().enumerate().all(|(i, v)| v.index as usize == i));
		variants.iter().map(|v| v.name.clone()).collect()
	};
	let list = |name: &str, pallet: &str| {
		let names = errors(pallet);
		let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
		format!(
			"/// {pallet}'s `Error` variants in index order, from the runtime's metadata.\n\
			 pub const {name}: [&str; {}] = [{}];\n",
			names.len(),
			quoted.join(", ")
		)
	};
	let out = Path::new(&env::var("OUT_DIR").unwrap()).join("pallet_errors.rs");
	let code = list("METERING_ERRORS", "Metering") + &list("MARKET_ERRORS", "Market");
	fs::write(out, code).unwrap();
}
