//! Azure Monitor autoscale setting: the ARM resource JSON
//! (`Microsoft.Insights/autoscalesettings`) and Terraform azurerm_monitor_autoscale_setting —
//! profiles (default, recurrence, fixed date), rule pairs, predictive policy. Every scale-in
//! rule is checked against Azure's flapping projection before anything is emitted.

use serde_json::{json, Value};

use super::hcl::{variable, Block, Hv};
use super::{EmittedFile, Header};
use crate::engine::policy::azure::{compare, AutoscaleSetting, AzureAutoscaler, Profile};
use crate::model::Recommendation;

/// The ARM API version the JSON is written for.
pub const API_VERSION: &str = "2022-10-01";

/// Azure's flapping check ("Autoscale flapping"): before scaling in from `n` to `m`, it projects
/// each scale-out rule's metric onto `m` instances (`metric x n / m`) and skips the scale-in if
/// the projection would trigger that scale-out. A pair passes when, for every count the profile
/// allows, a metric just at the scale-in threshold does not project past the scale-out one.
/// Err names the first pair and count that flap.
pub fn check_flapping(profile: &Profile) -> Result<(), String> {
    let min: u32 = profile.capacity.minimum.trim().parse().unwrap_or(0);
    let max: u32 = profile.capacity.maximum.trim().parse().unwrap_or(0);
    for scale_in in profile
        .rules
        .iter()
        .filter(|r| r.scale_action.direction == "Decrease")
    {
        for scale_out in profile.rules.iter().filter(|r| {
            r.scale_action.direction == "Increase"
                && r.metric_trigger.metric_name == scale_in.metric_trigger.metric_name
        }) {
            let t_in = scale_in.metric_trigger.threshold;
            let t_out = scale_out.metric_trigger.threshold;
            for n in (min + 1).max(1)..=max {
                let m = AzureAutoscaler::apply(&scale_in.scale_action, n).max(min);
                if m == 0 || m >= n {
                    continue;
                }
                let projected = t_in * f64::from(n) / f64::from(m);
                if compare(&scale_out.metric_trigger.operator, projected, t_out) {
                    let safe = t_out * f64::from(m) / f64::from(n);
                    return Err(format!(
                        "profile '{}': scale-in '{} {} {}' flaps at {n} -> {m} instances: the metric projects to {projected:.1}, which triggers scale-out '{} {}'; Azure would skip that scale-in. Lower the scale-in threshold below {safe:.1}, scale in by less, or raise the minimum",
                        profile.name,
                        scale_in.metric_trigger.metric_name,
                        scale_in.metric_trigger.operator,
                        t_in,
                        scale_out.metric_trigger.operator,
                        t_out
                    ));
                }
            }
        }
    }
    Ok(())
}

fn checked(doc: &Value, rec: &Recommendation) -> Result<(Value, AutoscaleSetting), String> {
    let mut doc = doc.clone();
    if doc
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        doc["name"] = json!(format!("{}-autoscale", rec.group.name));
    }
    AzureAutoscaler::from_json(&doc.to_string())
        .map_err(|e| format!("Azure autoscale document: {e}"))?;
    let setting: AutoscaleSetting = serde_json::from_value(doc.clone())
        .map_err(|e| format!("Azure autoscale document: {e}"))?;
    for p in &setting.properties.profiles {
        check_flapping(p)?;
    }
    Ok((doc, setting))
}

/// The ARM resource: type and apiVersion added, the rest as the policy says.
pub fn json(doc: &Value, rec: &Recommendation) -> Result<EmittedFile, String> {
    let (mut doc, _) = checked(doc, rec)?;
    if let Value::Object(m) = &mut doc {
        m.entry("type")
            .or_insert(json!("Microsoft.Insights/autoscalesettings"));
        m.entry("apiVersion").or_insert(json!(API_VERSION));
    }
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(EmittedFile {
        relative: "azure-autoscale.json".into(),
        contents: text,
    })
}

fn capacity_number(s: &str, at: &str) -> Result<Hv, String> {
    s.trim()
        .parse::<u32>()
        .map(Hv::from)
        .map_err(|_| format!("{at}: '{s}' is not a whole number"))
}

pub fn terraform(doc: &Value, rec: &Recommendation, head: &Header) -> Result<EmittedFile, String> {
    let (doc, setting) = checked(doc, rec)?;
    let target = || Hv::Ref("var.target_resource_id".into());
    let mut res = Block::new(
        "resource",
        &[
            "azurerm_monitor_autoscale_setting",
            &super::aws_terraform::ident(&setting.name),
        ],
    )
    .attr("name", setting.name.as_str())
    .attr(
        "resource_group_name",
        Hv::Ref("var.resource_group_name".into()),
    )
    .attr("location", Hv::Ref("var.location".into()))
    .attr("target_resource_id", target())
    .attr("enabled", setting.properties.enabled);
    for (i, p) in setting.properties.profiles.iter().enumerate() {
        let at = format!("properties.profiles[{i}].capacity");
        let mut profile = Block::new("profile", &[])
            .attr("name", p.name.as_str())
            .block(
                Block::new("capacity", &[])
                    .attr("default", capacity_number(&p.capacity.default, &at)?)
                    .attr("minimum", capacity_number(&p.capacity.minimum, &at)?)
                    .attr("maximum", capacity_number(&p.capacity.maximum, &at)?),
            );
        for r in &p.rules {
            let t = &r.metric_trigger;
            let a = &r.scale_action;
            profile = profile.block(
                Block::new("rule", &[])
                    .block(
                        Block::new("metric_trigger", &[])
                            .attr("metric_name", t.metric_name.as_str())
                            .attr("metric_resource_id", target())
                            .attr("time_grain", t.time_grain.as_str())
                            .attr("statistic", t.statistic.as_str())
                            .attr("time_window", t.time_window.as_str())
                            .attr("time_aggregation", t.time_aggregation.as_str())
                            .attr("operator", t.operator.as_str())
                            .attr("threshold", t.threshold),
                    )
                    .block(
                        Block::new("scale_action", &[])
                            .attr("direction", a.direction.as_str())
                            .attr("type", a.kind.as_str())
                            .attr("value", a.value.as_str())
                            .attr("cooldown", a.cooldown.as_str()),
                    ),
            );
        }
        if let Some(rec) = &p.recurrence {
            let s = &rec["schedule"];
            let strings = |k: &str| {
                Hv::List(
                    s[k].as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(Hv::from)
                        .collect(),
                )
            };
            let numbers = |k: &str| {
                Hv::List(
                    s[k].as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_f64)
                        .map(Hv::from)
                        .collect(),
                )
            };
            profile = profile.block(
                Block::new("recurrence", &[])
                    .opt("timezone", s["timeZone"].as_str())
                    .attr("days", strings("days"))
                    .attr("hours", numbers("hours"))
                    .attr("minutes", numbers("minutes")),
            );
        }
        if let Some(f) = &p.fixed_date {
            profile = profile.block(
                Block::new("fixed_date", &[])
                    .opt("timezone", f["timeZone"].as_str())
                    .opt("start", f["start"].as_str())
                    .opt("end", f["end"].as_str()),
            );
        }
        res = res.block(profile);
    }
    if let Some(p) = doc.pointer("/properties/predictiveAutoscalePolicy") {
        res = res.block(
            Block::new("predictive", &[])
                .opt("scale_mode", p["scaleMode"].as_str())
                .opt("look_ahead_time", p["scaleLookAheadTime"].as_str()),
        );
    }
    let blocks = [
        variable(
            "resource_group_name",
            "Resource group of the autoscale setting",
        ),
        variable("location", "Azure region of the autoscale setting"),
        variable(
            "target_resource_id",
            "ID of the VM scale set (or App Service plan) to scale",
        ),
        res,
    ];
    let mut text = head.comment("#");
    for b in blocks {
        text.push('\n');
        text.push_str(&b.render());
    }
    Ok(EmittedFile {
        relative: "azure.tf".into(),
        contents: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(min: u32, out: f64, scale_in: f64, by: &str) -> Profile {
        serde_json::from_value(json!({
            "name": "default",
            "capacity": {"minimum": min.to_string(), "maximum": "10", "default": min.to_string()},
            "rules": [
                {"metricTrigger": {"metricName": "Percentage CPU", "timeWindow": "PT5M", "operator": "GreaterThan", "threshold": out},
                 "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"}},
                {"metricTrigger": {"metricName": "Percentage CPU", "timeWindow": "PT10M", "operator": "LessThan", "threshold": scale_in},
                 "scaleAction": {"direction": "Decrease", "type": "ChangeCount", "value": by, "cooldown": "PT5M"}}
            ]
        }))
        .expect("profile")
    }

    #[test]
    fn azure_docs_flapping_example_is_refused() {
        // Azure's "Autoscale flapping" example: out > 80, in < 60, 2 -> 1 instance projects
        // 60 x 2 / 1 = 120 > 80.
        let err = check_flapping(&profile(1, 80.0, 60.0, "1")).expect_err("flaps");
        assert!(err.contains("2 -> 1"), "{err}");
        assert!(err.contains("below 40.0"), "{err}");
    }

    #[test]
    fn well_spread_thresholds_pass() {
        // 2 -> 1 projects 35 x 2 = 70, not above 80.
        assert_eq!(check_flapping(&profile(1, 80.0, 35.0, "1")), Ok(()));
        // Scaling in by 3 from 4 to 1 projects 30 x 4 = 120: refused.
        assert!(check_flapping(&profile(1, 80.0, 30.0, "3")).is_err());
        // With a minimum of 3 the smallest step is 4 -> 3: 50 x 4/3 = 66.7 < 80.
        assert_eq!(check_flapping(&profile(3, 80.0, 50.0, "1")), Ok(()));
    }
}
