//! Any bytes given to `lem-clear` either clear into well-formed JSON or are refused with a
//! message naming a field: never a panic, an overflow or an endless loop. Inputs that clear are
//! also checked for determinism and for the money rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	match lem_clear::run(data) {
		Ok(json) => {
			let v: serde_json::Value = serde_json::from_str(&json).expect("output is JSON");
			for key in ["zone_prices", "fills", "flows", "welfare", "dso_revenue", "remainder"] {
				assert!(v.get(key).is_some(), "output lacks {key}");
			}
			assert_eq!(lem_clear::run(data).unwrap(), json, "same input, same output");

			let instance = lem_clear::parse(data).expect("input that cleared parses");
			let out = lem_clearing::clear(&instance).expect("input that cleared clears");
			assert_eq!(out.fills.len(), instance.orders.len());
			assert_eq!(out.payments - out.receipts - out.dso_revenue, out.remainder);
			assert!(out.remainder >= 0, "negative remainder");
			if instance.pricing == lem_clearing::Pricing::PayAsClear {
				let bound = (instance.orders.len() + instance.zones.len()) as i128;
				assert!(out.remainder <= bound, "remainder beyond rounding");
			}
			let energy: std::collections::BTreeMap<u64, u64> =
				instance.orders.iter().map(|o| (o.id, o.energy_wh)).collect();
			for f in &out.fills {
				assert!(f.energy_wh <= energy[&f.order], "order {} over-filled", f.order);
			}
		}
		Err(e) => assert!(!e.field.is_empty() && !e.message.is_empty()),
	}
});
