//! The planner's promises: every constraint of its model held, never costlier than the same
//! home with its devices in their own modes under that model, the same plan for the same
//! input, and a named error for input no home gives.

use lem_planner::{
	own_modes, plan, BatteryModel, CarModel, Goal, HeatPumpModel, Plan, PlanError, Problem, Slot,
};
use proptest::prelude::*;

const EPS: f64 = 1e-3;

/// What a plan is judged by: its cost less what its battery holds at the end is worth.
fn judged(p: &Plan) -> f64 {
	p.cost - p.value_left
}

fn slot(load_wh: f64, pv_wh: f64, buy: u64, sell: u64) -> Slot {
	Slot {
		load_wh,
		pv_wh,
		buy_per_kwh: buy,
		sell_per_kwh: sell,
		import_limit_wh: None,
		heat_demand_wh: 0.0,
		cop: 1.0,
	}
}

fn battery(stored_wh: f64, grid_charge: bool) -> BatteryModel {
	BatteryModel {
		capacity_wh: 10_000.0,
		stored_wh,
		power_w: 4_000.0,
		efficiency: 0.95,
		reserve_wh: 1_000.0,
		grid_charge,
	}
}

/// Every constraint of the model, checked on the plan's numbers.
fn holds(problem: &Problem, plan: &Plan) {
	let hours = f64::from(problem.slot_seconds) / 3600.0;
	assert_eq!(plan.slots.len(), problem.slots.len());
	let mut stored = problem.battery.as_ref().map_or(0.0, |b| b.stored_wh);
	let mut into_car = 0.0;
	for (t, (s, p)) in problem.slots.iter().zip(&plan.slots).enumerate() {
		let net = s.load_wh - s.pv_wh + p.battery_wh + p.car_wh + p.heat_pump_wh;
		assert!((p.import_wh - p.export_wh - net).abs() < EPS, "slot {t}: the balance");
		assert!(p.import_wh >= 0.0 && p.export_wh >= 0.0);
		if let Some(cap) = s.import_limit_wh {
			assert!(p.import_wh <= cap + EPS, "slot {t}: the DSO's cap");
		}
		if let Some(b) = &problem.battery {
			assert!(p.battery_wh.abs() <= b.power_w * hours + EPS, "slot {t}: the battery's power");
			if !b.grid_charge {
				assert!(
					p.battery_wh <= (s.pv_wh - s.load_wh).max(0.0) + EPS,
					"slot {t}: no grid charge"
				);
			}
			stored += if p.battery_wh > 0.0 {
				p.battery_wh * b.efficiency
			} else {
				p.battery_wh / b.efficiency
			};
			assert!(
				(stored - p.battery_stored_wh).abs() < 1.0,
				"slot {t}: stored follows the flows"
			);
			assert!(stored <= b.capacity_wh + 1.0, "slot {t}: the capacity");
			assert!(stored >= b.reserve_wh.min(b.stored_wh) - 1.0, "slot {t}: the reserve");
		}
		if let Some(c) = &problem.car {
			let plugged = (c.arrival_slot..c.departure_slot).contains(&t);
			assert!(
				p.car_wh <= if plugged { c.power_w * hours + EPS } else { EPS },
				"slot {t}: the car"
			);
			into_car += p.car_wh * c.efficiency;
		}
		if let Some(h) = &problem.heat_pump {
			assert!(p.heat_pump_wh <= h.power_w * hours + EPS);
			assert!(
				p.tank_c >= h.min_c.min(h.tank_c) - 1e-3
					&& p.tank_c <= h.max_c.max(h.tank_c) + 1e-3,
				"slot {t}: the band"
			);
		}
	}
	if let Some(c) = &problem.car {
		let possible = (c.arrival_slot..c.departure_slot.min(problem.slots.len())).count() as f64
			* c.power_w
			* hours * c.efficiency;
		assert!(into_car >= c.needed_wh.min(possible) - 1.0, "the car's need by its departure");
	}
}

#[test]
fn a_battery_charges_when_power_is_cheap_and_covers_the_dear_evening() {
	let mut slots = vec![slot(200.0, 0.0, 100_000, 50_000); 4];
	slots.extend(vec![slot(1_000.0, 0.0, 400_000, 50_000); 4]);
	let problem = Problem {
		slot_seconds: 900,
		slots,
		// 5 kW: four night slots store what four evening slots of 1 kWh take.
		battery: Some(BatteryModel { power_w: 5_000.0, ..battery(1_000.0, true) }),
		car: None,
		heat_pump: None,
		goal: Goal::Cheapest,
	};
	let p = plan(&problem).unwrap();
	holds(&problem, &p);
	assert!(p.slots[..4].iter().all(|s| s.battery_wh > 0.0), "{p:#?}");
	assert!(p.slots[4..].iter().all(|s| s.import_wh < EPS), "the evening from the battery: {p:#?}");
	assert!(judged(&p) < judged(&own_modes(&problem).unwrap()));
}

#[test]
fn most_self_consumed_keeps_the_noon_surplus_for_the_evening_even_when_selling_pays() {
	let mut slots = vec![slot(100.0, 1_200.0, 300_000, 290_000); 4];
	slots.extend(vec![slot(800.0, 0.0, 300_000, 290_000); 4]);
	let mut problem = Problem {
		slot_seconds: 900,
		slots,
		battery: Some(battery(1_000.0, false)),
		car: None,
		heat_pump: None,
		goal: Goal::MostSelfConsumed,
	};
	let p = plan(&problem).unwrap();
	holds(&problem, &p);
	let crossed = |p: &Plan| p.slots.iter().map(|s| s.import_wh + s.export_wh).sum::<f64>();
	problem.goal = Goal::Cheapest;
	assert!(crossed(&p) <= crossed(&plan(&problem).unwrap()) + EPS);
}

#[test]
fn the_car_gets_its_energy_in_the_cheapest_slots_before_it_leaves() {
	let slots =
		(0..8).map(|t| slot(0.0, 0.0, if t % 2 == 0 { 300_000 } else { 100_000 }, 0)).collect();
	let problem = Problem {
		slot_seconds: 900,
		slots,
		battery: None,
		car: Some(CarModel {
			arrival_slot: 0,
			departure_slot: 6,
			needed_wh: 5_000.0,
			power_w: 11_000.0,
			efficiency: 0.9,
		}),
		heat_pump: None,
		goal: Goal::Cheapest,
	};
	let p = plan(&problem).unwrap();
	holds(&problem, &p);
	assert!(p.slots.iter().step_by(2).all(|s| s.car_wh < EPS), "only the cheap slots: {p:#?}");
	assert!(p.slots[6..].iter().all(|s| s.car_wh < EPS), "gone after its departure");
}

#[test]
fn input_no_home_gives_is_named_and_an_impossible_cap_is_infeasible() {
	let base = Problem {
		slot_seconds: 900,
		slots: vec![slot(500.0, 0.0, 300_000, 80_000)],
		battery: None,
		car: None,
		heat_pump: None,
		goal: Goal::Cheapest,
	};
	let mut bad = base.clone();
	bad.slots[0].load_wh = f64::NAN;
	assert!(
		matches!(plan(&bad), Err(PlanError::Invalid { field, .. }) if field == "slots[0].load_wh")
	);
	let mut bad = base.clone();
	bad.battery = Some(BatteryModel { stored_wh: 20_000.0, ..battery(0.0, true) });
	assert!(
		matches!(plan(&bad), Err(PlanError::Invalid { field, .. }) if field == "battery.stored_wh")
	);
	let mut bad = base.clone();
	bad.slots[0].sell_per_kwh = 400_000;
	assert!(
		matches!(plan(&bad), Err(PlanError::Invalid { field, .. }) if field == "slots[0].sell_per_kwh")
	);
	let mut bad = base.clone();
	bad.slots.clear();
	assert!(matches!(plan(&bad), Err(PlanError::Invalid { field, .. }) if field == "slots"));
	let mut capped = base;
	capped.slots[0].import_limit_wh = Some(100.0);
	assert_eq!(plan(&capped), Err(PlanError::Infeasible));
	// A battery lets the home keep under the cap.
	capped.battery = Some(battery(5_000.0, false));
	holds(&capped, &plan(&capped).unwrap());
}

#[test]
fn a_plan_is_json_in_and_out() {
	// A dear slot, then a cheap one: the battery covers the dear one.
	let text = r#"{"slot_seconds":900,"slots":[
		{"load_wh":300,"pv_wh":0,"buy_per_kwh":300000,"sell_per_kwh":80000},
		{"load_wh":300,"pv_wh":0,"buy_per_kwh":100000,"sell_per_kwh":80000}],
		"battery":{"capacity_wh":10000,"stored_wh":5000,"power_w":5000,"efficiency":0.95}}"#;
	let problem: Problem = serde_json::from_str(text).unwrap();
	let p = plan(&problem).unwrap();
	holds(&problem, &p);
	assert!((p.slots[0].battery_wh + 300.0).abs() < EPS, "{p:?}");
	assert!(
		serde_json::from_str::<Problem>(r#"{"slot_seconds":900,"slots":[],"colour":1}"#).is_err()
	);
}

/// A home of random loads, PV, prices, caps and devices, each present or not.
fn homes() -> impl Strategy<Value = Problem> {
	let slots = prop::collection::vec(
		(
			0.0f64..1_500.0,
			0.0f64..2_500.0,
			50_000u64..500_000,
			0.0f64..0.8,
			0.0f64..900.0,
			2.0f64..4.5,
		),
		1..40,
	);
	let battery = prop::option::of((
		100.0f64..10_000.0,
		0.0f64..1.0,
		500.0f64..6_000.0,
		0.0f64..0.3,
		any::<bool>(),
	));
	let car = prop::option::of((0usize..20, 0usize..40, 0.0f64..40_000.0));
	let heat_pump = prop::option::of((38.0f64..50.0, any::<bool>()));
	(slots, battery, car, heat_pump, any::<bool>()).prop_map(|(slots, b, c, h, self_consumed)| {
		Problem {
			slot_seconds: 900,
			slots: slots
				.into_iter()
				.map(|(load, pv, buy, sell_share, demand, cop)| Slot {
					heat_demand_wh: if h.is_some() { demand } else { 0.0 },
					cop,
					..slot(load, pv, buy, (buy as f64 * sell_share) as u64)
				})
				.collect(),
			battery: b.map(|(capacity, share, power, reserve, grid)| BatteryModel {
				capacity_wh: capacity,
				stored_wh: capacity * share,
				power_w: power,
				efficiency: 0.93,
				reserve_wh: capacity * reserve,
				grid_charge: grid,
			}),
			car: c.map(|(arrival, stay, needed)| CarModel {
				arrival_slot: arrival,
				departure_slot: arrival + stay,
				needed_wh: needed,
				power_w: 11_000.0,
				efficiency: 0.92,
			}),
			// A heat pump that can always hold the band: 4 kW at a COP of 2 is 2 kWh of heat a slot.
			heat_pump: h.map(|(tank, wide)| HeatPumpModel {
				power_w: 4_000.0,
				tank_wh_per_kelvin: 349.0,
				tank_c: tank,
				min_c: 40.0,
				max_c: if wide { 55.0 } else { 45.0 },
			}),
			goal: if self_consumed { Goal::MostSelfConsumed } else { Goal::Cheapest },
		}
	})
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

	#[test]
	fn every_constraint_holds_and_the_plan_never_costs_more_than_the_own_modes(problem in homes()) {
		let p = plan(&problem).expect("a home with no caps has a plan");
		holds(&problem, &p);
		let own = own_modes(&problem).unwrap();
		holds(&problem, &own);
		// Within what the program's tie-break on cycling the battery may cost.
		if problem.goal == Goal::Cheapest {
			prop_assert!(judged(&p) <= judged(&own) + 100.0, "{} > {}", judged(&p), judged(&own));
		}
		prop_assert_eq!(plan(&problem).unwrap(), p, "the same input, the same plan");
	}

	#[test]
	fn a_cap_the_own_modes_keep_the_plan_keeps_too(mut problem in homes(), cap in 200.0f64..3_000.0) {
		for s in &mut problem.slots {
			s.import_limit_wh = Some(cap);
		}
		let own = own_modes(&problem).unwrap();
		if own.slots.iter().all(|s| s.import_wh <= cap) {
			let p = plan(&problem).expect("the own modes show a schedule exists");
			holds(&problem, &p);
		}
	}
}
