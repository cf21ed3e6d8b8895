//! The nine tabs, in the order fixed by CONTRACTS.md.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Overview,
    Events,
    Utilization,
    Workload,
    Forecast,
    Policies,
    Cost,
    Alerts,
    Sources,
}

impl Tab {
    pub const ALL: [Tab; 9] = [
        Tab::Overview,
        Tab::Events,
        Tab::Utilization,
        Tab::Workload,
        Tab::Forecast,
        Tab::Policies,
        Tab::Cost,
        Tab::Alerts,
        Tab::Sources,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Events => "Events",
            Tab::Utilization => "Utilization",
            Tab::Workload => "Workload",
            Tab::Forecast => "Forecast",
            Tab::Policies => "Policies",
            Tab::Cost => "Cost",
            Tab::Alerts => "Alerts",
            Tab::Sources => "Sources",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn from_index(i: usize) -> Option<Tab> {
        Tab::ALL.get(i).copied()
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}
