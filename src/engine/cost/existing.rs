//! The commitments a user already holds, applied hour by hour before anything new is sized:
//! reservations (RIs, CUDs, Azure reservations) cover instance-hours of their own type and
//! region; savings plans cover on-demand spend anywhere in their region (EC2 and Lambda), at
//! the plan's discounted rate. New commitments are sized only on what stays uncovered.
//!
//! As AWS bills them, reservations apply first and savings plans to what is left; across
//! groups, the inventory is taken greedily in the order the groups are costed.

use std::collections::BTreeMap;

use super::plan::ExistingCommitment;

#[derive(Debug, Clone)]
struct PlanPool {
    region: Option<String>,
    /// $/h of commitment left in each hour.
    left: Vec<f64>,
    /// $ committed over the hours it is active.
    committed: f64,
    /// On-demand $ covered and offered to it, summed over hours.
    covered_od_usd: f64,
    offered_od_usd: f64,
}

#[derive(Debug, Clone)]
struct ReservedPool {
    count: f64,
    /// Reserved instance-hours while active (the utilization denominator).
    capacity: f64,
    /// Reserved instances left in each hour.
    left: Vec<f64>,
    used: f64,
    usage: f64,
}

/// What the inventory has left to cover, per hour, and what it has covered so far.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    hours: usize,
    reserved: BTreeMap<(String, String), ReservedPool>,
    plans: Vec<PlanPool>,
}

/// Utilization and coverage of one existing commitment after everything was offered to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Use {
    /// Share of the committed capacity ($/h or instances) used.
    pub utilization: f64,
    /// Share of the usage offered to it that it covered (instance-hours of its type and
    /// region for a reservation; on-demand $ for a savings plan).
    pub coverage: f64,
    /// Mean instances (reservations) or on-demand $ an hour (savings plans) covered.
    pub covered_per_hour: f64,
}

/// The part of a usage series the inventory covered, and what remains.
#[derive(Debug, Clone, PartialEq)]
pub struct Covered {
    /// Usage per hour left for new commitments (same unit as the input).
    pub residual: Vec<f64>,
    /// Mean per hour covered by reservations (instances).
    pub by_reservation: f64,
    /// Mean per hour covered by savings plans (input unit).
    pub by_savings_plan: f64,
}

fn mean(sum: f64, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

impl Pools {
    /// Pools of `existing` over `hours` hours. Reservations need type, region and count;
    /// savings plans a $/h commitment.
    pub fn new(existing: &[ExistingCommitment], hours: usize) -> Pools {
        Pools::new_at(existing, hours, None)
    }

    /// [`Pools::new`] for hours starting at `first_hour_unix`: a commitment covers only the
    /// hours between its start and end (all of them where those are unknown).
    pub fn new_at(
        existing: &[ExistingCommitment],
        hours: usize,
        first_hour_unix: Option<i64>,
    ) -> Pools {
        let mut p = Pools {
            hours,
            ..Pools::default()
        };
        for e in existing {
            let active = |h: usize| -> f64 {
                let Some(first) = first_hour_unix else {
                    return 1.0;
                };
                let t = first + h as i64 * 3600;
                let started = e.starts.is_none_or(|s| t + 3600 > s.timestamp());
                let running = e.ends.is_none_or(|end| t < end.timestamp());
                if started && running {
                    1.0
                } else {
                    0.0
                }
            };
            match (
                &e.instance_type,
                &e.region,
                e.count,
                e.commitment_usd_per_hour,
            ) {
                (Some(t), Some(r), Some(n), _) => {
                    let v =
                        p.reserved
                            .entry((t.clone(), r.clone()))
                            .or_insert_with(|| ReservedPool {
                                count: 0.0,
                                capacity: 0.0,
                                left: vec![0.0; hours],
                                used: 0.0,
                                usage: 0.0,
                            });
                    v.count += f64::from(n);
                    for (h, x) in v.left.iter_mut().enumerate() {
                        *x += f64::from(n) * active(h);
                        v.capacity += f64::from(n) * active(h);
                    }
                }
                (_, _, _, Some(c)) if c > 0.0 => p.plans.push(PlanPool {
                    region: e.region.clone(),
                    left: (0..hours).map(|h| c * active(h)).collect(),
                    committed: (0..hours).map(|h| c * active(h)).sum(),
                    covered_od_usd: 0.0,
                    offered_od_usd: 0.0,
                }),
                _ => {}
            }
        }
        p
    }

    /// How `e` (one of the commitments the pools were made from) has been used; None when it
    /// is neither a reservation nor a savings plan scaletop can follow. The `k`-th savings plan
    /// of the inventory is `plan_index` k.
    pub fn usage_of(&self, e: &ExistingCommitment, plan_index: usize) -> Option<Use> {
        let hours = self.hours.max(1) as f64;
        match (&e.instance_type, &e.region, e.count) {
            (Some(t), Some(r), Some(_)) => {
                let p = self.reserved.get(&(t.clone(), r.clone()))?;
                Some(Use {
                    utilization: if p.capacity > 0.0 {
                        p.used / p.capacity
                    } else {
                        0.0
                    },
                    coverage: if p.usage > 0.0 { p.used / p.usage } else { 0.0 },
                    covered_per_hour: p.used / hours,
                })
            }
            _ => {
                let p = self.plans.get(plan_index)?;
                let spent: f64 = p.committed - p.left.iter().sum::<f64>();
                Some(Use {
                    utilization: if p.committed > 0.0 {
                        spent / p.committed
                    } else {
                        0.0
                    },
                    coverage: if p.offered_od_usd > 0.0 {
                        p.covered_od_usd / p.offered_od_usd
                    } else {
                        0.0
                    },
                    covered_per_hour: p.covered_od_usd / hours,
                })
            }
        }
    }

    /// Reserved instances of `instance_type` in `region` still free in each hour, if any are
    /// held.
    pub fn reserved_left(&self, instance_type: &str, region: &str) -> Option<Vec<f64>> {
        self.reserved
            .get(&(instance_type.to_string(), region.to_string()))
            .map(|p| p.left.clone())
    }

    /// Covers hourly instance counts of `instance_type` in `region`: reservations of that type
    /// first, then savings plans of the region at `od_usd` x (1 - `plan_discount`) an
    /// instance-hour.
    pub fn cover_instances(
        &mut self,
        hourly: &[f64],
        instance_type: &str,
        region: &str,
        od_usd: f64,
        plan_discount: f64,
    ) -> Covered {
        let mut residual = hourly.to_vec();
        let mut ri_sum = 0.0;
        if let Some(left) = self
            .reserved
            .get_mut(&(instance_type.to_string(), region.to_string()))
        {
            for (u, l) in residual.iter_mut().zip(left.left.iter_mut()) {
                if !u.is_finite() {
                    continue;
                }
                let used = u.min(*l).max(0.0);
                left.usage += *u;
                *u -= used;
                *l -= used;
                ri_sum += used;
            }
            left.used += ri_sum;
        }
        let rate = od_usd * (1.0 - plan_discount);
        let sp = self.cover_at_rate(&mut residual, region, rate, od_usd);
        Covered {
            by_reservation: mean(ri_sum, hourly.len()),
            by_savings_plan: sp,
            residual,
        }
    }

    /// Covers hourly on-demand spend ($/h, e.g. Lambda duration) with the region's savings
    /// plans at (1 - `plan_discount`) of it.
    pub fn cover_spend(&mut self, spend: &[f64], region: &str, plan_discount: f64) -> Covered {
        let mut residual = spend.to_vec();
        let sp = self.cover_at_rate(&mut residual, region, 1.0 - plan_discount, 1.0);
        Covered {
            by_reservation: 0.0,
            by_savings_plan: sp,
            residual,
        }
    }

    /// Takes savings-plan dollars at `rate` per unit of `residual` (a unit is worth `od_usd`
    /// on demand); mean units covered.
    fn cover_at_rate(&mut self, residual: &mut [f64], region: &str, rate: f64, od_usd: f64) -> f64 {
        if rate <= 0.0 {
            return 0.0;
        }
        let mut sum = 0.0;
        for plan in self
            .plans
            .iter_mut()
            .filter(|p| p.region.as_deref().is_none_or(|r| r == region))
        {
            for (u, l) in residual.iter_mut().zip(plan.left.iter_mut()) {
                if !u.is_finite() || *u <= 0.0 {
                    continue;
                }
                let units = u.min(*l / rate);
                plan.offered_od_usd += *u * od_usd;
                plan.covered_od_usd += units * od_usd;
                *u -= units;
                *l -= units * rate;
                sum += units;
            }
        }
        mean(sum, residual.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ri(n: u32) -> ExistingCommitment {
        ExistingCommitment {
            kind: "reserved_instance".into(),
            instance_type: Some("m5.xlarge".into()),
            region: Some("us-east-1".into()),
            count: Some(n),
            commitment_usd_per_hour: None,
            effective_usd_per_hour: Some(0.121),
            starts: None,
            ends: None,
        }
    }

    fn plan(usd: f64) -> ExistingCommitment {
        ExistingCommitment {
            kind: "savings_plan".into(),
            instance_type: None,
            region: Some("us-east-1".into()),
            count: None,
            commitment_usd_per_hour: Some(usd),
            effective_usd_per_hour: None,
            starts: None,
            ends: None,
        }
    }

    #[test]
    fn reservations_first_then_the_plan_then_what_is_left() {
        // 20 RIs and a $1.00/h plan at 25% off a $0.20/h type: the plan pays $0.15 an
        // instance-hour, so it covers up to 6.667 instances an hour.
        let mut p = Pools::new(&[ri(20), plan(1.0)], 4);
        let c = p.cover_instances(
            &[30.0, 30.0, 10.0, 40.0],
            "m5.xlarge",
            "us-east-1",
            0.2,
            0.25,
        );
        // After RIs: 10, 10, 0, 20 (RIs used 20+20+10+20 = 70 of 80: mean 17.5).
        assert!((c.by_reservation - 17.5).abs() < 1e-12);
        // The plan: 6.667 in each hour with usage left (3 of 4 hours): mean 5.0.
        let third = 20.0 / 3.0;
        assert!((c.by_savings_plan - 5.0).abs() < 1e-9);
        let want = [10.0 - third, 10.0 - third, 0.0, 20.0 - third];
        for (a, b) in c.residual.iter().zip(want) {
            assert!((a - b).abs() < 1e-9, "{:?}", c.residual);
        }
        // A second group of another type in the region finds the plan spent, except in hour
        // 2: $1.00 there covers up to $1.00 / $0.15 = 6.667 instances of the same price.
        let c2 = p.cover_instances(&[5.0; 4], "c5.xlarge", "us-east-1", 0.2, 0.25);
        assert_eq!(c2.by_reservation, 0.0);
        assert!((c2.residual[2]).abs() < 1e-9 && c2.residual[0] == 5.0);
        // The RIs: 70 of 80 instance-hours used (87.5%), covering 70 of the 110 offered.
        let u = p.usage_of(&ri(20), 0).unwrap();
        assert!((u.utilization - 0.875).abs() < 1e-12 && (u.coverage - 70.0 / 110.0).abs() < 1e-12);
        // The plan: $1.00 spent in hours 0, 1 and 3; in hour 2 the second group's 5 instances
        // take 5 x $0.15 = $0.75: (3 + 0.75) / 4 = 93.75% used.
        let sp = p.usage_of(&plan(1.0), 0).unwrap();
        assert!((sp.utilization - 0.9375).abs() < 1e-9, "{sp:?}");
    }

    #[test]
    fn plans_cover_lambda_spend_in_their_region_only() {
        // $0.88/h at 12% off covers $1.00/h of on-demand duration.
        let mut p = Pools::new(&[plan(0.88)], 2);
        let other = p.cover_spend(&[2.0, 0.5], "eu-west-1", 0.12);
        assert_eq!(other.by_savings_plan, 0.0);
        let c = p.cover_spend(&[2.0, 0.5], "us-east-1", 0.12);
        assert!((c.residual[0] - 1.0).abs() < 1e-9 && c.residual[1].abs() < 1e-9);
        assert!((c.by_savings_plan - 0.75).abs() < 1e-9);
    }

    #[test]
    fn a_commitment_covers_only_its_own_hours() {
        // 10 RIs ending two hours into a four-hour history: hours 2 and 3 stay on demand, and
        // utilization is over the 20 reserved instance-hours it was active (all used).
        let mut r = ri(10);
        r.ends = chrono::DateTime::from_timestamp(7200, 0);
        let mut p = Pools::new_at(std::slice::from_ref(&r), 4, Some(0));
        let c = p.cover_instances(&[12.0; 4], "m5.xlarge", "us-east-1", 0.192, 0.0);
        assert_eq!(c.residual, vec![2.0, 2.0, 12.0, 12.0]);
        let u = p.usage_of(&r, 0).unwrap();
        assert!((u.utilization - 1.0).abs() < 1e-12, "{u:?}");
        // A plan starting in hour 1 spends nothing in hour 0.
        let mut sp = plan(1.0);
        sp.starts = chrono::DateTime::from_timestamp(3600, 0);
        let mut p = Pools::new_at(std::slice::from_ref(&sp), 2, Some(0));
        let c = p.cover_spend(&[5.0, 5.0], "us-east-1", 0.0);
        assert_eq!(c.residual, vec![5.0, 4.0]);
        assert_eq!(p.usage_of(&sp, 0).unwrap().utilization, 1.0);
    }
}
