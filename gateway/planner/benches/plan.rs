//! One 96-slot plan of a battery, a car and a heat pump: what the box computes at every slot.

use criterion::{criterion_group, criterion_main, Criterion};
use lem_planner::{plan, BatteryModel, CarModel, Goal, HeatPumpModel, Problem, Slot};

/// A winter day from now, 15-minute slots: the demo household's loads and PV, the evening's
/// prices high, the night's low.
pub fn day() -> Problem {
	let slots = (0..96)
		.map(|t| {
			let hour = t as f64 / 4.0;
			let sun = (std::f64::consts::PI * (hour - 6.0) / 12.0).sin().max(0.0);
			Slot {
				load_wh: 100.0 + 150.0 * (-((hour - 19.0) / 1.5).powi(2)).exp(),
				pv_wh: 1_500.0 * sun,
				buy_per_kwh: if (17.0..21.0).contains(&hour) {
					380_000
				} else {
					220_000 + (t % 7) * 5_000
				},
				sell_per_kwh: if sun > 0.3 { 60_000 } else { 110_000 },
				import_limit_wh: None,
				heat_demand_wh: 600.0 + 200.0 * (std::f64::consts::PI * hour / 12.0).cos(),
				cop: 3.0 + 0.5 * sun,
			}
		})
		.collect();
	Problem {
		slot_seconds: 900,
		slots,
		battery: Some(BatteryModel {
			capacity_wh: 10_000.0,
			stored_wh: 4_000.0,
			power_w: 5_000.0,
			efficiency: 0.95,
			reserve_wh: 1_000.0,
			grid_charge: true,
		}),
		car: Some(CarModel {
			arrival_slot: 72,
			departure_slot: 96,
			needed_wh: 30_000.0,
			power_w: 11_000.0,
			efficiency: 0.92,
		}),
		heat_pump: Some(HeatPumpModel {
			power_w: 2_000.0,
			tank_wh_per_kelvin: 349.0,
			tank_c: 42.0,
			min_c: 40.0,
			max_c: 55.0,
		}),
		goal: Goal::Cheapest,
	}
}

fn bench(c: &mut Criterion) {
	let problem = day();
	c.bench_function("plan 96 slots: battery, car, heat pump", |b| {
		b.iter(|| plan(&problem).expect("the day has a plan"))
	});
}

criterion_group!(benches, bench);
criterion_main!(benches);
