fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
		// The next runtime a running network is upgraded to in the fault tests: the same code
		// with `spec_version` one higher. Built after the first, in the same project.
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.set_file_name("next_spec_version_wasm_binary.rs")
			.enable_feature("next-spec-version")
			.build();
	}
}
