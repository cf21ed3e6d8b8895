//! Provisioned concurrency by hour of day as Application Auto Scaling scheduled actions
//! (PutScheduledAction on `lambda:function:ProvisionedConcurrency`), and a reader that replays
//! the document back to the level in force at any time, so the document applied is checked
//! against the schedule that was costed.
//!
//! A rise is requested [`SCHEDULE_LEAD_SECONDS`] before its hour (allocation "can take a few
//! minutes"); a fall takes effect on the hour. Actions are daily `cron(M H * * ? *)` in UTC,
//! each setting MinCapacity = MaxCapacity = the level.

use serde_json::{json, Value};

use super::serverless::SCHEDULE_LEAD_SECONDS;

/// The scalable target and its scheduled actions for one function (alias `live`).
pub fn document(function: &str, levels: &[u32; 24]) -> Value {
    document_for(function, "live", levels)
}

/// [`document`] for the function's alias or version `qualifier`.
pub fn document_for(function: &str, qualifier: &str, levels: &[u32; 24]) -> Value {
    let mut actions = Vec::new();
    for h in 0..24 {
        let prev = levels[(h + 23) % 24];
        let level = levels[h];
        if level == prev {
            continue;
        }
        // Minute of day the action fires at.
        let at = if level > prev {
            (h as i64 * 3600 - SCHEDULE_LEAD_SECONDS).rem_euclid(86_400) / 60
        } else {
            h as i64 * 60
        };
        actions.push(json!({
            "ScheduledActionName": format!("{function}-pc-{h:02}00"),
            "Schedule": format!("cron({} {} * * ? *)", at % 60, at / 60),
            "Timezone": "UTC",
            "ScalableTargetAction": {"MinCapacity": level, "MaxCapacity": level},
        }));
    }
    let lo = levels.iter().copied().min().unwrap_or(0);
    let hi = levels.iter().copied().max().unwrap_or(0);
    json!({
        "ServiceNamespace": "lambda",
        "ResourceId": format!("function:{function}:{qualifier}"),
        "ScalableDimension": "lambda:function:ProvisionedConcurrency",
        "MinCapacity": lo,
        "MaxCapacity": hi,
        "ScheduledActions": actions,
    })
}

/// The daily actions of a document: (minute of day, level), sorted.
fn actions(doc: &Value) -> Result<Vec<(i64, u32)>, String> {
    let list = doc
        .get("ScheduledActions")
        .and_then(Value::as_array)
        .ok_or("ScheduledActions missing")?;
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let cron = a
            .get("Schedule")
            .and_then(Value::as_str)
            .ok_or(format!("ScheduledActions[{i}].Schedule missing"))?;
        if a.get("Timezone").and_then(Value::as_str).unwrap_or("UTC") != "UTC" {
            return Err(format!("ScheduledActions[{i}]: only UTC is read back"));
        }
        let fields: Vec<&str> = cron
            .strip_prefix("cron(")
            .and_then(|c| c.strip_suffix(')'))
            .ok_or(format!(
                "ScheduledActions[{i}].Schedule '{cron}' is not cron(...)"
            ))?
            .split_whitespace()
            .collect();
        let daily = fields.len() == 6 && fields[2..] == ["*", "*", "?", "*"];
        let (Some(m), Some(h), true) = (
            fields.first().and_then(|v| v.parse::<i64>().ok()),
            fields.get(1).and_then(|v| v.parse::<i64>().ok()),
            daily,
        ) else {
            return Err(format!(
                "ScheduledActions[{i}].Schedule '{cron}': only daily cron(M H * * ? *) is read back"
            ));
        };
        let level = a
            .pointer("/ScalableTargetAction/MinCapacity")
            .and_then(Value::as_u64)
            .ok_or(format!(
                "ScheduledActions[{i}].ScalableTargetAction.MinCapacity missing"
            ))?;
        out.push((h * 60 + m, level as u32));
    }
    out.sort_unstable();
    Ok(out)
}

/// Checks a document against the levels it is meant to apply, minute by minute over a UTC
/// day: from each hour on the level is that hour's, except that a rise may start
/// [`SCHEDULE_LEAD_SECONDS`] before its hour. Names the first minute that differs.
pub fn check(doc: &Value, levels: &[u32; 24]) -> Result<(), String> {
    let got = replay(doc, 0, 60, 1440)?;
    let lead = (SCHEDULE_LEAD_SECONDS / 60) as usize;
    for (m, g) in got.iter().enumerate() {
        let h = m / 60;
        let next = levels[(h + 1) % 24];
        let early = m % 60 >= 60 - lead && next > levels[h];
        let want = if early { next } else { levels[h] };
        if *g != f64::from(want) {
            return Err(format!(
                "at {:02}:{:02} UTC the scheduled actions give {g}, the costed level is {want}",
                h,
                m % 60
            ));
        }
    }
    Ok(())
}

/// The highest level in force during each step of `n` steps from `start_unix`, read back from
/// the document (with no actions, its MinCapacity throughout).
pub fn replay(
    doc: &Value,
    start_unix: i64,
    step_seconds: i64,
    n: usize,
) -> Result<Vec<f64>, String> {
    let acts = actions(doc)?;
    let fixed = doc.get("MinCapacity").and_then(Value::as_u64).unwrap_or(0) as u32;
    let at = |t: i64| -> u32 {
        let minute = t.rem_euclid(86_400) / 60;
        acts.iter()
            .rev()
            .find(|(m, _)| *m <= minute)
            .or(acts.last())
            .map_or(fixed, |(_, l)| *l)
    };
    Ok((0..n)
        .map(|i| {
            let t0 = start_unix + i as i64 * step_seconds;
            let mut level = at(t0);
            // Actions firing inside the step.
            for (m, l) in &acts {
                let day = t0 - t0.rem_euclid(86_400);
                for fire in [day + m * 60, day + 86_400 + m * 60] {
                    if fire > t0 && fire < t0 + step_seconds {
                        level = level.max(*l);
                    }
                }
            }
            f64::from(level)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nightly_burst_is_two_actions_and_reads_back_step_by_step() {
        // 10 all day, 110 from 02:00 to 03:00 UTC: raise at 01:55 (5 minutes ahead), lower at
        // 03:00.
        let mut levels = [10u32; 24];
        levels[2] = 110;
        let doc = document("etl", &levels);
        let acts = doc["ScheduledActions"].as_array().unwrap();
        assert_eq!(acts.len(), 2);
        assert_eq!(acts[0]["Schedule"], "cron(55 1 * * ? *)");
        assert_eq!(acts[0]["ScalableTargetAction"]["MinCapacity"], 110);
        assert_eq!(acts[1]["Schedule"], "cron(0 3 * * ? *)");
        assert_eq!(acts[1]["ScalableTargetAction"]["MaxCapacity"], 10);
        assert_eq!(doc["ResourceId"], "function:etl:live");
        // 15-minute steps from 01:30: 01:30 10, 01:45 110 (the rise fires at 01:55 inside it),
        // 02:00-02:45 110, 03:00 10.
        let got = replay(&doc, 5400, 900, 7).unwrap();
        assert_eq!(got, vec![10.0, 110.0, 110.0, 110.0, 110.0, 110.0, 10.0]);
        // A day's steps before the first action wrap to the last one (03:00 -> 10).
        assert_eq!(replay(&doc, 0, 3600, 1).unwrap(), vec![10.0]);
        check(&doc, &levels).unwrap();
        let mut other = levels;
        other[3] = 50;
        assert!(check(&doc, &other)
            .unwrap_err()
            .contains("at 03:00 UTC the scheduled actions give 10, the costed level is 50"));
        // A flat schedule is no actions and reads back as MinCapacity.
        let flat = document("api", &[4; 24]);
        assert_eq!(flat["ScheduledActions"].as_array().unwrap().len(), 0);
        assert_eq!(replay(&flat, 0, 300, 2).unwrap(), vec![4.0, 4.0]);
    }

    #[test]
    fn unreadable_schedules_are_errors() {
        let doc = json!({"ScheduledActions": [{"Schedule": "rate(1 hour)", "ScalableTargetAction": {"MinCapacity": 1}}]});
        assert!(replay(&doc, 0, 300, 1).unwrap_err().contains("not cron"));
        let doc = json!({"ScheduledActions": [{"Schedule": "cron(0 2 ? * MON *)", "ScalableTargetAction": {"MinCapacity": 1}}]});
        assert!(replay(&doc, 0, 300, 1).unwrap_err().contains("daily"));
    }
}
